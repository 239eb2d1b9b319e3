"""Office hours: parsing, the phase at a given instant, the next change, the cron lines."""

from __future__ import annotations

import datetime as dt

import pytest

from constructs_cvpn.handlers.schedule.hours import (
    ASLEEP,
    AWAKE,
    Hours,
    HoursError,
    next_change,
    parse_days,
    parse_time,
    phase,
)

OFFICE = Hours("Europe/Berlin", "MON-FRI", "07:00", "20:00")
UTC = dt.UTC


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("MON-FRI", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("SAT-SUN", {5, 6}),
        ("FRI-MON", {4, 5, 6, 0}),
        ("TUE", {1}),
        ("MON-WED,FRI", {0, 1, 2, 4}),
    ],
)
def test_days(text: str, days: set[int]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["", "MONDAY", "MON-FUN", "MON--FRI", "1-5", "MON,"])
def test_bad_days(text: str) -> None:
    with pytest.raises(HoursError, match="not a list of days"):
        parse_days(text)


@pytest.mark.parametrize("text", ["7:00", "24:00", "07:60", "0700", "07:00:00", " 07:00"])
def test_bad_times(text: str) -> None:
    with pytest.raises(HoursError, match="HH:MM"):
        parse_time(text)


def test_unknown_time_zone_and_empty_hours_are_refused() -> None:
    with pytest.raises(HoursError, match="IANA time zone"):
        Hours("Europe/Atlantis", "MON-FRI", "07:00", "20:00")
    with pytest.raises(HoursError, match="never sleep"):
        Hours("UTC", "MON-FRI", "07:00", "07:00")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (utc(12, 8, 5, 59), ASLEEP),  # Tuesday 06:59 in Berlin (CET, UTC+1)
        (utc(12, 8, 6, 0), AWAKE),  # 07:00
        (utc(12, 8, 18, 59), AWAKE),  # 19:59
        (utc(12, 8, 19, 0), ASLEEP),  # 20:00
        (utc(12, 12, 10, 0), ASLEEP),  # Saturday
        (utc(7, 7, 5, 0), AWAKE),  # July, CEST (UTC+2): 07:00 in Berlin
        (utc(7, 7, 4, 59), ASLEEP),
    ],
)
def test_phase_follows_the_wall_clock_of_the_time_zone(when: dt.datetime, expected: str) -> None:
    assert phase(OFFICE, when) == expected


def test_a_wake_overrides_the_hours_until_it_ends() -> None:
    saturday = utc(12, 12, 10)
    until = saturday + dt.timedelta(hours=2)
    assert phase(OFFICE, saturday, until) == AWAKE
    assert phase(OFFICE, until, until) == ASLEEP


def test_night_shift_runs_past_midnight() -> None:
    night = Hours("UTC", "MON", "22:00", "06:00")
    assert phase(night, utc(12, 7, 23)) == AWAKE  # Monday 23:00
    assert phase(night, utc(12, 8, 5, 59)) == AWAKE  # Tuesday 05:59
    assert phase(night, utc(12, 8, 6)) == ASLEEP
    assert phase(night, utc(12, 8, 23)) == ASLEEP  # Tuesday night is not a shift
    assert phase(night, utc(12, 7, 5)) == ASLEEP  # Monday morning: Sunday had no shift


@pytest.mark.parametrize(
    ("now", "wake_until", "expected"),
    [
        (utc(12, 8, 9), None, utc(12, 8, 19)),  # Tuesday 10:00 -> 20:00 Berlin
        (utc(12, 11, 20), None, utc(12, 14, 6)),  # Friday night -> Monday 07:00
        (utc(12, 12, 9), utc(12, 12, 11), utc(12, 12, 11)),  # woken: its end
        (utc(12, 8, 18), utc(12, 8, 22), utc(12, 8, 22)),  # a wake past 20:00 delays sleep
        (utc(3, 27, 9), None, utc(3, 27, 19)),  # Friday before the spring change (CET)
        (utc(3, 28, 9), None, utc(3, 30, 5)),  # the next wake is 07:00 CEST = 05:00 UTC
    ],
)
def test_next_change(
    now: dt.datetime, wake_until: dt.datetime | None, expected: dt.datetime
) -> None:
    assert next_change(OFFICE, now, wake_until) == expected


