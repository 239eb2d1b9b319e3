"""Connection-log records at the edges: odd values, other JSON, sessions seen in part.

Records start from the admin guide's example entry (``tests/cli/test_report.DOCUMENTED``);
the expected figures follow the module's docstrings (a session is a connection with a
``successful`` attempt or a ``connection-reset`` record; counters are non-negative; a time is
``YYYY-MM-DD HH:MM:SS`` UTC or absent) and are worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from constructs_cvpn.cli.connection_log import Record, aggregate, parse_record
from tests.cli.test_report import DOCUMENTED, NOW, SINCE, cert_user, record


def parsed(fields: dict[str, Any]) -> Record:
    result = parse_record(json.dumps(fields))
    assert result is not None
    return result


def reset(user: str, conn: str, start: str, end: str = "NA", **changes: str) -> str:
    """The ``connection-reset`` record of a certificate user's connection."""
    return cert_user(
        user,
        conn,
        connection_log_type="connection-reset",
        connection_attempt_status="NA",
        connection_start_time=start,
        connection_end_time=end,
        **changes,
    )


def usage_of(lines: list[str]) -> Any:
    return aggregate(filter(None, map(parse_record, lines)), SINCE, NOW)


# -- one record ---------------------------------------------------------------------------


def test_a_record_without_time_fields_has_no_times() -> None:
    fields = {k: v for k, v in DOCUMENTED.items() if not k.endswith("-time")}
    r = parsed(fields)
    assert (r.start, r.end) == (None, None)
    assert r.connection_id == DOCUMENTED["connection-id"]


def test_a_time_that_is_not_a_string_is_no_time() -> None:
    r = parsed({**DOCUMENTED, "connection-start-time": 1585255035, "connection-end-time": None})
    assert (r.start, r.end) == (None, None)


@pytest.mark.parametrize(
    "value", ["2020-03-26T20:37:15", "2020-03-26 20:37", "26/03/2020 20:37:15", "yesterday"]
)
def test_a_time_in_another_format_is_no_time(value: str) -> None:
    r = parsed({**DOCUMENTED, "connection-start-time": value, "connection-end-time": value})
    assert (r.start, r.end) == (None, None)


@pytest.mark.parametrize(
    ("value", "count"),
    [("12345", 12345), ("0", 0), ("NA", 0), ("", 0), ("-5", 0), ("1.5", 0), (None, 0)],
)
def test_byte_counters_are_whole_non_negative_numbers(value: Any, count: int) -> None:
    """``NA`` (the field does not apply), anything not a count, and a negative value count 0."""
    r = parsed({**DOCUMENTED, "ingress-bytes": value, "egress-bytes": value})
    assert (r.ingress_bytes, r.egress_bytes) == (count, count)


def test_missing_byte_counters_count_zero() -> None:
    fields = {k: v for k, v in DOCUMENTED.items() if not k.endswith("-bytes")}
    r = parsed(fields)
    assert (r.ingress_bytes, r.egress_bytes) == (0, 0)


@pytest.mark.parametrize(
    "message",
    [
        '{"level": "INFO", "message": "not a connection"}',  # an object without connection-id
        "42",
        '"cvpn-connection-abc"',
        '["connection-id"]',
        "null",
    ],
)
def test_json_that_is_not_a_connection_record_is_skipped(message: str) -> None:
    assert parse_record(message) is None


# -- sessions -----------------------------------------------------------------------------


def test_a_connection_seen_only_by_its_reset_record_is_a_session() -> None:
    """The attempt was logged before the window: the reset record alone says it ran."""
    usage = usage_of(
        [reset("alice", "cvpn-connection-1", "2026-12-01 09:00:00", "2026-12-01 10:00:00")]
    )
    assert [(s.connection_id, s.user) for s in usage.sessions] == [("cvpn-connection-1", "alice")]
    assert usage.per_user()[0]["connected_seconds"] == 3600


def test_an_attempt_neither_successful_nor_failed_is_not_a_session() -> None:
    """Only a ``successful`` attempt or a ``connection-reset`` record establishes a session;
    an attempt still waiting (e.g. on the client connect handler) is neither a session nor a
    failure."""
    usage = usage_of(
        [
            cert_user(
                "alice",
                "cvpn-connection-1",
                connection_attempt_status="waiting",
                connection_start_time="2026-12-01 09:00:00",
            )
        ]
    )
    assert usage.sessions == []
    assert usage.failed() == []
    assert usage.peak() == {"connections": 0, "at": None}


def test_a_session_that_ended_before_the_window_counts_no_time() -> None:
    """A late record of a session that ended before ``since``: one session, 0 s connected."""
    usage = usage_of(
        [reset("alice", "cvpn-connection-1", "2026-11-20 09:00:00", "2026-11-20 10:00:00")]
    )
    assert usage.per_user() == [
        {
            "user": "alice",
            "sessions": 1,
            "ingress_bytes": 0,
            "egress_bytes": 0,
            "connected_seconds": 0,
        }
    ]


def test_a_session_of_no_length_counts_no_time() -> None:
    usage = usage_of(
        [reset("alice", "cvpn-connection-1", "2026-12-01 09:00:00", "2026-12-01 09:00:00")]
    )
    assert usage.per_user()[0]["connected_seconds"] == 0


def test_failures_with_equal_counts_are_listed_by_user_then_reason() -> None:
    """Most first; ties in user, then reason order, whatever order the log had them in."""

    def failure(user: str, reason: str, conn: str) -> str:
        return record(
            username=user,
            connection_id=conn,
            connection_attempt_status="failed",
            connection_attempt_failure_reason=reason,
        )

    lines = [
        failure("zoe", "Authentication failed", "c1"),
        failure("mia", "Client connect handler denied", "c2"),
        failure("mia", "Authentication failed", "c3"),
        failure("adam", "Authentication failed", "c4"),
        failure("zoe", "Authentication failed", "c5"),
    ]
    expected = [
        {"user": "zoe", "reason": "Authentication failed", "failures": 2},
        {"user": "adam", "reason": "Authentication failed", "failures": 1},
        {"user": "mia", "reason": "Authentication failed", "failures": 1},
        {"user": "mia", "reason": "Client connect handler denied", "failures": 1},
    ]
    assert usage_of(lines).failed() == expected
    assert usage_of(lines[::-1]).failed() == expected


def test_a_session_without_a_start_time_does_not_hide_the_others_from_the_peak() -> None:
    """A connection whose records carry no start time cannot be placed in time; the two
    overlapping sessions beside it still make a peak of 2."""
    usage = usage_of(
        [
            reset("carol", "cvpn-connection-0", "NA", "NA"),
            reset("alice", "cvpn-connection-1", "2026-12-01 09:00:00", "2026-12-01 11:00:00"),
            reset("bob", "cvpn-connection-2", "2026-12-01 10:00:00", "2026-12-01 12:00:00"),
        ]
    )
    assert len(usage.sessions) == 3
    assert usage.peak() == {"connections": 2, "at": "2026-12-01T10:00:00+00:00"}


def test_the_peak_after_an_earlier_session_ended() -> None:
    """alice 09:00-10:00 ends before bob (11:00-13:00) and carol (12:00, still open) overlap:
    the peak is 2, first reached at 12:00."""
    usage = usage_of(
        [
            reset("alice", "cvpn-connection-1", "2026-12-01 09:00:00", "2026-12-01 10:00:00"),
            reset("bob", "cvpn-connection-2", "2026-12-01 11:00:00", "2026-12-01 13:00:00"),
            reset("carol", "cvpn-connection-3", "2026-12-01 12:00:00"),
        ]
    )
    assert usage.peak() == {
        "connections": 2,
        "at": dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC).isoformat(),
    }
