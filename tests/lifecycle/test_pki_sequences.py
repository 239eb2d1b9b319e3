"""Sequences of CloudFormation requests to the PKI handlers, each checked by its end state.

Each test plays what CloudFormation sends (see :class:`tests.lifecycle.harness.Cfn`), through
the handlers' own answering code, to the real ``handlers.pki.index.on_event``, with the
handler roles' synthesized policies enforced, and asserts the end state: the user files
(certificate, key, remote), the state, the ledger, the CRLs each endpoint received, and
every object version left in the bucket.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import (
    AUTHORITY,
    CREATE_FAILED,
    USERS,
    Cfn,
    EndState,
    KeyPool,
    OvpnFile,
    PkiStack,
    World,
)


@pytest.fixture
def stack(world: World, authority: Cfn, users: Cfn) -> PkiStack:
    return PkiStack(world, authority, users)


def s3_error(op: str, code: str = "InternalError") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, op)


def assert_consistent(stack: PkiStack, end: EndState, names: list[str]) -> None:
    """Every user has a file with their CN, a key of their own matching the cert, a cert of
    this CA whose serial is the state's, and not revoked; nothing else holds a key."""
    files = end.users()
    assert sorted(files) == sorted(names)
    ca = stack.ca()
    serials = end.state_serials()
    revoked = end.revoked()
    for name, f in files.items():
        assert f.cn == name, name
        assert f.key_matches_cert(), f"{name}: key does not match the certificate"
        assert f.verifies_against(ca), f"{name}: certificate not issued by the current CA"
        assert serials.get(name) == f.serial, f"{name}: file serial differs from the state"
        assert f.serial not in revoked, f"{name}: the delivered certificate is revoked"
    # Catches one key shared by several users (each file would still match its own cert).
    moduli = {f.key.public_key().public_numbers().n for f in files.values() if f.key}
    assert len(moduli) == len(files), "two users' files hold the same private key"
    user_keys = {f"{end.prefix}users/{n}.ovpn" for n in names}
    leaked = {v.key for v in end.versions_holding_a_private_key()} - user_keys
    assert not leaked, f"objects holding a private key outside the users' files: {leaked}"


def crl_imports(end: EndState) -> int:
    return sum(len(c) for c in end.crls.values())


def remote_ports(end: EndState) -> set[int]:
    return {port for f in end.users().values() for _, port in f.remotes}


# -- Create / no-op Update ----------------------------------------------------------------


def test_create(stack: PkiStack) -> None:
    response = stack.deploy(["alice", "bob"])
    assert response.ok, repr(response.error)
    end = stack.end_state()
    assert_consistent(stack, end, ["alice", "bob"])
    assert end.revoked() == set()
    assert crl_imports(end) == 0, "nothing revoked: no CRL import (it drops every connection)"
    host = stack.world.endpoint.host if stack.world.endpoint else ""
    for f in end.users().values():
        assert f.remotes and all(h.endswith(host) for h, _ in f.remotes)
    assert not stack.world.handlers[USERS].denied
    assert not stack.world.handlers[AUTHORITY].denied


def test_update_with_no_change(stack: PkiStack, key_pool: KeyPool) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    before = stack.end_state()
    keys_before = key_pool.handed_out
    response = stack.update_users(dict(stack.users_props))
    assert response.ok, repr(response.error)
    end = stack.end_state()
    assert key_pool.handed_out == keys_before, "no new key for an unchanged user"
    assert crl_imports(end) == 0
    for name in ("alice", "bob"):
        key = f"{end.prefix}users/{name}.ovpn"
        assert end.current[key] == before.current[key], f"{name}'s file changed"
        assert len(end.versions_of(key)) == len(before.versions_of(key)), "a new version"
    assert_consistent(stack, end, ["alice", "bob"])


# -- Updates for each trigger --------------------------------------------------------------

