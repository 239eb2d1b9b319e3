"""``cvpn revoke`` / ``cvpn rotate``: the users function's Revoke and Rotate, end to end.

Driven through the function's Lambda entry point (``handlers.pki.index.handler``, as
``lambda:Invoke`` runs it) under the lifecycle harness: moto with IAM enforcement and the
users role's *synthesized* policy checked on every call, the fake Client VPN for the EC2
calls. The function's pinned configuration (``CVPN_PINNED``, issue 18's format: the
template's Users properties) is what tells it where things are; the event names only the
user. A real ``openvpn`` client then tries the files against a server that presents the
generated server certificate and checks the CRL the endpoint received: the revoked
certificate is refused, the rotated one (and, as the control, another user's) accepted.
A later deploy and a renewal keep the revocation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from constructs_cvpn.handlers.pki import index
from tests.openvpn_harness import handshake, require_openvpn

from .harness import USERS, Cfn, FakeEc2Client, LambdaContext, PkiStack, World

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
        op = "DescribeClientVpnConnections"
        self._endpoint(op, op, ClientVpnEndpointId)
        return {
            "Connections": [
                {"ConnectionId": cid, "ClientVpnEndpointId": ClientVpnEndpointId, **c}
                for cid, c in live.items()
            ]
        }

    def terminate(
        self: FakeEc2Client, *, ClientVpnEndpointId: str, ConnectionId: str, **_: Any
    ) -> dict[str, Any]:
        op = "TerminateClientVpnConnections"
        self._endpoint(op, op, ClientVpnEndpointId)
        live[ConnectionId]["Status"] = {"Code": "terminated"}
        terminated.append(ConnectionId)
        return {"ClientVpnEndpointId": ClientVpnEndpointId, "ConnectionStatuses": []}

    monkeypatch.setattr(FakeEc2Client, "describe_client_vpn_connections", describe, raising=False)
    monkeypatch.setattr(FakeEc2Client, "terminate_client_vpn_connections", terminate, raising=False)
    yield {"live": live, "terminated": terminated}


def pin(monkeypatch: pytest.MonkeyPatch, stack: PkiStack) -> None:
    """The function's configuration as the template pins it (issue 18): no user list."""
    props = {k: v for k, v in stack.users_props.items() if k not in ("ServiceToken", "Triggers")}
    pinned = {k: props[k] for k in ("Kind", "Bucket", "Prefix", "StateKey", "KmsKeyArn")}
    pinned["CaSecretArn"] = props["CaSecretArn"]
    monkeypatch.setenv(
        "CVPN_PINNED", json.dumps({"Pinned": pinned, "Settings": {**props, "Users": []}})
    )


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
    pin(monkeypatch, stack)
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
    refused = handshake(for_loopback(alice_file), **server(world, stack), crl_pem=crl, timeout=15)
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
    pin(monkeypatch, stack)
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
    assert (
        handshake(for_loopback(old_file), **server(world, stack), crl_pem=crl, timeout=15).ok
        is False
    )
    rotated = handshake(for_loopback(new_file), **server(world, stack), crl_pem=crl)
    assert rotated.ok, rotated.server_log[-2000:]

    # A later deploy keeps the rotated certificate (no re-issue, no change to her file).
    assert stack.update_users(stack.props(["alice", "bob"])).ok
    assert file_of(stack, "alice") == new_file


def test_only_users_of_this_vpn(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice"]).ok
    pin(monkeypatch, stack)
    imports = len(world.endpoint.crls)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="'mallory' is not a user of this VPN"):
        invoke(world, "Revoke", "mallory")
    with pytest.raises(ValueError, match=r"invalid user name '\.\./state'"):
        invoke(world, "Revoke", "../state")
    assert len(world.endpoint.crls) == imports  # type: ignore[union-attr]
    assert sessions["terminated"] == []
    state = stack.end_state().state
    assert state is not None and sorted(state["users"]) == ["alice"]
    assert not state["lease_owner"], "a refused request left the lease taken"


def test_without_a_pinned_configuration_nothing_happens(
    world: World, stack: PkiStack, sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deploy(["alice"]).ok
    monkeypatch.delenv("CVPN_PINNED", raising=False)
    with pytest.raises(ValueError, match="pinned configuration"):
        invoke(world, "Revoke", "alice")
    assert sorted(stack.end_state().users()) == ["alice"]
    assert sessions["terminated"] == []
