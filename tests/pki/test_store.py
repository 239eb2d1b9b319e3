"""Conditional writes of the PKI handlers (store.write, the revocation ledger) against S3's
documented semantics (tests/s3_model.py: atomic compare-and-set, 412, 409, 404).

Oracles: what S3 documents for PutObject with ``If-Match`` / ``If-None-Match``, and the
bytes a second, independent client reads back. The model's log shows which condition each
write carried, without trusting the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import types
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from constructs_cvpn.handlers.pki import store
from constructs_cvpn.handlers.pki.ledger import Ledger

from ..s3_model import ConditionalWrites
from .conftest import BUCKET, REGION

KEY = "cvpn/p/state.json"
LEDGER_KEY = "cvpn/p/revocations/0123456789abcdef.json"
CA_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ca-0123456789abcdef-AbCdEf"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _body(key: str = KEY) -> bytes:
    return bytes(_s3().get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _write(body: bytes, kms_key: str, **condition: Any) -> store.Object:
    return store.write(
        BUCKET, KEY, body, kms_key_arn=kms_key, content_type="application/json", **condition
    )


# -- store.write -------------------------------------------------------------------------


def test_a_write_on_a_stale_etag_loses_and_keeps_the_newer_object(
    s3_model: ConditionalWrites, bucket: str, kms_key: str
) -> None:
    first = _write(b"v1", kms_key, if_none_match=True)
    _s3().put_object(Bucket=BUCKET, Key=KEY, Body=b"another run's")  # another writer
    with pytest.raises(store.ConflictError, match="changed by another run"):
        _write(b"stale", kms_key, if_match=first.etag)
    assert _body() == b"another run's"
    mine = [p for p in s3_model.puts(KEY) if p.if_match]
    assert [(p.if_match, p.outcome) for p in mine] == [(first.etag, "412")]


def test_a_create_on_an_existing_object_loses(
    s3_model: ConditionalWrites, bucket: str, kms_key: str
) -> None:
    _s3().put_object(Bucket=BUCKET, Key=KEY, Body=b"there first")
    with pytest.raises(store.ConflictError):
        _write(b"mine", kms_key, if_none_match=True)
    assert _body() == b"there first"
    assert [p.outcome for p in s3_model.puts(KEY) if p.if_none_match == "*"] == ["412"]


def test_an_update_of_a_deleted_object_loses(
    s3_model: ConditionalWrites, bucket: str, kms_key: str
) -> None:
    first = _write(b"v1", kms_key, if_none_match=True)
    _s3().delete_object(Bucket=BUCKET, Key=KEY)
    with pytest.raises(store.ConflictError):
        _write(b"v2", kms_key, if_match=first.etag)  # S3: 404 NoSuchKey
    assert "Contents" not in _s3().list_objects_v2(Bucket=BUCKET)


def test_a_409_conflict_is_a_lost_race_too(
    s3_model: ConditionalWrites, bucket: str, kms_key: str
) -> None:
    first = _write(b"v1", kms_key, if_none_match=True)
    s3_model.conflict(KEY)
    with pytest.raises(store.ConflictError):
        _write(b"v2", kms_key, if_match=first.etag)
    assert _body() == b"v1"
    assert _write(b"v2", kms_key, if_match=first.etag).etag  # the retry S3 asks for works
    assert _body() == b"v2"


def test_two_writers_in_flight_on_one_etag_one_wins(
    s3_model: ConditionalWrites, bucket: str, kms_key: str
) -> None:
    first = _write(b"v1", kms_key, if_none_match=True)
    gate = s3_model.pause(KEY)
    outcome: dict[str, str] = {}

    def slow_writer() -> None:
        try:
            _write(b"slow", kms_key, if_match=first.etag)
            outcome["slow"] = "written"
        except store.ConflictError:
            outcome["slow"] = "lost"

    worker = threading.Thread(target=slow_writer)
    worker.start()
    gate.wait_reached(worker)  # it read v1's ETag and is uploading
    _write(b"fast", kms_key, if_match=first.etag)
    gate.release()
    worker.join()
    assert outcome == {"slow": "lost"}
    assert _body() == b"fast"


# -- the revocation ledger -----------------------------------------------------------------


def _ledger() -> Ledger:
    return Ledger.load(BUCKET, LEDGER_KEY, CA_ARN)


def _revoke(ledger: Ledger, serial: str) -> None:
    later = (NOW + dt.timedelta(days=90)).isoformat()
    ledger.revoke(serial, not_after=later, user=f"user-{serial}", now=NOW)


def _stored_serials() -> set[str]:
    data = json.loads(_body(LEDGER_KEY))
    return {e["serial"] for e in data["entries"]}


def test_two_runs_creating_the_ledger_at_once_lose_no_revocation(
    s3_model: ConditionalWrites, bucket: str, kms_key: str
) -> None:
    """Both read "no ledger"; the second to finish must not overwrite the first's ledger."""
    a, b = _ledger(), _ledger()
    assert a.etag is None and b.etag is None
    _revoke(a, "0a")
    _revoke(b, "0b")
    gate = s3_model.pause(LEDGER_KEY)
    lost: list[BaseException] = []

    def save_a() -> None:
        try:
            a.save(BUCKET, LEDGER_KEY, kms_key)
        except store.ConflictError as err:
            lost.append(err)

    worker = threading.Thread(target=save_a)
    worker.start()
    gate.wait_reached(worker)
    b.save(BUCKET, LEDGER_KEY, kms_key)
    gate.release()
    worker.join()
    assert len(lost) == 1, "the second first-save overwrote the ledger"
    assert _stored_serials() == {"0b"}
    # The loser starts again from what is stored: both revocations are kept.
    again = _ledger()
    _revoke(again, "0a")
    again.save(BUCKET, LEDGER_KEY, kms_key)
    assert _stored_serials() == {"0a", "0b"}
    first_saves = [p for p in s3_model.puts(LEDGER_KEY)][:2]
    assert all(p.if_none_match == "*" and not p.if_match for p in first_saves)


