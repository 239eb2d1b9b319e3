"""bench/deploy_model.py on a template small enough to count by hand.

The expected figures are worked out in the comments from the graph below, not from the
model's code: a model that ignored ``Ref`` (only ``DependsOn``), counted resources that are
not endpoint changes, or took the longest ASAP level for the critical path would fail.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_model", ROOT / "bench/deploy_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


deploy_model = _load()

ENDPOINT = {"Type": "AWS::EC2::ClientVpnEndpoint", "Properties": {}}


def _ref(kind: str, **extra: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": {"ClientVpnEndpointId": {"Ref": "E"}}, **extra}


def template() -> dict[str, Any]:
    """Endpoint E; associations A1, A2; rules R0-R5 in two lanes; route T after A1 and A2
    (through ``Fn::GetAtt`` and ``Fn::Sub``, no DependsOn); export X after the associations; a
    log group L that is not an endpoint change."""
    rule = "AWS::EC2::ClientVpnAuthorizationRule"
    resources: dict[str, Any] = {
        "E": ENDPOINT,
        "L": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "A1": _ref("AWS::EC2::ClientVpnTargetNetworkAssociation"),
        "A2": _ref("AWS::EC2::ClientVpnTargetNetworkAssociation"),
        "T": {
            "Type": "AWS::EC2::ClientVpnRoute",
            "Properties": {
                "ClientVpnEndpointId": {"Ref": "E"},
                "TargetVpcSubnetId": {"Fn::GetAtt": ["A1", "Id"]},
                "Description": {"Fn::Sub": "via ${A2.Id}"},
            },
        },
        "X": _ref("Custom::ClientVpnConfigExport", DependsOn=["A1", "A2", "L"]),
    }
    for i in range(6):
        resources[f"R{i}"] = _ref(rule, **({"DependsOn": f"R{i - 2}"} if i >= 2 else {}))
    return {"Resources": resources}


def test_references_follow_ref_getatt_and_sub() -> None:
    deps = deploy_model.dependencies(template()["Resources"])
    assert deps["T"] == {"E", "A1", "A2"}
    assert deps["R4"] == {"E", "R2"}


def test_figures_of_the_hand_counted_template() -> None:
    f = deploy_model.model(template())
    # Changes: A1, A2, R0-R5, T, X = 10 (E and L are not).
    assert (f.associations, f.rules, f.routes, f.custom, f.serial) == (2, 6, 1, 1, 10)
    # Longest chain: R0 -> R2 -> R4 (3); A -> T and A -> X are 2.
    assert f.chain == 3
    # At most 5 at once: A1, A2 and one rule per lane (4), plus nothing else before the
    # associations end; then T, X and two rules: 4. Five is impossible: T and X need A1, A2.
    assert (f.peak_low, f.peak_high) == (4, 4)
    # Without lanes and at most 10 at once: A1, A2, R0-R5 in step 1, T and X in step 2.
    assert (f.limit, f.limit_bound) == (2, 2)
    # 10 - 2 = 8 lanes: the rules no longer wait for each other: chain 2; 8 at once in step 1.
    assert (f.wide_chain, f.wide_peak) == (2, "8")
