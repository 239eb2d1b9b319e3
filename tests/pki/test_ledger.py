"""``handlers/pki/ledger.py``: the ledger document as stored.

Oracles: the module's contracts: its JSON is canonical (an independent ``json.dumps`` of its
parse gives the same bytes, so a run that changes nothing writes nothing new); a stored ledger
that is not one, or is another CA's, is a ValueError naming the key and never its content.
"""

from __future__ import annotations

import datetime as dt
import json
import types
from typing import Any

import pytest

from constructs_cvpn.handlers.pki import ledger as ledger_module
from constructs_cvpn.handlers.pki.ledger import Ledger, LedgerFullError

ARN = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:ca"
KEY = "vpn/revocations/0123456789abcdef.json"


def _stored(monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    found = types.SimpleNamespace(body=body.encode(), etag='"e1"')
    monkeypatch.setattr(ledger_module.store, "read", lambda bucket, key: found)


def test_the_ledger_json_is_canonical_and_loads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger(ca_secret_arn=ARN, crl_number=3, expired={"0b"})
    now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    ledger.revoke("0f", not_after="2027-01-31T00:00:00+00:00", user="bob", now=now)
    ledger.revoke("0a", not_after="2027-01-31T00:00:00+00:00", user="alice", now=now)
    text = ledger.to_json().decode()
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    _stored(monkeypatch, text)
    loaded = Ledger.load("b", KEY, ARN)
    assert (loaded.entries, loaded.crl_number, loaded.expired, loaded.etag) == (
        ledger.entries,
        3,
        {"0b"},
        '"e1"',
    )


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"ca_secret_arn": ARN, "entries": [{"user": "SECRETIVE"}]}),  # no serial
        json.dumps({"ca_secret_arn": ARN, "entries": [1]}),  # not an entry
        json.dumps({"ca_secret_arn": ARN, "crl_number": "many"}),
        "SECRETIVE, not json",
    ],
)
def test_a_stored_document_that_is_no_ledger_is_refused(
    monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    _stored(monkeypatch, body)
    with pytest.raises(ValueError, match=f"malformed revocation ledger {KEY}") as info:
        Ledger.load("b", KEY, ARN)
    assert "SECRETIVE" not in str(info.value)


def test_another_cas_ledger_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _stored(monkeypatch, Ledger(ca_secret_arn=ARN + "-other").to_json().decode())
    with pytest.raises(ValueError, match="belongs to another CA"):
        Ledger.load("b", KEY, ARN)


def test_no_stored_ledger_is_an_empty_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_module.store, "read", lambda bucket, key: None)
    empty: Any = Ledger.load("b", KEY, ARN)
    assert (empty.entries, empty.crl_number, empty.etag) == ({}, 0, None)


def _with(count: int) -> Ledger:
    ledger = Ledger(ca_secret_arn=ARN)
    now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    for serial in range(1, count + 1):
        ledger.revoke(format(serial, "x"), not_after="2027-06-01T00:00:00+00:00", user="u", now=now)
    return ledger


def test_a_ledger_of_twenty_thousand_fits_one_more_does_not() -> None:
    """Client VPN takes a CRL of at most 20,000 entries (Client VPN quotas page)."""
    _with(20_000).check_size()
    with pytest.raises(LedgerFullError, match="20001 revoked certificates"):
        _with(20_001).check_size()


def test_changed_says_whether_there_is_anything_to_save(monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)
    _stored(monkeypatch, _with(0).to_json().decode())
    ledger = Ledger.load("b", KEY, ARN)
    assert ledger.changed is False
    assert ledger.prune(now) == 0 and ledger.changed is False
    ledger.revoke("0a", not_after=now.isoformat(), user="alice", now=now)
    ledger.revoke("0b", not_after="2027-01-30T23:59:59+00:00", user="bob", now=now)
    ledger.changed = False
    # Valid through its notAfter second (RFC 5280, inclusive): 0a stays, 0b goes.
    assert ledger.prune(now) == 1 and set(ledger.entries) == {"0a"}
    assert ledger.changed is True and ledger.expired == {"0b"}
    assert json.loads(ledger.to_json())["expired"] == ["0b"]
    written = types.SimpleNamespace(etag='"e2"')
    monkeypatch.setattr(ledger_module.store, "write", lambda *args, **kwargs: written)
    ledger.save("b", KEY, "arn:aws:kms:eu-west-1:111111111111:key/k")
    assert (ledger.changed, ledger.etag) == (False, '"e2"')
    assert "expired" not in json.loads(_with(1).to_json())
