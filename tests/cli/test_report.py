"""``cvpn report``: parsing and aggregating documented connection-log records, and the command.

Every record starts from the example entry of the Client VPN admin guide ("Connection
logging", copied below as the oracle of the shape: every value a string, ``NA`` where a field
does not apply) with a few fields changed. The expected figures are worked out by hand in
each test from the records it builds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from constructs_cvpn.cli import create_app
from constructs_cvpn.cli.connection_log import aggregate, parse_record
from constructs_cvpn.cli.errors import UsageError
from constructs_cvpn.cli.report import parse_since
from tests.cli.conftest import ENDPOINT_ID, REGION, WIDE, FakeAws, _client, endpoint

#: The admin guide's example connection-log entry, verbatim.
DOCUMENTED = {
    "connection-log-type": "connection-attempt",
    "connection-attempt-status": "successful",
    "connection-reset-status": "NA",
    "connection-attempt-failure-reason": "NA",
    "connection-id": "cvpn-connection-abc123abc123abc12",
    "client-vpn-endpoint-id": "cvpn-endpoint-aaa111bbb222ccc33",
    "transport-protocol": "udp",
    "connection-start-time": "2020-03-26 20:37:15",
    "connection-last-update-time": "2020-03-26 20:37:15",
    "client-ip": "10.0.1.2",
    "common-name": "client1",
    "device-type": "mac",
    "device-ip": "98.247.202.82",
    "port": "50096",
    "ingress-bytes": "0",
    "egress-bytes": "0",
    "ingress-packets": "0",
    "egress-packets": "0",
    "connection-end-time": "NA",
    "username": "joe",
}

NOW = dt.datetime(2026, 12, 6, 12, 0, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(days=7)  # 2026-11-29 12:00


def record(**changes: str) -> str:
    """The documented entry with ``changes`` (keyword ``a_b`` is field ``a-b``), as logged."""
    fields = dict(DOCUMENTED)
    for name, value in changes.items():
        key = name.replace("_", "-")
        assert key in fields, key  # only documented fields
        fields[key] = value
    return json.dumps(fields)


def cert_user(name: str, conn: str, **changes: str) -> str:
    """A record of a certificate-authenticated user: ``username`` NA, CN = our user name."""
    return record(username="NA", common_name=name, connection_id=conn, **changes)


def week() -> list[str]:
    """alice: two sessions (ended); bob (AD user): one still open; three failures."""
    return [
        cert_user("alice", "cvpn-connection-1", connection_start_time="2026-12-01 09:00:00"),
        cert_user(
            "alice",
            "cvpn-connection-1",
            connection_log_type="connection-reset",
            connection_attempt_status="NA",
            connection_start_time="2026-12-01 09:00:00",
            connection_end_time="2026-12-01 10:30:00",
            ingress_bytes="1000",
            egress_bytes="5000",
        ),
        record(
            username="bob",
            common_name="bob",
            connection_id="cvpn-connection-3",
            connection_start_time="2026-12-01 10:00:00",
        ),
        cert_user("alice", "cvpn-connection-2", connection_start_time="2026-12-02 09:00:00"),
        cert_user(
            "alice",
            "cvpn-connection-2",
            connection_log_type="connection-reset",
            connection_attempt_status="NA",
            connection_start_time="2026-12-02 09:00:00",
            connection_end_time="2026-12-02 09:30:00",
            ingress_bytes="200",
            egress_bytes="300",
        ),
        *[
            record(
                username="carol",
                connection_id=f"cvpn-connection-f{i}",
                connection_attempt_status="failed",
                connection_attempt_failure_reason="Authentication failed",
                connection_start_time="2026-12-03 08:00:00",
            )
            for i in range(2)
        ],
        record(
            username="bob",
            connection_id="cvpn-connection-f3",
            connection_attempt_status="failed",
            connection_attempt_failure_reason="Client connect handler denied",
            connection_start_time="2026-12-03 08:05:00",
        ),
        "START RequestId: not a connection record",
    ]


def usage_of(lines: list[str]) -> Any:
    return aggregate(filter(None, map(parse_record, lines)), SINCE, NOW)


def test_the_documented_entry_parses() -> None:
    parsed = parse_record(json.dumps(DOCUMENTED))
    assert parsed is not None
    assert parsed.log_type == "connection-attempt"
    assert parsed.connection_id == "cvpn-connection-abc123abc123abc12"
    assert parsed.user == "joe"  # username wins when present
    assert parsed.start == dt.datetime(2020, 3, 26, 20, 37, 15, tzinfo=dt.UTC)
    assert parsed.end is None  # "NA"
    assert parse_record(record(username="NA")).user == "client1"  # type: ignore[union-attr]


def test_sessions_and_bytes_per_user() -> None:
    usage = usage_of(week())
    assert usage.per_user() == [
        # 1000 + 200 sent, 5000 + 300 received; 1h30 + 30m connected.
        {
            "user": "alice",
            "sessions": 2,
            "ingress_bytes": 1200,
            "egress_bytes": 5300,
            "connected_seconds": 7200,
        },
        # Still open: from 2026-12-01 10:00 to the end of the window (5 days 2 hours).
        {
            "user": "bob",
            "sessions": 1,
            "ingress_bytes": 0,
            "egress_bytes": 0,
            "connected_seconds": 5 * 86400 + 2 * 3600,
        },
    ]


def test_failed_authentications_by_user_and_reason() -> None:
    assert usage_of(week()).failed() == [
        {"user": "carol", "reason": "Authentication failed", "failures": 2},
        {"user": "bob", "reason": "Client connect handler denied", "failures": 1},
    ]


def test_peak_concurrency_and_connections_per_day() -> None:
    usage = usage_of(week())
    # alice 09:00-10:30 and bob from 10:00 overlap.
    assert usage.peak() == {"connections": 2, "at": "2026-12-01T10:00:00+00:00"}
    days = usage.per_day()
    assert [d["day"] for d in days] == [f"2026-11-{d}" for d in (29, 30)] + [
        f"2026-12-0{d}" for d in range(1, 7)
    ]
    assert {d["day"]: d["connections"] for d in days if d["connections"]} == {
        "2026-12-01": 2,
        "2026-12-02": 1,
    }


def test_a_reconnect_at_the_same_second_is_not_two_at_once() -> None:
    lines = [
        cert_user(
            "alice",
            "cvpn-connection-1",
            connection_log_type="connection-reset",
            connection_attempt_status="NA",
            connection_start_time="2026-12-01 09:00:00",
            connection_end_time="2026-12-01 10:00:00",
        ),
        cert_user("alice", "cvpn-connection-2", connection_start_time="2026-12-01 10:00:00"),
    ]
    assert usage_of(lines).peak()["connections"] == 1


def test_a_failed_attempt_is_not_a_session() -> None:
    usage = usage_of([record(connection_attempt_status="failed")])
    assert usage.per_user() == []
    assert usage.peak() == {"connections": 0, "at": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", dt.timedelta(minutes=30)), ("24h", dt.timedelta(hours=24)), ("7d", dt.timedelta(7))],
)
def test_since(text: str, expected: dt.timedelta) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["7", "0d", "-1d", "1w", "400d"])
def test_since_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_since(text)


# -- the command --------------------------------------------------------------------------

GROUP = "/aws/client-vpn/Vpn/0a1b2c3d"


@dataclass
class ReportAws(FakeAws):
    logs_client: Any = field(default_factory=lambda: _client("logs"))

    def __post_init__(self) -> None:
        super().__post_init__()
        self.logs_stub = Stubber(self.logs_client)
        self.logs_stub.activate()

    def logs(self) -> Any:
        return self.logs_client


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReportAws]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    fake = ReportAws()
    yield fake
    fake.ec2_stub.assert_no_pending_responses()
    fake.logs_stub.assert_no_pending_responses()


def expect_log(aws: ReportAws, *, enabled: bool = True) -> None:
    described = endpoint()
    described["ConnectionLogOptions"] = {"Enabled": enabled, "CloudwatchLogGroup": GROUP}
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [described]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )
    if not enabled:
        return
    lines = week()
    window = {
        "logGroupName": GROUP,
        "startTime": int(dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC).timestamp()) * 1000,
        "endTime": int(dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC).timestamp()) * 1000,
    }
    events = [
        {"logStreamName": f"{ENDPOINT_ID}-x", "timestamp": 1, "message": m, "eventId": str(i)}
        for i, m in enumerate(lines)
    ]
    aws.logs_stub.add_response(
        "filter_log_events", {"events": events[:4], "nextToken": "t"}, window
    )
    aws.logs_stub.add_response(
        "filter_log_events", {"events": events[4:]}, {**window, "nextToken": "t"}
    )


def run(aws: ReportAws, *args: str) -> Any:
    app = create_app(aws.factory, sleep=aws.sleep, clock=aws.clock, now=lambda: NOW)
    return CliRunner().invoke(app, list(args), env=WIDE)


def test_report_json(aws: ReportAws) -> None:
    expect_log(aws)
    result = run(aws, "report", "--endpoint-id", ENDPOINT_ID, "--since", "7d", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["log_group"] == GROUP
    assert [u["user"] for u in data["users"]] == ["alice", "bob"]
    assert data["users"][0]["ingress_bytes"] == 1200
    assert data["peak_concurrent"]["connections"] == 2
    assert data["failed_authentications"][0] == {
        "user": "carol",
        "reason": "Authentication failed",
        "failures": 2,
    }


def test_report_tables_and_chart(aws: ReportAws) -> None:
    expect_log(aws)
    result = run(aws, "report", "--endpoint-id", ENDPOINT_ID)
    assert result.exit_code == 0, result.output
    out = result.stdout
    (alice,) = [line for line in out.splitlines() if "│ alice" in line]
    assert [c.strip() for c in alice.split("│")[1:-1]] == [
        "alice",
        "2",
        "1.2 KiB",
        "5.2 KiB",
        "2h00m",
    ]
    assert "Peak concurrent connections: 2 (first at 2026-12-01T10:00:00+00:00)" in out
    bars = {
        line.split()[0]: line.count("█") for line in out.splitlines() if line.startswith("  2026-")
    }
    assert len(bars) == 8
    assert bars["2026-12-01"] == 40  # the busiest day fills the chart
    assert bars["2026-12-02"] == 20
    assert bars["2026-11-29"] == 0


def test_report_without_connection_logging(aws: ReportAws) -> None:
    expect_log(aws, enabled=False)
    result = run(aws, "report", "--endpoint-id", ENDPOINT_ID)
    assert result.exit_code != 0
    assert "connection logging off" in result.output
