"""The fault matrix, continued: the scheduled renewals and the Authority Delete.

Same method as :mod:`tests.lifecycle.test_fault_matrix` (one clean run records the AWS
calls; at each call an ``error`` or a ``kill``; then the next step; then the invariants):

- ``Renew`` of the Authority (server certificate re-imported under the same ARN) and of
  Users (every user file reissued), 796 days after the deployment so that everything is
  within ``RenewBeforeDays`` of expiry; the next step is the next scheduled ``Renew`` (the
  schedule is the only one to retry a renewal). Invariants: every user holds one file that
  connects through the endpoint (server certificate and chain read from ACM), no private key
  in another object version, the state lists the users, no lease held, ACM holds the one
  certificate the Authority answered at Create and it is no longer near expiry.
- ``Delete`` of the Authority (the endpoint and Users already gone, as in the stack's order);
  the next steps: ``retry`` (the operator retries the stack delete after DELETE_FAILED:
  the same Delete again) and ``duplicate`` (the Delete delivered twice, then the retry if
  it still failed). Invariant: no key left: no CA secret not scheduled for deletion, no
  certificate in ACM.

Size and run time: bench/FAULT_MATRIX.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .harness import AUTHORITY, USERS, Cfn, PkiStack, World
from .test_fault_matrix import (
    OLD,
    TALLY,
    Tally,
    Written,
    acm_arns,
    authority_deleted_invariants,
    calls_of,
    fault_for,
    users_invariants,
    wipe,
)

pytestmark = [pytest.mark.xdist_group("fault-matrix"), pytest.mark.timeout(1800)]

FAULTS = ("error", "kill")
EXPIRING = 825 - 30 + 1  # days: certificates issued for 825 days, renewed 30 days ahead


def server_not_after(world: World, arn: str) -> dt.datetime:
    described = world.admin("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    return described["NotAfter"]  # type: ignore[no-any-return]


def renew_invariants(stack: PkiStack, arn: str, written: Written) -> list[str]:
    problems = users_invariants(stack, OLD, written)
    world = stack.world
    if acm_arns(world) != [arn]:
        problems.append(f"ACM holds {acm_arns(world)}, CloudFormation believes in {arn}")
    elif server_not_after(world, arn) < world.clock.now() + dt.timedelta(days=30):
        problems.append("the server certificate was not renewed")
    return problems


def run_renew_case(stack: PkiStack, type_: str, kind: str, at: int) -> tuple[list[str], str]:
    """Deploy OLD, let 796 days pass, the ``type_`` Renew under the fault, the next Renew."""
    world = stack.world
    assert stack.deploy(OLD).ok
    arn = stack.world.admin("acm").list_certificates()["CertificateSummaryList"][0]
    arn = arn["CertificateArn"]
    world.clock.advance(days=EXPIRING)
    written = Written(stack.prefix)
    world.faults.append(written)
    cfn, props, pid = (
        (stack.authority, stack.authority_props, stack.authority_pid)
        if type_ == AUTHORITY
        else (stack.users, stack.users_props, stack.users_pid)
    )
    try:
        if type_ == USERS:  # the Authority's own schedule has run (the server certificate)
            assert stack.authority.renew(stack.authority_props, stack.authority_pid).ok
        fault = fault_for(type_, kind, at)
        world.faults.append(fault)
        try:
            cfn.renew(props, pid)
        finally:
            world.faults.remove(fault)
        world.clock.advance(hours=12)  # the next scheduled run of the same rule
        problems = []
        renewed = cfn.renew(props, pid)
        if not renewed.ok:
            problems.append(f"the next renewal failed: {renewed.error!r}")
        # then the Users schedule (their files carry no server certificate)
        if type_ == AUTHORITY and not stack.users.renew(stack.users_props, stack.users_pid).ok:
            problems.append("the Users renewal after it failed")
        return problems + renew_invariants(stack, arn, written), fault.fired
    finally:
        world.faults.remove(written)


def rewind(world: World, base: dt.timedelta) -> None:
    """Tear the case down and turn the clock back (each case deploys, then lets 796 days
    pass; nothing of the case is left to see the clock go back)."""
    wipe(world)
    world.clock.offset = base


def clean_renew_calls(stack: PkiStack, type_: str) -> tuple[list[str], int]:
    """The calls of a clean Renew, and (Users) the 1-based index of its first user file
    write (``len + 1`` for the Authority)."""
    world = stack.world
    assert stack.deploy(OLD).ok
    world.clock.advance(days=EXPIRING)
    if type_ == USERS:
        assert stack.authority.renew(stack.authority_props, stack.authority_pid).ok
        user_file = f"{stack.prefix}users/"
        ops: list[str] = []  # each call of the run: "file" for a user file write

        def observe(t: str, op: str, params: Any) -> None:
            if t == USERS:
                is_file = op == "PutObject" and str(params.get("Key", "")).startswith(user_file)
                ops.append("file" if is_file else op)

        world.faults.append(observe)
        try:
            calls = calls_of(
                world, USERS, lambda: stack.users.renew(stack.users_props, stack.users_pid)
            )
        finally:
            world.faults.remove(observe)
        assert len(ops) == len(calls), (ops, calls)
        return calls, ops.index("file") + 1
    calls = calls_of(
        world,
        AUTHORITY,
        lambda: stack.authority.renew(stack.authority_props, stack.authority_pid),
    )
    return calls, len(calls) + 1


def renew_matrix(
    world: World, authority: Cfn, users: Cfn, fault: str, type_: str, part: str
) -> None:
    """The Renew cases of ``type_``: ``part`` "before" the first user file write (all of
    them for the Authority) or "from" it on (Users: where the old version was once left)."""
    base = world.clock.offset
    calls, first_put = clean_renew_calls(PkiStack(world, authority, users), type_)
    wanted = "acm:ImportCertificate" if type_ == AUTHORITY else "s3:PutObject"
    assert wanted in calls, calls  # the clean run did renew
    rewind(world, base)
    ats = range(1, first_put) if part == "before" else range(first_put, len(calls) + 1)
    name = "Authority" if type_ == AUTHORITY else "Users"
    tally = TALLY.setdefault(f"{name} Renew x {fault} ({part} first write)", Tally())
    start = time.monotonic()
    for at in ats:
        stack = PkiStack(world, authority, users)
        problems, fired = run_renew_case(stack, type_, fault, at)
        tally.cases += 1
        if problems:
            tally.failures.append(f"call {at} ({fired}), next Renew: {problems}")
        rewind(world, base)
    tally.seconds = time.monotonic() - start
    assert not tally.failures, "\n".join(tally.failures)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("type_", [AUTHORITY, USERS], ids=["Authority", "Users"])
def test_renew_at_every_call(
    world: World, authority: Cfn, users: Cfn, big_key_pool: Any, fault: str, type_: str
) -> None:
    renew_matrix(world, authority, users, fault, type_, "before")


@pytest.mark.parametrize("fault", FAULTS)
def test_users_renew_from_the_first_file_write(
    world: World, authority: Cfn, users: Cfn, big_key_pool: Any, fault: str
) -> None:
    renew_matrix(world, authority, users, fault, USERS, "from")


# -- Authority Delete ----------------------------------------------------------------------


def run_authority_delete_case(
    world: World, authority: Cfn, kind: str, at: int, next_step: str
) -> tuple[list[str], str]:
    props = world.props(AUTHORITY)
    created = authority.create(props)
    assert created.ok
    event = authority._event("Delete", props, PhysicalResourceId=created.physical_id)
    fault = fault_for(AUTHORITY, kind, at)
    world.faults.append(fault)
    try:
        answer = authority.send(event)
    finally:
        world.faults.remove(fault)
    if next_step == "duplicate":
        answer = authority.send(event)  # the first delivery's twin, late or concurrent
    if not answer.ok:
        answer = authority.send(event)  # DELETE_FAILED: the operator retries the delete
    problems = [] if answer.ok else [f"the retried Delete failed: {answer.error!r}"]
    return problems + authority_deleted_invariants(world), fault.fired


def authority_delete_matrix(world: World, authority: Cfn, fault: str, part: str) -> None:
    """``part``: "before" the last call (DeleteSecret) or "last" (DeleteSecret itself)."""
    created = authority.create(world.props(AUTHORITY))
    assert created.ok
    calls = calls_of(
        world, AUTHORITY, lambda: authority.delete(world.props(AUTHORITY), created.physical_id)
    )
    assert "acm:DeleteCertificate" in calls, calls
    wipe(world)
    assert calls[-1] == "secretsmanager:DeleteSecret", calls
    tally = TALLY.setdefault(f"Authority Delete x {fault} ({part})", Tally())
    start = time.monotonic()
    for at in range(1, len(calls)) if part == "before" else [len(calls)]:
        for next_step in ("retry", "duplicate"):
            problems, fired = run_authority_delete_case(world, authority, fault, at, next_step)
            tally.cases += 1
            if problems:
                tally.failures.append(f"call {at} ({fired}), {next_step}: {problems}")
            wipe(world)
    tally.seconds = time.monotonic() - start
    assert not tally.failures, "\n".join(tally.failures)


@pytest.mark.parametrize("fault", FAULTS)
def test_authority_delete_at_every_call(
    world: World, authority: Cfn, big_key_pool: Any, fault: str
) -> None:
    authority_delete_matrix(world, authority, fault, "before")


@pytest.mark.parametrize("fault", FAULTS)
def test_authority_delete_at_delete_secret(
    world: World, authority: Cfn, big_key_pool: Any, fault: str
) -> None:
    authority_delete_matrix(world, authority, fault, "last")


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Print this matrix's size and time (for bench/FAULT_MATRIX.md) with ``-s``."""
    yield
    for name, tally in TALLY.items():
        if "Renew" in name or "Authority Delete" in name:
            print(f"\nfault matrix {name}: {tally.cases} cases in {tally.seconds:.1f} s")
