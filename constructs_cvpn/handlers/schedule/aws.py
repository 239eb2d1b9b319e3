"""Lazily created boto3 clients of the reconciler (tests call :func:`set_client`).

Standard retries (5 attempts, which also cover EC2's ``RequestLimitExceeded``), 5 s connect
and 30 s read timeouts.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

__all__ = ["CONFIG", "client", "reset", "set_client"]

CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The cached client for ``ec2``, ``ssm`` or ``cloudformation``."""
    if service not in _clients:
        _clients[service] = boto3.client(service, config=CONFIG)  # type: ignore[call-overload]
    return _clients[service]


def set_client(service: str, value: Any) -> None:
    _clients[service] = value


def reset() -> None:
    _clients.clear()
