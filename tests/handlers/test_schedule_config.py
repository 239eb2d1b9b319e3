"""``handlers/schedule/config.py``: the reconciler's own configuration (``CVPN_SCHEDULE``).

Oracle: the module's documented format: each route is ``[cidr, subnet, description]`` with
``subnet`` an index into ``subnets`` or ``-1`` for ``local``; anything else is a ConfigError.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_cvpn.handlers.schedule.config import LOCAL, Config, ConfigError, Route

SUBNETS = ["subnet-a", "subnet-b"]


def _config(routes: list[list[Any]]) -> Config:
    return Config.from_json(
        json.dumps(
            {
                "endpoint_id": "cvpn-endpoint-0123456789abcdef0",
                "stack_id": "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1",
                "subnets": SUBNETS,
                "routes": routes,
                "hours": {"time_zone": "UTC", "days": "MON-FRI", "start": "07:00", "stop": "20:00"},
                "wake_parameter": "/constructs-cvpn/x/wake-until",
                "max_wake_hours": 12,
            }
        )
    )


def test_routes_name_their_subnet_by_index_and_keep_their_description() -> None:
    config = _config(
        [["10.1.0.0/16", 1, "to the office"], ["10.2.0.0/16", 0, None], ["10.100.0.0/22", -1, ""]]
    )
    assert config.routes == (
        Route("10.1.0.0/16", "subnet-b", "to the office"),
        Route("10.2.0.0/16", "subnet-a", ""),
        Route("10.100.0.0/22", LOCAL, ""),
    )


@pytest.mark.parametrize("index", [2, -2, "x", "-1"])
def test_a_route_through_no_target_subnet_is_refused(index: object) -> None:
    with pytest.raises(ConfigError, match="CVPN_SCHEDULE is not a valid schedule configuration"):
        _config([["10.1.0.0/16", index, ""]])
