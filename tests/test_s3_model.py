"""The S3 conditional-write model (tests/s3_model.py) against what S3 documents.

Each expectation is a sentence of the PutObject API reference or of the S3 User Guide's
conditional-writes page (quoted in tests/s3_model.py), not a property of the model's code.
Concurrency is real: threads, and the model's pause point between a write's start and its
commit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from .s3_model import ConditionalWrites, wait_for

BUCKET = "model-bucket"
KEY = "state.json"


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConditionalWrites]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        writes = ConditionalWrites()
        writes.install(monkeypatch)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield writes


def _s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def _put(body: bytes, **condition: str) -> str:
    return str(_s3().put_object(Bucket=BUCKET, Key=KEY, Body=body, **condition)["ETag"])


def _body() -> bytes:
    return bytes(_s3().get_object(Bucket=BUCKET, Key=KEY)["Body"].read())


def _error(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


class _Writer(threading.Thread):
    """One PutObject in a thread; keeps its ETag or error code."""

    def __init__(self, body: bytes, **condition: str) -> None:
        super().__init__(daemon=True)
        self.body, self.condition = body, condition
        self.result: str | None = None

    def run(self) -> None:
        try:
            _put(self.body, **self.condition)
            self.result = "200"
        except ClientError as err:
            self.result = err.response["Error"]["Code"]


# -- one writer: the documented answers -------------------------------------------------


def test_if_none_match_creates_once_then_412(model: ConditionalWrites) -> None:
    _put(b"first", IfNoneMatch="*")
    assert _error(lambda: _put(b"second", IfNoneMatch="*")) == ("PreconditionFailed", 412)
    assert _body() == b"first"


def test_if_match_writes_on_the_current_etag_only(model: ConditionalWrites) -> None:
    etag = _put(b"v1")
    newer = _put(b"v2", IfMatch=etag)
    assert _error(lambda: _put(b"v3", IfMatch=etag)) == ("PreconditionFailed", 412)
    assert _body() == b"v2"
    _put(b"v3", IfMatch=newer)
    assert _body() == b"v3"


def test_if_match_on_a_missing_key_is_404(model: ConditionalWrites) -> None:
    assert _error(lambda: _put(b"x", IfMatch='"0123"')) == ("NoSuchKey", 404)


def test_a_delete_marker_counts_as_no_object(model: ConditionalWrites) -> None:
    _s3().put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    etag = _put(b"v1")
    _s3().delete_object(Bucket=BUCKET, Key=KEY)
    assert _error(lambda: _put(b"v2", IfMatch=etag)) == ("NoSuchKey", 404)
    _put(b"v2", IfNoneMatch="*")
    assert _body() == b"v2"


def test_injected_conflict_is_409_once_then_the_retry_succeeds(model: ConditionalWrites) -> None:
    _put(b"v1")
    model.conflict(KEY)
    _put(b"plain")  # an unconditional write is not a conditional request: never 409
    etag = str(_s3().head_object(Bucket=BUCKET, Key=KEY)["ETag"])
    assert _error(lambda: _put(b"v2", IfMatch=etag)) == ("ConditionalRequestConflict", 409)
    assert _body() == b"plain"
    _put(b"v2", IfMatch=etag)  # "fetch the object's ETag and retry": unchanged, so it works
    assert _body() == b"v2"
    assert [p.outcome for p in model.puts(KEY)] == ["200", "200", "409", "200"]


# -- two writers, interleaved at the model's pause point ---------------------------------


def test_of_two_creates_in_flight_the_first_to_finish_wins(model: ConditionalWrites) -> None:
    gate_a, gate_b = model.pause(KEY), model.pause(KEY)
    a, b = _Writer(b"a", IfNoneMatch="*"), _Writer(b"b", IfNoneMatch="*")
    a.start()
    gate_a.wait_reached(a)
    b.start()
    gate_b.wait_reached(b)  # both started while the key did not exist
    gate_b.release()
    b.join()
    gate_a.release()
    a.join()
    assert (a.result, b.result) == ("PreconditionFailed", "200")
    assert _body() == b"b"


def test_of_two_updates_on_one_etag_the_first_to_finish_wins(model: ConditionalWrites) -> None:
    etag = _put(b"v1")
    gate_a, gate_b = model.pause(KEY), model.pause(KEY)
    a, b = _Writer(b"a", IfMatch=etag), _Writer(b"b", IfMatch=etag)
    for writer, gate in ((a, gate_a), (b, gate_b)):
        writer.start()
        gate.wait_reached(writer)
    gate_a.release()
    a.join()
    gate_b.release()
    b.join()
    assert (a.result, b.result) == ("200", "PreconditionFailed")
    assert _body() == b"a"


def test_a_delete_during_a_create_is_409(model: ConditionalWrites) -> None:
    _put(b"old")
    gate = model.pause(KEY)
    # Started while "old" exists; it would fail with 412 if checked at the start.
    writer = _Writer(b"new", IfNoneMatch="*")
    writer.start()
    gate.wait_reached(writer)
    _s3().delete_object(Bucket=BUCKET, Key=KEY)
    gate.release()
    writer.join()
    # At the commit the key is free, but a conflicting operation happened during the upload.
    assert writer.result == "ConditionalRequestConflict"
    assert _error(lambda: _body()) == ("NoSuchKey", 404)


def test_a_same_content_write_during_an_update_is_409(model: ConditionalWrites) -> None:
    etag = _put(b"same")
    gate = model.pause(KEY)
    writer = _Writer(b"mine", IfMatch=etag)
    writer.start()
    gate.wait_reached(writer)
    assert _put(b"same") == etag  # same bytes, same ETag: only the conflict can tell
    gate.release()
    writer.join()
    assert writer.result == "ConditionalRequestConflict"
    assert _body() == b"same"


def test_unconditional_writes_are_last_writer_wins(model: ConditionalWrites) -> None:
    _put(b"v0")
    gate = model.pause(KEY)
    slow = _Writer(b"slow")
    slow.start()
    gate.wait_reached(slow)
    _put(b"fast")
    gate.release()
    slow.join()
    assert slow.result == "200"
    assert _body() == b"slow"


# -- many writers, no pause: the compare-and-set is atomic ---------------------------------


def test_racing_creates_have_exactly_one_winner(model: ConditionalWrites) -> None:
    start = threading.Barrier(12)

    class Racer(_Writer):
        def run(self) -> None:
            start.wait()
            super().run()

    racers = [Racer(f"w{i}".encode(), IfNoneMatch="*") for i in range(12)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    results = sorted(r.result or "" for r in racers)
    assert results == ["200"] + ["PreconditionFailed"] * 11
    assert _body() == next(r.body for r in racers if r.result == "200")


def test_compare_and_set_counter_loses_no_increment(model: ConditionalWrites) -> None:
    """8 threads x 5 read-modify-write increments with If-Match and retry: 40."""
    _put(b"0")
    failures: list[BaseException] = []

    def increment(times: int) -> None:
        s3 = _s3()
        try:
            done = 0
            while done < times:
                got = s3.get_object(Bucket=BUCKET, Key=KEY)
                value = int(got["Body"].read())
                try:
                    s3.put_object(
                        Bucket=BUCKET, Key=KEY, Body=str(value + 1).encode(), IfMatch=got["ETag"]
                    )
                except ClientError as err:
                    code = err.response["Error"]["Code"]
                    assert code in ("PreconditionFailed", "ConditionalRequestConflict")
                    continue
                done += 1
        except BaseException as err:  # reported below, not lost in the thread
            failures.append(err)

    workers = [threading.Thread(target=increment, args=(5,)) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert _body() == b"40"
    outcomes = {p.outcome for p in model.puts(KEY)}
    assert outcomes <= {"200", "412", "409"}


def test_wait_for_fails_when_the_worker_ends_without_the_event() -> None:
    event = threading.Event()
    worker = threading.Thread(target=lambda: None)
    worker.start()
    worker.join()
    with pytest.raises(AssertionError, match="ended before"):
        wait_for(event, worker)
