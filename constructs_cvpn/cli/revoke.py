"""``cvpn revoke`` / ``cvpn rotate``: revoke one user now, without a deploy.

The CLI invokes the stack's users function (output ``UsersFunctionName``) synchronously
(``lambda:Invoke``, RequestResponse) with ``{"RequestType": "Revoke"|"Rotate", "User",
"Reason", "RequestedBy"}``; the function does the work (``handlers/pki/revoke_now.py``):
revokes every certificate the user holds, imports the CRL, ends their sessions, deletes
every version of their file, and for a rotate issues a new certificate and file.

``RequestedBy`` is the caller's ARN as STS reports it to the CLI. The function records it
but cannot verify it: CloudTrail's record of the Invoke call is the authority.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from constructs_cvpn.cli.discovery import VpnOutputs
from constructs_cvpn.cli.errors import CvpnError, NotFoundError, from_client_error


def caller_arn(sts: Any) -> str:
    """The caller's ARN (``sts:GetCallerIdentity`` needs no permission)."""
    try:
        return str(sts.get_caller_identity()["Arn"])
    except ClientError as err:
        raise from_client_error(err, "find who you are (sts:GetCallerIdentity)") from None


def invoke(
    lambda_client: Any,
    outputs: VpnOutputs,
    *,
    operation: str,
    user: str,
    reason: str,
    requested_by: str,
) -> dict[str, Any]:
    """Invoke the users function with one ``Revoke``/``Rotate`` event; return its result."""
    if not outputs.users_function:
        raise NotFoundError(
            f"stack '{outputs.stack}' has no UsersFunctionName output for VPN "
            f"'{outputs.label}': revoke and rotate need the generated PKI (and a deploy of "
            "this version of constructs-cvpn)"
        )
    event = {
        "RequestType": operation,
        "User": user,
        "Reason": reason,
        "RequestedBy": requested_by,
    }
    try:
        response = lambda_client.invoke(
            FunctionName=outputs.users_function,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
    except ClientError as err:
        raise from_client_error(err, f"invoke {outputs.users_function}") from None
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise CvpnError(f"{operation.lower()} of '{user}' failed: {message}")
    if not isinstance(payload, dict):
        raise CvpnError(f"{outputs.users_function} returned {payload!r}, not a result")
    if "Refused" in payload:
        raise CvpnError(f"{operation.lower()} of '{user}' refused: {payload['Refused']}")
    return payload
