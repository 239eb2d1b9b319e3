"""Issue 18's attacks on the resource policies: the config bucket's policy (synthesized),
the CA secret's guard (written by the CA handler) and the CA key's policy (synthesized),
decided by :mod:`tests.policy_eval` (moto evaluates none of them) for a principal with broad
rights in the account.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_cvpn.handlers.pki.ledger import ledger_key

from ..policy_eval import Request, evaluate
from .harness import (
    ACCOUNT,
    AUTHORITY,
    PARTITION,
    REGION,
    USERS,
    PkiStack,
    StackTemplate,
    World,
    resolve,
)
from .test_attacks import GRANTEE_ROLE, grant_document
from .test_invoke_attacks import ATTACKER, BROAD, stack, synthesized

__all__ = ["stack", "synthesized"]  # the fixtures, shared with test_invoke_attacks


# --------------------------------------------------------------------------------------
# Resource policies: the bucket and the secret
# --------------------------------------------------------------------------------------


def _bucket_policy(world: World) -> dict[str, Any]:
    template: StackTemplate = world.synth.pki
    (policy,) = [
        p
        for p in template.of_type("AWS::S3::BucketPolicy").values()
        if "ConfigBucket" in json.dumps(p["Properties"]["Bucket"])
    ]
    document: dict[str, Any] = resolve(policy["Properties"]["PolicyDocument"], world.refs)
    return document


def _role_arn(world: World, type_: str) -> str:
    template = world.template_of(type_)
    return str(resolve({"Fn::GetAtt": [template.handler_role(type_), "Arn"]}, world.refs))


def _obj(world: World, key: str) -> str:
    return f"arn:{PARTITION}:s3:::{world.bucket}/{key}"


SSE_S3 = {"aws:SecureTransport": "true", "s3:x-amz-server-side-encryption": "AES256"}
TLS = {"aws:SecureTransport": "true"}


def test_ledger_cannot_be_rolled_back_by_a_broad_writer(stack: PkiStack, world: World) -> None:
    """One PutObject of an empty ledger (SSE-S3, no KMS) by a principal with ``s3:*``:
    before, the bucket policy restricted nothing but TLS and the write was allowed."""
    assert stack.deploy(["alice"]).ok
    # Where the ledger lives (whether or not anything was revoked yet).
    ledgers = [ledger_key(stack.prefix, stack.authority_pid)]
    policy = _bucket_policy(world)
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
        request = Request(ATTACKER, action, _obj(world, ledgers[0]), SSE_S3)
        assert not evaluate(request, identity=[BROAD], resource=policy), action
    # The handler still writes it, with the VPN key.
    users_role = _role_arn(world, USERS)
    with_key = {
        "aws:SecureTransport": "true",
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": world.kms_key_arn,
    }
    request = Request(users_role, "s3:PutObject", _obj(world, ledgers[0]), with_key)
    assert evaluate(request, identity=[world.policy(USERS)], resource=policy)
    # ... but not under another key, nor without one.
    for context in (SSE_S3, {**with_key, "s3:x-amz-server-side-encryption-aws-kms-key-id": "k"}):
        request = Request(users_role, "s3:PutObject", _obj(world, ledgers[0]), context)
        assert not evaluate(request, identity=[world.policy(USERS)], resource=policy)


def test_broad_read_rights_read_no_users_file(stack: PkiStack, world: World) -> None:
    """``s3:GetObject`` and ``kms:Decrypt`` on ``*`` (a power-user policy): before, every
    user's ``.ovpn`` (key inside) was readable. Now only the handler roles and the role
    given ``grant_read_user_config("alice")`` read alice's file."""
    assert stack.deploy(["alice", "bob"]).ok
    policy = _bucket_policy(world)
    prefix = stack.prefix
    for key in (f"{prefix}users/alice.ovpn", f"{prefix}users/bob.ovpn", f"{prefix}state.json"):
        request = Request(
            ATTACKER, "s3:GetObject", _obj(world, key), {"aws:SecureTransport": "true"}
        )
        assert not evaluate(request, identity=[BROAD], resource=policy), key
    grantee = f"arn:{PARTITION}:iam::{ACCOUNT}:role/" + next(
        k for k in world.synth.pki.of_type("AWS::IAM::Role") if k.startswith(GRANTEE_ROLE)
    )
    grant = resolve(grant_document(world.synth.pki), world.refs)
    alice = Request(
        grantee,
        "s3:GetObject",
        _obj(world, f"{prefix}users/alice.ovpn"),
        {"aws:SecureTransport": "true"},
    )
    assert evaluate(alice, identity=[grant], resource=policy)
    bob = Request(
        grantee,
        "s3:GetObject",
        _obj(world, f"{prefix}users/bob.ovpn"),
        {"aws:SecureTransport": "true"},
    )
    # bob's file: the grantee's policy allows only alice's (the bucket policy exempts every
    # reader from its read Deny on the prefix; which file is the identity policy's call).
    assert not evaluate(bob, identity=[grant], resource=policy)


