"""The handlers' clock and deadline.

``now()`` is the one place the PKI handlers read the time, so that tests can move it (renewal
sequences) by patching ``clock.now``. :class:`Deadline` tracks the Lambda's remaining time:
the handlers stop with their progress saved while there is still time to answer
CloudFormation.
"""

from __future__ import annotations

import datetime as dt
import time

__all__ = ["MARGIN_SECONDS", "Deadline", "DeadlineReached", "now"]

MARGIN_SECONDS = 90.0
"""Work stops when less than this remains of the Lambda's time (state save, lease release
and the error response need a few seconds; the rest is slack for slow S3 calls)."""


def now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class DeadlineReached(RuntimeError):
    """Less than :data:`MARGIN_SECONDS` of the Lambda's time is left."""


class Deadline:
    """The Lambda's remaining time, read from its context (no context: no deadline)."""

    def __init__(self, context: object = None, margin: float = MARGIN_SECONDS) -> None:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        self._end = None if remaining is None else time.monotonic() + float(remaining()) / 1000
        self._margin = margin

    def seconds_left(self) -> float:
        """Seconds before the margin is reached (infinite without a context)."""
        if self._end is None:
            return float("inf")
        return self._end - time.monotonic() - self._margin

    def near(self) -> bool:
        """True once the margin is reached."""
        return self.seconds_left() <= 0
