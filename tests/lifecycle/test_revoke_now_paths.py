"""``Revoke`` / ``Rotate`` paths beyond the happy one: the event's text fields, a VPN with no
state yet, a repeated revoke, a second user's revoke, a run that dies mid-way, and an
endpoint the configuration names differently from the state.

Same harness as tests/lifecycle/test_revoke_now.py (moto with the synthesized policy
enforced, the fake Client VPN, the function's pinned configuration). Oracles: the module's
docstring (``Reason`` required, ``RequestedBy`` optional, both printable and cut at 256
characters; the ledger saved before the state forgets the user; an import resets every
connection so none is repeated; the lease released at the end), the Client VPN admin guide
(the endpoint's CRL is what refuses a certificate) and the users' own certificates.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from constructs_cvpn.handlers import pinned

from . import test_revoke_now as base
from .harness import USERS, PkiStack, World
from .test_revoke_now import invoke, pin, serial_of

# the fixtures of tests/lifecycle/test_revoke_now.py
stack, sessions, _fresh_configuration = base.stack, base.sessions, base._fresh_configuration


def _note(stack: PkiStack, name: str) -> dict[str, Any]:
    state = stack.end_state().state
    assert state is not None
    return dict(state["revoked"][name])


def _crl_serials(world: World) -> set[int]:
    assert world.endpoint is not None
    return set(world.endpoint.crls[-1].serials)


def test_reason_is_required_and_requested_by_is_not(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)

    assert invoke(world, "Revoke", "alice", Reason="") == {"Refused": "Reason is required"}
    assert invoke(world, "Revoke", "alice", Reason=None) == {"Refused": "Reason is required"}
    assert "alice" in stack.end_state().users()  # nothing done

    result = invoke(world, "Revoke", "alice", RequestedBy=None)

    assert result["User"] == "alice"
    assert _note(stack, "alice")["requested_by"] == "unknown"
    assert _note(stack, "alice")["reason"] == "lost laptop"


def test_text_fields_keep_printable_characters_and_at_most_256(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)

    reason = "x" * 255 + "\x1b[2J" + "yz" + "z" * 40  # ESC is not printable: dropped
    invoke(world, "Revoke", "alice", Reason=reason, RequestedBy="\n" + "r" * 256)

    note = _note(stack, "alice")
    assert note["reason"] == "x" * 255 + "["  # 256 characters once ESC is dropped
    assert note["requested_by"] == "r" * 256
    invoke(world, "Revoke", "bob", Reason="y" * 257)
    assert _note(stack, "bob")["reason"] == "y" * 256


def test_a_vpn_without_users_state_is_refused_and_gets_none(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice"]).ok
    pin(monkeypatch, world)
    state_key = f"{stack.prefix}state.json"
    bucket = str(stack.users_props["Bucket"])
    admin = world.admin("s3")
    for version in admin.list_object_versions(Bucket=bucket, Prefix=state_key)["Versions"]:
        admin.delete_object(Bucket=bucket, Key=state_key, VersionId=version["VersionId"])

    result = invoke(world, "Revoke", "alice")

    assert result == {"Refused": "this VPN has no users state yet: there is nobody to revoke"}
    assert stack.end_state().state is None, "a revoke created a users state"


def test_a_revoke_leaves_nothing_pending_and_releases_the_lease(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)

    invoke(world, "Revoke", "alice")

    state = stack.end_state().state
    assert state is not None and not state["lease_owner"], "the revoke kept the lease"
    assert state["pending_deletes"] == [], "alice's file is gone: nothing is left to delete"
    # and the next deploy runs at once (no lease to wait out)
    assert stack.update_users(stack.props(["alice", "bob"])).ok


def test_a_repeated_revoke_imports_no_crl_and_a_second_users_revoke_does(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice", "bob", "carol"]).ok
    pin(monkeypatch, world)
    alice, bob = serial_of(stack, "alice"), serial_of(stack, "bob")
    assert world.endpoint is not None

    assert invoke(world, "Revoke", "alice")["CrlImported"] is True
    imports = len(world.endpoint.crls)

    # Again: already in force; an import would reset every connection of the endpoint.
    again = invoke(world, "Revoke", "alice", Reason="second request")
    assert again["CrlImported"] is False
    assert again["RevokedSerials"] == [alice]
    assert len(world.endpoint.crls) == imports
    assert _note(stack, "alice")["reason"] == "second request"  # this request is recorded

    # Another user: the endpoint's CRL (already this endpoint's) must now list bob too.
    assert invoke(world, "Revoke", "bob")["CrlImported"] is True
    assert {int(alice, 16), int(bob, 16)} <= _crl_serials(world)
    # and a later deploy with nothing changed imports nothing (the CRL is current)
    imports = len(world.endpoint.crls)
    assert stack.update_users(stack.props(["alice", "bob", "carol"])).ok
    assert len(world.endpoint.crls) == imports


def test_a_revoke_that_dies_after_the_state_forgot_the_user_keeps_the_serial(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state forgets alice before the CRL import; if the run dies there, the ledger
    (saved first) still holds her serial, so the next run's CRL refuses her."""
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)
    alice = serial_of(stack, "alice")
    state_key = f"{stack.prefix}state.json"
    forgotten: list[bool] = []

    def die_after_the_state_forgot_alice(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ != USERS or op != "PutObject":
            return
        if params["Key"] == state_key:
            body = params["Body"]
            state = json.loads(body if isinstance(body, bytes | str) else body.read())
            forgotten.append("alice" not in state.get("users", {}))
        elif "/revocations/" in f"/{params['Key']}" and any(forgotten):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "died"}}, op)

    with world.fault(die_after_the_state_forgot_alice), pytest.raises(ClientError):
        invoke(world, "Revoke", "alice")
    assert any(forgotten), "the fault never fired: the test no longer reaches that point"

    end = stack.end_state()
    assert int(alice, 16) in end.revoked(), "alice's serial is in no ledger"
    # The next deploy (alice still listed) imports a CRL that refuses her.
    assert stack.update_users(stack.props(["alice", "bob"])).ok
    assert int(alice, 16) in _crl_serials(world)
    assert sorted(stack.end_state().users()) == ["bob"]


