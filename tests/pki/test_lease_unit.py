"""``handlers/pki/lease.py`` on its own: a state object in memory with S3's conditional
writes (If-None-Match on a missing object, If-Match on the ETag read), a clock the test
sets and a sleep that must not be needed.

Oracles: the Lease's documented contract: ``acquire`` creates a missing state unless told not
to; a lease is held until its expiry instant and free from it; a run with less time left than
two polls refuses at once instead of waiting; ``release_saved`` is tried three times.
"""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import pytest

from constructs_cvpn.handlers.pki import lease as lease_module
from constructs_cvpn.handlers.pki import store
from constructs_cvpn.handlers.pki.lease import Lease
from constructs_cvpn.handlers.pki.state import UsersState

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


class _Store:
    def __init__(self) -> None:
        self.body: bytes | None = None
        self.etag = ""
        self.writes = 0
        self.refuse = 0
        self.looks = 0

    def read(self, bucket: str, key: str) -> Any:
        self.looks += 1
        if self.looks > 20:
            raise AssertionError("the run keeps reading the state: a loop that never ends")
        if self.body is None:
            return None
        return types.SimpleNamespace(body=self.body, etag=self.etag)

    def write(self, bucket: str, key: str, body: bytes, **kw: Any) -> Any:
        if self.refuse:
            self.refuse -= 1
            raise RuntimeError("S3 refused")
        if kw.get("if_none_match") and self.body is not None:
            raise store.ConflictError("exists")
        if kw.get("if_match") and kw["if_match"] != self.etag:
            raise store.ConflictError("changed")
        self.writes += 1
        self.body, self.etag = body, f'"{self.writes}"'
        return types.SimpleNamespace(etag=self.etag)

    def state(self) -> UsersState:
        assert self.body is not None
        return UsersState.from_json(self.body)


class _Finishing(_Store):
    """The other run releases its lease once the waiting run has looked twice."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def read(self, bucket: str, key: str) -> Any:
        self.reads += 1
        if self.reads == 2 and self.body is not None:
            self.body = UsersState().to_json().encode()
            self.etag = '"released"'
        return super().read(bucket, key)


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def seconds_left(self) -> float:
        return self.seconds


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> _Store:
    fake = _Store()
    monkeypatch.setattr(lease_module.store, "read", fake.read)
    monkeypatch.setattr(lease_module.store, "write", fake.write)
    monkeypatch.setattr(lease_module.clock, "now", lambda: NOW)
    return fake


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records each sleep (refusing a negative one, as time.sleep does); a test that must
    not wait says so with ``no_wait``."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        slept.append(seconds)

    monkeypatch.setattr(lease_module.time, "sleep", sleep)
    return slept


@pytest.fixture
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(seconds: float) -> None:
        raise AssertionError(f"the run waited {seconds} s")

    monkeypatch.setattr(lease_module.time, "sleep", refuse)


def _lease(seconds_left: float = 600) -> Lease:
    return Lease("b", "vpn/state.json", "key-arn", _Deadline(seconds_left))  # type: ignore[arg-type]


def _until() -> str:
    """When a lease taken or renewed at NOW expires."""
    return (NOW + dt.timedelta(seconds=lease_module.LEASE_SECONDS)).isoformat()


def _held_by_another(s3: _Store, until: dt.datetime) -> None:
    s3.body = (
        UsersState(lease_owner="another-run", lease_expires=until.isoformat()).to_json().encode()
    )
    s3.etag = '"0"'


def test_acquire_creates_a_missing_state_unless_told_not_to(s3: _Store) -> None:
    lease = _lease()
    assert lease.acquire(create=False) is None
    assert (lease.existed, s3.writes) == (False, 0)
    state = lease.acquire()
    assert state is not None and lease.existed is False
    assert s3.state().lease_owner == lease.token
    assert s3.state().lease_expires == _until()


def test_a_lease_is_free_from_its_expiry_instant(s3: _Store, no_wait: None) -> None:
    _held_by_another(s3, NOW)
    lease = _lease()
    assert lease.acquire() is not None
    assert lease.existed is True and s3.state().lease_owner == lease.token


def test_a_run_without_time_for_two_polls_refuses_at_once(s3: _Store, no_wait: None) -> None:
    _held_by_another(s3, NOW + dt.timedelta(seconds=1))
    with pytest.raises(RuntimeError, match="another run of this resource still holds"):
        _lease(seconds_left=5).acquire()
    assert s3.state().lease_owner == "another-run"


def test_release_is_tried_three_times(s3: _Store, sleeps: list[float]) -> None:
    lease = _lease()
    lease.acquire()
    s3.refuse = 2
    lease.release_saved()
    assert s3.state().lease_owner == ""
    assert len(sleeps) == 2


def test_release_gives_up_after_three_refusals(s3: _Store, sleeps: list[float]) -> None:
    lease = _lease()
    lease.acquire()
    s3.refuse = 3
    lease.release_saved()  # the lease expires by itself
    assert s3.state().lease_owner == lease.token and s3.refuse == 0


def test_an_existing_state_is_taken_with_if_match_only(
    s3: _Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _held_by_another(s3, NOW - dt.timedelta(seconds=1))
    written: list[dict[str, Any]] = []
    write = s3.write

    def record(bucket: str, key: str, body: bytes, **kw: Any) -> Any:
        written.append(kw)
        return write(bucket, key, body, **kw)

    monkeypatch.setattr(lease_module.store, "write", record)
    assert _lease().acquire() is not None
    assert [(w["if_match"], w["if_none_match"]) for w in written] == [('"0"', False)]


def test_with_time_for_two_polls_a_run_waits_for_the_other(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """Exactly two polls' time left is enough to wait (the refusal is for less)."""
    s3 = _Finishing()
    monkeypatch.setattr(lease_module.store, "read", s3.read)
    monkeypatch.setattr(lease_module.store, "write", s3.write)
    monkeypatch.setattr(lease_module.clock, "now", lambda: NOW)
    _held_by_another(s3, NOW + dt.timedelta(seconds=60))
    lease = _lease(seconds_left=2 * lease_module.POLL_SECONDS)
    assert lease.acquire() is not None
    assert sleeps == [lease_module.POLL_SECONDS] and s3.state().lease_owner == lease.token


def test_a_heartbeat_renews_the_lease_once_a_heartbeat_period_has_passed(
    s3: _Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monotonic = [1000.0]
    monkeypatch.setattr(lease_module.time, "monotonic", lambda: monotonic[0])
    lease = _lease()
    state = lease.acquire()
    assert state is not None
    written = s3.writes
    monotonic[0] += lease_module.HEARTBEAT_SECONDS - 1
    lease.beat(state)
    assert s3.writes == written
    monotonic[0] += 1
    lease.beat(state)
    assert s3.writes == written + 1
    assert s3.state().lease_expires == _until() and s3.state().lease_owner == lease.token