TRIGGERS = {
    "Port": "1194",
    "ServerCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/new",
    "ConfigVersion": "2",
    "Authentication": '[{"type":"certificate-authentication","changed":true}]',
}


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_update_for_each_trigger(stack: PkiStack, key_pool: KeyPool, trigger: str) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    assert "Triggers" in stack.users_props, "the Users resource carries no Triggers property"
    before = stack.end_state()
    endpoint = stack.world.endpoint
    assert endpoint is not None
    if trigger == "Port":
        endpoint.port = 1194  # an in-place change of the endpoint
    keys_before = key_pool.handed_out
    response = stack.update_users(
        stack.props(["alice", "bob"], Triggers={trigger: TRIGGERS[trigger]})
    )
    assert response.ok, repr(response.error)
    end = stack.end_state()
    assert key_pool.handed_out == keys_before, "re-rendering needs no new key"
    assert crl_imports(end) == 0, "re-rendering revokes nothing"
    assert end.revoked() == set()
    for name, f in end.users().items():
        old = before.users()[name]
        assert f.serial == old.serial and f.key_pem == old.key_pem, f"{name}: new cert or key"
    assert remote_ports(end) == {endpoint.port}
    assert_consistent(stack, end, ["alice", "bob"])


# -- Endpoint replacement -------------------------------------------------------------------


def test_endpoint_replacement(stack: PkiStack, key_pool: KeyPool) -> None:
    assert stack.deploy(["alice", "bob", "carol"]).ok
    assert stack.update_users(stack.props(["alice", "bob"])).ok  # carol revoked
    before = stack.end_state()
    carol = before.revoked()
    assert len(carol) == 1
    old = stack.world.endpoint
    assert old is not None
    exports_on_old = old.exports
    new = stack.world.create_endpoint(stack.world.authority_ca_pem, proto="tcp")
    keys_before = key_pool.handed_out
    old_pid = stack.users_pid
    response = stack.update_users(stack.props(["alice", "bob"]))
    assert response.ok, repr(response.error)
    assert response.physical_id == old_pid, "the physical id must not change (no clean-up Delete)"
    assert not [e for e in stack.users.handled if e["RequestType"] == "Delete"]
    end = stack.end_state()
    assert key_pool.handed_out == keys_before, "replacement re-renders with the same keys"
    for name, f in end.users().items():
        prev = before.users()[name]
        assert f.serial == prev.serial and f.key_pem == prev.key_pem
        assert all(h.endswith(new.host) for h, _ in f.remotes), f.remotes
        assert f.proto == "tcp"
    assert [c.serials for c in new.crls] == [frozenset(carol)], "full ledger into the new endpoint"
    assert old.exports == exports_on_old, "the old endpoint is never called"
    assert_consistent(stack, end, ["alice", "bob"])
    assert not stack.world.handlers[USERS].denied


# -- Removal -----------------------------------------------------------------------------


def test_user_removed(stack: PkiStack) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    before = stack.end_state()
    bob = before.users()["bob"].serial
    response = stack.update_users(stack.props(["alice"]))
    assert response.ok, repr(response.error)
    end = stack.end_state()
    assert end.revoked() == {bob}
    endpoint = stack.world.endpoint
    assert endpoint is not None
    assert [c.serials for c in endpoint.crls] == [frozenset({bob})]
    bob_key = f"{end.prefix}users/bob.ovpn"
    assert end.versions_of(bob_key) == [], "every version of bob's file (and his key) is gone"
    alice_key = f"{end.prefix}users/alice.ovpn"
    assert end.current[alice_key] == before.current[alice_key]
    assert_consistent(stack, end, ["alice"])


# -- Failed Update, rollback ------------------------------------------------------------------


