"""``cvpn report``'s text output: the README's example, sizes, durations, empty logs, ``--since``.

The oracle of the layout is the README's "Usage: ``cvpn report``" example, rendered from the
same records as ``tests/cli/test_report.week()``; sizes and durations are worked out by hand
(1 KiB = 1024 bytes, as the IEC prefix says; 1 h = 3600 s).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from constructs_cvpn.cli.connection_log import Session, Usage
from constructs_cvpn.cli.errors import UsageError
from constructs_cvpn.cli.report import parse_since, print_report
from tests.cli.conftest import ENDPOINT_ID
from tests.cli.test_report import GROUP, NOW, SINCE, usage_of, week

README = Path(__file__).resolve().parents[2] / "README.md"


def render(usage: Usage) -> str:
    """What ``cvpn report`` prints for ``usage`` on a plain 200-column terminal."""
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    print_report(console, ENDPOINT_ID, GROUP, usage)
    return out.getvalue()


def readme_example() -> list[str]:
    """The output lines of the README's ``cvpn report`` example (after the command line)."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ cvpn report [^\n]*\n(.*?)```", text, re.DOTALL)
    assert block is not None, "README has no cvpn report example"
    return [line.rstrip() for line in block.group(1).splitlines()]


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def row_of(text: str, first_cell: str) -> list[str]:
    """The cells of the first table row whose first cell is ``first_cell``, unstripped."""
    rows = [line for line in text.splitlines() if line.startswith(f"│ {first_cell} ")]
    return rows[0].split("│")[1:-1]


def test_the_readme_example_is_what_the_report_prints() -> None:
    """Headers, column alignment (names left, figures right), both tables' rows, the peak and
    the chart, exactly as the README shows them for the README's week of records."""
    assert lines(render(usage_of(week()))) == readme_example()


def one_session(user: str, *, seconds: int = 0, sent: int = 0, received: int = 0) -> Usage:
    start = SINCE + dt.timedelta(hours=1)
    return Usage(
        since=SINCE,
        until=NOW,
        sessions=[
            Session(
                connection_id="cvpn-connection-1",
                user=user,
                start=start,
                end=start + dt.timedelta(seconds=seconds),
                ingress_bytes=sent,
                egress_bytes=received,
                established=True,
            )
        ],
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),  # the largest count still shown in bytes
        (1024, "1.0 KiB"),  # 1 KiB = 1024 B
        (1536, "1.5 KiB"),  # 1.5 x 1024
        (102_400, "100.0 KiB"),  # 100 x 1024
        (1_048_575, "1024.0 KiB"),  # 1 B short of 1 MiB: 1023.999 KiB, one decimal
        (1_048_576, "1.0 MiB"),  # 1024 x 1024
        (5 * 1024**3, "5.0 GiB"),
        (2 * 1024**4, "2048.0 GiB"),  # GiB is the largest unit shown
    ],
)
def test_byte_counts_use_binary_units(size: int, shown: str) -> None:
    sent, received = row_of(render(one_session("dana", sent=size, received=size)), "dana")[2:4]
    assert sent.strip() == shown
    assert received.strip() == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0h00m"),
        (59, "0h00m"),  # whole minutes only
        (3599, "0h59m"),  # one second short of an hour
        (3600, "1h00m"),
        (3661, "1h01m"),  # 1 h 1 min 1 s
        (2 * 3600 + 30 * 60, "2h30m"),
    ],
)
def test_connected_time_in_hours_and_minutes(seconds: int, shown: str) -> None:
    assert row_of(render(one_session("dana", seconds=seconds)), "dana")[4].strip() == shown


def test_figures_are_right_aligned_and_names_left_aligned() -> None:
    """In a cell wider than its value, a name starts at the left edge and a figure ends at the
    right edge (checked with a user name shorter than another one)."""
    usage = usage_of(week())
    usage.sessions.append(
        Session("cvpn-connection-9", "bartholomew", SINCE, SINCE, 0, 0, established=True)
    )
    text = render(usage)
    bob = row_of(text, "bob")  # the users table comes first
    assert bob[0] == " bob         "  # as wide as " bartholomew "
    assert bob[1] == "        1 "  # "Sessions" is 8 wide
    carol = row_of(text, "carol")
    assert carol[1] == " Authentication failed         "  # as wide as the longer reason
    assert carol[2] == "        2 "  # "Failures" is 8 wide


def test_an_empty_log_has_no_failures_table_and_no_bars() -> None:
    text = render(Usage(since=SINCE, until=NOW))
    assert "No failed authentications in the log." in text
    assert "Failed authentications" not in text
    assert "Peak concurrent connections: 0\n" in text
    days = [line for line in text.splitlines() if line.startswith("  20")]
    assert len(days) == 8  # 2026-11-29 .. 2026-12-06
    assert all("█" not in line and line.endswith(" 0") for line in days)


def test_a_log_with_failures_has_no_no_failures_line() -> None:
    text = render(usage_of(week()))
    assert "Failed authentications" in text
    assert "No failed authentications" not in text


def test_a_log_with_sessions_but_no_failures_says_so() -> None:
    text = render(one_session("dana", seconds=60))
    assert "No failed authentications in the log." in text
    assert "Failed authentications" not in text


@pytest.mark.parametrize(
    ("text", "days"), [("366d", 366), ("365d", 365), (f"{366 * 24}h", 366), ("1d", 1)]
)
def test_since_up_to_366_days(text: str, days: int) -> None:
    """README: ``--since`` takes at most 366d."""
    assert parse_since(text) == dt.timedelta(days=days)


@pytest.mark.parametrize("text", ["367d", f"{366 * 24 + 1}h", f"{366 * 24 * 60 + 1}m"])
def test_since_beyond_366_days_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="at most 366d"):
        parse_since(text)
