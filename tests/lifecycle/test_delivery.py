"""Issue 19's cases: deliveries CloudFormation and Lambda can make, each ending consistent.

Each test drives the real handlers through the harness (moto with the synthesized policies,
the fake Client VPN reading ACM, a virtual clock) and checks the end with an oracle that is
not the handler's own bookkeeping: :meth:`FakeClientVpn.connects` (would the file connect
now: server certificate, root chain from ACM, the endpoint's CRL), the certificates in ACM,
the secrets, every object version in the bucket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import AUTHORITY, USERS, Cfn, Endpoint, Killer, PkiStack, World


@pytest.fixture
def stack(world: World, authority: Cfn, users: Cfn) -> PkiStack:
    return PkiStack(world, authority, users)


def endpoint(world: World) -> Endpoint:
    assert world.endpoint is not None
    return world.endpoint


def connecting(stack: PkiStack) -> dict[str, bool]:
    """Per user file in the bucket: would it connect now."""
    end = stack.end_state()
    return {name: stack.world.ec2.connects(f.text)[0] for name, f in end.users().items()}


def why_not(stack: PkiStack, name: str) -> str:
    end = stack.end_state()
    return stack.world.ec2.connects(end.users()[name].text)[1]


def acm_arns(world: World) -> list[str]:
    return [
        c["CertificateArn"]
        for c in world.admin("acm").list_certificates()["CertificateSummaryList"]
    ]


def throttled(op: str) -> ClientError:
    return ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, op)


# -- a removal rolled back ---------------------------------------------------------------


@pytest.mark.parametrize("fault", ["error", "kill"])
def test_a_rolled_back_removal_does_not_lock_out_the_user(stack: PkiStack, fault: str) -> None:
    """The Update removing carol saves the ledger (carol's serial in it), then its state
    write fails or the run dies. CloudFormation rolls back: carol is wanted again. Before
    the fix her unchanged certificate stayed in the ledger and the next CRL import (here:
    bob removed later) locked her out, with the state saying she was fine."""
    assert stack.deploy(["alice", "bob", "carol"]).ok
    state_key = stack.users_props["StateKey"]
    seen = {"ledger": False}
    killer = Killer(USERS, at=10**9)

    def after_the_ledger(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ != USERS or op != "PutObject":
            return
        if "revocations/" in params["Key"]:
            seen["ledger"] = True
        elif seen["ledger"] and params["Key"] == state_key:
            if fault == "kill":
                killer.at = killer.seen + 1
                killer(type_, op, params)
            raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, op)

    with stack.world.fault(killer), stack.world.fault(after_the_ledger):
        response = stack.users.send(
            stack.users._event(
                "Update",
                stack.props(["alice", "bob", "dave"]),
                OldResourceProperties=stack.users_props,
                PhysicalResourceId=stack.users_pid,
            )
        )
    assert seen["ledger"] and not response.ok
    assert response.killed == (fault == "kill")
    # CloudFormation: the Update failed (or timed out): roll back to the old properties.
    rollback = stack.users.update(
        stack.users_props, stack.props(["alice", "bob", "dave"]), stack.users_pid
    )
    assert rollback.ok, repr(rollback.error)
    assert connecting(stack) == {"alice": True, "bob": True, "carol": True}, why_not(stack, "carol")
    # The next change imports a CRL: carol must still connect.
    assert stack.update_users(stack.props(["alice", "carol"])).ok
    assert endpoint(stack.world).crls, "bob's removal imported a CRL"
    assert connecting(stack) == {"alice": True, "carol": True}, why_not(stack, "carol")


# -- the same Authority Create twice --------------------------------------------------------


def test_the_same_authority_create_twice_makes_one_certificate(
    stack: PkiStack, world: World, authority: Cfn
) -> None:
    """The second delivery of the Create arrives while the first is between CreateSecret and
    its first write. Before the fix: two ACM certificates and two different answers."""
    props = world.props(AUTHORITY)
    event = authority._event("Create", props)
    second: dict[str, Any] = {}

    def duplicate(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ == AUTHORITY and op == "PutResourcePolicy" and not second:
            second["response"] = None
            second["response"] = authority.send(event)

    with world.fault(duplicate):
        first = authority.send(event)
    assert first.ok, repr(first.error)
    again = second["response"]
    assert again is not None and again.ok, repr(again and again.error)
    assert len(acm_arns(world)) == 1, "one Create, one certificate"
    assert first.data["ServerCertificateArn"] == again.data["ServerCertificateArn"]
    assert first.physical_id == again.physical_id


# -- requests late or cancelled --------------------------------------------------------------


def secrets_left(world: World) -> list[str]:
    found = world.admin("secretsmanager").list_secrets()["SecretList"]
    return [s["Name"] for s in found if not s.get("DeletedDate")]


@pytest.mark.parametrize(
    "at", ["CreateSecret", "PutResourcePolicy", "ImportCertificate", "PutSecretValue"]
)
def test_a_killed_authority_create_is_cleaned_up_by_the_generated_id_delete(
    world: World, authority: Cfn, at: str
) -> None:
    """The Create dies (timeout, out of memory: no answer, no clean-up); CloudFormation
    sends a Delete with a physical id it generated. Before the fix it found nothing to do
    and left the CA secret and the ACM certificate (with the server key)."""
    props = world.props(AUTHORITY)
    calls: list[str] = []

    def count(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ == AUTHORITY:
            calls.append(op)

    with world.fault(count):
        assert authority.send(authority._event("Create", props)).ok
    # Start over in a clean account state: kill at the chosen call of a fresh Create.
    for arn in acm_arns(world):
        world.admin("acm").delete_certificate(CertificateArn=arn)
    for name in secrets_left(world):
        world.admin("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    index = calls.index(at) + 1 + (1 if at == "PutSecretValue" else 0)
    killer = Killer(AUTHORITY, at=index)
    with world.fault(killer):
        response = authority.create(props)
    assert response.killed, f"not killed: {killer.fired!r}"
    delete = authority.events[-1]
    assert delete["RequestType"] == "Delete" and delete["handled"]
    assert not world.handlers[AUTHORITY].denied, world.handlers[AUTHORITY].denied
    assert acm_arns(world) == [], "the server certificate (and key) is left in ACM"
    assert secrets_left(world) == [], "the CA secret is left"


def test_a_users_delete_while_the_create_runs_leaves_no_file(stack: PkiStack, world: World) -> None:
    """The Create of Users is still running (here: between two file writes) when
    CloudFormation, having given up on it, sends the Delete with a generated id."""
    created = stack.authority.create(world.props(AUTHORITY))  # the CA, then the endpoint
    assert created.ok
    world.set_authority(created.physical_id, created.data)
    world.create_endpoint(world.authority_ca_pem)
    props = stack.props(["alice", "bob", "carol"])
    event = stack.users._event("Create", props)
    delete: dict[str, Any] = {}

    def delete_meanwhile(type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ == USERS and op == "PutObject" and "/users/" in params["Key"] and not delete:
            delete["response"] = None
            delete["response"] = stack.users.delete(props, stack.users.generated_id())

    with world.fault(delete_meanwhile):
        stack.users.send(event)
    assert delete["response"] is not None and delete["response"].ok
    end = stack.end_state()
    assert end.versions_holding_a_private_key() == [], "a key file outlived the Delete"
    # The same Create delivered once more (at least once): still nothing.
    stack.users.send(event)
    assert stack.end_state().versions_holding_a_private_key() == []


def test_a_late_users_update_after_the_delete_does_nothing(stack: PkiStack, world: World) -> None:
    """An Update throttled past the resource's Delete (at-least-once, asynchronous) must not
    bring users back: before the fix it wrote their files again, keys and all."""
    assert stack.deploy(["alice"]).ok
    late = stack.users._event(
        "Update",
        stack.props(["alice", "bob"]),
        OldResourceProperties=stack.users_props,
        PhysicalResourceId=stack.users_pid,
    )
    assert stack.users.delete(stack.users_props, stack.users_pid).ok
    stack.users.send(late)
    assert stack.end_state().versions_holding_a_private_key() == []


# -- the smaller ones ---------------------------------------------------------------------


def test_a_rolled_back_endpoint_replacement_imports_no_crl_into_the_old_endpoint(
    stack: PkiStack, world: World
) -> None:
    assert stack.deploy(["alice", "bob", "carol"]).ok
    assert stack.update_users(stack.props(["alice", "bob"])).ok  # carol revoked: CRL #1
    old = endpoint(world)
    assert len(old.crls) == 1
    old_props = stack.users_props
    new = world.create_endpoint(world.authority_ca_pem)
    replaced = stack.update_users(stack.props(["alice", "bob"]))
    assert replaced.ok, repr(replaced.error)
    assert len(new.crls) == 1, "the new endpoint gets the ledger"
    # Another resource of the stack update fails: CloudFormation rolls back to the old
    # endpoint (still alive until the clean-up phase) and the old properties.
    world.use_endpoint(old)
    rollback = stack.users.update(old_props, stack.users_props, stack.users_pid)
    assert rollback.ok, repr(rollback.error)
    assert len(old.crls) == 1, "a needless import resets every connection of the old endpoint"
    assert connecting(stack) == {"alice": True, "bob": True}


def test_a_config_version_bump_restores_a_deleted_file(stack: PkiStack, world: World) -> None:
    """The README says every file is re-rendered on a config_version bump; before the fix a
    bump wrote nothing, so a file deleted by hand stayed gone."""
    assert stack.deploy(["alice", "bob"]).ok
    key = f"{stack.prefix}users/alice.ovpn"
    s3 = world.admin("s3")
    for v in s3.list_object_versions(Bucket=world.bucket, Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=world.bucket, Key=key, VersionId=v["VersionId"])
    bumped = stack.update_users(stack.props(["alice", "bob"], Triggers={"ConfigVersion": "2"}))
    assert bumped.ok, repr(bumped.error)
    assert connecting(stack) == {"alice": True, "bob": True}


def test_a_throttled_delete_of_a_removed_users_files_does_not_fail_the_update(
    stack: PkiStack, world: World, key_pool: Any
) -> None:
    """After the CRL import (bob revoked, in force) deleting bob's file versions is
    throttled. Before the fix the Update failed and its rollback re-issued bob with a new
    key although CloudFormation's change was in force; now the deletion is left for the
    next run (the scheduled renewal at the latest)."""
    assert stack.deploy(["alice", "bob"]).ok
    bob_key = f"{stack.prefix}users/bob.ovpn"

    def slow(type_: str, op: str, params: Mapping[str, Any]) -> None:
        objects = params.get("Delete", {}).get("Objects", [])
        if (type_, op) in ((USERS, "ListObjectVersions"), (USERS, "DeleteObjects")) and (
            params.get("Prefix") == bob_key or any(o.get("Key") == bob_key for o in objects)
        ):
            raise throttled(op)

    keys = key_pool.handed_out
    with world.fault(slow):
        response = stack.update_users(stack.props(["alice"]))
    assert response.ok, repr(response.error)
    assert key_pool.handed_out == keys, "nobody re-issued"
    assert stack.users.renew(stack.users_props, stack.users_pid).ok
    end = stack.end_state()
    assert end.versions_of(bob_key) == [], "the next run deletes bob's file"
    assert connecting(stack) == {"alice": True}


def test_an_authority_delete_never_leaves_the_server_key_in_acm(
    stack: PkiStack, world: World
) -> None:
    """ACM still reports the certificate in use long after the endpoint's deletion (beyond
    the handler's 240 s of retries). Before the fix the certificate, with the server's
    private key, stayed in ACM."""
    assert stack.deploy(["alice"]).ok
    (arn,) = acm_arns(world)
    server_key = world.admin("secretsmanager").get_secret_value(SecretId=stack.authority_pid)
    assert stack.users.delete(stack.users_props, stack.users_pid).ok
    world.ec2.release_after = dt.timedelta(hours=1)
    world.ec2.delete(endpoint(world).endpoint_id)
    assert stack.authority.delete(stack.authority_props, stack.authority_pid).ok
    from moto.acm.models import acm_backends

    backend = acm_backends["123456789012"]["eu-west-1"]
    import json

    key_pem = json.loads(server_key["SecretString"])["server_key_pem"].strip()
    held = [
        a
        for a, bundle in backend._certificates.items()
        if bundle.key and bundle.key.decode().strip() == key_pem
    ]
    assert held == [], f"ACM still holds the server key in {held} (was {arn})"


def test_ca_end_of_life_stops_re_keying_and_fails_clearly(
    stack: PkiStack, world: World, key_pool: Any
) -> None:
    """A CA close to its end (860 days, the shortest the construct accepts with the default
    lifetimes) reaches the point where every certificate it signs expires within the renewal
    window. Before the fix every run then re-issued every certificate, and once the CA had
    expired every run failed with a raw ValueError. Now: one certificate up to the CA's end,
    no re-keying on every run, and a failure that names the CA's expiry and the runbook."""
    props = world.props(AUTHORITY)
    props["CaValidityDays"] = "860"
    created = stack.authority.create(props)
    assert created.ok, repr(created.error)
    stack.authority_props, stack.authority_pid = props, created.physical_id
    world.set_authority(created.physical_id, created.data)
    world.create_endpoint(world.authority_ca_pem)
    stack.users_props = stack.props(["alice"])
    response = stack.users.create(stack.users_props)
    stack.users_pid = response.physical_id
    assert response.ok
    world.clock.advance(days=840)
    keys = key_pool.handed_out
    runs = [stack.users.renew(stack.users_props, stack.users_pid) for _ in range(3)]
    runs += [stack.authority.renew(stack.authority_props, stack.authority_pid) for _ in range(3)]
    issued = key_pool.handed_out - keys
    assert issued <= 2, f"{issued} keys in three runs of each handler: re-keyed on every run"
    world.clock.advance(days=25)  # the CA has expired
    for late in (
        stack.users.renew(stack.users_props, stack.users_pid),
        stack.authority.renew(stack.authority_props, stack.authority_pid),
    ):
        assert not late.ok
        message = str(late.error)
        assert not isinstance(late.error, ValueError), repr(late.error)
        assert "certificate authority expired" in message and "README" in message, message
    del runs