def test_an_update_of_the_ledger_on_a_stale_read_loses(
    s3_model: ConditionalWrites, bucket: str, kms_key: str
) -> None:
    seed = _ledger()
    _revoke(seed, "01")
    seed.save(BUCKET, LEDGER_KEY, kms_key)
    a, b = _ledger(), _ledger()
    _revoke(a, "0a")
    _revoke(b, "0b")
    a.save(BUCKET, LEDGER_KEY, kms_key)
    with pytest.raises(store.ConflictError):
        b.save(BUCKET, LEDGER_KEY, kms_key)
    assert _stored_serials() == {"01", "0a"}
    updates = [p for p in s3_model.puts(LEDGER_KEY) if p.if_match]
    assert [p.outcome for p in updates] == ["200", "412"]


def _versions(key: str) -> list[tuple[str, bool]]:
    """``(version id, is latest)`` of ``key``'s versions and delete markers, read back by a
    client of the test's own."""
    out = _s3().list_object_versions(Bucket=BUCKET, Prefix=key)
    items = [*out.get("Versions", []), *out.get("DeleteMarkers", [])]
    return [(i["VersionId"], i["IsLatest"]) for i in items if i["Key"] == key]


def test_purge_noncurrent_under_keeps_only_the_current_version_of_the_named_keys(
    versioned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Noncurrent versions and delete markers of the named keys go, in DeleteObjects batches
    (a batch of 2 here, to cross a batch boundary); the current version stays, and so does
    every version of a key not named or outside the prefix."""
    monkeypatch.setattr(store, "DELETE_BATCH", 2)
    s3 = _s3()
    a, b, other, outside = "p/users/a.ovpn", "p/users/b.ovpn", "p/users/c.ovpn", "p/a.ovpn"
    for key in (a, b, other, outside):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"old key")
    s3.delete_object(Bucket=BUCKET, Key=a)  # a delete marker, then noncurrent
    for key in (a, b, other, outside):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"new key")
    current_a = [v for v, latest in _versions(a) if latest]

    removed = store.purge_noncurrent_under(BUCKET, "p/users/", {a, b, outside}, lambda: False)

    assert removed == 3  # a: the old version and the marker; b: the old version
    assert [v for v, _ in _versions(a)] == current_a and _body(a) == b"new key"
    assert len(_versions(b)) == 1 and _body(b) == b"new key"
    assert len(_versions(other)) == 2, "a key not named is not touched"
    assert len(_versions(outside)) == 2, "a key outside the prefix is not touched"


def test_purge_noncurrent_under_stops_when_told(versioned: str) -> None:
    """Near the deadline nothing is deleted: the next run does it."""
    s3 = _s3()
    key = "p/users/a.ovpn"
    for body in (b"old", b"new"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert store.purge_noncurrent_under(BUCKET, "p/users/", {key}, lambda: True) == 0
    assert len(_versions(key)) == 2


def test_a_partly_failed_batch_delete_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeleteObjects answers 200 with an Errors list for the keys it could not delete
    (S3 API reference): that is a failure, not a success."""

    class _S3:
        def delete_objects(self, **kw: Any) -> dict[str, Any]:
            keys = [o["Key"] for o in kw["Delete"]["Objects"]]
            return {"Errors": [{"Key": k, "Code": "AccessDenied"} for k in keys]}

    monkeypatch.setattr(store, "client", lambda service: _S3())
    pairs = [("p/users/a.ovpn", "v1"), ("p/users/a.ovpn", "v2")]
    with pytest.raises(RuntimeError, match=r"could not delete 2 versions .*AccessDenied"):
        store._delete_pairs(BUCKET, pairs)
    with pytest.raises(RuntimeError, match=r"could not delete 1 versions .*a.ovpn: AccessDenied"):
        store._delete_pairs(BUCKET, pairs[:1])


def test_every_write_asks_for_sse_kms_without_a_bucket_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With an S3 Bucket Key, KMS sees the bucket's ARN as the encryption context instead of
    the object's (S3 user guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"):
    the one-file read grants, conditioned on kms:EncryptionContext:aws:s3:arn being the
    file's ARN (grants.py), would then read nothing."""
    sent: list[dict[str, Any]] = []

    class _S3:
        def put_object(self, **kw: Any) -> dict[str, str]:
            sent.append(kw)
            return {"ETag": '"e"'}

    monkeypatch.setattr(store, "client", lambda service: _S3())
    store.write(
        BUCKET,
        "p/users/a.ovpn",
        b"x",
        kms_key_arn="arn:aws:kms:eu-west-1:1:key/k",
        content_type="application/x-openvpn-profile",
    )
    (put,) = sent
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == (
        "aws:kms",
        "arn:aws:kms:eu-west-1:1:key/k",
        False,
    )


def test_batch_deletes_stay_within_s3s_thousand_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeleteObjects takes at most 1,000 keys per request (S3 API reference, DeleteObjects):
    2,500 versions go in requests of at most 1,000, every one of them."""
    requests: list[int] = []

    class _S3:
        def delete_objects(self, **kw: Any) -> dict[str, Any]:
            objects = kw["Delete"]["Objects"]
            if len(objects) > 1000:
                raise AssertionError(f"MalformedXML: {len(objects)} keys in one request")
            requests.append(len(objects))
            return {}

    monkeypatch.setattr(store, "client", lambda service: _S3())
    store._delete_pairs(BUCKET, [("p/users/a.ovpn", f"v{i}") for i in range(2500)])
    assert sum(requests) == 2500 and len(requests) == 3


def test_purge_lists_every_page_before_deleting(monkeypatch: pytest.MonkeyPatch) -> None:
    """ListObjectVersions answers in pages (S3 API reference, at most 1,000 per page): the
    noncurrent versions on every page go, not only the first page's."""
    deleted: list[str] = []

    def page(version: str) -> dict[str, Any]:
        return {"Versions": [{"Key": "p/users/a.ovpn", "VersionId": version, "IsLatest": False}]}

    class _S3:
        def get_paginator(self, name: str) -> Any:
            assert name == "list_object_versions"
            return types.SimpleNamespace(paginate=lambda **kw: [page("v1"), page("v2")])

        def delete_objects(self, **kw: Any) -> dict[str, Any]:
            deleted.extend(o["VersionId"] for o in kw["Delete"]["Objects"])
            return {}

    monkeypatch.setattr(store, "client", lambda service: _S3())
    assert store.purge_noncurrent_under(BUCKET, "p/users/", {"p/users/a.ovpn"}, lambda: False) == 2
    assert deleted == ["v1", "v2"]


def test_purge_older_versions_keeps_only_the_current_one(versioned: str) -> None:
    s3 = _s3()
    key = "p/users/a.ovpn"
    for body in (b"first", b"second", b"third"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert store.purge_older_versions(BUCKET, key) == 2
    assert [latest for _, latest in _versions(key)] == [True] and _body(key) == b"third"
    assert store.purge_older_versions(BUCKET, key) == 0


def test_deleting_under_a_missing_bucket_is_success(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bucket removed first (a stack deletion in any order): nothing is left to delete."""

    class _S3:
        def get_paginator(self, name: str) -> Any:
            def paginate(**kw: Any) -> Any:
                error = {"Error": {"Code": "NoSuchBucket", "Message": "gone"}}
                raise ClientError(error, "ListObjectVersions")  # type: ignore[arg-type]

            return types.SimpleNamespace(paginate=paginate)

    monkeypatch.setattr(store, "client", lambda service: _S3())
    assert store.delete_all_versions(BUCKET, "p/users/a.ovpn") == 0
