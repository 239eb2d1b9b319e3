"""What the reconciler may touch: read once from the function's own configuration.

The template sets the environment variable ``CVPN_SCHEDULE`` (JSON) on the function; changing
it needs ``lambda:UpdateFunctionConfiguration``. Nothing that decides which endpoint, which
subnets or which routes comes from the invoking event: a CloudFormation request, a schedule
and ``cvpn wake`` all reconcile this one desired set (``cvpn wake`` may only say for how many
hours, at most ``max_wake_hours``).

Fields: ``endpoint_id``; ``stack_id`` (the stack the endpoint is in); ``subnets`` (the
target networks, one per AZ); ``routes`` (each ``[cidr, subnet, description]``, ``subnet``
an index into ``subnets`` or ``-1`` for the client-to-client route's ``local``: compact,
since Lambda's environment holds 4 KB); ``hours``
(``time_zone``, ``days``, ``start``, ``stop``, see :class:`.hours.Hours`);
``wake_parameter`` (the SSM parameter holding the wake-until time); ``max_wake_hours``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .hours import Hours

__all__ = ["ENV", "LOCAL", "Config", "ConfigError", "Route", "load"]

ENV = "CVPN_SCHEDULE"
#: The target of the client-to-client route (CreateClientVpnRoute ``TargetVpcSubnetId``).
LOCAL = "local"


class ConfigError(RuntimeError):
    """The function's configuration is missing or malformed."""


@dataclass(frozen=True)
class Route:
    cidr: str
    subnet: str
    description: str = ""


@dataclass(frozen=True)
class Config:
    endpoint_id: str
    stack_id: str
    subnets: tuple[str, ...]
    routes: tuple[Route, ...]
    hours: Hours
    wake_parameter: str
    max_wake_hours: int

    @classmethod
    def from_json(cls, text: str) -> Config:
        try:
            raw = json.loads(text)
            hours = raw["hours"]
            config = cls(
                endpoint_id=str(raw["endpoint_id"]),
                stack_id=str(raw["stack_id"]),
                subnets=tuple(str(s) for s in raw["subnets"]),
                routes=tuple(
                    Route(
                        str(cidr),
                        LOCAL if index == -1 else _subnet(raw["subnets"], index),
                        str(description or ""),
                    )
                    for cidr, index, description in raw["routes"]
                ),
                hours=Hours(
                    str(hours["time_zone"]),
                    str(hours["days"]),
                    str(hours["start"]),
                    str(hours["stop"]),
                ),
                wake_parameter=str(raw["wake_parameter"]),
                max_wake_hours=int(raw["max_wake_hours"]),
            )
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise ConfigError(f"{ENV} is not a valid schedule configuration: {err}") from None
        return config


def _subnet(subnets: list[object], index: object) -> str:
    """The target subnet a route's index names (Python's negative indexes refused)."""
    position = int(str(index))
    if position < 0:
        raise IndexError(f"route subnet index {position}")
    return str(subnets[position])


def load(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration from the environment (``os.environ`` by default)."""
    text = (os.environ if environ is None else environ).get(ENV)
    if not text:
        raise ConfigError(f"the function has no {ENV} environment variable")
    return Config.from_json(text)
