"""The export handler's Delete when the function is pinned to one object (issue 18).

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
