"""S3 conditional writes as S3 documents them, on top of moto: atomic, with 412 and 409.

moto checks ``If-Match`` / ``If-None-Match`` on PutObject, but the check and the write are
two steps (another thread can write in between) and it never answers 409. This model makes
them one step and adds the conflict, following the PutObject API reference (the text is
also in botocore's S3 model, ``PutObjectRequest.IfMatch`` / ``IfNoneMatch``):

- ``If-None-Match: *``: "Uploads the object only if the object key name does not already
  exist in the bucket specified. Otherwise, Amazon S3 returns a 412 Precondition Failed
  error. If a conflicting operation occurs during the upload S3 returns a 409
  ConditionalRequestConflict response. On a 409 failure you should retry the upload."
- ``If-Match: <etag>``: "Uploads the object only if the ETag (entity tag) value provided
  during the WRITE operation matches the ETag of the object in S3. If the ETag values do
  not match, the operation returns a 412 Precondition Failed error. If a conflicting
  operation occurs during the upload S3 returns a 409 ConditionalRequestConflict response.
  On a 409 failure you should fetch the object's ETag and retry the upload."
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)
- The S3 User Guide, "How to prevent object overwrites with conditional writes"
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): the
  condition is checked *during* the write ("check for the existence of an object during
  the WRITE operation"); of concurrent conditional writes of one key the first to finish
  wins and the later ones fail with 412; ``If-Match`` on a key with no current object
  fails with 404 NoSuchKey (section "Conditional write behavior"; real S3's answer is shown
  in minio/minio issue 21526, and ceph/s3-tests PR 663 cites that section; moto answers the
  same).

What a PutObject does here (every PutObject, so that an unconditional write is ordered
too):

1. *start*: the request notes which object is current (moto keeps one ``FakeKey`` per
   stored version, so "the same object" is an identity check);
2. *upload*: if the test paused this request (:meth:`ConditionalWrites.pause`), it stops
   here until released: other requests run meanwhile. This is the interleaving point;
3. *commit*, atomically (one lock for every commit): the condition is evaluated against
   the object current *now*: false -> 412 ``PreconditionFailed`` (404 ``NoSuchKey`` for
   ``If-Match`` on a missing key); true, but another write or delete of the key committed
   since *start* (a conflicting operation during the upload) -> 409
   ``ConditionalRequestConflict``; otherwise the object is written.

:meth:`ConditionalWrites.conflict` makes the next conditional writes of a key answer 409
(S3 may answer so whenever a conflicting operation is in flight; the client must retry).
:attr:`ConditionalWrites.log` records every PutObject: key, condition sent, outcome; a
test can see that a write carried its condition without trusting the code under test.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.s3.exceptions import MissingKey, PreconditionFailed, S3ClientError

__all__ = ["ConditionalWrites", "Gate", "Put", "wait_for"]


@dataclass(frozen=True)
class Put:
    """One PutObject as the model saw it."""

    bucket: str
    key: str
    if_match: str | None
    if_none_match: str | None
    outcome: str
    """``"200"``, ``"412"``, ``"409"``, ``"404"``, or the error code moto raised."""

    @property
    def conditional(self) -> bool:
        return bool(self.if_match) or self.if_none_match == "*"


@dataclass
class Gate:
    """Stops one PutObject between its start and its commit until :meth:`release`."""

    key: str
    reached: threading.Event = field(default_factory=threading.Event)
    _go: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self._go.set()

    def wait_reached(self, *workers: threading.Thread) -> None:
        """Wait until the paused request got here (fails at once if a worker died first)."""
        wait_for(self.reached, *workers)


def wait_for(event: threading.Event, *workers: threading.Thread) -> None:
    """Wait for ``event``; fail if every worker that could set it has ended without doing so.

    No time bound: the condition decides (pytest-timeout ends a test that truly hangs).
    """
    while not event.wait(0.01):
        if workers and not any(w.is_alive() for w in workers):
            if event.is_set():
                return
            raise AssertionError("the worker ended before reaching the expected point")


_CONFLICT_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code>'
    "<Message>A conflicting operation occurred. If using PutObject you can retry the "
    "request.</Message></Error>"
)


def _unquote(etag: str) -> str:
    return etag.strip().strip('"')


class ConditionalWrites:
    """The model; :meth:`install` it inside ``mock_aws`` (fixture ``s3_model``)."""

    installed: ConditionalWrites | None = None
    """The model installed now (set by :meth:`install`, undone with its monkeypatch)."""

    def __init__(self) -> None:
        self._commit = threading.Lock()
        self._mutex = threading.Lock()
        self._gates: dict[str, deque[Gate]] = {}
        self._conflicts: dict[str, int] = {}
        self.log: list[Put] = []

    # -- what a test controls ----------------------------------------------------------

    def pause(self, key: str) -> Gate:
        """The next PutObject of ``key`` not yet paused stops before its commit."""
        gate = Gate(key)
        with self._mutex:
            self._gates.setdefault(key, deque()).append(gate)
        return gate

    def conflict(self, key: str, times: int = 1) -> None:
        """The next ``times`` conditional PutObjects of ``key`` answer 409."""
        with self._mutex:
            self._conflicts[key] = self._conflicts.get(key, 0) + times

    def puts(self, key: str) -> list[Put]:
        return [p for p in self.log if p.key == key]

    # -- the model ---------------------------------------------------------------------

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from moto.s3.responses import S3Response

        original: Callable[[Any], Any] = S3Response.put_object
        model = self

        def put_object(response: Any) -> Any:
            return model._put(response, original)

        monkeypatch.setattr(S3Response, "put_object", put_object)
        monkeypatch.setattr(ConditionalWrites, "installed", self)

    def _take_gate(self, key: str) -> Gate | None:
        with self._mutex:
            waiting = self._gates.get(key)
            return waiting.popleft() if waiting else None

    def _take_conflict(self, key: str) -> bool:
        with self._mutex:
            left = self._conflicts.get(key, 0)
            if left:
                self._conflicts[key] = left - 1
            return bool(left)

    def _put(self, response: Any, original: Callable[[Any], Any]) -> Any:
        bucket, key = response.bucket_name, response.parse_key_name()
        if_match = response.headers.get("If-Match")
        if_none_match = response.headers.get("If-None-Match")
        backend = response.backend
        started_with = backend.get_object(bucket, key)  # 1. start

        gate = self._take_gate(key)  # 2. upload (the interleaving point)
        if gate is not None:
            gate.reached.set()
            gate._go.wait()

        def record(outcome: str) -> None:
            self.log.append(Put(bucket, key, if_match, if_none_match, outcome))

        with self._commit:  # 3. commit
            current = backend.get_object(bucket, key)
            try:
                if if_match:
                    if current is None:
                        raise MissingKey(key)
                    if _unquote(if_match) != _unquote(current.etag):
                        raise PreconditionFailed("If-Match")
                if if_none_match == "*" and current is not None:
                    raise PreconditionFailed("If-None-Match")
                if (if_match or if_none_match == "*") and (
                    current is not started_with or self._take_conflict(key)
                ):
                    record("409")
                    return 409, {"Content-Type": "application/xml"}, _CONFLICT_BODY
                result = original(response)
            except S3ClientError as err:
                record({"PreconditionFailed": "412", "NoSuchKey": "404"}.get(err.code, err.code))
                raise
            record("200")
            return result
