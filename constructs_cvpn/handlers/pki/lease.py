"""The users state's lease: one run of a ``Kind=Users`` resource works at a time.

The lease lives in the state object itself (:class:`.state.UsersState` ``lease_owner`` and
``lease_expires``) and is taken and kept with S3 conditional writes (``If-Match`` on the
ETag read, ``If-None-Match: *`` for a new state): a run that loses a write raises
:class:`.store.ConflictError` instead of overwriting another run's state. An overlapping run
of the same request (Lambda delivers at least once) waits for the lease, then finds nothing
to do. A run that died without releasing it blocks the next one for at most
:data:`LEASE_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time

from . import clock, store
from .clock import Deadline
from .state import UsersState

__all__ = ["HEARTBEAT_SECONDS", "LEASE_SECONDS", "POLL_SECONDS", "Lease"]

LOG = logging.getLogger(__name__)
LEASE_SECONDS = 180
"""How long a lease lasts unless its run renews it (every :data:`HEARTBEAT_SECONDS` while it
works): a run that died without releasing it blocks the next one for at most this long."""
HEARTBEAT_SECONDS = 60
POLL_SECONDS = 5.0


class Lease:
    """Exclusive use of the state object for one run (conditional writes on its ETag)."""

    def __init__(self, bucket: str, key: str, kms_key_arn: str, deadline: Deadline) -> None:
        self.bucket, self.key, self.kms_key_arn = bucket, key, kms_key_arn
        self.deadline = deadline
        self.token = secrets.token_hex(8)
        self.etag: str | None = None
        self.existed = False
        self._saved = b""
        self._saved_at = time.monotonic()

    def acquire(self, *, create: bool = True) -> UsersState | None:
        """Load the state and take the lease, waiting for another run to release it.

        With ``create=False`` a missing state is not created: None comes back.
        """
        while True:
            found = store.read(self.bucket, self.key)
            if found is None and not create:
                return None
            state = UsersState.from_json(found.body) if found else UsersState()
            now = clock.now()
            held = (
                state.lease_owner
                and state.lease_owner != self.token
                and dt.datetime.fromisoformat(state.lease_expires) > now
            )
            if held:
                if self.deadline.seconds_left() < POLL_SECONDS * 2:
                    raise RuntimeError(
                        "another run of this resource still holds the users state "
                        f"(until {state.lease_expires}); deploy again once it has finished"
                    )
                LOG.info("waiting for another run of this resource to finish")
                time.sleep(POLL_SECONDS)
                continue
            state.lease_owner = self.token
            state.lease_expires = (now + dt.timedelta(seconds=LEASE_SECONDS)).isoformat()
            try:
                self._write(state, if_match=found.etag if found else None)
            except store.ConflictError:
                continue  # someone else took it between our read and write
            self.existed = found is not None
            return state

    def save(self, state: UsersState, *, release: bool = False) -> None:
        if release:
            state.lease_owner = state.lease_expires = ""
        else:
            expires = clock.now() + dt.timedelta(seconds=LEASE_SECONDS)
            state.lease_expires = expires.isoformat()
        self._write(state, if_match=self.etag)

    def beat(self, state: UsersState) -> None:
        """Renew the lease (saving ``state``) if the last save is a while ago."""
        if time.monotonic() - self._saved_at >= HEARTBEAT_SECONDS:
            self.save(state)

    def release_saved(self) -> None:
        """Release the lease on the last *saved* state (after a failure: what was not saved
        must not be recorded, e.g. a removal whose revocation did not reach the ledger).

        Tried three times; if S3 still refuses, the lease expires by itself.
        """
        if self.etag is None:
            return
        for attempt in range(3):
            try:
                self.save(UsersState.from_json(self._saved), release=True)
                return
            except Exception:
                time.sleep(1 + attempt)
        LOG.warning("could not release the lease: it expires within %d s", LEASE_SECONDS)

    def _write(self, state: UsersState, *, if_match: str | None) -> None:
        body = state.to_json().encode()
        written = store.write(
            self.bucket,
            self.key,
            body,
            kms_key_arn=self.kms_key_arn,
            content_type="application/json",
            if_match=if_match,
            if_none_match=if_match is None,
        )
        self.etag, self._saved = written.etag, body
        self._saved_at = time.monotonic()
