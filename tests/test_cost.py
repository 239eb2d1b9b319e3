"""Association-hours and their list price, computed from a template.

Oracle: the arithmetic written out here (730 h x $0.10 per association-hour, US East list
price) and hand-written templates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from constructs_cvpn import cost
from constructs_cvpn.handlers.schedule.hours import Hours

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


# -- off-hours schedule -----------------------------------------------------------------


def _hours_in_a_week(awake: Any) -> int:
    """Count the hours of one week (Monday 00:00 onwards) for which ``awake(weekday, hour)``."""
    monday = dt.datetime(2026, 12, 7)
    return sum(
        1
        for hour in range(7 * 24)
        if awake(
            (monday + dt.timedelta(hours=hour)).weekday(),
            (monday + dt.timedelta(hours=hour)).hour,
        )
    )


def test_weekdays_seven_to_eight_is_65_of_168_hours() -> None:
    """The issue's figure, by counting the hours of a week, not by the function's arithmetic."""
    counted = _hours_in_a_week(lambda day, hour: day < 5 and 7 <= hour < 20)
    assert counted == 65
    assert cost.scheduled_hours_per_week("MON-FRI", "07:00", "20:00") == counted
    assert round((1 - Decimal(counted) / 168) * 100) == 61


def test_scheduled_hours_agree_with_the_reconcilers_phase_minute_by_minute() -> None:
    """A second, independent count: the minutes of a (DST-free) Berlin week the reconciler's
    own phase function calls awake."""
    for days, start, stop in (
        ("MON-FRI", "07:00", "20:00"),
        ("MON,THU", "22:00", "06:30"),
        ("TUE-SAT", "08:45", "17:15"),
    ):
        hours = Hours("Europe/Berlin", days, start, stop)
        monday = dt.datetime(2026, 12, 7, tzinfo=ZoneInfo("Europe/Berlin"))
        minutes = sum(
            1 for m in range(7 * 24 * 60) if hours.awake_at(monday + dt.timedelta(minutes=m))
        )
        assert cost.scheduled_hours_per_week(days, start, stop) == Decimal(minutes) / 60


def test_night_shift_hours() -> None:
    counted = _hours_in_a_week(
        lambda day, hour: (day < 5 and hour >= 22) or (0 < day < 6 and hour < 6)
    )
    assert counted == 40
    assert cost.scheduled_hours_per_week("MON-FRI", "22:00", "06:00") == counted


def test_scheduled_association_hours_and_line() -> None:
    # 2 associations x 65 h/week x 730 h/month / 168 h/week = 564.88 h a month.
    monthly = cost.MonthlyCost.scheduled(
        2, time_zone="Europe/Berlin", days="MON-FRI", start="07:00", stop="20:00"
    )
    assert monthly.association_hours == Decimal(2 * 65 * 730) / 168
    assert monthly.usd == Decimal(2 * 65 * 730) / 168 * Decimal("0.10")
    line = cost.scheduled_line(
        "Stack/Vpn",
        2,
        {"time_zone": "Europe/Berlin", "days": "MON-FRI", "start": "07:00", "stop": "20:00"},
    )
    assert line == (
        "Stack/Vpn: 2 associations scheduled MON-FRI 07:00-20:00 Europe/Berlin: 65 of 168 h "
        "a week = 565 association-hours/month = $56.49/month (24/7: 1,460 = $146.00; 61 % "
        "fewer)"
    )


def test_a_monthly_cost_is_a_value() -> None:
    monthly = cost.MonthlyCost(2)
    assert monthly == cost.MonthlyCost(2, 730) and len({monthly, cost.MonthlyCost(2)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        monthly.associations = 3  # type: ignore[misc]
    assert monthly.association_hours == 1460


def test_the_line_rounds_the_share_saved_to_whole_percent() -> None:
    # 8 hours on weekdays: 40 of 168 hours kept, 128 / 168 = 76.19... % fewer.
    monthly = cost.MonthlyCost.scheduled(
        1, time_zone="UTC", days="MON-FRI", start="09:00", stop="17:00"
    )
    assert monthly.line("Vpn") == (
        "Vpn: 1 association scheduled MON-FRI 09:00-17:00 UTC: 40 of 168 h a week = 174 "
        "association-hours/month = $17.38/month (24/7: 730 = $73.00; 76 % fewer)"
    )


def test_schedules_by_endpoint_keys_a_literal_endpoint_id_by_itself() -> None:
    # A template written by hand (or processed) may give the id itself rather than a Ref.
    template = {
        "Resources": {
            "Reconciler": {
                "Type": "Custom::ClientVpnSchedule",
                "Properties": {
                    "EndpointId": "cvpn-endpoint-0123456789abcdef0",
                    "Subnets": ["subnet-1"],
                    "Hours": {"time_zone": "UTC", "days": "MON", "start": "01:00", "stop": "02:00"},
                },
            },
        }
    }
    assert list(cost.schedules_by_endpoint(template)) == ["cvpn-endpoint-0123456789abcdef0"]


def test_schedules_by_endpoint_reads_the_reconcilers_properties() -> None:
    template = {
        "Resources": {
            "Endpoint": {"Type": "AWS::EC2::ClientVpnEndpoint", "Properties": {}},
            "Reconciler": {
                "Type": "Custom::ClientVpnSchedule",
                "Properties": {
                    "EndpointId": {"Ref": "Endpoint"},
                    "Subnets": [{"Ref": "A"}, {"Ref": "B"}, {"Ref": "C"}],
                    "Hours": {"time_zone": "UTC", "days": "MON", "start": "01:00", "stop": "02:00"},
                },
            },
        }
    }
    assert cost.schedules_by_endpoint(template) == {
        "Endpoint": (3, {"time_zone": "UTC", "days": "MON", "start": "01:00", "stop": "02:00"})
    }
    assert cost.associations_by_endpoint(template) == {"Endpoint": 0}
