"""``cvpn wake``'s limits and the end of a wake in ``cvpn status``.

The oracle: a wake is ``0 < N <= max_wake_hours`` hours (the reconciler's own check,
``handlers/schedule/index.py``, and README: "at most max_wake_hours"); a wake keeps the VPN
awake *before* its wake-until instant (``handlers/schedule/hours.phase``), so one that ends
exactly now is over.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from constructs_cvpn.cli.errors import UsageError
from constructs_cvpn.cli.wake import schedule_status, wake
from tests.cli.conftest import _client
from tests.cli.test_wake import FUNCTION, SCHEDULE, WakeAws, scheduled_outputs

ANSWER = {"phase": "awake", "wake_until": "2026-12-12T12:30:00+00:00", "complete": True}


@pytest.fixture
def lambda_stub() -> Iterator[tuple[Any, Stubber]]:
    """A Lambda client that answers only the invocations a test queues."""
    client = _client("lambda")
    stub = Stubber(client)
    stub.activate()
    yield client, stub
    stub.assert_no_pending_responses()


def expect_invoke(stub: Stubber, hours: float) -> None:
    stub.add_response(
        "invoke",
        {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(ANSWER).encode())},
        {
            "FunctionName": FUNCTION,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps({"wake_hours": hours}).encode(),
        },
    )


@pytest.mark.parametrize("hours", [0.5, 1.0, 11.5, 12.0])
def test_a_wake_up_to_max_wake_hours_is_invoked(
    lambda_stub: tuple[Any, Stubber], hours: float
) -> None:
    """From 30 minutes up to exactly ``max_wake_hours`` (12 in SCHEDULE)."""
    client, stub = lambda_stub
    expect_invoke(stub, hours)
    assert wake(client, SCHEDULE, hours) == ANSWER


@pytest.mark.parametrize("hours", [0.0, -1.0, 12.5, 13.0])
def test_a_wake_of_no_time_or_beyond_the_limit_is_refused_before_any_invoke(
    lambda_stub: tuple[Any, Stubber], hours: float
) -> None:
    client, _ = lambda_stub  # nothing queued: an invoke would fail the test differently
    with pytest.raises(UsageError, match="more than 0 and at most 12 hours"):
        wake(client, SCHEDULE, hours)


def test_a_wake_for_0m_on_the_command_line_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--for 0m`` parses (0 hours) but is no wake: exit 2, nothing invoked."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    fake = WakeAws()
    fake.expect_stack(scheduled_outputs())
    result = fake.run("wake", "--stack", "VpnStack", "--for", "0m")
    assert result.exit_code == 2, result.output
    assert "more than 0" in result.output
    fake.cfn_stub.assert_no_pending_responses()
    fake.lambda_stub.assert_no_pending_responses()


FRIDAY_EVENING = dt.datetime(2026, 12, 11, 19, 0, tzinfo=dt.UTC)  # 20:00 in Berlin: asleep


def test_a_wake_that_ends_exactly_now_is_over() -> None:
    status = schedule_status(SCHEDULE, FRIDAY_EVENING, FRIDAY_EVENING)
    assert status["phase"] == "asleep"
    assert status["wake_until"] is None
    assert status["next_change"] == "2026-12-14T06:00+00:00"  # Monday 07:00 in Berlin
