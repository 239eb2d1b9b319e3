"""The users resource after its Delete, and a failed Create's clean-up, one call at a time.

moto for S3, KMS and Secrets Manager (the PKI conftest), the handler's own functions called
directly. Oracles: ``create_or_update``'s and ``delete``'s docstrings (after a Delete, its
tombstone makes an Update, a Renew or a second delivery of the deleted resource's Create do
nothing; another Create starts afresh; Delete works whatever state there is), and the
contract of every failing custom resource (the reason CloudFormation sees is the failure's
own, not a clean-up's).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from constructs_cvpn.handlers.pki import store, users

from .conftest import BUCKET, REGION
from .test_users import STATE_KEY, _props

TOMBSTONE = users.tombstone_key(STATE_KEY)


def _keys() -> list[str]:
    out = boto3.client("s3", region_name=REGION).list_object_versions(Bucket=BUCKET)
    return sorted({v["Key"] for v in out.get("Versions", [])})


def _put(key: str, body: bytes) -> None:
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=body)


def _state() -> dict[str, Any]:
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=STATE_KEY)
    return dict(json.loads(body["Body"].read()))


def _saving(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``reconcile`` replaced by one that only saves the state (as a real run ends)."""
    ran: list[str] = []

    def reconcile(_p: Any, lease: Any, state: Any, *_: Any) -> dict[str, Any]:
        ran.append("reconcile")
        lease.save(state, release=True)
        return {}

    monkeypatch.setattr(users, "reconcile", reconcile)
    return ran


def _nothing_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []

    def reconcile(*_: Any) -> dict[str, Any]:
        ran.append("reconcile")
        return {}

    monkeypatch.setattr(users, "reconcile", reconcile)
    return ran


@pytest.mark.parametrize("body", [b"not json", b'["a list"]', b'"a string"'])
@pytest.mark.parametrize("request_type", ["Update", "Renew"])
def test_an_unreadable_tombstone_still_stops_a_late_request(
    kms_key: str, ca_secret: str, monkeypatch: pytest.MonkeyPatch, body: bytes, request_type: str
) -> None:
    """A tombstone whose body cannot be read names no Create: it is still a tombstone."""
    _put(TOMBSTONE, body)
    _put(STATE_KEY, json.dumps({"users": {}}).encode())  # a state a Renew would act on
    ran = _nothing_runs(monkeypatch)

    physical_id, data = users.create_or_update(
        _props(kms_key, ca_secret, ["alice"]), request=request_type
    )

    assert (ran, data) == ([], {})
    assert physical_id == users.physical_id(users.UsersProps.parse(_props(kms_key, ca_secret, [])))
    assert _state()["lease_owner"] == "", "the late request kept the lease"


def test_a_second_delivery_of_the_deleted_create_does_nothing_and_leaves_no_state(
    kms_key: str, ca_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(TOMBSTONE, json.dumps({"create_request": "req-1"}).encode())
    ran = _nothing_runs(monkeypatch)

    users.create_or_update(
        _props(kms_key, ca_secret, ["alice"]), request="Create", request_id="req-1"
    )

    assert ran == []
    assert _keys() == [TOMBSTONE], "the late Create left a state behind"


def test_another_create_at_the_same_place_starts_afresh(
    kms_key: str, ca_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(TOMBSTONE, json.dumps({"create_request": "req-1"}).encode())
    ran = _nothing_runs(monkeypatch)

    users.create_or_update(
        _props(kms_key, ca_secret, ["alice"]), request="Create", request_id="req-2"
    )

    assert ran == ["reconcile"]
    assert TOMBSTONE not in _keys()


def test_a_delete_without_a_state_creates_none(kms_key: str, ca_secret: str) -> None:
    users.delete(_props(kms_key, ca_secret, ["alice"]))
    assert STATE_KEY not in _keys()
    assert TOMBSTONE in _keys()  # a later request must still find the resource deleted


def test_a_failed_create_reports_its_own_error_when_the_clean_up_fails_too(
    kms_key: str, ca_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reconcile(*_: Any) -> dict[str, Any]:
        raise RuntimeError("the Create's own failure")

    def delete_all_versions(*_: Any) -> int:
        raise RuntimeError("the clean-up failed")

    monkeypatch.setattr(users, "reconcile", reconcile)
    monkeypatch.setattr(store, "delete_all_versions", delete_all_versions)

    with pytest.raises(RuntimeError, match="the Create's own failure"):
        users.create_or_update(
            _props(kms_key, ca_secret, ["alice"]), request="Create", request_id="req-1"
        )


@pytest.mark.parametrize("earlier_state", [True, False])
def test_a_failed_update_keeps_its_state_released(
    kms_key: str, ca_secret: str, monkeypatch: pytest.MonkeyPatch, earlier_state: bool
) -> None:
    """Only a failed *Create* of a new state removes what it wrote; an Update's state stays,
    released, whether it found one or made it."""
    if earlier_state:
        _put(STATE_KEY, json.dumps({"users": {}}).encode())

    def reconcile(*_: Any) -> dict[str, Any]:
        raise RuntimeError("the Update's failure")

    monkeypatch.setattr(users, "reconcile", reconcile)
    with pytest.raises(RuntimeError, match="the Update's failure"):
        users.create_or_update(_props(kms_key, ca_secret, ["alice"]), request="Update")

    assert _state()["lease_owner"] == ""


def test_the_tombstone_names_the_create_that_made_the_state(
    kms_key: str, ca_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Create req-1, a second Create (req-2) at the same place while the state exists, Delete:
    a late delivery of req-1 must do nothing, whatever came between."""
    ran = _saving(monkeypatch)
    props = _props(kms_key, ca_secret, ["alice"])
    users.create_or_update(props, request="Create", request_id="req-1")
    users.create_or_update(props, request="Create", request_id="req-2")
    assert _state()["create_request"] == "req-1"
    users.delete(props)

    users.create_or_update(props, request="Create", request_id="req-1")

    assert ran == ["reconcile", "reconcile"]
    assert STATE_KEY not in _keys()


def test_old_properties_that_no_longer_parse_do_not_block_an_update(
    kms_key: str, ca_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_refuse_move`` compares locations only when the old properties parse (an older
    version's, or a name this version refuses); otherwise the update goes on."""
    ran = _saving(monkeypatch)
    old = _props(kms_key, ca_secret, ["../not-a-name"], Bucket="elsewhere")

    users.create_or_update(_props(kms_key, ca_secret, ["alice"]), old, request="Update")

    assert ran == ["reconcile"]
