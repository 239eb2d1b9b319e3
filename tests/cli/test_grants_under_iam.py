"""``cvpn config get`` with exactly what a grant gives, under moto's IAM enforcement.

A stack with the generated PKI (alice, bob) grants one role alice's file
(``grant_read_user_config``) and another every caller's own file
(``grant_read_own_user_config``: ``users/${aws:PrincipalTag/cvpn-user}.ovpn``). Each
synthesized customer-managed policy, its CloudFormation functions resolved to the moto
bucket and key, is the only policy of a moto IAM user; the real ``cvpn`` (default client
factory, boto3) runs with that user's keys.

What this proves and what it cannot:

- moto checks every S3 call against the policy (actions and the object ARN): the CLI's
  ``--bucket --user-prefix --user`` path needs nothing but ``s3:GetObject`` on the file (no
  CloudFormation, no listing; ``sts:GetCallerIdentity`` is allowed to everyone, in AWS as in
  moto), and a user's file next door is refused.
- moto does not substitute IAM policy variables (its matcher takes ``${...}`` literally, so
  the tag grant as written matches nothing there: checked below). The test substitutes the
  session tag's value itself, as IAM documents it ("Policy variables": the variable is
  replaced by the value of the caller's tag; a caller without the tag matches nothing), and
  then lets moto enforce the result.
- moto does not call KMS when it reads an SSE-KMS object, and does not evaluate conditions on
  ``kms:*``: the ``kms:Decrypt`` statement is evaluated by the harness's ``PolicyChecker``
  with the request context S3 sends (``kms:ViaService``, ``kms:EncryptionContext:aws:s3:arn``
  = the object ARN, as S3 does with Bucket Keys off).
- Resource policies (the bucket's, the key's) are evaluated by nobody here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication
from typer.testing import CliRunner

from constructs_cvpn import AuthorizationRule, ClientVpn
from constructs_cvpn.cli import create_app
from constructs_cvpn.cli.clients import S3_CONFIG
from tests.lifecycle.harness import PolicyChecker, Request

ACCOUNT = "123456789012"  # moto's default account: the one its IAM users live in
REGION = "eu-west-1"
BUCKET = "vpn-configs-0123"
TAG = "cvpn-user"
VARIABLE = f"${{aws:PrincipalTag/{TAG}}}"


@dataclass
class Synthesized:
    template: dict[str, Any]
    alice_key: str
    bob_key: str
    user_prefix: str
    bucket_id: str
    key_id: str
    alice_role: str
    sso_role: str
    bystander_role: str


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Vpn", env=Environment(account=ACCOUNT, region=REGION))
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"), max_azs=1)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        users=["alice", "bob"],
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
    )
    alice = iam.Role(stack, "AliceRole", assumed_by=iam.AccountRootPrincipal())
    engineers = iam.Role(stack, "EngineersRole", assumed_by=iam.AccountRootPrincipal())
    bystander = iam.Role(stack, "BystanderRole", assumed_by=iam.AccountRootPrincipal())
    vpn.grant_read_user_config("alice", alice)
    vpn.grant_read_own_user_config(engineers)
    alice_key = vpn.user_config_key("alice")
    assert vpn.config_bucket is not None
    return Synthesized(
        template=Template.from_stack(stack).to_json(),
        alice_key=alice_key,
        bob_key=vpn.user_config_key("bob"),
        user_prefix=alice_key.removesuffix("alice.ovpn"),
        bucket_id=stack.get_logical_id(vpn.config_bucket.node.default_child),  # type: ignore[arg-type]
        key_id=stack.get_logical_id(vpn.encryption_key.node.default_child),  # type: ignore[arg-type]
        alice_role=stack.get_logical_id(alice.node.default_child),  # type: ignore[arg-type]
        sso_role=stack.get_logical_id(engineers.node.default_child),  # type: ignore[arg-type]
        bystander_role=stack.get_logical_id(bystander.node.default_child),  # type: ignore[arg-type]
    )


def resolve(value: Any, refs: Mapping[str, str]) -> Any:
    """CloudFormation's Ref, Fn::GetAtt (Arn) and Fn::Join, with ``refs`` for the resources."""
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return refs[value["Ref"]]
    if "Fn::GetAtt" in value:
        return refs[f"{value['Fn::GetAtt'][0]}.{value['Fn::GetAtt'][1]}"]
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p, refs)) for p in parts)
    return {k: resolve(v, refs) for k, v in value.items()}


