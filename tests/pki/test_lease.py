"""Overlapping runs of the ``Kind=Users`` handler (Lambda delivers at least once: the same
request can run twice at the same time) on S3 with its documented conditional writes
(tests/s3_model.py). The runs are threads that really interleave: one is stopped at the
model's pause point (a PutObject between its start and its commit) while the other runs.

Oracles: what the files, the CRL import and the state say afterwards (read with an
independent client and parsed with ``cryptography``), and the documented contract: one run
at a time works; a run that finds the lease held by another refuses or waits; nothing a
finished run saved is overwritten by a run that read before it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import types
from typing import Any

import boto3
import pytest
from cryptography import x509

from constructs_cvpn.handlers.pki import index

from ..s3_model import ConditionalWrites
from .conftest import BUCKET, ENDPOINT_ID, REGION, Ec2Stub, users_event

PREFIX = "cvpn/VpnLease/"
STATE_KEY = f"{PREFIX}state.json"


def _event(kms_key: str, ca_secret: str, names: list[str], request: str) -> dict[str, Any]:
    return users_event(kms_key, ca_secret, names, request, prefix=PREFIX)


class _Run(threading.Thread):
    """One invocation of the handler in its own thread."""

    def __init__(self, event: dict[str, Any], context: object = None) -> None:
        super().__init__(daemon=True)
        self.event, self.context = event, context
        self.out: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.out = index.on_event(self.event, self.context)
        except BaseException as err:  # kept for the test to look at
            self.error = err


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _state() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_s3().get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read())
    return data


def _user_key(name: str) -> str:
    return f"{PREFIX}users/{name}.ovpn"


def _serial(name: str) -> int:
    text = _s3().get_object(Bucket=BUCKET, Key=_user_key(name))["Body"].read().decode()
    pem = text.split("<cert>\n", 1)[1].split("\n</cert>", 1)[0]
    return x509.load_pem_x509_certificate(pem.encode()).serial_number


def _files() -> set[str]:
    listed = _s3().list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}users/")
    return {o["Key"] for o in listed.get("Contents", [])}


def _little_time_left() -> object:
    """A Lambda context with 95 s left: 5 s above the handler's margin, less than two polls
    of a held lease, so a run that finds the lease held refuses at once."""
    return types.SimpleNamespace(get_remaining_time_in_millis=lambda: 95_000)


def test_a_run_that_read_before_another_run_saved_never_overwrites_it(
    s3_model: ConditionalWrites, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    """Run A reads the state and is taking the lease (its write in flight); run B takes it,
    adds carol and finishes. A's write carried If-Match on what it read: it loses (412),
    reads again, and works from B's state: removing carol revokes her certificate."""
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, ["alice"], "Create"))
    gate = s3_model.pause(STATE_KEY)
    a = _Run(_event(kms_key, ca_secret, ["alice", "bob"], "Update"))
    try:
        a.start()
        gate.wait_reached(a)
        ec2.expect_export(config)  # B's
        b = index.on_event(_event(kms_key, ca_secret, ["alice", "carol"], "Update"))
        assert b["Data"]["Issued"] == 1
        carol = _serial("carol")
        ec2.expect_export(config)  # A's, after B
        ec2.expect_crl_import()  # carol's removal
    finally:
        gate.release()
        a.join()
    assert a.error is None, f"run A failed: {a.error!r}"
    assert a.out is not None
    assert {k: a.out["Data"][k] for k in ("Users", "Issued", "Removed", "RevokedTotal")} == {
        "Users": 2,
        "Issued": 1,
        "Removed": 1,
        "RevokedTotal": 1,
    }
    assert sorted(_state()["users"]) == ["alice", "bob"]
    assert _files() == {_user_key("alice"), _user_key("bob")}
    crl = x509.load_pem_x509_crl(ec2.crl_imports[-1]["CertificateRevocationList"].encode())
    assert {r.serial_number for r in crl} == {carol}
    state_writes = s3_model.puts(STATE_KEY)
    assert [p.outcome for p in state_writes].count("412") == 1  # A's first write lost
    assert all(p.conditional for p in state_writes)


def test_a_second_delivery_of_the_same_request_does_not_take_a_running_lease(
    s3_model: ConditionalWrites, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    """Run A holds the lease (stopped while writing bob's file); the same request delivered
    again (B: same event, same resource) must see a lease held by *another* run."""
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, ["alice"], "Create"))
    event = _event(kms_key, ca_secret, ["alice", "bob"], "Update")
    gate = s3_model.pause(_user_key("bob"))
    ec2.expect_export(config)  # A's only
    a = _Run(event)
    try:
        a.start()
        gate.wait_reached(a)
        held = _state()
        assert held["lease_owner"]
        with pytest.raises(RuntimeError, match="another run of this resource still holds"):
            index.on_event(event, _little_time_left())
        assert _state() == held  # B wrote nothing
    finally:
        gate.release()
        a.join()
    assert a.error is None, f"run A failed: {a.error!r}"
    assert a.out is not None and a.out["Data"]["Issued"] == 1
    assert _state()["lease_owner"] == ""
    assert ec2.exports == [ENDPOINT_ID, ENDPOINT_ID]  # the Create's and A's; none for B


def test_two_deliveries_get_different_lease_owners(
    s3_model: ConditionalWrites, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    """The owner written while a run works is not derived from what both runs share (the
    state key, the event): two runs of the same event hold different owners."""
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, ["alice"], "Create"))
    event = _event(kms_key, ca_secret, ["alice"], "Update")
    owners = []
    for _ in range(2):
        gate = s3_model.pause(STATE_KEY)  # the run's first write: it takes the lease
        gate2 = s3_model.pause(STATE_KEY)  # its second: it releases the lease
        ec2.expect_export(config)
        run = _Run(event)
        try:
            run.start()
            gate.wait_reached(run)
            gate.release()
            gate2.wait_reached(run)
            owners.append(_state()["lease_owner"])
        finally:
            gate.release()
            gate2.release()
            run.join()
        assert run.error is None, f"run failed: {run.error!r}"
    assert all(owners) and owners[0] != owners[1]
    digest = hashlib.sha256(STATE_KEY.encode()).hexdigest()
    assert not any(o in digest or STATE_KEY in o for o in owners)


def test_a_409_on_the_lease_is_retried(
    s3_model: ConditionalWrites, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    """S3: "On a 409 failure you should fetch the object's ETag and retry the upload"."""
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, ["alice"], "Create"))
    s3_model.conflict(STATE_KEY)
    ec2.expect_export(config)
    out = index.on_event(_event(kms_key, ca_secret, ["alice", "bob"], "Update"))
    assert out["Data"]["Issued"] == 1
    outcomes = [p.outcome for p in s3_model.puts(STATE_KEY)]
    assert "409" in outcomes and outcomes[outcomes.index("409") + 1] == "200"
    assert _state()["lease_owner"] == ""
