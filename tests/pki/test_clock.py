"""The handlers' deadline (clock.Deadline) on a clock the test moves: no real time passes;
and the metric line written out at once.

The contract (clock.py): with a Lambda context, the time left is the context's remaining
time less the margin, counted on a monotonic clock from when the Deadline was made; the
deadline is "near" once that reaches zero; without a context there is no deadline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from constructs_cvpn.handlers.pki import clock

ROOT = Path(__file__).resolve().parents[2]


class _Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> _Monotonic:
    fake = _Monotonic()
    monkeypatch.setattr(clock, "time", types.SimpleNamespace(monotonic=fake))
    return fake


def _context(ms: int) -> object:
    return types.SimpleNamespace(get_remaining_time_in_millis=lambda: ms)


def test_without_a_context_there_is_no_deadline(monotonic: _Monotonic) -> None:
    deadline = clock.Deadline(None)
    monotonic.now += 10**6
    assert deadline.seconds_left() == float("inf")
    assert not deadline.near()


def test_near_exactly_when_the_margin_is_reached(monotonic: _Monotonic) -> None:
    deadline = clock.Deadline(_context(100_000), margin=90.0)  # 10 s of work
    assert deadline.seconds_left() == pytest.approx(10.0)
    monotonic.now += 9.5
    assert deadline.seconds_left() == pytest.approx(0.5)
    assert not deadline.near()
    monotonic.now += 0.5
    assert deadline.near()  # zero left: stop
    monotonic.now += 0.5
    assert deadline.near() and deadline.seconds_left() == pytest.approx(-0.5)


def test_the_remaining_time_is_read_in_milliseconds(monotonic: _Monotonic) -> None:
    deadline = clock.Deadline(_context(90_250), margin=90.0)
    assert deadline.seconds_left() == pytest.approx(0.25)
    assert not deadline.near()


def test_the_default_margin_leaves_the_handler_time_to_answer(monotonic: _Monotonic) -> None:
    """Whatever the margin's value, a Lambda with less time left than it is near at once and
    one with an hour left is not (the margin is minutes, not hours)."""
    assert clock.Deadline(_context(int(clock.MARGIN_SECONDS * 1000))).near()
    assert not clock.Deadline(_context(3_600_000)).near()


def test_the_metric_line_is_out_before_the_process_stops() -> None:
    """Lambda may freeze or end the process as soon as the handler returns: the EMF line must
    already be written, not waiting in a buffer (stdout to a pipe is block-buffered). The
    child ends with os._exit, which flushes nothing."""
    code = (
        "import os\n"
        "from constructs_cvpn.handlers.pki.metrics import emit_days_to_expiry\n"
        "emit_days_to_expiry('Vpn1', 12.5)\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(x) for x in done.stdout.splitlines()]
    assert (line["Vpn"], line["DaysToExpiry"]) == ("Vpn1", 12.5)
