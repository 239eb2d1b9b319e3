"""The one place where boto3 clients are made, so tests can replace it.

A :data:`ClientFactory` takes the ``--profile`` and ``--region`` values (``None`` means
"use the usual environment / config chain") and returns a :class:`Clients` object.

The region: ``--region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the
profile's ``region``. The AWS SDKs' shared settings name ``AWS_REGION`` and rank it above the
config file (AWS SDKs and Tools reference guide, "AWS Region",
https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html); botocore reads only
``AWS_DEFAULT_REGION`` and the profile, so :class:`SessionClients` reads ``AWS_REGION``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

MAX_RETRIES = 5
"""Retries per AWS call after the first attempt (botocore's ``max_attempts`` counts retries).

Standard retry mode: exponential backoff with jitter, aware of throttling errors.
"""

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": MAX_RETRIES})
"""Client configuration used for every AWS client the CLI creates."""

INVOKE_CONFIG = Config(retries={"mode": "standard", "max_attempts": 0}, read_timeout=900)
"""For a synchronous ``lambda:Invoke`` that may run for minutes: one attempt, long read."""

S3_CONFIG = RETRY_CONFIG.merge(Config(signature_version="s3v4"))
"""S3 needs SigV4 for objects encrypted with SSE-KMS, including presigned URLs."""


class Clients(Protocol):
    """The AWS clients a command may need, created on first use."""

    def ec2(self) -> EC2Client:
        """Return an EC2 client."""
        ...

    def s3(self) -> S3Client:
        """Return an S3 client."""
        ...

    def cloudformation(self) -> CloudFormationClient:
        """Return a CloudFormation client."""
        ...

    def sts(self) -> STSClient:
        """Return an STS client."""
        ...

    def logs(self) -> Any:
        """Return a CloudWatch Logs client (``cvpn report``)."""
        ...

    def lambda_(self) -> Any:
        """Return a Lambda client (``cvpn revoke`` / ``rotate`` / ``wake``)."""
        ...

    def acm(self) -> Any:
        """Return an ACM client (``cvpn status``: certificate expiry)."""
        ...

    def cloudwatch(self) -> Any:
        """Return a CloudWatch client (``cvpn status``: the last renewal report)."""
        ...

    def ssm(self) -> Any:
        """Return an SSM client (``cvpn status``: a scheduled VPN's wake-until time)."""
        ...


ClientFactory = Callable[[str | None, str | None], Clients]
"""``factory(profile, region) -> Clients``."""


class SessionClients:
    """:class:`Clients` backed by one boto3 session (profile and region resolved by boto3)."""

    def __init__(self, profile: str | None, region: str | None) -> None:
        region = region or os.environ.get("AWS_REGION") or None
        self._session = boto3.Session(profile_name=profile, region_name=region)

    def ec2(self) -> EC2Client:
        """Return an EC2 client with the CLI's retry configuration."""
        return self._session.client("ec2", config=RETRY_CONFIG)

    def s3(self) -> S3Client:
        """Return an S3 client with the CLI's retry configuration and SigV4 signing."""
        return self._session.client("s3", config=S3_CONFIG)

    def cloudformation(self) -> CloudFormationClient:
        """Return a CloudFormation client with the CLI's retry configuration."""
        return self._session.client("cloudformation", config=RETRY_CONFIG)

    def sts(self) -> STSClient:
        """Return an STS client with the CLI's retry configuration."""
        return self._session.client("sts", config=RETRY_CONFIG)

    def logs(self) -> Any:
        """Return a CloudWatch Logs client with the CLI's retry configuration."""
        return self._session.client("logs", config=RETRY_CONFIG)

    def lambda_(self) -> Any:
        """Return a Lambda client; no retries: a revocation is invoked once, and waits for
        the function (up to its 12-minute timeout)."""
        return self._session.client("lambda", config=INVOKE_CONFIG)

    def acm(self) -> Any:
        """Return an ACM client with the CLI's retry configuration."""
        return self._session.client("acm", config=RETRY_CONFIG)

    def cloudwatch(self) -> Any:
        """Return a CloudWatch client with the CLI's retry configuration."""
        return self._session.client("cloudwatch", config=RETRY_CONFIG)

    def ssm(self) -> Any:
        """Return an SSM client with the CLI's retry configuration."""
        return self._session.client("ssm", config=RETRY_CONFIG)


def default_client_factory(profile: str | None, region: str | None) -> Clients:
    """Create :class:`SessionClients` for the user's profile and region."""
    return SessionClients(profile, region)
