"""``handlers/pki/revoking.py`` ``sync_crl``: which of the endpoint's revoked serials the new
CRL keeps.

The contract (its docstring): no import when the endpoint already revokes every serial of the
ledger; otherwise the new CRL is the ledger plus every serial the endpoint's current CRL
holds, except those the ledger knows expired (serials are hex in the ledger).
"""

from __future__ import annotations

import datetime as dt
import re
import types
from typing import Any

import pytest

from constructs_cvpn.handlers.pki import revoking
from constructs_cvpn.handlers.pki.ledger import Ledger, LedgerFullError

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
THEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
PROPS: Any = types.SimpleNamespace(endpoint_id="cvpn-endpoint-0123456789abcdef0")


def _ledger(*serials: str, expired: set[str]) -> Ledger:
    ledger = Ledger(ca_secret_arn="arn:aws:secretsmanager:eu-west-1:111111111111:secret:ca")
    for serial in serials:
        ledger.revoke(serial, not_after="2027-06-01T00:00:00+00:00", user="u", now=THEN)
    ledger.expired = expired
    return ledger


@pytest.fixture
def imported(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[int, dt.datetime]]]:
    calls: list[list[tuple[int, dt.datetime]]] = []

    def record(p: Any, ledger: Ledger, ca: Any, now: dt.datetime, *, extra: Any) -> None:
        calls.append(sorted(extra))

    monkeypatch.setattr(revoking, "import_crl", record)
    return calls


def _endpoint_revokes(monkeypatch: pytest.MonkeyPatch, *serials: int) -> None:
    held = {serial: THEN for serial in serials}
    monkeypatch.setattr(revoking, "endpoint_crl", lambda endpoint_id: held)


def test_the_new_crl_keeps_the_endpoints_serials_but_the_expired(
    monkeypatch: pytest.MonkeyPatch, imported: list[list[tuple[int, dt.datetime]]]
) -> None:
    # 0x0a1b expired (the ledger pruned it), 0x0c2d unknown to the ledger (kept), 0x0e3f in
    # the ledger (listed from the ledger, not twice), 0x0f40 new: an import is due.
    _endpoint_revokes(monkeypatch, 0x0A1B, 0x0C2D, 0x0E3F)
    ledger = _ledger("0e3f", "0f40", expired={"0a1b"})
    assert revoking.sync_crl(PROPS, ledger, ca=None, now=NOW) is True  # type: ignore[arg-type]
    assert imported == [[(0x0C2D, THEN)]]


@pytest.mark.parametrize("more", [(), (0x0C2D,)])
def test_no_import_when_the_endpoint_revokes_the_whole_ledger(
    monkeypatch: pytest.MonkeyPatch,
    imported: list[list[tuple[int, dt.datetime]]],
    more: tuple[int, ...],
) -> None:
    _endpoint_revokes(monkeypatch, 0x0E3F, 0x0F40, *more)
    assert revoking.sync_crl(PROPS, _ledger("0e3f", "0f40", expired=set()), None, NOW) is False  # type: ignore[arg-type]
    assert imported == []


def test_a_crl_over_the_limit_is_refused_naming_the_endpoints_share() -> None:
    """Client VPN takes at most 20,000 CRL entries (quotas page): one more, two of them only
    in the endpoint's CRL, is refused before anything is written or imported."""
    ledger = _ledger(*(format(i, "x") for i in range(1, 19_999)), expired=set())
    extra = [(0xA0000001, THEN), (0xA0000002, THEN), (0xA0000003, THEN)]
    with pytest.raises(LedgerFullError, match=r"would list 20001 .* \(of them 3 are in the end"):
        revoking.import_crl(PROPS, ledger, None, NOW, extra=extra)  # type: ignore[arg-type]
    assert ledger.crl_number == 0


class _Deadline:
    """Near after ``calls`` checks."""

    def __init__(self, calls: int) -> None:
        self.left = calls

    def near(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_removed_users_files_left_at_the_deadline_are_counted_and_kept_pending(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    names = [f"user{i:04d}" for i in range(revoking.WRITE_BATCH + 50)]
    deleted: list[str] = []
    monkeypatch.setattr(revoking, "_delete_file", lambda p, n: deleted.append(n) or True)
    state: Any = types.SimpleNamespace(pending_deletes=list(names))
    beats: list[object] = []
    lease: Any = types.SimpleNamespace(beat=beats.append)
    with caplog.at_level("WARNING"):
        revoking.delete_removed(PROPS, lease, state, _Deadline(1))  # type: ignore[arg-type]
    assert sorted(deleted) == names[: revoking.WRITE_BATCH]
    assert state.pending_deletes == names[revoking.WRITE_BATCH :]
    assert beats == [state]
    assert re.search(r"\b50 removed users' files are left for the next run", caplog.text)
