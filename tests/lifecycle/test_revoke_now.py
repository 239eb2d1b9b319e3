"""``cvpn revoke`` / ``cvpn rotate``: the users function's Revoke and Rotate, end to end.

Driven through the function's Lambda entry point (``handlers.pki.index.handler``, as
``lambda:Invoke`` runs it) under the lifecycle harness: moto with IAM enforcement and the
users role's *synthesized* policy checked on every call, the fake Client VPN for the EC2
calls. The function's pinned configuration (``CVPN_PINNED``, issue 18: the synthesized
environment, resolved) is what tells it where things are; the event names only the
user. A real ``openvpn`` client then tries the files against a server that presents the
generated server certificate and checks the CRL the endpoint received: the revoked
certificate is refused, the rotated one (and, as the control, another user's) accepted.
A later deploy and a renewal keep the revocation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from constructs_cvpn.handlers import pinned
from constructs_cvpn.handlers.pki import index
from tests.openvpn_harness import handshake, require_openvpn

from .harness import USERS, Cfn, FakeEc2Client, LambdaContext, PkiStack, World, resolve

ALICE_SESSION = "cvpn-connection-0a11ce0000000000a"
BOB_SESSION = "cvpn-connection-0b0b000000000000b"
CALLER = "arn:aws:sts::123456789012:assumed-role/oncall/dana"


@pytest.fixture
def stack(world: World, authority: Cfn, users: Cfn) -> PkiStack:
    return PkiStack(world, authority, users)


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Live connections of the fake endpoint (alice's and bob's), and what was terminated.

    The two calls are checked against the users role's policy like the harness's own."""
    live = {
        ALICE_SESSION: {"CommonName": "alice", "Username": "", "Status": {"Code": "active"}},
        BOB_SESSION: {"CommonName": "bob", "Username": "", "Status": {"Code": "active"}},
    }
    terminated: list[str] = []

    def describe(self: FakeEc2Client, *, ClientVpnEndpointId: str, **_: Any) -> dict[str, Any]:
        self._endpoint("DescribeClientVpnConnections", {"ClientVpnEndpointId": ClientVpnEndpointId})
        return {
            "Connections": [
                {"ConnectionId": cid, "ClientVpnEndpointId": ClientVpnEndpointId, **c}
                for cid, c in live.items()
            ]
        }

    def terminate(
        self: FakeEc2Client, *, ClientVpnEndpointId: str, ConnectionId: str, **_: Any
    ) -> dict[str, Any]:
        self._endpoint(
            "TerminateClientVpnConnections", {"ClientVpnEndpointId": ClientVpnEndpointId}
        )
        live[ConnectionId]["Status"] = {"Code": "terminated"}
        terminated.append(ConnectionId)
        return {"ClientVpnEndpointId": ClientVpnEndpointId, "ConnectionStatuses": []}

    monkeypatch.setattr(FakeEc2Client, "describe_client_vpn_connections", describe, raising=False)
    monkeypatch.setattr(FakeEc2Client, "terminate_client_vpn_connections", terminate, raising=False)
    yield {"live": live, "terminated": terminated}


@pytest.fixture(autouse=True)
def _fresh_configuration() -> Iterator[None]:
    pinned.forget()
    yield
    pinned.forget()


def pin(monkeypatch: pytest.MonkeyPatch, world: World) -> None:
    """The users function's environment as synthesized (its pinned configuration, issue
    18), resolved against the deployed references: no user list, nothing from an event."""
    template = world.template_of(USERS)
    function = template.resources[template.handler_function(USERS)]["Properties"]
    variables = resolve(function.get("Environment", {}).get("Variables", {}), world.refs)
    assert pinned.ENV in variables
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    pinned.forget()


def invoke(world: World, operation: str, user: str, **extra: Any) -> dict[str, Any]:
    """``lambda:Invoke`` of the users function, RequestResponse, as the CLI sends it."""
    world.activate(USERS)
    event = {
        "RequestType": operation,
        "User": user,
        "Reason": "lost laptop",
        "RequestedBy": CALLER,
        **extra,
    }
    timeout = world.template_of(USERS).handler_timeout(USERS)
    result = index.handler(event, LambdaContext(timeout, world.clock.monotonic))
    assert isinstance(result, dict)
    json.dumps(result)  # what Lambda returns to the caller must be JSON
    return result


def server(world: World, stack: PkiStack) -> dict[str, str]:
    secret = world.admin("secretsmanager").get_secret_value(SecretId=stack.authority_pid)
    bundle = json.loads(secret["SecretString"])
    return {
        "ca_pem": bundle["ca_cert_pem"],
        "server_cert_pem": bundle["server_cert_pem"],
        "server_key_pem": bundle["server_key_pem"],
    }


def last_crl(world: World) -> str:
    assert world.endpoint is not None
    return world.endpoint.crls[-1].pem


