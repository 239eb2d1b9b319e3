"""A grantee's own app under cdk-nag: the read grants add no finding there.

``grant_read_user_config`` / ``grant_read_config`` give exactly ``s3:GetObject`` on one
object and a conditioned ``kms:Decrypt`` (no wildcard, so no AwsSolutions-IAM5), in a
customer-managed policy attached to the role (an inline policy would be NIST 800-53
IAMNoInlinePolicy). The grantees live in a stack of their own, as in a real app.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from constructs_cvpn import ClientVpn

ROOT = Path(__file__).resolve().parents[2]
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
CLIENT_CA = "arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000"


@pytest.fixture(scope="module")
def synthesized() -> Iterator[tuple[dict[str, list[str]], dict[str, Any]]]:
    """Construct path -> unacknowledged AwsSolutions / NIST 800-53 rule ids (whole app),
    and the grantees' template."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, context={**CONTEXT, "cvpn:skipBundling": True})
        vpns = Stack(app, "Vpns")
        vpc = ec2.Vpc(vpns, "Vpc", max_azs=2, nat_gateways=0)
        pki = ClientVpn(vpns, "Pki", vpc=vpc, cidr="10.100.0.0/22", users=["alice", "bob"])
        shared = ClientVpn(
            vpns,
            "Shared",
            vpc=vpc,
            cidr="10.104.0.0/22",
            server_certificate_arn=CERT,
            client_certificate_arn=CLIENT_CA,
            client_credentials_secret=secretsmanager.Secret.from_secret_name_v2(
                vpns, "ClientKey", "vpn/client"
            ),
        )
        grantees = Stack(app, "Grantees")
        alice = iam.Role(grantees, "Alice", assumed_by=iam.AccountRootPrincipal())
        pki.grant_read_user_config("alice", alice)
        reader = iam.Role(grantees, "Reader", assumed_by=iam.AccountRootPrincipal())
        shared.grant_read_config(reader)
        # Two files for one role: both land in the same managed policy.
        both = iam.Role(grantees, "Both", assumed_by=iam.AccountRootPrincipal())
        pki.grant_read_user_config("alice", both)
        pki.grant_read_user_config("bob", both)
        # Control: what the CDK's usual grants (an inline default policy) would report.
        control = Stack(app, "Control")
        iam.Role(control, "Inline", assumed_by=iam.AccountRootPrincipal()).add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/k"])
        )
        Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))
        try:
            app.synth()
        except RuntimeError as error:
            if "ValidationFailed" not in str(error):
                raise
        report = json.loads((Path(outdir) / "validation-report.json").read_text())
        by_path: dict[str, list[str]] = {}
        for plugin in report["pluginReports"]:
            for violation in plugin.get("violations", []):
                for construct in violation["violatingConstructs"]:
                    by_path.setdefault(construct["constructPath"], []).append(violation["ruleName"])
        yield by_path, json.loads((Path(outdir) / "Grantees.template.json").read_text())


def test_the_grantees_stack_has_no_finding(
    synthesized: tuple[dict[str, list[str]], dict[str, Any]],
) -> None:
    findings, _ = synthesized
    assert {
        path: rules for path, rules in findings.items() if path.startswith("Grantees/") and rules
    } == {}
    # The report is read correctly: the control's inline policy is reported.
    assert findings["Control/Inline/DefaultPolicy/Resource"] == ["NIST.800.53.R5-IAMNoInlinePolicy"]


def test_the_grants_are_managed_policies_not_inline(
    synthesized: tuple[dict[str, list[str]], dict[str, Any]],
) -> None:
    _, template = synthesized
    resources = template["Resources"]
    types = sorted(r["Type"] for r in resources.values())
    assert types == ["AWS::IAM::ManagedPolicy"] * 3 + ["AWS::IAM::Role"] * 3
    both = [r for logical, r in resources.items() if logical.startswith("BothReadClientVpnConfig")]
    (policy,) = both
    assert policy["Properties"]["Roles"] == [{"Ref": _logical(resources, "Both", "Role")}]
    bucket = {"Fn::ImportValue": "Vpns:ExportsOutputFnGetAttPkiConfigBucketB8E97DA2ArnA531AB78"}
    key = {"Fn::ImportValue": "Vpns:ExportsOutputFnGetAttPkiKeyB8FA62EFArn9EEF9A70"}

    def file(name: str) -> dict[str, Any]:
        return {"Fn::Join": ["", [bucket, f"/client-config/VpnsPkiF0B6CD25/users/{name}.ovpn"]]}

    def decrypt(name: str) -> dict[str, Any]:
        return {
            "Action": "kms:Decrypt",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {
                        "Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                    },
                    "kms:EncryptionContext:aws:s3:arn": file(name),
                }
            },
            "Effect": "Allow",
            "Resource": key,
        }

    # cdk.json's @aws-cdk/aws-iam:minimizePolicies merges the two GetObject statements;
    # the decrypts differ in their condition and stay apart.
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": [file("alice"), file("bob")]},
        decrypt("alice"),
        decrypt("bob"),
    ]


def _logical(resources: dict[str, Any], prefix: str, type_suffix: str) -> str:
    (logical,) = [
        k for k, r in resources.items() if k.startswith(prefix) and r["Type"].endswith(type_suffix)
    ]
    return logical


def test_a_grant_reports_success() -> None:
    """``Grant.success``/``assert_success()`` are how CDK code checks a grant took effect:
    the statements went into the grantee's managed policy, so the grant must say so (catches
    the managed-policy principal answering ``statement_added=False``)."""
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Vpns")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    pki = ClientVpn(stack, "Pki", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    role = iam.Role(stack, "Alice", assumed_by=iam.AccountRootPrincipal())
    grant = pki.grant_read_user_config("alice", role)
    assert grant.success
    grant.assert_success()
