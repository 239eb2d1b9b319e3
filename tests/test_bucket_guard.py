"""The config bucket's Deny statements (``bucket_guard.py``) as synthesized, decided by
``tests/policy_eval.py``: grantees of another stack, a bucket the app brings, an imported
bucket. The attacks themselves: ``tests/lifecycle/test_invoke_attacks.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from constructs_cvpn import ClientVpn, ClientVpnConfigError

from .policy_eval import Request, evaluate

ACCOUNT = "111111111111"
ENV = Environment(account=ACCOUNT, region="eu-west-1")
TAG = "constructs-cvpn:config-reader"
BROAD = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def _app() -> App:
    return App(
        context={
            "cvpn:skipBundling": True,
            f"availability-zones:account={ACCOUNT}:region=eu-west-1": ["eu-west-1a", "eu-west-1b"],
        }
    )


def _vpn(stack: Stack, **props: Any) -> ClientVpn:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    return ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"], **props)


def _policy_of(template: dict[str, Any], bucket_fragment: str) -> list[dict[str, Any]]:
    (policy,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        and bucket_fragment in str(r["Properties"]["Bucket"])
    ]
    return list(policy)


def _read_deny(statements: list[dict[str, Any]]) -> dict[str, Any]:
    (deny,) = [s for s in statements if str(s.get("Sid", "")).startswith("DenyReadsButTheReaders")]
    return deny


@pytest.fixture(scope="module")
def cross_stack() -> tuple[dict[str, Any], dict[str, Any], str]:
    app = _app()
    vpns = Stack(app, "Vpns", env=ENV)
    vpn = _vpn(vpns)
    grantees = Stack(app, "Grantees", env=ENV)
    role = iam.Role(grantees, "Alice", assumed_by=iam.AccountRootPrincipal())
    vpn.grant_read_user_config("alice", role)
    assembly = app.synth()
    return (
        assembly.get_stack_by_name("Vpns").template,
        assembly.get_stack_by_name("Grantees").template,
        vpns.resolve(vpn.node.path),
    )


def test_a_grantee_of_another_stack_is_exempted_by_tag(
    cross_stack: tuple[dict[str, Any], dict[str, Any], str],
) -> None:
    """Catches: a grant across stacks that cannot synthesize (the role ARN in the bucket
    policy makes the stacks depend on each other), and a grantee the read Deny refuses."""
    vpns, grantees, _ = cross_stack
    deny = _read_deny(_policy_of(vpns, "ConfigBucket"))
    values = deny["Condition"]["StringNotEquals"][f"aws:PrincipalTag/{TAG}"]
    (role,) = [r for r in grantees["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    tags = {t["Key"]: t["Value"] for t in role["Properties"]["Tags"]}
    assert tags[TAG] in values
    alice = "arn:aws:s3:::bucket/client-config/x/users/alice.ovpn"
    policy = {"Statement": [{**deny, "Resource": "*"}]}
    tagged = Request(
        f"arn:aws:iam::{ACCOUNT}:role/Alice",
        "s3:GetObject",
        alice,
        {f"aws:PrincipalTag/{TAG}": tags[TAG]},
    )
    assert evaluate(tagged, identity=[BROAD], resource=policy)
    untagged = Request(f"arn:aws:iam::{ACCOUNT}:role/Other", "s3:GetObject", alice)
    assert not evaluate(untagged, identity=[BROAD], resource=policy)


def test_a_bucket_the_app_brings_gets_the_statements() -> None:
    app = _app()
    stack = Stack(app, "Byo", env=ENV)
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Mine", encryption_key=key, enforce_ssl=True)
    _vpn(stack, config_bucket=bucket)
    template = Template.from_stack(stack).to_json()
    sids = [str(s.get("Sid", "")) for s in _policy_of(template, "Mine")]
    for name in (
        "DenyWritesButTheHandlers",
        "DenyWritesWithoutTheVpnKey",
        "DenyReadsButTheReaders",
    ):
        assert any(sid.startswith(name) for sid in sids), name


def test_an_imported_bucket_gets_a_warning_naming_the_statements() -> None:
    app = _app()
    stack = Stack(app, "Imported", env=ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "Theirs", "their-bucket")
    _vpn(stack, config_bucket=bucket)
    Annotations.from_stack(stack).has_warning(
        "/Imported/Vpn",
        Match.string_like_regexp(
            "DenyWritesButTheHandlers, DenyWritesWithoutTheVpnKey and DenyReadsButTheReaders"
        ),
    )


def test_break_glass_arn_replaces_the_root_in_every_exemption() -> None:
    """Catches: the prop ignored in the bucket policy or in the CA secret's guard."""
    app = _app()
    stack = Stack(app, "Glass", env=ENV)
    glass = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
    _vpn(stack, break_glass_arn=glass)
    template = Template.from_stack(stack).to_json()
    statements = _policy_of(template, "ConfigBucket")
    denies = [s for s in statements if str(s.get("Sid", "")).startswith("Deny")]
    exempted = [s["Condition"]["StringNotEquals"].get("aws:PrincipalArn") for s in denies]
    assert sum(glass in arns for arns in exempted if isinstance(arns, list)) == 2
    assert "root" not in str(exempted)
    (authority,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "Custom::ClientVpnCertificateAuthority"
    ]
    assert authority["Properties"]["GuardAdminArns"][1] == glass


@pytest.mark.parametrize("bad", ["root", "arn:aws:s3:::bucket", "arn:aws:iam::123:role/x"])
def test_break_glass_arn_must_be_an_iam_principal(bad: str) -> None:
    app = _app()
    stack = Stack(app, "BadGlass", env=ENV)
    with pytest.raises(ClientVpnConfigError, match="break_glass_arn"):
        _vpn(stack, break_glass_arn=bad)