def policy_of(s: Synthesized, role: str, refs: Mapping[str, str]) -> dict[str, Any]:
    """The one customer-managed policy attached to ``role``, resolved."""
    [document] = [
        r["Properties"]["PolicyDocument"]
        for r in s.template["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role} in r["Properties"]["Roles"]
    ]
    resolved: dict[str, Any] = resolve(document, refs)
    return resolved


@dataclass
class World:
    refs: dict[str, str]
    keys: dict[str, tuple[str, str]]  # moto user -> access key pair
    policies: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def world(synthesized: Synthesized) -> Iterator[World]:
    with mock_aws():
        kms_key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        s3 = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        for name, key in (("alice", synthesized.alice_key), ("bob", synthesized.bob_key)):
            s3.put_object(
                Bucket=BUCKET,
                Key=key,
                Body=f"client\n# {name}\n".encode(),
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=kms_key,
            )
        refs = {
            f"{synthesized.bucket_id}.Arn": f"arn:aws:s3:::{BUCKET}",
            f"{synthesized.key_id}.Arn": kms_key,
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com",
        }
        policies = {
            "alice-role": policy_of(synthesized, synthesized.alice_role, refs),
            "engineers-as-written": policy_of(synthesized, synthesized.sso_role, refs),
        }
        for name in ("alice", "bob"):  # the tag grant as IAM applies it to each session
            text = json.dumps(policies["engineers-as-written"]).replace(VARIABLE, name)
            policies[f"engineers-tagged-{name}"] = json.loads(text)
        iam_client = boto3.client("iam", region_name=REGION)
        keys = {}
        for user, document in policies.items():
            iam_client.create_user(UserName=user)
            iam_client.put_user_policy(
                UserName=user, PolicyName="synthesized", PolicyDocument=json.dumps(document)
            )
            key = iam_client.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
        with enable_iam_authentication():
            yield World(refs=refs, keys=keys, policies=policies)


def cvpn(world: World, user: str, *args: str) -> Any:
    access, secret = world.keys[user]
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": access,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_SESSION_TOKEN": None,
    }
    return CliRunner().invoke(create_app(), list(args), env=env)


def get(world: World, s: Synthesized, principal: str, user: str, out: Path) -> Any:
    return cvpn(
        world,
        principal,
        "config",
        "get",
        "--bucket",
        BUCKET,
        "--user-prefix",
        s.user_prefix,
        "--user",
        user,
        "-o",
        str(out),
    )


def test_the_per_user_grant_reads_alices_file_without_cloudformation(
    world: World, synthesized: Synthesized, tmp_path: Path
) -> None:
    result = get(world, synthesized, "alice-role", "alice", tmp_path / "alice.ovpn")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "alice.ovpn").read_text() == "client\n# alice\n"


def test_the_per_user_grant_does_not_read_bobs_file(
    world: World, synthesized: Synthesized, tmp_path: Path
) -> None:
    result = get(world, synthesized, "alice-role", "bob", tmp_path / "bob.ovpn")

    assert result.exit_code == 1
    assert "access denied" in result.stderr
    assert not (tmp_path / "bob.ovpn").exists()


@pytest.mark.parametrize("policy", ["alice-role", "engineers-tagged-alice"])
def test_neither_grant_reads_the_stack(world: World, policy: str) -> None:
    """The ``--stack`` way needs cloudformation:DescribeStacks, which neither grant gives.
    (Checked on the policy: moto's CloudFormation needs an extra not installed here.)"""
    stack_arn = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Vpn/0a1b2c3d"
    request = Request("cloudformation:DescribeStacks", stack_arn)
    assert not PolicyChecker(world.policies[policy]).allowed(request)
    assert [s["Action"] for s in world.policies[policy]["Statement"]] == [
        "s3:GetObject",
        "kms:Decrypt",
    ]


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_the_tag_grant_reads_each_callers_own_file(
    world: World, synthesized: Synthesized, tmp_path: Path, name: str
) -> None:
    mine = get(world, synthesized, f"engineers-tagged-{name}", name, tmp_path / "mine.ovpn")
    other = "bob" if name == "alice" else "alice"
    theirs = get(world, synthesized, f"engineers-tagged-{name}", other, tmp_path / "theirs.ovpn")

    assert mine.exit_code == 0, mine.output
    assert (tmp_path / "mine.ovpn").read_text() == f"client\n# {name}\n"
    assert theirs.exit_code == 1
    assert not (tmp_path / "theirs.ovpn").exists()


