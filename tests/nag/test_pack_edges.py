"""``ClientVpnChecks`` options and misuse, seen through cdk-nag's documented report format.

Oracles: cdk-nag 3's ``NagPack`` (``verbose``: a finding's description is the rule's ``info``
followed by its ``explanation``; a rule that raises becomes a finding "Rule threw an error during
validation." followed, when verbose, by the error's message) and the docstrings of
``ClientVpnChecks`` (``verbose`` adds each rule's explanation; called directly, ``validate_scope``
needs stacks synthesized first, and the error says so). The expected texts are the rules' own
metadata (``ClientVpnRule.info`` / ``explanation``), not output of the code under test.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_ec2 as ec2

from constructs_cvpn.nag import ALL_RULES, PACK_NAME, ClientVpnChecks

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/server"
RULES = {rule.rule_id: rule for rule in ALL_RULES}


def build(app: App) -> None:
    """One stack: a certificate-auth endpoint with connection logging off (an ERROR finding)."""
    stack = Stack(app, "Edges")
    vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.0.0.0/16")
    ec2.CfnClientVpnEndpoint(
        stack,
        "Endpoint",
        authentication_options=[
            ec2.CfnClientVpnEndpoint.ClientAuthenticationRequestProperty(
                type="certificate-authentication",
                mutual_authentication=ec2.CfnClientVpnEndpoint.CertificateAuthenticationRequestProperty(
                    client_root_certificate_chain_arn=CERT
                ),
            )
        ],
        client_cidr_block="10.100.0.0/22",
        server_certificate_arn=CERT,
        connection_log_options=ec2.CfnClientVpnEndpoint.ConnectionLogOptionsProperty(enabled=False),
        vpc_id=vpc.ref,
    )


@pytest.fixture(scope="module")
def verbose_descriptions() -> Iterator[dict[str, str]]:
    """Rule id -> description, from ``validation-report.json`` of a verbose synthesis."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir)
        build(app)
        Validations.of(app).add_plugins(ClientVpnChecks(app, verbose=True))
        with pytest.raises(RuntimeError, match="ValidationFailed"):
            app.synth()
        report = json.loads((Path(outdir) / "validation-report.json").read_text())
        yield {
            violation["ruleName"]: violation["description"]
            for plugin in report["pluginReports"]
            if plugin["pluginName"] == PACK_NAME
            for violation in plugin["violations"]
        }


def test_verbose_findings_carry_info_and_explanation(
    verbose_descriptions: dict[str, str],
) -> None:
    rule = RULES["ClientVpn-ConnectionLogging"]
    assert verbose_descriptions[rule.rule_id] == f"{rule.info} {rule.explanation}"


def test_every_verbose_finding_ends_with_its_rules_explanation(
    verbose_descriptions: dict[str, str],
) -> None:
    assert verbose_descriptions  # the baseline endpoint has findings
    for rule_id, description in verbose_descriptions.items():
        rule = RULES[rule_id]
        assert description == f"{rule.info} {rule.explanation}", rule_id


def test_validate_scope_without_synthesis_reports_how_to_fix_it() -> None:
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir)
        build(app)  # not synthesized: there is no template to read
        report = ClientVpnChecks(verbose=True).validate_scope(app)
    template = str(Path(outdir) / "Edges.template.json")
    assert not report.success
    assert report.violations
    for violation in report.violations:
        assert violation.description.startswith("Rule threw an error during validation.")
        assert template in violation.description
        # The message names the remedy, not only the missing file.
        assert "app.synth()" in violation.description
        assert "No such file" not in violation.description
