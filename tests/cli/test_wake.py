"""``cvpn wake`` and the schedule line of ``cvpn status`` (issue 22)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from constructs_cvpn.cli.errors import UsageError
from constructs_cvpn.cli.wake import parse_duration, schedule_status
from tests.cli.conftest import ENDPOINT_ID, FakeAws, _client, vpn_outputs
from tests.cli.test_status import expect_status_calls

FUNCTION = "VpnStack-VpnOffHoursHandlerFunction-AbC123"
PARAMETER = "/constructs-cvpn/VpnStackVpn1A2B3C4D/wake-until"
SCHEDULE = {
    "function": FUNCTION,
    "wake_parameter": PARAMETER,
    "time_zone": "Europe/Berlin",
    "days": "MON-FRI",
    "start": "07:00",
    "stop": "20:00",
    "max_wake_hours": 12,
}


def scheduled_outputs() -> list[dict[str, str]]:
    return [
        *vpn_outputs(users=False),
        {"OutputKey": "VpnOffHoursSchedule9565F093", "OutputValue": json.dumps(SCHEDULE)},
    ]


class WakeAws(FakeAws):
    """FakeAws with stubbed Lambda and SSM clients."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.lambda_client = _client("lambda")
        self.ssm_client = _client("ssm")
        self.lambda_stub = Stubber(self.lambda_client)
        self.ssm_stub = Stubber(self.ssm_client)
        self.lambda_stub.activate()
        self.ssm_stub.activate()

    def lambda_(self) -> Any:
        return self.lambda_client

    def ssm(self) -> Any:
        return self.ssm_client


@pytest.fixture
def waws(aws: FakeAws) -> Iterator[WakeAws]:
    fake = WakeAws()
    yield fake
    for stub in (fake.ec2_stub, fake.cfn_stub, fake.lambda_stub, fake.ssm_stub):
        stub.assert_no_pending_responses()


def expect_invoke(waws: WakeAws, hours: float, answer: dict[str, Any], error: bool = False) -> None:
    response: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": io.BytesIO(json.dumps(answer).encode()),
    }
    if error:
        response["FunctionError"] = "Unhandled"
    waws.lambda_stub.add_response(
        "invoke",
        response,
        {
            "FunctionName": FUNCTION,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps({"wake_hours": hours}).encode(),
        },
    )


def test_wake_invokes_the_reconciler_with_only_the_hours(waws: WakeAws) -> None:
    waws.expect_stack(scheduled_outputs())
    expect_invoke(
        waws,
        1.5,
        {"phase": "awake", "wake_until": "2026-12-12T12:30:00+00:00", "complete": True},
    )
    result = waws.run("wake", "--stack", "VpnStack", "--for", "1h30m")
    assert result.exit_code == 0, result.output
    assert "Awake until 2026-12-12T12:30:00+00:00: associated." in result.output


def test_wake_reports_a_failed_function(waws: WakeAws) -> None:
    waws.expect_stack(scheduled_outputs())
    expect_invoke(waws, 2.0, {"errorMessage": "subnet gone"}, error=True)
    result = waws.run("wake", "--stack", "VpnStack")
    assert result.exit_code == 1
    assert "the wake failed: subnet gone" in result.output


def test_wake_refuses_more_than_the_schedule_allows(waws: WakeAws) -> None:
    waws.expect_stack(scheduled_outputs())
    result = waws.run("wake", "--stack", "VpnStack", "--for", "13h")
    assert result.exit_code == 2
    assert "at most 12 hours" in result.output


def test_wake_of_a_vpn_without_schedule_is_not_found(waws: WakeAws) -> None:
    waws.expect_stack(vpn_outputs())
    result = waws.run("wake", "--stack", "VpnStack")
    assert result.exit_code == 3
    assert "has no off-hours schedule" in result.output


def test_status_shows_the_phase_and_the_next_change(waws: WakeAws) -> None:
    """A wake until 2099 is in force whatever the wall clock says: awake, and the next
    change is that wake's end."""
    waws.expect_stack(scheduled_outputs())
    expect_status_calls(waws)
    waws.ssm_stub.add_response(
        "get_parameter",
        {"Parameter": {"Name": PARAMETER, "Value": "2099-01-01T00:00:00+00:00"}},
        {"Name": PARAMETER},
    )
    result = waws.run("status", "--stack", "VpnStack", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["endpoint_id"] == ENDPOINT_ID
    assert data["schedule"] == {
        "phase": "awake",
        "hours": "MON-FRI 07:00-20:00 Europe/Berlin",
        "wake_until": "2099-01-01T00:00:00+00:00",
        "next_change": "2099-01-01T00:00+00:00",
    }


def test_status_table_has_a_schedule_line(waws: WakeAws) -> None:
    waws.expect_stack(scheduled_outputs())
    expect_status_calls(waws)
    waws.ssm_stub.add_client_error("get_parameter", "ParameterNotFound", expected_params=None)
    result = waws.run("status", "--stack", "VpnStack")
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Schedule: ")]
    assert line.startswith("Schedule: a")  # awake or asleep, by the wall clock
    assert "(MON-FRI 07:00-20:00 Europe/Berlin); next change 20" in line


@pytest.mark.parametrize(
    ("text", "hours"), [("2h", 2.0), ("90m", 1.5), ("1h30m", 1.5), ("1.5h", 1.5), ("45m", 0.75)]
)
def test_durations(text: str, hours: float) -> None:
    assert parse_duration(text) == hours


@pytest.mark.parametrize("text", ["", "2", "h", "2d", "-1h", "1m30h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_status_after_a_wake_has_ended_follows_the_hours() -> None:
    friday_evening = dt.datetime(2026, 12, 11, 19, 0, tzinfo=dt.UTC)  # 20:00 in Berlin
    ended = friday_evening - dt.timedelta(minutes=1)
    status = schedule_status(SCHEDULE, ended, friday_evening)
    assert status["phase"] == "asleep"
    assert status["wake_until"] is None
    assert status["next_change"] == "2026-12-14T06:00+00:00"  # Monday 07:00 in Berlin
