"""The wake-until time: an SSM parameter the reconciler alone writes.

``cvpn wake --for 2h`` keeps a scheduled VPN awake until now + 2 hours: the handler writes
that instant (ISO 8601, UTC) to its parameter, and every step of every run reads it back
(:func:`.hours.phase` honours it), so the scheduled sleep and the 15-minute check leave
the VPN awake until then and put it to sleep at the first check after. A wake never
shortens an earlier, longer one. The parameter is not a CloudFormation resource (a value
the handler changes would be drift); the stack's deletion removes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

__all__ = ["clear", "extend", "read"]


def read(ssm: Any, name: str) -> dt.datetime | None:
    """The wake-until instant, or None (no parameter, or not a time)."""
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise
    try:
        until = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return until if until.tzinfo is not None else None


def extend(ssm: Any, name: str, until: dt.datetime) -> dt.datetime:
    """Keep awake until ``until`` at least; returns the wake-until now in force."""
    current = read(ssm, name)
    if current is not None and current >= until:
        return current
    ssm.put_parameter(
        Name=name,
        Value=until.astimezone(dt.UTC).isoformat(timespec="seconds"),
        Type="String",
        Overwrite=True,
        Description="constructs-cvpn: the scheduled Client VPN stays awake until this time",
    )
    return until


def clear(ssm: Any, name: str) -> None:
    """Remove the parameter (a missing one is fine)."""
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise
