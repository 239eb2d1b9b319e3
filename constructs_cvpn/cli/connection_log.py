"""Parse Client VPN connection-log records and aggregate them into a usage report.

The record format is the one the Client VPN admin guide documents ("Connection logging",
https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/connection-logging.html): one JSON
object per connection event, every value a string, ``NA`` where a field does not apply::

    {"connection-log-type": "connection-attempt", "connection-attempt-status": "successful",
     "connection-reset-status": "NA", "connection-attempt-failure-reason": "NA",
     "connection-id": "cvpn-connection-abc123abc123abc12",
     "client-vpn-endpoint-id": "cvpn-endpoint-aaa111bbb222ccc33", "transport-protocol": "udp",
     "connection-start-time": "2020-03-26 20:37:15",
     "connection-last-update-time": "2020-03-26 20:37:15", "client-ip": "10.0.1.2",
     "common-name": "client1", "device-type": "mac", "device-ip": "98.247.202.82",
     "port": "50096", "ingress-bytes": "0", "egress-bytes": "0", "ingress-packets": "0",
     "egress-packets": "0", "connection-end-time": "NA", "username": "joe"}

``connection-log-type`` is ``connection-attempt`` or ``connection-reset``; AWS's networking
blog ("Streamline AWS Client VPN usage reporting with Amazon CloudWatch Logs Insights
queries") reads a session's usage from its ``connection-reset`` record. The byte counters of
one connection only grow, so a session's bytes are the largest seen for its id. Times are
UTC. With certificate authentication ``username`` is ``NA`` and ``common-name`` (the
certificate's CN, our user name) names the user. Failed *mutual* authentications are not
logged at all (admin guide); the ``AuthenticationFailures`` metric counts them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NA = "NA"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Record:
    """One connection-log record, the fields the report uses."""

    log_type: str
    connection_id: str
    user: str
    attempt_status: str
    failure_reason: str
    start: dt.datetime | None
    end: dt.datetime | None
    ingress_bytes: int
    egress_bytes: int


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or value in ("", NA):
        return None
    try:
        return dt.datetime.strptime(value, TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _count(value: Any) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0


def user_of(fields: dict[str, Any]) -> str:
    """``username`` (user-based authentication), else ``common-name`` (certificate)."""
    for name in ("username", "common-name"):
        value = fields.get(name)
        if isinstance(value, str) and value not in ("", NA):
            return value
    return "(unknown)"


def parse_record(message: str) -> Record | None:
    """The record in one log event's message, or None if it is not a connection record."""
    try:
        fields = json.loads(message)
    except ValueError:
        return None
    if not isinstance(fields, dict) or "connection-id" not in fields:
        return None
    return Record(
        log_type=str(fields.get("connection-log-type", "")),
        connection_id=str(fields["connection-id"]),
        user=user_of(fields),
        attempt_status=str(fields.get("connection-attempt-status", NA)),
        failure_reason=str(fields.get("connection-attempt-failure-reason", NA)),
        start=_time(fields.get("connection-start-time")),
        end=_time(fields.get("connection-end-time")),
        ingress_bytes=_count(fields.get("ingress-bytes")),
        egress_bytes=_count(fields.get("egress-bytes")),
    )


@dataclass
class Session:
    """One connection (``connection-id``) merged from its records."""

    connection_id: str
    user: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    ingress_bytes: int = 0
    egress_bytes: int = 0
    established: bool = False


@dataclass
class Usage:
    """The report: per user, failures, per day, peak concurrency (all within the window)."""

    since: dt.datetime
    until: dt.datetime
    sessions: list[Session] = field(default_factory=list)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)

    def per_user(self) -> list[dict[str, Any]]:
        """Sessions, bytes and connected seconds per user, most bytes first."""
        rows: dict[str, dict[str, Any]] = {}
        for s in self.sessions:
            row = rows.setdefault(
                s.user,
                {
                    "user": s.user,
                    "sessions": 0,
                    "ingress_bytes": 0,
                    "egress_bytes": 0,
                    "connected_seconds": 0,
                },
            )
            row["sessions"] += 1
            row["ingress_bytes"] += s.ingress_bytes
            row["egress_bytes"] += s.egress_bytes
            if s.start is not None:
                end = min(s.end or self.until, self.until)
                seconds = (end - max(s.start, self.since)).total_seconds()
                row["connected_seconds"] += max(0, int(seconds))
        return sorted(
            rows.values(), key=lambda r: (-(r["ingress_bytes"] + r["egress_bytes"]), r["user"])
        )

    def failed(self) -> list[dict[str, Any]]:
        """Failed attempts by user and reason, most first."""
        return [
            {"user": user, "reason": reason, "failures": n}
            for (user, reason), n in sorted(self.failures.items(), key=lambda i: (-i[1], i[0]))
        ]

    def per_day(self) -> list[dict[str, Any]]:
        """Sessions started on each UTC day of the window (days without any included)."""
        counts = Counter(s.start.date() for s in self.sessions if s.start is not None)
        day, last = self.since.date(), self.until.date()
        rows = []
        while day <= last:
            rows.append({"day": day.isoformat(), "connections": counts.get(day, 0)})
            day += dt.timedelta(days=1)
        return rows

    def peak(self) -> dict[str, Any]:
        """The most sessions open at once, and when that was first reached.

        A session without an end is open until the end of the window. At equal times an
        end counts before a start (a reconnect is not two sessions at once).
        """
        events: list[tuple[dt.datetime, int]] = []
        for s in self.sessions:
            if s.start is None:
                continue
            events.append((max(s.start, self.since), 1))
            events.append((min(s.end or self.until, self.until), -1))
        open_now, best, at = 0, 0, None
        for when, delta in sorted(events):
            open_now += delta
            if open_now > best:
                best, at = open_now, when
        return {"connections": best, "at": at.isoformat() if at else None}

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "users": self.per_user(),
            "failed_authentications": self.failed(),
            "connections_per_day": self.per_day(),
            "peak_concurrent": self.peak(),
        }


def aggregate(records: Iterable[Record], since: dt.datetime, until: dt.datetime) -> Usage:
    """Merge records into sessions and failures.

    A connection counts as a session when a record says it was established (a
    ``successful`` attempt, or any ``connection-reset`` record); a ``failed`` attempt counts
    as a failure by user and ``connection-attempt-failure-reason``.
    """
    usage = Usage(since=since, until=until)
    sessions: dict[str, Session] = {}
    for r in records:
        if r.attempt_status == "failed":
            usage.failures[(r.user, r.failure_reason)] += 1
            continue
        s = sessions.setdefault(r.connection_id, Session(r.connection_id, r.user))
        s.established = s.established or (
            r.attempt_status == "successful" or r.log_type == "connection-reset"
        )
        s.start = s.start or r.start
        s.end = r.end or s.end
        s.ingress_bytes = max(s.ingress_bytes, r.ingress_bytes)
        s.egress_bytes = max(s.egress_bytes, r.egress_bytes)
    usage.sessions = sorted(
        (s for s in sessions.values() if s.established),
        key=lambda s: (s.start or since, s.connection_id),
    )
    return usage
