"""``cvpn connections``: list an endpoint's client connections and disconnect a user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from constructs_cvpn.cli.endpoint import translate

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

ENDED = frozenset({"terminating", "terminated"})
"""Connection states that count as disconnected."""


def list_connections(
    ec2: EC2Client, endpoint_id: str, *, include_ended: bool = False
) -> list[dict[str, Any]]:
    """Return the endpoint's connections (all pages) as JSON-ready dictionaries.

    AWS also reports connections that ended recently (``ENDED``); they are left out unless
    ``include_ended`` is true. A connection that ``failed-to-terminate`` has not ended: the
    client may still be connected.
    """
    result: list[dict[str, Any]] = []
    try:
        paginator = ec2.get_paginator("describe_client_vpn_connections")
        for page in paginator.paginate(ClientVpnEndpointId=endpoint_id):
            for connection in page.get("Connections", []):
                state = connection.get("Status", {}).get("Code", "unknown")
                if state in ENDED and not include_ended:
                    continue
                result.append(
                    {
                        "connection_id": connection.get("ConnectionId"),
                        "username": connection.get("Username") or None,
                        "common_name": connection.get("CommonName") or None,
                        "client_ip": connection.get("ClientIp"),
                        "established": connection.get("ConnectionEstablishedTime"),
                        "ended": connection.get("ConnectionEndTime") or None,
                        "ingress_bytes": _as_int(connection.get("IngressBytes")),
                        "egress_bytes": _as_int(connection.get("EgressBytes")),
                        "state": state,
                    }
                )
    except ClientError as err:
        raise translate(err, endpoint_id, f"list connections of {endpoint_id}") from None
    return result


def _as_int(value: str | None) -> int | None:
    """Byte counters come as strings; return them as integers when they are numbers."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def disconnect(ec2: EC2Client, endpoint_id: str, username: str) -> dict[str, Any]:
    """Terminate every connection of ``username``; report what happened to each one."""
    try:
        response = ec2.terminate_client_vpn_connections(
            ClientVpnEndpointId=endpoint_id, Username=username
        )
    except ClientError as err:
        raise translate(err, endpoint_id, f"disconnect '{username}' from {endpoint_id}") from None
    statuses = [
        {
            "connection_id": status.get("ConnectionId"),
            "previous_state": status.get("PreviousStatus", {}).get("Code"),
            "state": status.get("CurrentStatus", {}).get("Code"),
        }
        for status in response.get("ConnectionStatuses", [])
    ]
    terminated = [s for s in statuses if s["state"] in ENDED and s["previous_state"] not in ENDED]
    failed = [s for s in statuses if s["state"] not in ENDED]
    return {
        "endpoint_id": endpoint_id,
        "username": username,
        "terminated": len(terminated),
        "failed": len(failed),
        "connections": statuses,
    }
