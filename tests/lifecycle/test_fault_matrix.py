"""The fault matrix: every AWS call of a run, an error or a kill there, then what follows.

For each handler and request type below, one clean run records the AWS calls the run makes
(``Handler.calls``). Then, for every call index ``i`` and each fault:

- ``error``: the ``i``-th call fails (``InternalError``), once; the handler sees it;
- ``kill``: the run dies at the ``i``-th call (:class:`harness.Killer`): that call and every
  later one do not happen, no ``except``/``finally`` reaches AWS, nothing is answered;

and each next step CloudFormation and Lambda can take:

- ``rollback``: what CloudFormation does after a failed (or timed-out) request: the rollback
  Update with the old properties (Users), the rollback Delete of the marker or of an id it
  generated (Authority);
- ``duplicate``: the same request delivered again (at-least-once, asynchronous) before
  CloudFormation's own next step, which then follows as above if the request had failed;

and, for Users, the scheduled renewal after that (``Renew``, every 12 hours).

After each sequence the invariants, checked with oracles independent of the handlers'
bookkeeping: every user CloudFormation wants holds exactly one file (one version) that
connects (:meth:`FakeClientVpn.connects`: server certificate and root chain from ACM, the
endpoint's CRL); no file ever written for a user it does not want connects; no private key
is left outside those files (object versions; after the renewal: a removed user's file
S3 refused to delete is only deleted by the next run) nor in ACM/Secrets Manager for an Authority
CloudFormation believes deleted; the state lists exactly the wanted users; a successful
Authority answer names the one certificate in ACM.

Size and run time: see bench/DAY_TWO.md, "Fault matrix". Each case runs on a fresh stack in
one world (resources torn down between cases), so the matrix is a few tests with loops,
kept on one xdist worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import AUTHORITY, USERS, Cfn, Killer, PkiStack, Response, World

pytestmark = pytest.mark.xdist_group("fault-matrix")

OLD = ["alice", "bob", "carol"]
NEW = ["alice", "bob", "dave"]  # carol removed, dave added: issue, revoke, delete, CRL
FAULTS = ("error", "kill")
NEXT = ("rollback", "duplicate")


class ErrorAt:
    """A fault: the ``at``-th AWS call of ``type_`` fails once with ``InternalError``."""

    def __init__(self, type_: str, at: int) -> None:
        self.type_, self.at, self.seen, self.fired = type_, at, 0, ""
        self._lock = threading.Lock()

    def __call__(self, type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ != self.type_:
            return
        with self._lock:
            self.seen += 1
            if self.seen != self.at:
                return
            self.fired = op
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, op)


@dataclass
class Written:
    """Every user file body the handler ever sent (an observer fault that never raises)."""

    prefix: str
    bodies: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, type_: str, op: str, params: Mapping[str, Any]) -> None:
        key = str(params.get("Key", ""))
        if type_ == USERS and op == "PutObject" and key.startswith(f"{self.prefix}users/"):
            name = key[len(f"{self.prefix}users/") : -len(".ovpn")]
            self.bodies.setdefault(name, []).append(bytes(params["Body"]).decode())


@dataclass
class Tally:
    cases: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


TALLY: dict[str, Tally] = {}


def wipe(world: World) -> None:
    """Tear a case down: endpoints, objects (every version), certificates, secrets."""
    for endpoint_id in list(world.ec2.endpoints):
        world.ec2.delete(endpoint_id)
    s3 = world.admin("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=world.bucket):
        for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=world.bucket, Key=v["Key"], VersionId=v["VersionId"])
    acm = world.admin("acm")
    for c in acm.list_certificates()["CertificateSummaryList"]:
        acm.delete_certificate(CertificateArn=c["CertificateArn"])
    sm = world.admin("secretsmanager")
    for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]:
        sm.delete_secret(SecretId=s["ARN"], ForceDeleteWithoutRecovery=True)
    world.clock.advance(minutes=10)  # any lease a killed run left has expired


def fault_for(type_: str, kind: str, at: int) -> Killer | ErrorAt:
    return Killer(type_, at) if kind == "kill" else ErrorAt(type_, at)


# -- Users ---------------------------------------------------------------------------------


def users_invariants(
    stack: PkiStack, wanted: list[str], written: Written, *, keys: bool = True
) -> list[str]:
    """What is wrong with the end state, given the users CloudFormation believes in.

    ``keys=False``: a removed user's file may still exist (its certificate revoked, so it
    does not connect) when S3 refused its deletion: the next run deletes it.
    """
    problems: list[str] = []
    world, end = stack.world, stack.end_state()
    files = end.users()
    for name in wanted:
        key = f"{end.prefix}users/{name}.ovpn"
        versions = [v for v in end.versions_of(key) if not v.delete_marker]
        if name not in files:
            problems.append(f"{name}: no file")
            continue
        ok, why = world.ec2.connects(files[name].text)
        if not ok:
            problems.append(f"{name}: file does not connect ({why})")
        if len(versions) != 1:
            problems.append(f"{name}: {len(versions)} versions of the file")
    for name, bodies in written.bodies.items():
        # Only while the resource exists: deleting the Users resource deletes every file (no
        # key left) but revokes nothing (see the README's day-two section).
        if name in wanted or not wanted:
            continue
        for body in bodies:
            if world.ec2.connects(body)[0]:
                problems.append(f"{name}: unwanted, a file written for them connects")
                break
    keep = {f"{end.prefix}users/{n}.ovpn" for n in wanted}
    stray = {v.key for v in end.versions_holding_a_private_key()} - keep
    if stray and keys:
        problems.append(f"private keys left in {sorted(stray)}")
    state = end.state or {}
    if sorted(state.get("users", {})) != sorted(wanted):
        problems.append(f"state lists {sorted(state.get('users', {}))}, wanted {wanted}")
    if state.get("lease_owner"):
        problems.append("the lease is still held")
    return problems


def users_update(stack: PkiStack) -> dict[str, Any]:
    return stack.users._event(
        "Update",
        stack.props(NEW),
        OldResourceProperties=stack.users_props,
        PhysicalResourceId=stack.users_pid,
    )


def run_users_case(
    stack: PkiStack, fault: Killer | ErrorAt | None, next_step: str
) -> tuple[list[str], str]:
    """One case: deploy OLD, the Update to NEW under ``fault``, then ``next_step``."""
    world = stack.world
    assert stack.deploy(OLD).ok
    written = Written(stack.prefix)
    world.faults.append(written)
    try:
        event = users_update(stack)
        if fault is not None:
            world.faults.append(fault)
        try:
            first = stack.users.send(event)
        finally:
            if fault is not None:
                world.faults.remove(fault)
        wanted = NEW
        if not first.ok and next_step == "duplicate":
            first = stack.users.send(event)
        if not first.ok:
            # CloudFormation: the Update failed or timed out: roll back to OLD.
            rollback = stack.users.update(stack.users_props, stack.props(NEW), stack.users_pid)
            if not rollback.ok:
                return [f"rollback failed: {rollback.error!r}"], _fired(fault)
            wanted = OLD
        problems = users_invariants(stack, wanted, written, keys=False)
        # The scheduled renewal (every 12 hours) comes next, whatever happened.
        renewed = stack.users.renew(stack.users_props, stack.users_pid)
        if not renewed.ok:
            problems.append(f"the next renewal failed: {renewed.error!r}")
        return problems + users_invariants(stack, wanted, written), _fired(fault)
    finally:
        world.faults.remove(written)


def deploy_authority(stack: PkiStack) -> None:
    """The CA and the endpoint, no Users resource yet (what a Users Create finds)."""
    world = stack.world
    stack.authority_props = world.props(AUTHORITY)
    created = stack.authority.create(stack.authority_props)
    assert created.ok
    stack.authority_pid = created.physical_id
    world.set_authority(created.physical_id, created.data)
    world.create_endpoint(world.authority_ca_pem)


def run_users_other_case(
    stack: PkiStack, request: str, fault: Killer | ErrorAt, next_step: str
) -> tuple[list[str], str]:
    """A Users Create (of NEW) or Delete (of OLD) under ``fault``, then ``next_step``."""
    world = stack.world
    if request == "Create":
        deploy_authority(stack)
        props = stack.props(NEW)
        event = stack.users._event("Create", props)
    else:
        assert stack.deploy(OLD).ok
        props = stack.users_props
        event = stack.users._event("Delete", props, PhysicalResourceId=stack.users_pid)
    written = Written(stack.prefix)
    world.faults.extend([written, fault])
    try:
        first = stack.users.send(event)
    finally:
        world.faults.remove(fault)
    try:
        answer = first
        if not first.ok and next_step == "duplicate":
            answer = stack.users.send(event)
        wanted: list[str] = []
        if request == "Create" and first.ok:
            wanted, stack.users_props, stack.users_pid = NEW, props, first.physical_id
        elif request == "Create":
            # The Create failed or timed out: CloudFormation's rollback Delete.
            pid = stack.users.generated_id() if first.killed else CREATE_FAILED
            if not stack.users.delete(props, pid).ok:
                return ["rollback Delete failed"], fault.fired
        elif not answer.ok and not stack.users.send(event).ok:
            # DELETE_FAILED: the stack's delete is retried.
            return ["the retried Delete failed"], fault.fired
        problems = users_invariants(stack, wanted, written, keys=False)
        renewed = stack.users.renew(props, stack.users_pid or physical_users_id(props))
        if not renewed.ok:
            problems.append(f"the next renewal failed: {renewed.error!r}")
        return problems + users_invariants(stack, wanted, written), fault.fired
    finally:
        world.faults.remove(written)


def physical_users_id(props: Mapping[str, Any]) -> str:
    return f"cvpn-users:{props['Bucket']}/{props['StateKey']}"


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("request_type", ["Create", "Delete"])
def test_users_create_and_delete_at_every_call(
    world: World, authority: Cfn, users: Cfn, big_key_pool: Any, fault: str, request_type: str
) -> None:
    stack = PkiStack(world, authority, users)
    if request_type == "Create":
        deploy_authority(stack)
        calls = calls_of(
            world, USERS, lambda: stack.users.send(stack.users._event("Create", stack.props(NEW)))
        )
    else:
        assert stack.deploy(OLD).ok
        calls = calls_of(
            world, USERS, lambda: stack.users.delete(stack.users_props, stack.users_pid)
        )
    wipe(world)
    tally = TALLY.setdefault(f"Users {request_type} x {fault}", Tally())
    start = time.monotonic()
    for at in range(1, len(calls) + 1):
        for next_step in NEXT:
            stack = PkiStack(world, authority, users)
            problems, fired = run_users_other_case(
                stack, request_type, fault_for(USERS, fault, at), next_step
            )
            tally.cases += 1
            if problems:
                tally.failures.append(f"call {at} ({fired}), {next_step}: {problems}")
            wipe(world)
    tally.seconds = time.monotonic() - start
    assert not tally.failures, "\n".join(tally.failures)


def _fired(fault: Killer | ErrorAt | None) -> str:
    return fault.fired if fault is not None else ""


def calls_of(world: World, type_: str, run: Callable[[], Any]) -> list[str]:
    handler = world.handlers[type_]
    before = len(handler.calls)
    run()
    return list(handler.calls[before:])


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("fault", FAULTS)
def test_users_update_at_every_call(
    world: World, authority: Cfn, users: Cfn, big_key_pool: Any, fault: str
) -> None:
    stack = PkiStack(world, authority, users)
    assert stack.deploy(OLD).ok
    calls = calls_of(world, USERS, lambda: stack.users.send(users_update(stack)))
    assert "s3:PutObject" in calls and "ec2:ImportClientVpnClientCertificateRevocationList" in calls
    wipe(world)
    tally = TALLY.setdefault(f"Users Update x {fault}", Tally())
    start = time.monotonic()
    for at in range(1, len(calls) + 1):
        for next_step in NEXT:
            stack = PkiStack(world, authority, users)
            problems, fired = run_users_case(stack, fault_for(USERS, fault, at), next_step)
            tally.cases += 1
            if problems:
                tally.failures.append(f"call {at} ({fired}), {next_step}: {problems}")
            wipe(world)
    tally.seconds = time.monotonic() - start
    assert not tally.failures, "\n".join(tally.failures)


# -- Authority ------------------------------------------------------------------------------


def live_secrets(world: World) -> list[str]:
    found = world.admin("secretsmanager").list_secrets()["SecretList"]
    return [s["ARN"] for s in found if not s.get("DeletedDate")]


def acm_arns(world: World) -> list[str]:
    summaries = world.admin("acm").list_certificates()["CertificateSummaryList"]
    return [c["CertificateArn"] for c in summaries]


def authority_deleted_invariants(world: World) -> list[str]:
    problems = []
    if acm_arns(world):
        problems.append(f"certificates left in ACM: {acm_arns(world)}")
    if live_secrets(world):
        problems.append(f"CA secrets left: {live_secrets(world)}")
    return problems


def run_authority_case(
    world: World, authority: Cfn, fault: Killer | ErrorAt, next_step: str
) -> tuple[list[str], str]:
    props = world.props(AUTHORITY)
    event = authority._event("Create", props)
    world.faults.append(fault)
    try:
        first = authority.send(event)
    finally:
        world.faults.remove(fault)
    answers: list[Response] = [first]
    if next_step == "duplicate":
        answers.append(authority.send(event))
    succeeded = [r for r in answers if r.ok]
    problems: list[str] = []
    if succeeded:
        arns = {r.data["ServerCertificateArn"] for r in succeeded}
        if len(arns) != 1 or acm_arns(world) != list(arns):
            problems.append(f"answers {sorted(arns)}, ACM holds {acm_arns(world)}")
    if first.ok:
        return problems, fault.fired  # CloudFormation believes in the first answer
    # CloudFormation: the Create failed (or timed out): its rollback Delete.
    pid = CREATE_FAILED if not first.killed else authority.generated_id()
    deleted = authority.delete(props, pid)
    if not deleted.ok:
        problems.append(f"rollback Delete failed: {deleted.error!r}")
    return problems + authority_deleted_invariants(world), fault.fired


CREATE_FAILED = "constructs-cvpn::CREATE_FAILED"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("fault", FAULTS)
def test_authority_create_at_every_call(
    world: World, authority: Cfn, big_key_pool: Any, fault: str
) -> None:
    calls = calls_of(
        world, AUTHORITY, lambda: authority.send(authority._event("Create", world.props(AUTHORITY)))
    )
    assert "acm:ImportCertificate" in calls
    wipe(world)
    tally = TALLY.setdefault(f"Authority Create x {fault}", Tally())
    start = time.monotonic()
    for at in range(1, len(calls) + 1):
        for next_step in NEXT:
            problems, fired = run_authority_case(
                world, authority, fault_for(AUTHORITY, fault, at), next_step
            )
            tally.cases += 1
            if problems:
                tally.failures.append(f"call {at} ({fired}), {next_step}: {problems}")
            wipe(world)
    tally.seconds = time.monotonic() - start
    assert not tally.failures, "\n".join(tally.failures)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Print the matrix's size and time (for bench/DAY_TWO.md) with ``-s``."""
    yield
    for name, tally in TALLY.items():
        print(f"\nfault matrix {name}: {tally.cases} cases in {tally.seconds:.1f} s")