def test_failed_update_then_rollback(stack: PkiStack) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    before = stack.end_state()
    prefix = before.prefix
    seen: dict[str, Any] = {"dave": False}

    def fail_after_dave(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ != USERS or op != "PutObject":
            return
        if params["Key"] == f"{prefix}users/dave.ovpn":
            seen["dave"] = True
            seen["serial"] = OvpnFile(bytes(params["Body"]).decode()).serial
            return
        if seen["dave"]:
            raise s3_error(op)

    with stack.world.fault(fail_after_dave):
        response = stack.update_users(
            stack.props(["alice", "bob", "dave"]), before_rollback=stack.world.faults.clear
        )
    assert not response.ok
    assert seen["dave"], "the fault never fired: dave's file was not written"
    rollback = response.data["Rollback"]
    assert rollback.ok, repr(rollback.error)
    end = stack.end_state()
    dave_key = f"{prefix}users/dave.ovpn"
    assert end.versions_of(dave_key) == [], "dave's file and its versions are gone"
    assert seen["serial"] in end.revoked(), "dave's certificate is revoked in the ledger"
    endpoint = stack.world.endpoint
    assert endpoint is not None
    assert endpoint.crls and seen["serial"] in endpoint.crls[-1].serials
    for name in ("alice", "bob"):
        key = f"{prefix}users/{name}.ovpn"
        assert end.current[key] == before.current[key], f"{name}'s file changed"
    assert_consistent(stack, end, ["alice", "bob"])


# -- Failed Create and its rollback Delete -----------------------------------------------------


def test_failed_create_leaves_no_key(stack: PkiStack, world: World) -> None:
    puts = {"n": 0}

    def fail_third_user(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ == USERS and op == "PutObject" and "/users/" in params["Key"]:
            puts["n"] += 1
            if puts["n"] == 3:
                raise s3_error(op)

    with world.fault(fail_third_user):
        response = stack.deploy(["alice", "bob", "carol", "dave", "erin"])
    assert not response.ok
    assert response.physical_id == CREATE_FAILED
    last = stack.users.events[-1]
    assert (last["RequestType"], last["PhysicalResourceId"]) == ("Delete", CREATE_FAILED)
    assert last["handled"], "the rollback Delete of the marker reaches the handler (issue 19)"
    end = stack.end_state()
    assert end.user_keys_in_any_version() == set(), "no user file, no version left"
    assert end.versions_holding_a_private_key() == []


# -- Delete ---------------------------------------------------------------------------------


def test_delete(stack: PkiStack, world: World) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    assert stack.update_users(stack.props(["alice"])).ok
    revoked = stack.end_state().revoked()
    assert stack.users.delete(stack.users_props, stack.users_pid).ok
    end = stack.end_state()
    assert end.user_keys_in_any_version() == set()
    assert end.versions_holding_a_private_key() == []
    assert end.revoked() == revoked, "the ledger lives with the CA: a Users delete keeps it"
    assert world.endpoint is not None
    world.ec2.delete(world.endpoint.endpoint_id)  # CloudFormation deletes it before the CA
    deleted = stack.authority.delete(stack.authority_props, stack.authority_pid)
    assert deleted.ok, repr(deleted.error)
    described = world.admin("secretsmanager").describe_secret(SecretId=stack.authority_pid)
    assert described.get("DeletedDate"), "the CA secret is scheduled for deletion"
    assert world.admin("acm").list_certificates()["CertificateSummaryList"] == []


def _remove_bucket(world: World) -> None:
    s3 = world.admin("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=world.bucket):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=world.bucket, Key=v["Key"], VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=world.bucket)


@pytest.mark.parametrize("gone", ["bucket", "secret", "endpoint"])
def test_delete_when_already_gone(stack: PkiStack, world: World, gone: str) -> None:
    assert stack.deploy(["alice"]).ok
    if gone == "bucket":
        _remove_bucket(world)
    elif gone == "secret":
        world.admin("secretsmanager").delete_secret(
            SecretId=stack.authority_pid, ForceDeleteWithoutRecovery=True
        )
    else:
        assert world.endpoint is not None
        world.ec2.delete(world.endpoint.endpoint_id)
    response = stack.users.delete(stack.users_props, stack.users_pid)
    assert response.ok, repr(response.error)
    deleted = stack.authority.delete(stack.authority_props, stack.authority_pid)
    assert deleted.ok, repr(deleted.error)
    if gone != "bucket":
        end = stack.end_state()
        assert end.versions_holding_a_private_key() == []


# -- Destroy, then deploy again -----------------------------------------------------------------


def test_destroy_then_deploy(stack: PkiStack, world: World, authority: Cfn, users: Cfn) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    first = stack.end_state()
    old_files = first.users()
    old_secret = stack.authority_pid
    assert stack.users.delete(stack.users_props, stack.users_pid).ok
    world.ec2.delete(world.endpoint.endpoint_id if world.endpoint else "")
    assert stack.authority.delete(stack.authority_props, stack.authority_pid).ok
    again = PkiStack(world, authority, users)
    response = again.deploy(["alice", "bob"])
    assert response.ok, repr(response.error)
    assert again.authority_pid != old_secret, "a new Create gets a new CA secret"
    new_ca = again.ca()
    for name, f in old_files.items():
        assert not f.verifies_against(new_ca), f"{name}'s old certificate verifies again"
    assert_consistent(again, again.end_state(), ["alice", "bob"])


# -- The same request twice, overlapping ---------------------------------------------------------


def _twice(cfn: Cfn, event: dict[str, Any]) -> list[Any]:
    results: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = cfn.send(event)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_same_request_twice_overlapping(stack: PkiStack, world: World, request_type: str) -> None:
    names = ["alice", "bob", "carol", "dave"]
    if request_type == "Create":
        assert stack.deploy([]).ok  # an empty Users resource: then deliver one Create twice
        event = stack.users._event("Create", stack.props(names))
    else:
        assert stack.deploy(["alice"]).ok
        event = stack.users._event(
            "Update",
            stack.props(names),
            OldResourceProperties=stack.users_props,
            PhysicalResourceId=stack.users_pid,
        )
    results = _twice(stack.users, event)
    assert any(r is not None and r.ok for r in results), [r.error for r in results if r]
    end = stack.end_state()
    assert_consistent(stack, end, names)
    assert end.revoked() == set(), "no delivered certificate is revoked"


# -- Renewal ------------------------------------------------------------------------------------


def test_renewal_of_user_certificates(stack: PkiStack, world: World, key_pool: KeyPool) -> None:
    assert stack.deploy(["alice", "bob"]).ok
    before = stack.end_state()
    keys_before = key_pool.handed_out
    early = stack.users.renew(stack.users_props, stack.users_pid)
    assert early.ok, repr(early.error)
    assert key_pool.handed_out == keys_before, "nothing to renew yet"
    world.clock.advance(days=825 - 30 + 1)
    response = stack.users.renew(stack.users_props, stack.users_pid)
    assert response.ok, repr(response.error)
    end = stack.end_state()
    for name, f in end.users().items():
        old = before.users()[name]
        assert f.serial != old.serial, f"{name} was not renewed"
        assert f.cert is not None
        assert f.cert.not_valid_after_utc > world.clock.now()
    assert end.revoked() == set(), "renewal revokes nothing"
    assert crl_imports(end) == 0, "renewal imports no CRL"
    assert_consistent(stack, end, ["alice", "bob"])


def test_renewal_of_server_certificate(stack: PkiStack, world: World) -> None:
    assert stack.deploy(["alice"]).ok
    acm = world.admin("acm")
    (summary,) = acm.list_certificates()["CertificateSummaryList"]
    arn = summary["CertificateArn"]
    serial_before = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Serial"]
    world.clock.advance(days=825 - 30 + 1)
    response = stack.authority.renew(stack.authority_props, stack.authority_pid)
    assert response.ok, repr(response.error)
    certificates = acm.list_certificates()["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in certificates] == [arn], "re-imported under the same ARN"
    serial_after = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Serial"]
    assert serial_after != serial_before
    assert not world.handlers[AUTHORITY].denied
