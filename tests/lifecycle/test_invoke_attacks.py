"""Issue 18's attacks: a principal who can invoke a handler, or who holds broad rights in the
account, against the landed handlers and the SYNTHESIZED policies.

Handlers run as moto IAM users with their synthesized role policies (see
:mod:`tests.lifecycle.harness`) and with their synthesized function configuration
(``Environment.Variables``, resolved): :func:`pin` sets it before a forged event is sent,
exactly as Lambda would start the function. Resource policies (the bucket policy from the
template, the secret policy the CA handler writes) are decided by :mod:`tests.policy_eval`,
since moto evaluates none of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from constructs_cvpn.handlers import pinned
from constructs_cvpn.handlers.pki import index as pki_index

from ..policy_eval import Request, evaluate
from .harness import (
    ACCOUNT,
    AUTHORITY,
    EXPORT,
    PARTITION,
    REGION,
    STACK_ID,
    USERS,
    Cfn,
    PkiStack,
    Synthesized,
    World,
    resolve,
)
from .test_attacks import _pki_with_grantee, recorder
from .test_export_sequences import ByoPki

ATTACKER = f"arn:{PARTITION}:iam::{ACCOUNT}:role/PowerUser"
#: What a power-user-like policy allows: every S3, KMS and Secrets Manager action.
BROAD = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "kms:*", "secretsmanager:*"], "Resource": "*"}
    ],
}


@pytest.fixture(scope="module")
def synthesized(synthesized: Synthesized) -> Synthesized:
    return Synthesized(pki=_pki_with_grantee(), export=synthesized.export)


@pytest.fixture
def stack(world: World, authority: Cfn, users: Cfn) -> PkiStack:
    return PkiStack(world, authority, users)


@pytest.fixture(autouse=True)
def _fresh_configuration() -> Iterator[None]:
    pinned.forget()
    yield
    pinned.forget()


def pin(world: World, type_: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Give the handler of ``type_`` its synthesized environment (resolved now)."""
    template = world.template_of(type_)
    function = template.resources[template.handler_function(type_)]["Properties"]
    variables = resolve(function.get("Environment", {}).get("Variables", {}), world.refs)
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    pinned.forget()
    return dict(variables)


def _objects(world: World, bucket: str) -> list[str]:
    listed = world.admin("s3").list_object_versions(Bucket=bucket)
    return [v["Key"] for v in listed.get("Versions", [])]


# --------------------------------------------------------------------------------------
# A direct invocation is obeyed
# --------------------------------------------------------------------------------------


