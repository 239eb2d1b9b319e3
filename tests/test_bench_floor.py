"""bench/apps.py ``floor_resources``: the resources the generated PKI adds to the L2 app.

Oracle: a pair of small templates worked out by hand.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_apps", ROOT / "bench/apps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_floor_keeps_what_the_l2_has_no_counterpart_for_and_relinks_the_rest() -> None:
    l2 = {
        "Endpoint": {"Type": "AWS::EC2::ClientVpnEndpoint"},
        "Logs": {"Type": "AWS::Logs::LogGroup"},
    }
    pki = {
        "Vpn": {"Type": "AWS::EC2::ClientVpnEndpoint"},
        "VpnLogs": {"Type": "AWS::Logs::LogGroup"},
        "HandlerLogs": {"Type": "AWS::Logs::LogGroup"},
        "Handler": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Endpoint": {"Fn::GetAtt": ["Vpn", "Id"]},
                "Logs": {"Ref": "HandlerLogs"},
                "Region": {"Ref": "AWS::Region"},
                "Ids": [{"Ref": "Vpn"}, "literal"],
            },
        },
    }
    assert _load().floor_resources(l2, pki) == {
        "HandlerLogs": {"Type": "AWS::Logs::LogGroup"},
        "Handler": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Endpoint": {"Fn::GetAtt": ["Endpoint", "Id"]},
                "Logs": {"Ref": "HandlerLogs"},
                "Region": {"Ref": "AWS::Region"},
                "Ids": [{"Ref": "Endpoint"}, "literal"],
            },
        },
    }