def test_break_glass_keeps_the_bucket_recoverable(stack: PkiStack, world: World) -> None:
    """The account root (the default break-glass principal) is never denied by the bucket
    policy, so the account can always repair or delete it."""
    assert stack.deploy(["alice"]).ok
    policy = _bucket_policy(world)
    root = f"arn:{PARTITION}:iam::{ACCOUNT}:root"
    alice = _obj(world, f"{stack.prefix}users/alice.ovpn")
    bucket = f"arn:{PARTITION}:s3:::{world.bucket}"
    for action, resource in (
        ("s3:PutBucketPolicy", bucket),
        ("s3:DeleteBucketPolicy", bucket),
        ("s3:GetObject", alice),
        ("s3:DeleteObjectVersion", alice),
    ):
        request = Request(root, action, resource, TLS)
        assert evaluate(request, identity=[BROAD], resource=policy), action
    # Writes need the VPN key, even for the break-glass principal.
    key = {**TLS, "s3:x-amz-server-side-encryption-aws-kms-key-id": world.kms_key_arn}
    assert evaluate(Request(root, "s3:PutObject", alice, key), identity=[BROAD], resource=policy)
    plain = Request(root, "s3:PutObject", alice, TLS)
    assert not evaluate(plain, identity=[BROAD], resource=policy)


@pytest.mark.parametrize(
    "action",
    [
        "secretsmanager:DeleteSecret",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:GetSecretValue",
        "secretsmanager:UpdateSecret",
    ],
)
def test_secret_guard_denies_everyone_but_the_ca_role(
    stack: PkiStack, world: World, action: str
) -> None:
    """The guard the CA handler writes: before, DeleteSecret (ForceDeleteWithoutRecovery),
    PutResourcePolicy and DeleteResourcePolicy were not denied to a broad principal."""
    assert stack.deploy(["alice"]).ok
    sm = world.admin("secretsmanager")
    policy = json.loads(sm.get_resource_policy(SecretId=stack.authority_pid)["ResourcePolicy"])
    request = Request(ATTACKER, action, stack.authority_pid)
    assert not evaluate(request, identity=[BROAD], resource=policy)
    ca_role = _role_arn(world, AUTHORITY)
    request = Request(ca_role, action, stack.authority_pid)
    assert evaluate(request, identity=[BROAD], resource=policy), "the CA role is denied"


def _key_policy(world: World, fragment: str) -> dict[str, Any]:
    (key,) = [r for k, r in world.synth.pki.of_type("AWS::KMS::Key").items() if fragment in k]
    document: dict[str, Any] = resolve(key["Properties"]["KeyPolicy"], world.refs)
    return document


def test_broad_kms_rights_do_not_use_the_ca_key(stack: PkiStack, world: World) -> None:
    """``kms:*`` on ``*`` (an administrator-like identity policy) administers ``CaKey`` but
    cannot decrypt with it; the CA role decrypts only through Secrets Manager."""
    assert stack.deploy(["alice"]).ok
    policy = _key_policy(world, "CaKey")
    key_arn = "*"  # key policies name the key as "*"
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"):
        request = Request(ATTACKER, action, key_arn)
        assert not evaluate(request, identity=[BROAD], resource=policy, key_policy=True), action
    request = Request(ATTACKER, "kms:DescribeKey", key_arn)
    assert evaluate(request, identity=[BROAD], resource=policy, key_policy=True)
    ca_role = _role_arn(world, AUTHORITY)
    via = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    assert evaluate(Request(ca_role, "kms:Decrypt", key_arn, via), resource=policy, key_policy=True)
    assert not evaluate(Request(ca_role, "kms:Decrypt", key_arn), resource=policy, key_policy=True)
