"""Association-hours and their list price, computed from a template.

Oracle: the arithmetic written out here (730 h x $0.10 per association-hour, US East list
price) and hand-written templates.
"""

from __future__ import annotations

from decimal import Decimal

from constructs_cvpn import cost

ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"


def _association(endpoint: object) -> dict[str, object]:
    return {"Type": ASSOCIATION, "Properties": {"ClientVpnEndpointId": endpoint}}


def test_two_associations_for_a_month() -> None:
    assert cost.association_hours_per_month(2) == 1460
    assert cost.association_cost_per_month(2) == Decimal("146.00")


def test_the_price_used_is_stated() -> None:
    note = cost.price_note()
    assert "$0.10 per association-hour" in note
    assert "us-east-1" in note and "2026-11-26" in note
    assert "$0.05 per connection-hour" in note


def test_associations_are_counted_per_endpoint() -> None:
    template = {
        "Resources": {
            "A": {"Type": "AWS::EC2::ClientVpnEndpoint", "Properties": {}},
            "B": {"Type": "AWS::EC2::ClientVpnEndpoint", "Properties": {}},
            "Idle": {"Type": "AWS::EC2::ClientVpnEndpoint", "Properties": {}},
            "A1": _association({"Ref": "A"}),
            "A2": _association({"Ref": "A"}),
            "A3": _association({"Ref": "A"}),
            "B1": _association({"Ref": "B"}),
            "Elsewhere": _association("cvpn-endpoint-0123456789abcdef0"),
            "Bucket": {"Type": "AWS::S3::Bucket"},
        }
    }
    assert cost.associations_by_endpoint(template) == {
        "A": 3,
        "B": 1,
        "Idle": 0,
        "cvpn-endpoint-0123456789abcdef0": 1,
    }


def test_report_line() -> None:
    assert cost.monthly_line("Stack/Vpn", 3) == (
        "Stack/Vpn: 3 associations x 730 h = 2,190 association-hours/month = $219.00/month"
    )
    assert cost.monthly_line("Stack/Vpn", 1).startswith("Stack/Vpn: 1 association x")
