"""``handlers/pki/state.py``: the users' state document and the CA bundle as JSON.

Oracles: the documents' contracts in their docstrings: the state's JSON is canonical
(sorted keys, compact: the same state gives the same bytes, an independent ``json.dumps``
of its parse gives them too); a field added later is absent when off, and a document
without it (written before it existed) reads as off; a secret that is not a CA bundle is a
ValueError that never echoes the secret.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from constructs_cvpn.handlers.pki.ledger import ledger_key
from constructs_cvpn.handlers.pki.state import CaBundle, HeldCertificate, UserRecord, UsersState


def _canonical(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def test_the_state_json_is_canonical() -> None:
    state = UsersState(endpoint_id="cvpn-endpoint-1", crl_dirty=True, pending_deletes=["b", "a"])
    text = state.to_json()
    assert text == _canonical(text)
    assert json.loads(text)["pending_deletes"] == ["a", "b"]


def test_the_ipv6_block_is_absent_when_off_and_round_trips_when_on() -> None:
    assert "block_ipv6_leak" not in json.loads(UsersState().to_json())
    on = UsersState(block_ipv6_leak=True)
    assert json.loads(on.to_json())["block_ipv6_leak"] is True
    assert UsersState.from_json(on.to_json()).block_ipv6_leak is True


def test_a_state_from_before_the_newer_fields_reads_them_as_off() -> None:
    old = UsersState.from_json('{"version":2,"users":{}}')
    assert (old.block_ipv6_leak, old.crl_dirty, old.pending_deletes) == (False, False, [])
    assert old.to_json() == UsersState().to_json()


def test_a_user_record_round_trips_with_its_previous_certificates() -> None:
    record = UserRecord(
        serial="0a",
        cert_pem="CERT",
        not_after="2027-01-31T00:00:00+00:00",
        config_sha256="0" * 64,
        previous=[HeldCertificate("09", "2026-12-31T00:00:00+00:00")],
    )
    text = UsersState(users={"alice": record}).to_json()
    assert UsersState.from_json(text).users == {"alice": record}


@pytest.mark.parametrize(
    "secret",
    [
        '{"ca_cert_pem": "SECRET-CERT"}',  # no key
        '["SECRET"]',  # not an object
        '{"ca_key_pem": "SECRET-KEY", "ca_cert_pem": "C", "version": "x"}',
        "SECRET not json",
    ],
)
def test_a_secret_that_is_no_ca_bundle_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(ValueError, match="does not hold a constructs-cvpn CA bundle") as info:
        CaBundle.from_json(secret)
    assert "SECRET" not in str(info.value)


def test_a_record_written_before_pending_existed_is_not_pending() -> None:
    text = (
        '{"version":2,"users":{"alice":{"serial":"0a","cert_pem":"C",'
        '"not_after":"2027-01-31T00:00:00+00:00","config_sha256":"x"}}}'
    )
    assert UsersState.from_json(text).users["alice"].pending is False


def test_the_create_request_is_absent_when_empty_and_round_trips() -> None:
    assert "create_request" not in json.loads(UsersState().to_json())
    state = UsersState(create_request="req-1")
    assert UsersState.from_json(state.to_json()).create_request == "req-1"


def test_an_older_ca_secret_keeps_its_bytes_and_a_claim_is_written_only_when_made() -> None:
    older = json.dumps(
        {
            "ca_cert_pem": "C",
            "ca_key_pem": "K",
            "server_cert_pem": "SC",
            "server_certificate_arn": "arn:aws:acm:eu-west-1:111111111111:certificate/1",
            "server_key_pem": "SK",
            "version": 1,
        },
        sort_keys=True,
    )
    assert CaBundle.from_json(older).to_json() == older
    claimed = CaBundle(ca_key_pem="K", ca_cert_pem="C", import_claim="run-1")
    assert json.loads(claimed.to_json())["import_claim"] == "run-1"
    assert CaBundle.from_json(claimed.to_json()) == claimed
    assert "import_claim" not in json.loads(CaBundle(ca_key_pem="K", ca_cert_pem="C").to_json())


def test_the_ledger_key_is_the_documented_layout() -> None:
    """``<prefix>revocations/<ca id>.json``, the CA id the first 16 hex digits of the SHA-256
    of the CA secret's ARN (ledger.py): deployed VPNs keep their ledgers there, so another
    layout would lose every revocation on the next run."""
    arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:cvpn-ca-AbCdEf"
    ca_id = hashlib.sha256(arn.encode()).hexdigest()[:16]
    assert ledger_key("vpn/", arn) == f"vpn/revocations/{ca_id}.json"
