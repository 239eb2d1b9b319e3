"""Office hours: when a scheduled Client VPN is awake, and when that changes next.

Pure functions of a clock reading (UTC) and the hours (an IANA time zone, days of the week,
start and stop as ``HH:MM`` local time). The handler, the construct (checks at synth) and
``cvpn status`` share them, so all three agree on the phase. Time zones come from
``zoneinfo`` (the IANA database of the system, or the ``tzdata`` package where the system
has none); daylight saving time moves the hours with the wall clock, as EventBridge
Scheduler does with ``ScheduleExpressionTimezone``.

A wake (``cvpn wake``) keeps the VPN awake until a given instant whatever the hours say.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "ASLEEP",
    "AWAKE",
    "DAY_NAMES",
    "Hours",
    "HoursError",
    "next_change",
    "parse_days",
    "parse_time",
    "phase",
]

AWAKE = "awake"
ASLEEP = "asleep"
#: Days as EventBridge cron writes them, Monday first (``datetime.weekday()`` order).
DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
#: How far :func:`next_change` looks ahead (a week and a day covers every weekly pattern).
_HORIZON = dt.timedelta(days=8)


class HoursError(ValueError):
    """The hours are not valid; the message says what would be."""


def parse_time(value: str) -> tuple[int, int]:
    """``"07:30"`` -> ``(7, 30)``; 24-hour ``HH:MM`` from 00:00 to 23:59."""
    match = _TIME.match(value)
    if match is None:
        raise HoursError(f"{value!r} is not a time of day as HH:MM (24-hour, 00:00 to 23:59)")
    return int(match.group(1)), int(match.group(2))


def parse_days(value: str) -> frozenset[int]:
    """``"MON-FRI"``, ``"MON,WED,FRI"``, ``"SAT-SUN"`` -> weekday numbers (Monday = 0).

    Comma-separated days or ranges of ``MON`` ... ``SUN`` (case-insensitive); a range runs
    forward and may wrap (``"FRI-MON"``).
    """
    days: set[int] = set()
    for part in value.upper().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise HoursError(
                f"{value!r} is not a list of days: use MON, TUE, WED, THU, FRI, SAT, SUN, "
                "ranges such as MON-FRI, separated by commas"
            )
        start = DAY_NAMES.index(first)
        stop = DAY_NAMES.index(last) if last else start
        day = start
        days.add(day)
        while day != stop:
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


@dataclass(frozen=True)
class Hours:
    """Awake from ``start`` to ``stop`` (local time in ``time_zone``) on ``days``.

    ``stop`` before ``start`` runs past midnight (a night shift: ``22:00``-``06:00`` on
    ``MON`` is awake Monday 22:00 to Tuesday 06:00). ``start`` equal to ``stop`` is refused.
    """

    time_zone: str
    days: str
    start: str
    stop: str

    def __post_init__(self) -> None:
        self.zone()
        parse_days(self.days)
        if parse_time(self.start) == parse_time(self.stop):
            raise HoursError(f"start and stop are both {self.start}: the VPN would never sleep")

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HoursError(
                f"{self.time_zone!r} is not an IANA time zone known here (e.g. "
                "'Europe/Berlin', 'America/New_York', 'UTC')"
            ) from None

    def awake_at(self, when: dt.datetime) -> bool:
        """True when ``when`` (timezone-aware) falls in the hours."""
        local = when.astimezone(self.zone())
        start, stop = parse_time(self.start), parse_time(self.stop)
        minute = (local.hour, local.minute)
        days = parse_days(self.days)
        if start < stop:
            return local.weekday() in days and start <= minute < stop
        # Past midnight: the evening part belongs to its day, the morning part to the day before.
        if minute >= start:
            return local.weekday() in days
        return minute < stop and (local.weekday() - 1) % 7 in days

    def cron(self, at: str) -> str:
        """EventBridge Scheduler's cron expression for ``at`` (start or stop) on the days.

        Six fields ``cron(minutes hours day-of-month month day-of-week year)``; ``?`` in
        day-of-month when day-of-week is given (EventBridge Scheduler user guide, "Cron
        expressions"). A stop past midnight fires on the day after each working day.
        """
        hour, minute = parse_time(at)
        days = sorted(parse_days(self.days))
        if at == self.stop and parse_time(self.stop) < parse_time(self.start):
            days = sorted((d + 1) % 7 for d in days)
        names = ",".join(DAY_NAMES[d] for d in days)
        return f"cron({minute} {hour} ? * {names} *)"


def phase(hours: Hours, now: dt.datetime, wake_until: dt.datetime | None = None) -> str:
    """``AWAKE`` in the hours or before ``wake_until``, else ``ASLEEP``."""
    if wake_until is not None and now < wake_until:
        return AWAKE
    return AWAKE if hours.awake_at(now) else ASLEEP


def next_change(
    hours: Hours, now: dt.datetime, wake_until: dt.datetime | None = None
) -> dt.datetime | None:
    """When the phase next differs from ``now``'s, or None if it never does within a week.

    The phase can only change at ``wake_until`` or at a local start or stop: those are the
    candidates, tried in order.
    """
    current = phase(hours, now, wake_until)
    zone = hours.zone()
    today = now.astimezone(zone).date()
    candidates = [] if wake_until is None else [wake_until]
    for offset in range(-1, _HORIZON.days + 1):
        day = today + dt.timedelta(days=offset)
        for at in (hours.start, hours.stop):
            hour, minute = parse_time(at)
            local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            candidates.append(local.astimezone(dt.UTC))
    for candidate in sorted(c for c in candidates if c > now):
        if phase(hours, candidate, wake_until) != current:
            return candidate
    return None