def test_moto_takes_the_policy_variable_literally(
    world: World, synthesized: Synthesized, tmp_path: Path
) -> None:
    """What moto cannot check: unsubstituted, the variable matches no object."""
    result = get(world, synthesized, "engineers-as-written", "alice", tmp_path / "a.ovpn")

    assert result.exit_code == 1


def decrypt(world: World, policy: str, object_key: str, via: str = "s3") -> bool:
    object_arn = f"arn:aws:s3:::{BUCKET}/{object_key}"
    request = Request(
        "kms:Decrypt",
        world.refs[next(k for k in world.refs if k.endswith(".Arn") and "kms" in world.refs[k])],
        {
            "kms:ViaService": f"{via}.{REGION}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": object_arn,
        },
    )
    return PolicyChecker(world.policies[policy]).allowed(request)


def test_the_decrypt_statements_reach_exactly_the_granted_object(
    world: World, synthesized: Synthesized
) -> None:
    s = synthesized
    assert decrypt(world, "alice-role", s.alice_key)
    assert not decrypt(world, "alice-role", s.bob_key)
    assert not decrypt(world, "alice-role", s.alice_key, via="secretsmanager")
    assert decrypt(world, "engineers-tagged-bob", s.bob_key)
    assert not decrypt(world, "engineers-tagged-bob", s.alice_key)


def test_the_tag_grant_is_written_with_the_variable_in_both_statements(
    world: World, synthesized: Synthesized
) -> None:
    statements = world.policies["engineers-as-written"]["Statement"]
    own = f"arn:aws:s3:::{BUCKET}/{synthesized.user_prefix}{VARIABLE}.ovpn"
    assert [s["Action"] for s in statements] == ["s3:GetObject", "kms:Decrypt"]
    assert statements[0]["Resource"] == own
    assert statements[1]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] == own


def test_the_bucket_policy_lets_the_grantees_read_and_no_one_else(
    world: World, synthesized: Synthesized
) -> None:
    """The config bucket's policy denies reads to all but the handlers and the readers the
    grants register (issue 18's guard): both grants' roles are readers. Decided with the
    tests' policy evaluator (moto evaluates no bucket policy)."""
    from tests.policy_eval import Request as PolicyRequest
    from tests.policy_eval import evaluate

    resources = synthesized.template["Resources"]
    refs = dict(world.refs)
    for lid, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            refs[f"{lid}.Arn"] = f"arn:aws:iam::{ACCOUNT}:role/{lid}"
    refs[synthesized.bucket_id] = BUCKET
    [bucket_policy] = [
        resolve(r["Properties"]["PolicyDocument"], refs)
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        and r["Properties"]["Bucket"] == {"Ref": synthesized.bucket_id}
    ]
    s3_anything = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    alice_file = f"arn:aws:s3:::{BUCKET}/{synthesized.alice_key}"

    def reads(role_id: str, identity: dict[str, Any]) -> bool:
        request = PolicyRequest(
            refs[f"{role_id}.Arn"],
            "s3:GetObject",
            alice_file,
            {"aws:SecureTransport": "true"},
        )
        return evaluate(request, identity=[identity], resource=bucket_policy)

    assert reads(synthesized.alice_role, world.policies["alice-role"])
    assert reads(synthesized.sso_role, world.policies["engineers-tagged-alice"])
    # a role of the same account with s3:* and no grant: the bucket policy's Deny wins
    assert not reads(synthesized.bystander_role, s3_anything)
