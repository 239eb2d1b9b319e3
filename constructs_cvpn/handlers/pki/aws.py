"""Lazily created boto3 clients shared by the PKI handlers.

S3 clients send ``ExpectedBucketOwner`` (the account pinned in the function's configuration,
see :mod:`..pinned`) on every call. Clients use standard retries (5 attempts), a 5 s connect
timeout and a 30 s read timeout.
They are created on first use and cached; tests call :func:`reset` (or :func:`set_client`
to inject a client wrapped in ``botocore.stub.Stubber``).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from ..pinned import expect_owner

__all__ = ["CONFIG", "client", "reset", "set_client"]

CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """Return the cached boto3 client for ``service`` (``acm``, ``ec2``, ``s3``, ...)."""
    if service not in _clients:
        made = boto3.client(service, config=CONFIG)  # type: ignore[call-overload]
        _clients[service] = expect_owner(made) if service == "s3" else made
    return _clients[service]


def set_client(service: str, value: Any) -> None:
    """Use ``value`` as the client for ``service`` (tests)."""
    _clients[service] = value


def reset() -> None:
    """Forget every cached client."""
    _clients.clear()
