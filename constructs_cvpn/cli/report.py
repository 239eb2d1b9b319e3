"""``cvpn report``: usage from the endpoint's connection log, as tables and a per-day chart.

The records are read with CloudWatch Logs ``FilterLogEvents`` and aggregated here
(:mod:`.connection_log`), rather than with Logs Insights ``StartQuery``/``GetQueryResults``:

- the peak of concurrent connections needs an interval sweep, which Insights cannot express;
- one parser, tested on records shaped like the documented ones, feeds the tables and
  ``--json``; no asynchronous query to poll;
- FilterLogEvents is not charged per GB scanned as Insights is. It pages through every
  event of the window, so for very large logs the construct's Logs Insights query
  definitions (``vpn.add_dashboard()``) are the faster way, in the console.

The log group is the one the endpoint logs to (``ConnectionLogOptions`` of
DescribeClientVpnEndpoints), so this works for any endpoint with connection logging on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from constructs_cvpn.cli.connection_log import Record, Usage, aggregate, parse_record
from constructs_cvpn.cli.endpoint import describe_endpoint
from constructs_cvpn.cli.errors import CvpnError, UsageError, from_client_error
from constructs_cvpn.cli.text import cell

_SINCE = re.compile(r"^(?P<n>[1-9][0-9]*)(?P<unit>[mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
#: The longest window: CloudWatch Logs keeps what the retention says; a year is plenty.
MAX_SINCE = dt.timedelta(days=366)
CHART_WIDTH = 40


def parse_since(text: str) -> dt.timedelta:
    """``30m``, ``24h``, ``7d`` -> a duration (at most :data:`MAX_SINCE`)."""
    match = _SINCE.match(text.strip())
    if match is None:
        raise UsageError(f"--since {text!r}: use a number and m, h or d, e.g. 7d or 24h")
    span = dt.timedelta(**{_UNITS[match["unit"]]: int(match["n"])})
    if span > MAX_SINCE:
        raise UsageError(f"--since {text!r}: at most {MAX_SINCE.days}d")
    return span


def connection_log_group(ec2: Any, endpoint_id: str) -> str:
    """The log group the endpoint writes its connection log to."""
    options = describe_endpoint(ec2, endpoint_id).get("ConnectionLogOptions", {})
    group = options.get("CloudwatchLogGroup")
    if not options.get("Enabled") or not group:
        raise CvpnError(f"{endpoint_id} has connection logging off: there is nothing to report")
    return str(group)


def read_records(logs: Any, group: str, since: dt.datetime, until: dt.datetime) -> Iterator[Record]:
    """Every connection record the group received in ``[since, until]`` (all pages)."""
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group,
            startTime=int(since.timestamp() * 1000),
            endTime=int(until.timestamp() * 1000),
        )
        for page in pages:
            for event in page.get("events", []):
                record = parse_record(event.get("message", ""))
                if record is not None:
                    yield record
    except ClientError as err:
        raise from_client_error(err, f"read the connection log {group}") from None


def collect_report(
    ec2: Any, logs: Any, endpoint_id: str, since: dt.timedelta, now: dt.datetime
) -> tuple[str, Usage]:
    """The log group and the usage of the last ``since`` up to ``now``."""
    group = connection_log_group(ec2, endpoint_id)
    start = now - since
    return group, aggregate(read_records(logs, group, start, now), start, now)


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m"


def print_report(console: Console, endpoint_id: str, group: str, usage: Usage) -> None:
    """Tables per user and per failure reason, the peak, and a bar per day."""
    console.print(
        cell(
            f"Client VPN {endpoint_id}: usage from {usage.since:%Y-%m-%d %H:%M} to "
            f"{usage.until:%Y-%m-%d %H:%M} UTC (log group {group})"
        )
    )
    users = Table(title="Sessions and bytes per user")
    for column in ("User", "Sessions", "Sent by client", "Received by client", "Connected"):
        users.add_column(column, justify="left" if column == "User" else "right")
    for row in usage.per_user():
        users.add_row(
            cell(row["user"]),
            str(row["sessions"]),
            _bytes(row["ingress_bytes"]),
            _bytes(row["egress_bytes"]),
            _duration(row["connected_seconds"]),
        )
    console.print(users)
    failures = Table(title="Failed authentications")
    for column in ("User", "Reason", "Failures"):
        failures.add_column(column, justify="right" if column == "Failures" else "left")
    for row in usage.failed():
        failures.add_row(cell(row["user"]), cell(row["reason"]), str(row["failures"]))
    console.print(failures if usage.failures else "No failed authentications in the log.")
    peak = usage.peak()
    console.print(
        f"Peak concurrent connections: {peak['connections']}"
        + (f" (first at {peak['at']})" if peak["at"] else "")
    )
    days = usage.per_day()
    most = max((d["connections"] for d in days), default=0)
    console.print("Connections started per day (UTC):")
    for d in days:
        n = d["connections"]
        bar = "█" * (round(CHART_WIDTH * n / most) if most else 0)
        console.print(f"  {d['day']} {bar:<{CHART_WIDTH}} {n}", highlight=False)
