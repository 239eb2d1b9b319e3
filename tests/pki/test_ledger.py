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
from constructs_cvpn.handlers.pki.ledger import Ledger

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