def test_next_change_agrees_with_minute_by_minute_phase() -> None:
    """Independent check: walk the week minute by minute from a Wednesday noon."""
    start = utc(12, 9, 11, 30)
    current = phase(OFFICE, start)
    probe = start
    while phase(OFFICE, probe) == current:
        probe += dt.timedelta(minutes=1)
    assert next_change(OFFICE, start) == probe


def test_cron_lines_for_eventbridge_scheduler() -> None:
    assert OFFICE.cron(OFFICE.start) == "cron(0 7 ? * MON,TUE,WED,THU,FRI *)"
    assert OFFICE.cron(OFFICE.stop) == "cron(0 20 ? * MON,TUE,WED,THU,FRI *)"
    night = Hours("UTC", "FRI", "22:30", "06:15")
    assert night.cron(night.start) == "cron(30 22 ? * FRI *)"
    assert night.cron(night.stop) == "cron(15 6 ? * SAT *)"  # the morning after


def _shifts(hours: Hours, first: dt.date, last: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The awake intervals, built day by day from the definition: on each listed day the
    shift starts at ``start`` local time and ends at the next ``stop`` after it (the same
    day, or the next day for a shift past midnight). Independent of ``awake_at``."""
    zone = hours.zone()
    (h1, m1), (h2, m2) = parse_time(hours.start), parse_time(hours.stop)
    out = []
    day = first
    while day <= last:
        if day.weekday() in parse_days(hours.days):
            begin = dt.datetime(day.year, day.month, day.day, h1, m1, tzinfo=zone)
            end_day = day if (h2, m2) > (h1, m1) else day + dt.timedelta(days=1)
            end = dt.datetime(end_day.year, end_day.month, end_day.day, h2, m2, tzinfo=zone)
            out.append((begin, end))
        day += dt.timedelta(days=1)
    return out


@pytest.mark.parametrize(
    "hours",
    [
        Hours("UTC", "SUN", "22:00", "06:00"),  # a Sunday night shift ends on Monday
        Hours("UTC", "SAT-SUN", "23:30", "00:30"),
        Hours("America/New_York", "MON-FRI", "08:15", "17:45"),
        Hours("Asia/Kolkata", "FRI-MON", "21:00", "03:00"),
    ],
    ids=["sunday-night", "weekend-midnight", "new-york", "kolkata-night"],
)
def test_the_phase_matches_the_shifts_minute_by_minute(hours: Hours) -> None:
    """Every 15th minute of two weeks (and each shift's first and last minute) against the
    intervals built from the definition."""
    shifts = _shifts(hours, dt.date(2026, 11, 29), dt.date(2026, 12, 14))
    probes = [utc(12, 1, 0) + dt.timedelta(minutes=15 * i) for i in range(14 * 24 * 4)]
    for begin, end in shifts:
        probes += [begin, end - dt.timedelta(minutes=1), end]
    for probe in probes:
        if not utc(12, 1, 0) <= probe < utc(12, 14, 0):
            continue
        expected = any(begin <= probe < end for begin, end in shifts)
        assert hours.awake_at(probe) is expected, (hours, probe.isoformat())


def test_a_sunday_night_shift_stops_by_cron_on_monday() -> None:
    night = Hours("UTC", "SAT,SUN", "22:00", "06:00")
    line = night.cron(night.stop)
    assert line.startswith("cron(0 6 ? * ") and line.endswith(" *)")
    assert set(line.split()[4].split(",")) == {"SUN", "MON"}  # the mornings after SAT, SUN


def test_the_next_change_a_week_away_is_found() -> None:
    """One working day a week: from Monday evening the next change is the next Monday."""
    monday_only = Hours("UTC", "MON", "07:00", "20:00")
    assert next_change(monday_only, utc(12, 7, 20, 30)) == utc(12, 14, 7)
