"""``ClientVpnChecks`` on the plain L2 ``aws_ec2.ClientVpnEndpoint`` and pack-level behaviour.

The L2's defaults are permissive: a log group without KMS encryption, every user authorized to
the VPC CIDR, full tunnel without client route enforcement and no explicit session settings.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from constructs_cvpn.nag import ALL_RULES, PACK_NAME
from tests.nag.report import NagReport, synth_with_checks

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/server"
SAML = "arn:aws:iam::123456789012:saml-provider/idp"


def l2_endpoint(stack: Stack, **props: object) -> ec2.ClientVpnEndpoint:
    """A plain L2 endpoint in a new VPC, with the given props on top of the required ones."""
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    return ec2.ClientVpnEndpoint(
        stack, "Endpoint", vpc=vpc, cidr="10.100.0.0/22", server_certificate_arn=CERT, **props
    )


@pytest.fixture(scope="module")
def report() -> Iterator[NagReport]:
    """One app: the L2 with SAML, the L2 with mutual auth only."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir)
        saml = Stack(app, "Saml")
        l2_endpoint(
            saml,
            user_based_authentication=ec2.ClientVpnUserBasedAuthentication.federated(
                iam.SamlProvider.from_saml_provider_arn(saml, "Idp", SAML)
            ),
        )
        mutual = Stack(app, "Mutual")
        l2_endpoint(mutual, client_certificate_arn=CERT)
        yield synth_with_checks(app)


def test_l2_with_saml_defaults(report: NagReport) -> None:
    assert report.under("Saml") == {
        "Saml/Endpoint/Resource": {
            "ClientVpn-LogGroupEncrypted": "error",
            "ClientVpn-SessionTimeout": "warning",
            "ClientVpn-ClientRouteEnforcement": "warning",
        },
        "Saml/Endpoint/AuthorizeAll/Resource": {"ClientVpn-AuthorizeAllGroups": "error"},
    }


def test_l2_with_mutual_auth_defaults(report: NagReport) -> None:
    # Certificate-only: authorizing all clients is the only option, so no AuthorizeAllGroups.
    assert report.under("Mutual") == {
        "Mutual/Endpoint/Resource": {
            "ClientVpn-LogGroupEncrypted": "error",
            "ClientVpn-SessionTimeout": "warning",
            "ClientVpn-ClientRouteEnforcement": "warning",
        },
    }


def test_error_findings_fail_synth(report: NagReport) -> None:
    assert report.synth_failed


def test_warnings_alone_do_not_fail_synth() -> None:
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir)
        stack = Stack(app, "Warn")
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
            connection_log_options=ec2.CfnClientVpnEndpoint.ConnectionLogOptionsProperty(
                enabled=True, cloudwatch_log_group="imported-group"
            ),
            split_tunnel=True,
        )
        result = synth_with_checks(app)
    assert not result.synth_failed
    assert result.findings == {
        "Warn/Endpoint": {
            "ClientVpn-SessionTimeout": "warning",
            "ClientVpn-SplitTunnel": "warning",
        }
    }


def test_rule_ids_are_unique_and_prefixed() -> None:
    ids = [rule.rule_id for rule in ALL_RULES]
    assert len(set(ids)) == len(ids) == 11
    assert all(i.startswith(f"{PACK_NAME}-") for i in ids)
    assert all(rule.info and rule.explanation for rule in ALL_RULES)