def file_of(stack: PkiStack, name: str) -> str:
    key = f"{stack.prefix}users/{name}.ovpn"
    return stack.end_state().current[key].decode()


def for_loopback(ovpn: str) -> str:
    """The file without the IPv6 leak block (the harness stack is an IPv4-only full tunnel):
    its ``ifconfig-ipv6``/``route-ipv6`` lines need a tun device, and ``dev null`` has none
    (tests/handlers/test_ipv6_leak_block_real.py runs them in a network namespace). What
    is checked here is the certificate; the lines are routing only."""
    kept = [
        line
        for line in ovpn.splitlines(keepends=True)
        if not line.startswith(("ifconfig-ipv6", "route-ipv6"))
    ]
    return "".join(kept)


def serial_of(stack: PkiStack, name: str) -> str:
    state = stack.end_state().state
    assert state is not None
    return str(state["users"][name]["serial"])


@pytest.mark.openvpn
def test_revoke_now_refuses_the_certificate_and_survives_deploy_and_renewal(
    world: World,
    stack: PkiStack,
    sessions: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_openvpn()
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)
    alice_file, bob_file = file_of(stack, "alice"), file_of(stack, "bob")
    alice_serial = serial_of(stack, "alice")
    key = f"{stack.prefix}users/alice.ovpn"
    versions_before = len(stack.end_state().versions_of(key))

    # What else the request says is ignored: the function works where it is configured to.
    result = invoke(
        world, "Revoke", "alice", ResourceProperties={"Bucket": "elsewhere", "Prefix": "x/"}
    )

    assert result["RevokedSerials"] == [alice_serial]
    assert result["CrlImported"] is True
    assert result["SessionsEnded"] == 1
    assert sessions["terminated"] == [ALICE_SESSION]  # bob's session untouched
    assert result["FileVersionsDeleted"] == versions_before >= 1
    end = stack.end_state()
    assert end.versions_of(key) == [], "a version of alice's file (her key) is left"
    assert int(alice_serial, 16) in end.revoked()
    assert int(alice_serial, 16) in world.endpoint.crls[-1].serials  # type: ignore[union-attr]
    state = end.state
    assert state is not None
    assert sorted(state["users"]) == ["bob"]
    note = state["revoked"]["alice"]
    assert (note["action"], note["requested_by"], note["reason"], note["blocked"]) == (
        "revoke",
        CALLER,
        "lost laptop",
        True,
    )
    assert note["serials"] == [alice_serial]
    assert not world.handlers[USERS].denied, world.handlers[USERS].denied

    # A real OpenVPN server with the endpoint's CRL: alice's old file is refused, bob's
    # (the control: same server, same CRL) accepted.
    crl = last_crl(world)
    refused = handshake(for_loopback(alice_file), **server(world, stack), crl_pem=crl)
    assert not refused.ok
    assert "revoked" in refused.server_log.lower() or "VERIFY ERROR" in refused.server_log
    accepted = handshake(for_loopback(bob_file), **server(world, stack), crl_pem=crl)
    assert accepted.ok, accepted.client_log[-2000:] + accepted.server_log[-2000:]

    # A later deploy that still lists alice (with a change that re-renders every file):
    # she stays blocked, nothing is issued to her, her serial stays revoked.
    imports = len(world.endpoint.crls)  # type: ignore[union-attr]
    changed = stack.props(["alice", "bob"], Triggers={"ConfigVersion": "2"})
    assert stack.update_users(changed).ok
    end = stack.end_state()
    assert sorted(end.users()) == ["bob"]
    assert end.versions_of(key) == []
    assert int(alice_serial, 16) in end.revoked()
    assert len(world.endpoint.crls) == imports, "nothing changed: no CRL import"  # type: ignore[union-attr]

    # The renewal (12-hourly schedule), also past bob's renewal date: alice gets nothing.
    world.clock.advance(days=800)
    renewed = stack.users.renew(stack.users_props, stack.users_pid)
    assert renewed.ok, repr(renewed.error)
    end = stack.end_state()
    assert sorted(end.users()) == ["bob"]
    assert int(alice_serial, 16) in end.revoked()
    state = end.state
    assert state is not None and state["revoked"]["alice"]["blocked"] is True

    # Removing alice from the app ends the block (the note goes; the ledger keeps her serial).
    assert stack.update_users(stack.props(["bob"])).ok
    end = stack.end_state()
    state = end.state
    assert state is not None and "revoked" not in state
    assert int(alice_serial, 16) in end.revoked()


