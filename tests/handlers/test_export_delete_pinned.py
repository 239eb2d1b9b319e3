"""The export handler's Delete when pinned to one object (issue 18), and its small helpers.

A Delete naming an ``s3://`` object is obeyed only for the object the template pinned: a
forged Delete of another object of the account (the role may write only its own, but a
caller should not even get the attempt) is refused before any AWS call. Oracle: the
handler's docstring ("an event naming another Bucket, Key ... is refused before any call").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from constructs_cvpn.handlers import pinned
from constructs_cvpn.handlers.export_config import index

BUCKET, KEY = "cvpn-configs", "cvpn/Vpn/client.ovpn"


@pytest.fixture(autouse=True)
def pinned_to_one_object(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    monkeypatch.setenv(pinned.ENV, json.dumps({"Pinned": {"Bucket": BUCKET, "Key": KEY}}))
    pinned.forget()
    deleted: list[Any] = []
    monkeypatch.setattr(index, "_delete", lambda pid, at: deleted.append((pid, at)) or {})
    yield deleted
    pinned.forget()


def _delete_event(physical_id: str) -> dict[str, Any]:
    return {
        "RequestType": "Delete",
        "PhysicalResourceId": physical_id,
        "ResourceProperties": {"Bucket": BUCKET, "Key": KEY},
    }


@pytest.mark.parametrize(
    "other", ["s3://another-bucket/cvpn/Vpn/client.ovpn", f"s3://{BUCKET}/cvpn/Other/client.ovpn"]
)
def test_a_delete_of_another_object_is_refused(pinned_to_one_object: list[Any], other: str) -> None:
    with pytest.raises(pinned.RefusedEvent, match="is not this function's object"):
        index.on_event(_delete_event(other))
    assert pinned_to_one_object == []


def test_a_delete_of_the_pinned_object_goes_ahead(pinned_to_one_object: list[Any]) -> None:
    index.on_event(_delete_event(f"s3://{BUCKET}/{KEY}"))
    assert pinned_to_one_object == [(f"s3://{BUCKET}/{KEY}", (BUCKET, KEY))]


@pytest.mark.parametrize(
    "props",
    [
        {"Bucket": 123, "Key": KEY},
        {"Bucket": BUCKET, "Key": 7},
        {"Bucket": "", "Key": KEY},
        {"Bucket": BUCKET},
        {"Bucket": [BUCKET], "Key": KEY},
    ],
)
def test_a_location_is_two_non_empty_strings(props: dict[str, Any]) -> None:
    assert index._location(props) is None
    assert index._location({"Bucket": BUCKET, "Key": KEY}) == (BUCKET, KEY)


class ManyVersions:
    """An S3 client whose object has 2,500 versions; records each DeleteObjects batch."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def get_paginator(self, _name: str) -> Any:
        versions = [{"Key": KEY, "VersionId": f"v{i}"} for i in range(2500)]

        class Pages:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                return [{"Versions": versions[:1200]}, {"Versions": versions[1200:]}]

        return Pages()

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:
        self.batches.append(len(Delete["Objects"]))
        return {}


def test_versions_are_deleted_in_batches_of_at_most_1000(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 API Reference, DeleteObjects: a request names up to 1,000 keys."""
    s3 = ManyVersions()
    monkeypatch.setattr(index.aws, "s3_client", lambda: s3)
    assert index._delete_versions(BUCKET, KEY, keep="v0") == 2499
    assert sum(s3.batches) == 2499
    assert max(s3.batches) <= 1000


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), (" TRUE ", True), ("false", False), ("", False)],
)
def test_flags_are_booleans_or_their_names(value: Any, expected: bool) -> None:
    assert index._flag({"F": value}, "F") is expected


@pytest.mark.parametrize(
    "uri", ["s3://", "s3://bucket", "s3://bucket/", "s3:///key", "https://bucket/key"]
)
def test_an_s3_uri_names_a_bucket_and_a_key(uri: str) -> None:
    assert index._parse_s3_uri(uri) is None
    assert index._parse_s3_uri("s3://bucket/a/key") == ("bucket", "a/key")


def test_the_object_is_written_without_an_s3_bucket_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """An S3 Bucket Key makes the bucket's ARN the KMS encryption context (S3 user guide,
    "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"); the readers' grant is
    conditioned on the object's ARN, so the object must be encrypted without one."""
    sent: list[dict[str, Any]] = []

    class S3:
        def put_object(self, **params: Any) -> dict[str, Any]:
            sent.append(params)
            return {"VersionId": "v1"}

    monkeypatch.setattr(index.aws, "s3_client", lambda: S3())
    assert index._put(BUCKET, KEY, "arn:aws:kms:eu-west-1:123456789012:key/k", b"x") == "v1"
    assert sent[0]["BucketKeyEnabled"] is False
    assert sent[0]["ServerSideEncryption"] == "aws:kms"


def test_old_versions_that_s3_refuses_to_delete_fail_with_their_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = ManyVersions()
    refused = {"Errors": [{"Key": KEY, "VersionId": "v3", "Code": "AccessDenied"}]}
    s3.delete_objects = lambda **_: refused  # type: ignore[method-assign]
    monkeypatch.setattr(index.aws, "s3_client", lambda: s3)
    with pytest.raises(
        index.ExportConfigError, match=r"could not delete 1 old versions.*AccessDenied"
    ):
        index._delete_versions(BUCKET, KEY, keep=None)


def test_a_bucket_that_is_gone_has_no_version_to_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    class Gone:
        def get_paginator(self, _name: str) -> Any:
            raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "List")

    monkeypatch.setattr(index.aws, "s3_client", lambda: Gone())
    assert index._delete_versions(BUCKET, KEY, keep=None) == 0


def test_a_refused_move_names_both_locations(monkeypatch: pytest.MonkeyPatch) -> None:
    class Empty:
        def list_object_versions(self, **_: Any) -> dict[str, Any]:
            return {}

    monkeypatch.setattr(index.aws, "s3_client", lambda: Empty())
    old = {"Bucket": "old-bucket", "Key": "old/client.ovpn"}
    with pytest.raises(index.InvalidPropertiesError) as raised:
        index._refuse_move({"Bucket": BUCKET, "Key": KEY}, old)
    assert f"from s3://old-bucket/old/client.ovpn to s3://{BUCKET}/{KEY}" in str(raised.value)
    # nothing to compare with: no refusal, no call
    index._refuse_move({"Bucket": BUCKET, "Key": KEY}, {"Bucket": 5, "Key": "k"})
    index._refuse_move({"Bucket": BUCKET, "Key": KEY}, {"Bucket": BUCKET, "Key": KEY})


def test_a_refused_look_at_the_new_location_is_a_readable_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import ClientError

    class Denied:
        def list_object_versions(self, **_: Any) -> dict[str, Any]:
            error = {"Error": {"Code": "AccessDenied", "Message": "no"}}
            raise ClientError(error, "ListObjectVersions")  # type: ignore[arg-type]

    monkeypatch.setattr(index.aws, "s3_client", lambda: Denied())
    with pytest.raises(index.ExportConfigError, match="s3:ListBucketVersions"):
        index._refuse_move({"Bucket": BUCKET, "Key": KEY}, {"Bucket": "old", "Key": "k"})