def _pin_another_endpoint(monkeypatch: pytest.MonkeyPatch) -> str:
    """The pinned configuration with another endpoint id than the one the state records."""
    other = "cvpn-endpoint-0ffffffffffffffff"
    raw = json.loads(os.environ[pinned.ENV])
    found = False
    for part in raw.values():  # Pinned, Imposed or Settings: wherever the template put it
        if isinstance(part, dict) and "EndpointId" in part:
            part["EndpointId"], found = other, True
    assert found, "the pinned configuration names no endpoint"
    monkeypatch.setenv(pinned.ENV, json.dumps(raw))
    pinned.forget()
    return other


@pytest.mark.parametrize("operation", ["Revoke", "Rotate"])
def test_the_endpoint_the_state_records_is_the_one_acted_on(
    world: World,
    stack: PkiStack,
    sessions: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
) -> None:
    """As for a renewal: the endpoint the last deploy left (recorded in the state) holds the
    CRL and the sessions; a configuration that names another endpoint does not move it."""
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)
    alice = serial_of(stack, "alice")
    _pin_another_endpoint(monkeypatch)

    result = invoke(world, operation, "alice")

    assert result["CrlImported"] is True
    assert int(alice, 16) in _crl_serials(world)
    assert result["SessionsEnded"] == 1
    if operation == "Rotate":
        assert result["NewSerial"] and result["NewSerial"] != alice


def test_a_listed_blocked_user_is_logged_as_skipped(
    world: World,
    stack: PkiStack,
    sessions: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)
    with caplog.at_level(logging.INFO, logger="constructs_cvpn.handlers.pki.revoke_now"):
        assert stack.update_users(stack.props(["alice", "bob"], Triggers={"v": "2"})).ok
        assert not [r for r in caplog.records if "stay blocked" in r.getMessage()]
        invoke(world, "Revoke", "alice")
        assert stack.update_users(stack.props(["alice", "bob"], Triggers={"v": "3"})).ok
    skipped = [r.getMessage() for r in caplog.records if "stay blocked" in r.getMessage()]
    assert skipped == ["revoked users stay blocked: alice"]