@pytest.mark.openvpn
def test_rotate_now_issues_a_new_certificate_that_connects(
    world: World,
    stack: PkiStack,
    sessions: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_openvpn()
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)
    old_file, old_serial = file_of(stack, "alice"), serial_of(stack, "alice")

    result = invoke(world, "Rotate", "alice")

    new_file, new_serial = file_of(stack, "alice"), serial_of(stack, "alice")
    assert result["RevokedSerials"] == [old_serial]
    assert result["NewSerial"] == new_serial != old_serial
    assert result["ConfigKey"] == f"{stack.prefix}users/alice.ovpn"
    assert sessions["terminated"] == [ALICE_SESSION]
    end = stack.end_state()
    # One version of the file: the new one (every version with the old key is gone).
    (only,) = end.versions_of(f"{stack.prefix}users/alice.ovpn")
    assert only.body is not None and old_file.encode() != only.body
    files = end.users()
    assert files["alice"].key_matches_cert() and files["alice"].cn == "alice"
    assert int(old_serial, 16) in end.revoked()
    assert int(new_serial, 16) not in end.revoked()
    state = end.state
    assert state is not None
    assert state["revoked"]["alice"]["action"] == "rotate"
    assert state["revoked"]["alice"]["blocked"] is False
    assert not world.handlers[USERS].denied, world.handlers[USERS].denied

    crl = last_crl(world)
    assert handshake(for_loopback(old_file), **server(world, stack), crl_pem=crl).ok is False
    rotated = handshake(for_loopback(new_file), **server(world, stack), crl_pem=crl)
    assert rotated.ok, rotated.server_log[-2000:]

    # A later deploy keeps the rotated certificate (no re-issue, no change to her file).
    assert stack.update_users(stack.props(["alice", "bob"])).ok
    assert file_of(stack, "alice") == new_file


def test_only_users_of_this_vpn(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice"]).ok
    pin(monkeypatch, world)
    imports = len(world.endpoint.crls)  # type: ignore[union-attr]
    # Refused as a result, not a function error (an operator's typo is no HandlerErrors).
    assert invoke(world, "Revoke", "mallory") == {"Refused": "'mallory' is not a user of this VPN"}
    assert invoke(world, "Revoke", "../state")["Refused"].startswith("invalid user name '../state'")
    assert len(world.endpoint.crls) == imports  # type: ignore[union-attr]
    assert sessions["terminated"] == []
    state = stack.end_state().state
    assert state is not None and sorted(state["users"]) == ["alice"]
    assert not state["lease_owner"], "a refused request left the lease taken"


def test_without_a_pinned_configuration_nothing_happens(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice"]).ok
    monkeypatch.delenv(pinned.ENV, raising=False)
    assert "pinned configuration" in invoke(world, "Revoke", "alice")["Refused"]
    assert sorted(stack.end_state().users()) == ["alice"]
    assert sessions["terminated"] == []


def test_a_failed_update_and_its_rollback_keep_the_revocation(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CloudFormation's rollback Update carries the old properties, which list alice: she
    stays blocked through the failed Update and the rollback."""
    assert stack.deploy(["alice", "bob"]).ok
    pin(monkeypatch, world)
    alice_serial = serial_of(stack, "alice")
    assert invoke(world, "Revoke", "alice")["CrlImported"] is True
    prefix = stack.prefix
    fired: list[str] = []

    def fail_after_dave(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ == USERS and op == "PutObject" and params["Key"].endswith("users/dave.ovpn"):
            fired.append("dave")
            raise ClientError({"Error": {"Code": "InternalError", "Message": "test"}}, op)

    with world.fault(fail_after_dave):
        response = stack.update_users(
            stack.props(["alice", "bob", "dave"]), before_rollback=world.faults.clear
        )
    assert fired and not response.ok
    rollback = response.data["Rollback"]
    assert rollback.ok, repr(rollback.error)
    end = stack.end_state()
    assert sorted(end.users()) == ["bob"]
    assert end.versions_of(f"{prefix}users/alice.ovpn") == []
    assert int(alice_serial, 16) in end.revoked()
    assert world.endpoint is not None and int(alice_serial, 16) in world.endpoint.crls[-1].serials
    state = end.state
    assert state is not None and state["revoked"]["alice"]["blocked"] is True


def test_revoke_covers_every_certificate_the_user_holds(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a renewal alice holds two valid certificates (the renewal revokes nothing): a
    revoke puts both into the CRL."""
    assert stack.deploy(["alice"]).ok
    pin(monkeypatch, world)
    first = serial_of(stack, "alice")
    world.clock.advance(days=800)  # within RenewBeforeDays of the 795-825-day lifetime
    assert stack.users.renew(stack.users_props, stack.users_pid).ok
    second = serial_of(stack, "alice")
    assert second != first, "the renewal did not re-issue"

    result = invoke(world, "Revoke", "alice")

    assert sorted(result["RevokedSerials"]) == sorted([first, second])
    assert world.endpoint is not None
    assert {int(first, 16), int(second, 16)} <= world.endpoint.crls[-1].serials
