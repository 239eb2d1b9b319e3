"""boto3 clients and readable errors for the config-export handler.

Clients are created lazily by :func:`ec2_client`, :func:`s3_client` and
:func:`secrets_client` (tests monkeypatch these functions). All use standard retries
(5 attempts), a 5 s connect timeout and a 20 s read timeout. The S3 client sends
``ExpectedBucketOwner`` (the account pinned in the function's configuration, see
:mod:`..pinned`) on every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ..pinned import expect_owner

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient

BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
)

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "KMS.AccessDeniedException"}
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequestsException",
        "SlowDown",
    }
)


class ExportConfigError(RuntimeError):
    """The export failed; the message is safe to show in CloudFormation events."""


class InvalidPropertiesError(ExportConfigError):
    """A ResourceProperties value is missing or invalid."""


class EndpointNotFoundError(ExportConfigError):
    """The Client VPN endpoint does not exist (in this account and region)."""


class AccessDeniedError(ExportConfigError):
    """The handler's role may not perform an action; the message names the action."""


class SecretError(ExportConfigError):
    """The credentials secret is missing, unreadable or malformed."""


class ThrottledError(ExportConfigError):
    """AWS kept throttling the call after the client's retries."""


def ec2_client() -> EC2Client:
    """A new EC2 client (region from the Lambda environment)."""
    return boto3.client("ec2", config=BOTO_CONFIG)


def s3_client() -> S3Client:
    """A new S3 client (region from the Lambda environment)."""
    s3: S3Client = expect_owner(boto3.client("s3", config=BOTO_CONFIG))
    return s3


def describe_stack_resource(stack_id: str, logical_id: str) -> Any:
    """CloudFormation's view of one resource (``StackResourceDetail``)."""
    cfn = boto3.client("cloudformation", config=BOTO_CONFIG)
    out = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId=logical_id)
    return out["StackResourceDetail"]


def stack_status(stack_id: str) -> str:
    """The stack's status (``DescribeStacks``): whether CloudFormation is cleaning up."""
    cfn = boto3.client("cloudformation", config=BOTO_CONFIG)
    return str(cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])


def secrets_client() -> SecretsManagerClient:
    """A new Secrets Manager client (region from the Lambda environment)."""
    return boto3.client("secretsmanager", config=BOTO_CONFIG)


def error_code(err: ClientError) -> str:
    """The AWS error code of ``err`` (empty when absent)."""
    code: Any = err.response.get("Error", {}).get("Code", "")
    return str(code)


def raise_readable(err: ClientError, action: str, target: str) -> NoReturn:
    """Raise the :class:`ExportConfigError` subclass that explains ``err``.

    ``action`` is the IAM action (``ec2:ExportClientVpnClientConfiguration``), ``target`` the
    resource it was called on. The AWS message is included: AWS error messages carry no
    request bodies, so no configuration text or key material.
    """
    code = error_code(err)
    message = str(err.response.get("Error", {}).get("Message", "")).strip()
    detail = f" ({code}: {message})" if message else f" ({code})"
    if code in ACCESS_DENIED_CODES:
        raise AccessDeniedError(
            f"access denied: the handler role may not perform {action} on {target}{detail}"
        ) from None
    if code in THROTTLING_CODES:
        raise ThrottledError(
            f"{action} on {target} was still throttled after 5 retries{detail}; retry later"
        ) from None
    raise ExportConfigError(f"{action} on {target} failed{detail}") from None
