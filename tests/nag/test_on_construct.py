"""Our ``ClientVpn`` with default props passes ``ClientVpnChecks`` without ERROR findings."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagRuleCompliance

from constructs_cvpn import ClientVpn
from constructs_cvpn.nag import ALL_RULES
from constructs_cvpn.nag.template import Template
from tests.nag.report import NagReport, synth_with_checks

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
CLIENT_CA = "arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000"
SAML = "arn:aws:iam::123456789012:saml-provider/idp"
ROOT = Path(__file__).resolve().parents[2]
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
"""The repository's feature flags, as ``cdk synth`` would use them."""


@pytest.fixture(scope="module")
def report() -> Iterator[NagReport]:
    """One app: ``ClientVpn`` with mutual auth, and with SAML, both with default props
    (plus the secret mutual auth needs for the default config export)."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, context={**CONTEXT, "cvpn:skipBundling": True})
        mutual = Stack(app, "Mutual")
        ClientVpn(
            mutual,
            "Vpn",
            vpc=ec2.Vpc(mutual, "Vpc", max_azs=2, nat_gateways=0),
            cidr="10.100.0.0/22",
            server_certificate_arn=CERT,
            client_certificate_arn=CLIENT_CA,
            # Required with mutual auth and the default config export.
            client_credentials_secret=secretsmanager.Secret.from_secret_name_v2(
                mutual, "ClientKey", "vpn/client"
            ),
        )
        saml = Stack(app, "Saml")
        ClientVpn(
            saml,
            "Vpn",
            vpc=ec2.Vpc(saml, "Vpc", max_azs=2, nat_gateways=0),
            cidr="10.100.0.0/22",
            server_certificate_arn=CERT,
            user_based_authentication=ec2.ClientVpnUserBasedAuthentication.federated(
                iam.SamlProvider.from_saml_provider_arn(saml, "Idp", SAML)
            ),
        )
        yield synth_with_checks(app)


@pytest.mark.parametrize("stack", ["Mutual", "Saml"])
def test_no_error_findings(report: NagReport, stack: str) -> None:
    errors = {
        path: [rule for rule, severity in by_rule.items() if severity == "error"]
        for path, by_rule in report.under(stack).items()
    }
    assert {path: rules for path, rules in errors.items() if rules} == {}


def test_synth_succeeds(report: NagReport) -> None:
    assert not report.synth_failed, report.error_message


def test_no_findings_at_all(report: NagReport) -> None:
    assert report.findings == {}


@pytest.mark.parametrize("stack", ["Mutual", "Saml"])
def test_rules_are_compliant_not_merely_not_applicable(report: NagReport, stack: str) -> None:
    # Full tunnel with client route enforcement, KMS-encrypted log group with retention,
    # explicit session timeout, no "all groups" rule, security group without ingress.
    template = Template(json.loads((report.outdir / f"{stack}.template.json").read_text()))
    verdicts = {
        rule.suffix: {rule.check(r, template) for r in template.of_type(rule.resource_type)}
        for rule in ALL_RULES
    }
    compliant = {NagRuleCompliance.COMPLIANT}
    assert verdicts["ConnectionLogging"] == compliant
    assert verdicts["LogGroupEncrypted"] == compliant
    assert verdicts["LogGroupRetention"] == compliant
    assert verdicts["SessionTimeout"] == compliant
    assert verdicts["ClientRouteEnforcement"] == compliant
    assert verdicts["SecurityGroupOpenIngress"] == compliant
    assert NagRuleCompliance.NON_COMPLIANT not in set().union(*verdicts.values())