def test_users_event_naming_another_prefix_mints_nothing(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forged Create (ResponseURL, StackId and all) for the Users function with its own
    ``Prefix``/``StateKey`` inside the VPN's prefix and ``Users=[mallory]``: before, the
    handler issued mallory a certificate signed by the VPN's CA, wrote her file (key
    inside) and recorded her in a state no deploy ever reads, so she could never be
    revoked. Now the event is refused before any call."""
    assert stack.deploy(["alice"]).ok
    pin(world, USERS, monkeypatch)
    hidden = f"{stack.prefix}x/"
    forged = stack.props(["mallory"], Prefix=hidden, StateKey=f"{hidden}state.json")
    calls = recorder(world)
    response = stack.users.send(stack.users._event("Create", forged))
    assert not response.ok
    assert "Prefix" in str(response.error)
    assert not [k for k in _objects(world, world.bucket) if "mallory" in k]
    assert [c for c in calls if c[0] == USERS] == [], "the handler acted on the event"


def test_users_event_naming_another_bucket_and_key_is_refused(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Update naming the attacker's bucket and KMS key: refused before any call (before,
    the handler read and wrote there as far as its policy let it)."""
    assert stack.deploy(["alice"]).ok
    pin(world, USERS, monkeypatch)
    world.admin("s3").create_bucket(
        Bucket="mallory-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    theirs = world.admin("kms").create_key(Description="mallory")["KeyMetadata"]["Arn"]
    forged = stack.props(["alice", "mallory"], Bucket="mallory-bucket", KmsKeyArn=theirs)
    calls = recorder(world)
    response = stack.users.send(
        stack.users._event(
            "Update",
            forged,
            OldResourceProperties=stack.users_props,
            PhysicalResourceId=stack.users_pid,
        )
    )
    assert not response.ok
    assert "Bucket" in str(response.error) or "KmsKeyArn" in str(response.error)
    assert [c for c in calls if c[0] == USERS] == [], "the handler acted on the event"
    assert _objects(world, "mallory-bucket") == []


def test_renew_naming_readers_and_key_changes_nothing(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Renew (no ResponseURL, as the schedule sends) to the CA function whose
    ``ReaderRoleArns`` and ``KmsKeyArn`` are the attacker's: before, the secret's guard
    exempted the attacker and the CA was re-encrypted under the attacker's key. Renew now
    takes nothing from its event."""
    assert stack.deploy(["alice"]).ok
    pin(world, AUTHORITY, monkeypatch)
    sm = world.admin("secretsmanager")
    before = sm.describe_secret(SecretId=stack.authority_pid)
    theirs = world.admin("kms").create_key(Description="mallory")["KeyMetadata"]["Arn"]
    forged = {**stack.authority_props, "ReaderRoleArns": [ATTACKER], "KmsKeyArn": theirs}
    stack.authority.renew(forged, stack.authority_pid)
    after = sm.describe_secret(SecretId=stack.authority_pid)
    assert after.get("KmsKeyId") == before.get("KmsKeyId") != theirs
    policy = json.loads(sm.get_resource_policy(SecretId=stack.authority_pid)["ResourcePolicy"])
    get = Request(ATTACKER, "secretsmanager:GetSecretValue", stack.authority_pid)
    assert not evaluate(get, identity=[BROAD], resource=policy), "the guard exempts the attacker"
    assert ATTACKER not in json.dumps(policy)


def test_update_naming_another_key_is_refused(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through a CloudFormation-shaped Update: FAILED, naming the property."""
    assert stack.deploy(["alice"]).ok
    pin(world, AUTHORITY, monkeypatch)
    theirs = world.admin("kms").create_key(Description="mallory")["KeyMetadata"]["Arn"]
    forged = {**stack.authority_props, "KmsKeyArn": theirs}
    calls = recorder(world)
    response = stack.authority.send(
        stack.authority._event(
            "Update",
            forged,
            OldResourceProperties=stack.authority_props,
            PhysicalResourceId=stack.authority_pid,
        )
    )
    assert not response.ok and "KmsKeyArn" in str(response.error)
    assert [c for c in calls if c[0] == AUTHORITY] == []


def test_event_from_another_stack_is_refused(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CloudFormation request whose StackId is not the function's own stack."""
    assert stack.deploy(["alice"]).ok
    pin(world, USERS, monkeypatch)
    event = stack.users._event(
        "Update",
        stack.users_props,
        OldResourceProperties=stack.users_props,
        PhysicalResourceId=stack.users_pid,
        StackId=f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Other/x",
    )
    calls = recorder(world)
    response = stack.users.send(event)
    assert not response.ok and "StackId" in str(response.error)
    assert [c for c in calls if c[0] == USERS] == []


def test_export_event_naming_another_object_is_refused(
    world: World, export: Cfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export function asked to write the shared config (key inlined) elsewhere."""
    byo = ByoPki(world)
    world.create_endpoint(byo.ca_pem)
    props = world.props(EXPORT)
    assert export.create(props).ok
    pin(world, EXPORT, monkeypatch)
    calls = recorder(world)
    forged = {**props, "Key": "public/client.ovpn"}
    response = export.send(export._event("Create", forged))
    assert not response.ok and "Key" in str(response.error)
    assert [c for c in calls if c[0] == EXPORT] == []
    assert "public/client.ovpn" not in _objects(world, world.bucket)


# --------------------------------------------------------------------------------------
# What the template sends passes its own pins
# --------------------------------------------------------------------------------------


def _configured(world: World, type_: str, on_event: Any) -> Any:
    """``on_event`` run as the function of ``type_`` with its synthesized configuration."""
    template = world.template_of(type_)
    function = template.resources[template.handler_function(type_)]["Properties"]

    def run(event: Any, context: Any) -> Any:
        variables = resolve(function["Environment"]["Variables"], world.refs)
        os.environ.update({k: str(v) for k, v in variables.items()})
        pinned.forget()
        return on_event(event, context)

    return run


def _schedule_event(world: World, type_: str) -> dict[str, Any]:
    """The renewal rule's target input, resolved: what EventBridge sends."""
    template = world.template_of(type_)
    function = template.handler_function(type_)
    (rule,) = [
        r
        for r in template.of_type("AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0] == function
    ]
    event: dict[str, Any] = json.loads(
        resolve(rule["Properties"]["Targets"][0]["Input"], world.refs)
    )
    return event


def test_deploy_update_and_schedule_pass_the_pins(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches a pinned value that differs from what the template sends (every deploy would
    fail) and a Renew that needs more than the rule's input."""
    monkeypatch.setenv(pinned.ENV, "")
    authority = Cfn(world, AUTHORITY, _configured(world, AUTHORITY, pki_index.on_event))
    users = Cfn(world, USERS, _configured(world, USERS, pki_index.on_event))
    stack = PkiStack(world, authority, users)
    assert stack.deploy(["alice", "bob"]).ok
    bob = stack.end_state().users()["bob"].serial
    assert stack.update_users(stack.props(["alice", "carol"])).ok
    assert bob in stack.end_state().revoked()
    same = authority.update(stack.authority_props, stack.authority_props, stack.authority_pid)
    assert same.ok, repr(same.error)
    world.refs.refs[users.logical_id] = stack.users_pid  # the Users resource's Ref
    for cfn, type_ in ((authority, AUTHORITY), (users, USERS)):
        event = _schedule_event(world, type_)
        assert set(event) == {"RequestType", "PhysicalResourceId"}
        renewed = cfn.send(event)
        assert renewed.ok, repr(renewed.error)
    assert sorted(stack.end_state().users()) == ["alice", "carol"], "a Renew changed the users"
    assert json.loads(os.environ[pinned.ENV])["BucketOwner"] == ACCOUNT


def test_the_clean_up_delete_of_a_replaced_ca_is_obeyed_only_in_a_clean_up_phase(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an Update answered with a new physical id, CloudFormation deletes the old one
    in the clean-up phase while DescribeStackResource shows the new one (UPDATE_COMPLETE):
    that Delete removes the old CA. The same Delete outside a clean-up status, and a Delete
    of the current id during one, are refused (both faked: moto has no stack here)."""
    assert stack.deploy(["alice"]).ok
    replacement = stack.authority_pid.replace("-", "-new-", 1)
    stack_status = {"StackStatus": "UPDATE_COMPLETE"}
    asked: list[str] = []

    def status(stack_id: str) -> str:
        asked.append(stack_id)
        return stack_status["StackStatus"]

    monkeypatch.setattr(
        pki_index,
        "_describe",
        lambda s, lid: {"ResourceStatus": "UPDATE_COMPLETE", "PhysicalResourceId": replacement},
    )
    monkeypatch.setattr(pki_index, "_stack_status", status)
    sm = world.admin("secretsmanager")
    pin(world, AUTHORITY, monkeypatch)
    refused = stack.authority.delete(stack.authority_props, stack.authority_pid)
    assert not refused.ok and "not cleaning up" in str(refused.error)
    assert asked == [STACK_ID]
    assert "DeletedDate" not in sm.describe_secret(SecretId=stack.authority_pid)

    stack_status["StackStatus"] = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    forged = stack.authority.delete(stack.authority_props, replacement)  # the current id
    assert not forged.ok and "not deleting" in str(forged.error)
    deleted = stack.authority.delete(stack.authority_props, stack.authority_pid)
    assert deleted.ok, repr(deleted.error)
    assert "DeletedDate" in sm.describe_secret(SecretId=stack.authority_pid)


def test_a_forged_delete_is_refused_unless_cloudformation_deletes(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Delete sent by an invoker (CloudFormation-shaped, with the right StackId): before,
    the CA secret was scheduled for deletion, the server certificate deleted and every
    user's file removed. Now a Delete is obeyed only while CloudFormation shows the
    resource DELETE_IN_PROGRESS (moto has no stack here: DescribeStackResource is faked,
    and what the handler asks is checked)."""
    assert stack.deploy(["alice"]).ok
    asked: list[tuple[str, str]] = []
    status = {"ResourceStatus": "UPDATE_COMPLETE"}

    def describe(stack_id: str, logical_id: str) -> dict[str, str]:
        asked.append((stack_id, logical_id))
        pid = stack.authority_pid if logical_id == stack.authority.logical_id else stack.users_pid
        return {**status, "PhysicalResourceId": pid}

    monkeypatch.setattr(pki_index, "_describe", describe)
    sm = world.admin("secretsmanager")
    alice = f"{stack.prefix}users/alice.ovpn"
    for cfn, props, pid, type_ in (
        (stack.users, stack.users_props, stack.users_pid, USERS),
        (stack.authority, stack.authority_props, stack.authority_pid, AUTHORITY),
    ):
        pin(world, type_, monkeypatch)
        refused = cfn.delete(props, pid)
        assert not refused.ok and "not deleting" in str(refused.error)
        assert asked[-1] == (STACK_ID, cfn.logical_id)
    assert "DeletedDate" not in sm.describe_secret(SecretId=stack.authority_pid)
    assert alice in _objects(world, world.bucket)
    assert world.admin("acm").list_certificates()["CertificateSummaryList"]

    status["ResourceStatus"] = "DELETE_IN_PROGRESS"  # the stack is being deleted
    for cfn, props, pid, type_ in (
        (stack.users, stack.users_props, stack.users_pid, USERS),
        (stack.authority, stack.authority_props, stack.authority_pid, AUTHORITY),
    ):
        pin(world, type_, monkeypatch)
        deleted = cfn.delete(props, pid)
        assert deleted.ok, repr(deleted.error)
    assert "DeletedDate" in sm.describe_secret(SecretId=stack.authority_pid)
    assert alice not in _objects(world, world.bucket)


def test_a_made_up_id_deleted_during_a_clean_up_touches_nothing(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the stack cleans up after any update, a Delete of an id the resource does not
    have is admitted (it may be the clean-up of a replaced resource). A made-up id must not
    make the handlers sweep by tags or properties: before, the Authority scheduled the
    current CA secret for deletion (found by its tags) and Users removed every user's file
    and wrote a tombstone that made the next deploys do nothing."""
    assert stack.deploy(["alice"]).ok

    def describe(stack_id: str, logical_id: str) -> dict[str, str]:
        pid = stack.authority_pid if logical_id == stack.authority.logical_id else stack.users_pid
        return {"ResourceStatus": "UPDATE_COMPLETE", "PhysicalResourceId": pid}

    monkeypatch.setattr(pki_index, "_describe", describe)
    monkeypatch.setattr(pki_index, "_stack_status", lambda s: "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    sm = world.admin("secretsmanager")
    alice = f"{stack.prefix}users/alice.ovpn"
    for cfn, props, type_ in (
        (stack.users, stack.users_props, USERS),
        (stack.authority, stack.authority_props, AUTHORITY),
    ):
        pin(world, type_, monkeypatch)
        answered = cfn.delete(props, f"{STACK_ID.split('/')[1]}-{cfn.logical_id}-MADEUP1234")
        assert answered.ok, repr(answered.error)
    assert "DeletedDate" not in sm.describe_secret(SecretId=stack.authority_pid)
    assert alice in _objects(world, world.bucket)
    pin(world, USERS, monkeypatch)
    assert stack.update_users(stack.props(["alice", "bob"])).ok, "the next deploy still acts"
    assert sorted(stack.end_state().users()) == ["alice", "bob"]
