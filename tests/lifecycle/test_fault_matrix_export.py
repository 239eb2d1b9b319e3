"""The fault matrix for the shared-export handler (own certificates, the client key inlined).

Method of :mod:`tests.lifecycle.test_fault_matrix`: one clean run records the AWS calls; at
each an ``error`` or a ``kill``; then CloudFormation's next step: ``rollback`` (a failed
Create: the rollback Delete of the marker, or of an id CloudFormation generated after a
kill; a failed Update: the rollback Update with the old properties; a failed Delete: the
operator retries the stack delete, the same Delete again) or ``duplicate`` (the request
delivered again first, then the rollback if it still failed).

Update: the endpoint's port changed 443 -> 1194 (``ConfigVersion`` 1 -> 2 triggers the
re-export). Invariant while CloudFormation believes in the resource: the object holds the
current configuration (remotes at the endpoint's host and port, the client key matching the
client certificate) in exactly one version; once CloudFormation believes it deleted (or never
created): no version of the object at all (it holds the client private key).

Size and run time: bench/FAULT_MATRIX.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from .harness import EXPORT, Cfn, OvpnFile, Response, World
from .test_export_sequences import ByoPki, state
from .test_fault_matrix import CREATE_FAILED, TALLY, Tally, calls_of, fault_for, wipe

pytestmark = [pytest.mark.xdist_group("fault-matrix"), pytest.mark.timeout(1800)]

FAULTS = ("error", "kill")


def invariants(world: World, props: dict[str, Any], exists: bool) -> list[str]:
    key = str(props["Key"])
    end = state(world, props)
    versions = end.versions_of(key)
    if not exists:
        return [f"{len(versions)} versions left of {key}"] if versions else []
    if key not in end.current:
        return [f"no object at {key}"]
    problems = [] if len(versions) == 1 else [f"{len(versions)} versions of {key}"]
    f = OvpnFile(end.current[key].decode())
    assert world.endpoint is not None
    if not f.remotes or not all(h.endswith(world.endpoint.host) for h, _ in f.remotes):
        problems.append(f"remotes {f.remotes}, endpoint {world.endpoint.host}")
    if {port for _, port in f.remotes} != {world.endpoint.port}:
        problems.append(f"stale: ports {f.remotes}, endpoint port {world.endpoint.port}")
    if not f.key_matches_cert():
        problems.append("the key does not match the certificate")
    return problems


def deliver(export: Cfn, event: dict[str, Any], fault: Any, next_step: str) -> Response:
    world = export.world
    world.faults.append(fault)
    try:
        first = export.send(event)
    finally:
        world.faults.remove(fault)
    if not first.ok and next_step == "duplicate":
        return export.send(event)
    return first


def run_case(
    world: World, export: Cfn, request: str, kind: str, at: int, next_step: str
) -> tuple[list[str], str]:
    world.create_endpoint(ByoPki(world).ca_pem)
    props = world.props(EXPORT)
    fault = fault_for(EXPORT, kind, at)
    if request == "Create":
        answer = deliver(export, export._event("Create", props), fault, next_step)
        if answer.ok:
            return invariants(world, props, True), fault.fired
        pid = export.generated_id() if answer.killed else CREATE_FAILED
        deleted = export.delete(props, pid)
        problems = [] if deleted.ok else [f"rollback Delete failed: {deleted.error!r}"]
        return problems + invariants(world, props, False), fault.fired
    created = export.create(props)
    assert created.ok
    if request == "Delete":
        event = export._event("Delete", props, PhysicalResourceId=created.physical_id)
        answer = deliver(export, event, fault, next_step)
        if not answer.ok:
            answer = export.send(event)  # DELETE_FAILED: the operator retries the delete
        problems = [] if answer.ok else [f"retried Delete failed: {answer.error!r}"]
        return problems + invariants(world, props, False), fault.fired
    assert world.endpoint is not None
    world.endpoint.port = 1194
    new = {**props, "ConfigVersion": "2"}
    event = export._event(
        "Update", new, OldResourceProperties=props, PhysicalResourceId=created.physical_id
    )
    answer = deliver(export, event, fault, next_step)
    if not answer.ok:
        rollback = export.update(props, new, created.physical_id)
        if not rollback.ok:
            return [f"rollback Update failed: {rollback.error!r}"], fault.fired
    return invariants(world, props, True), fault.fired


def clean_calls(world: World, export: Cfn, request: str) -> list[str]:
    world.create_endpoint(ByoPki(world).ca_pem)
    props = world.props(EXPORT)
    if request == "Create":
        return calls_of(world, EXPORT, lambda: export.create(props))
    created = export.create(props)
    assert created.ok
    if request == "Delete":
        return calls_of(world, EXPORT, lambda: export.delete(props, created.physical_id))
    assert world.endpoint is not None
    world.endpoint.port = 1194
    new = {**props, "ConfigVersion": "2"}
    return calls_of(world, EXPORT, lambda: export.update(new, props, created.physical_id))


def after_write(calls: list[str]) -> int:
    """The 1-based index of the first call after the object's PutObject."""
    return calls.index("s3:PutObject") + 2


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_export_at_every_call(world: World, export: Cfn, fault: str, request_type: str) -> None:
    calls = clean_calls(world, export, request_type)
    assert "s3:PutObject" in calls or request_type == "Delete", calls
    wipe(world)
    tally = TALLY.setdefault(f"Export {request_type} x {fault}", Tally())
    start = time.monotonic()
    for at in range(1, len(calls) + 1):
        for next_step in ("rollback", "duplicate"):
            if (request_type, fault, next_step) == ("Create", "kill", "rollback") and (
                at >= after_write(calls)
            ):
                continue  # run by test_killed_create_after_the_write_then_rollback
            problems, fired = run_case(world, export, request_type, fault, at, next_step)
            tally.cases += 1
            if problems:
                tally.failures.append(f"call {at} ({fired}), {next_step}: {problems}")
            wipe(world)
    tally.seconds = time.monotonic() - start
    assert not tally.failures, "\n".join(tally.failures)


def test_killed_create_after_the_write_then_rollback(world: World, export: Cfn) -> None:
    calls = clean_calls(world, export, "Create")
    wipe(world)
    tally = TALLY.setdefault("Export Create x kill after the write, rollback", Tally())
    start = time.monotonic()
    for at in range(after_write(calls), len(calls) + 1):
        problems, fired = run_case(world, export, "Create", "kill", at, "rollback")
        tally.cases += 1
        if problems:
            tally.failures.append(f"call {at} ({fired}), rollback: {problems}")
        wipe(world)
    tally.seconds = time.monotonic() - start
    assert tally.cases and not tally.failures, "\n".join(tally.failures)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Print this matrix's size and time (for bench/FAULT_MATRIX.md) with ``-s``."""
    yield
    for name, tally in TALLY.items():
        if name.startswith("Export"):
            print(f"\nfault matrix {name}: {tally.cases} cases in {tally.seconds:.1f} s")
