"""``OfficeHours`` (the ``schedule=`` prop of ``ClientVpn``) and the routes it keeps.

Plain data, without the CDK: ``ClientVpn`` imports the reconciler's constructs
(``constructs_cvpn.schedule``) only when a schedule is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ClientVpnConfigError
from .handlers.schedule.hours import Hours, HoursError

__all__ = ["LOCAL_INDEX", "MAX_WAKE_HOURS", "OfficeHours", "ScheduledRoute"]

#: ``ScheduledRoute.subnet`` of the client-to-client route (target ``local``).
LOCAL_INDEX = -1
#: The longest wake ``max_wake_hours`` allows.
MAX_WAKE_HOURS = 24


@dataclass(frozen=True)
class OfficeHours:
    """When a ``ClientVpn`` is awake (associated): ``start`` to ``stop`` on ``days``.

    Attributes:
        time_zone: IANA time zone of ``start`` and ``stop``, e.g. ``"Europe/Berlin"``;
            daylight saving time is followed (EventBridge Scheduler's
            ``ScheduleExpressionTimezone``).
        days: the working days: ``MON`` ... ``SUN``, ranges and commas, e.g. ``"MON-FRI"``
            or ``"MON,WED,FRI"``. Default: ``"MON-FRI"``.
        start: local time the VPN wakes, ``HH:MM`` (24-hour). Default: ``"07:00"``.
        stop: local time it sleeps. Before ``start``: a night shift ending the next
            morning. Default: ``"20:00"``.
        max_wake_hours: the longest ``cvpn wake --for`` (1 to 24). Default: 12.

    Associating takes a few minutes: wake a quarter of an hour before people start.
    """

    time_zone: str
    days: str = "MON-FRI"
    start: str = "07:00"
    stop: str = "20:00"
    max_wake_hours: int = 12

    def hours(self, path: str) -> Hours:
        """The checked hours; a ``ClientVpnConfigError`` naming ``path`` and ``schedule``."""
        if not 1 <= self.max_wake_hours <= MAX_WAKE_HOURS:
            raise ClientVpnConfigError(
                path,
                "schedule",
                f"max_wake_hours is {self.max_wake_hours}; give 1 to {MAX_WAKE_HOURS}",
            )
        try:
            return Hours(self.time_zone, self.days, self.start, self.stop)
        except HoursError as err:
            raise ClientVpnConfigError(path, "schedule", str(err)) from None


@dataclass(frozen=True)
class ScheduledRoute:
    """A route the reconciler keeps: ``cidr`` through ``subnet`` (an index into the
    subnets, or ``LOCAL_INDEX`` for the client CIDR's ``local`` target)."""

    cidr: str
    subnet: int
    description: str = ""
