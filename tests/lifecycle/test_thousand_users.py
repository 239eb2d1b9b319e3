"""A partial failure at user 500 of 1,000, then the same request again.

The first run dies (a Lambda timeout or crash: no ``except`` in the handler runs, modelled
by a ``BaseException`` from the 500th user file's ``PutObject``). The same Update is then
delivered again once the dead run's lease has expired (the harness moves the clock 14
minutes). Keys: 1,024-bit keys from a session pool of 1,600 (see :mod:`.harness`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .harness import USERS, Cfn, KeyPool, PkiStack, World

N = 1000
FAIL_AT = 500


class Killed(BaseException):
    """The Lambda runtime ending the invocation (nothing in the handler catches it)."""


def test_partial_failure_then_retry(
    world: World, authority: Cfn, users: Cfn, big_key_pool: KeyPool
) -> None:
    stack = PkiStack(world, authority, users)
    assert stack.deploy(["alice"]).ok
    names = ["alice", *(f"user{i:04d}" for i in range(1, N))]
    prefix = stack.prefix
    puts = {"n": 0}

    def kill_at(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ == USERS and op == "PutObject" and params["Key"].startswith(f"{prefix}users/"):
            puts["n"] += 1
            if puts["n"] == FAIL_AT:
                raise Killed

    event = stack.users._event(
        "Update",
        stack.props(names),
        OldResourceProperties=stack.users_props,
        PhysicalResourceId=stack.users_pid,
    )
    with world.fault(kill_at):
        try:
            stack.users.send(event)
        except Killed:
            pass
        else:
            raise AssertionError("the fault did not fire")
    partial = stack.end_state()
    written = {n: f.serial for n, f in partial.users().items()}
    assert len(written) >= FAIL_AT - 20, len(written)
    world.clock.advance(minutes=14)
    keys_before = big_key_pool.handed_out
    response = stack.users.send(event)
    assert response.ok, repr(response.error)
    end = stack.end_state()
    files = end.users()
    assert sorted(files) == sorted(names)
    for name, serial in written.items():
        assert files[name].serial == serial, f"{name} was re-issued though its file was written"
    assert end.revoked() == set(), "a retry revokes nothing"
    assert sum(len(c) for c in end.crls.values()) == 0
    assert big_key_pool.handed_out - keys_before <= N - len(written) + 16
    serials = end.state_serials()
    ca = stack.ca()
    for name, f in files.items():
        assert f.cn == name and serials[name] == f.serial and f.key_matches_cert()
        assert f.verifies_against(ca)
    # Catches one key handed to many users: each file would still match its own certificate.
    moduli = {f.key.public_key().public_numbers().n for f in files.values() if f.key}
    assert len(moduli) == len(files), "several users' files hold the same private key"
