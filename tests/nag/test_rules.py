"""Each ``ClientVpn-*`` rule on L1 resources: a compliant and a non-compliant case (or more).

One app holds every scenario as its own stack; it is synthesized once with the pack and the
findings are read back from ``validation-report.json``. Every scenario starts from a baseline
endpoint that passes all rules and changes one thing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import Acknowledgment, App, CfnParameter, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from tests.nag.report import NagReport, synth_with_checks

SAML = "arn:aws:iam::123456789012:saml-provider/idp"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/server"
Auth = ec2.CfnClientVpnEndpoint.ClientAuthenticationRequestProperty
FEDERATED = Auth(
    type="federated-authentication",
    federated_authentication=ec2.CfnClientVpnEndpoint.FederatedAuthenticationRequestProperty(
        saml_provider_arn=SAML
    ),
)
DIRECTORY = Auth(
    type="directory-service-authentication",
    active_directory=ec2.CfnClientVpnEndpoint.DirectoryServiceAuthenticationRequestProperty(
        directory_id="d-1234567890"
    ),
)
CERTIFICATE = Auth(
    type="certificate-authentication",
    mutual_authentication=ec2.CfnClientVpnEndpoint.CertificateAuthenticationRequestProperty(
        client_root_certificate_chain_arn=CERT
    ),
)
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OPEN = "0.0.0.0/0"
Enforcement = ec2.CfnClientVpnEndpoint.ClientRouteEnforcementOptionsProperty
PERMIT = 'permit(principal, action, resource) when { context.jamf.risk == "LOW" };'


def posture(*, enabled: bool) -> dict[str, Any]:
    """``DevicePostureOptions`` with one Jamf tenant."""
    return {
        "Enabled": enabled,
        "TrustProviders": [{"TrustProviderType": "jamf", "TenantId": "tenant-1"}],
    }


DEFAULT = object()
"""Marker: keep the baseline value of a property."""


def endpoint_stack(
    app: App,
    name: str,
    *,
    auth: Auth = FEDERATED,
    log_group: dict[str, Any] | None = None,
    log_group_ref: Any = DEFAULT,
    logging: Any = True,
    sg_ingress: list[ec2.CfnSecurityGroup.IngressProperty] | None = None,
    security_group_ids: Any = DEFAULT,
    **endpoint_props: Any,
) -> tuple[Stack, ec2.CfnClientVpnEndpoint, ec2.CfnVPC]:
    """A stack with a VPC, a log group, a security group and an endpoint passing every rule.

    Keyword arguments replace one part of the baseline; ``endpoint_props`` override properties
    of the endpoint (``None`` removes one).
    """
    stack = Stack(app, name)
    vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.0.0.0/16")
    group = logs.CfnLogGroup(
        stack,
        "Logs",
        **(
            log_group if log_group is not None else {"kms_key_id": KMS_KEY, "retention_in_days": 90}
        ),
    )
    sg = ec2.CfnSecurityGroup(
        stack,
        "Sg",
        group_description="endpoint",
        vpc_id=vpc.ref,
        security_group_ingress=sg_ingress,
    )
    props: dict[str, Any] = {
        "authentication_options": [auth],
        "client_cidr_block": "10.100.0.0/22",
        "server_certificate_arn": CERT,
        "connection_log_options": ec2.CfnClientVpnEndpoint.ConnectionLogOptionsProperty(
            enabled=logging,
            cloudwatch_log_group=group.ref if log_group_ref is DEFAULT else log_group_ref,
        ),
        "vpc_id": vpc.ref,
        "security_group_ids": (
            [sg.attr_group_id] if security_group_ids is DEFAULT else security_group_ids
        ),
        "session_timeout_hours": 8,
        "disconnect_on_session_timeout": True,
        "split_tunnel": False,
        "client_route_enforcement_options": Enforcement(enforced=True),
    }
    props.update(endpoint_props)
    props = {k: v for k, v in props.items() if v is not None}
    endpoint = ec2.CfnClientVpnEndpoint(stack, "Endpoint", **props)
    return stack, endpoint, vpc


def all_groups_rule(stack: Stack, endpoint_id: str, cidr: str) -> None:
    """Add an authorization rule granting all groups access to ``cidr``."""
    ec2.CfnClientVpnAuthorizationRule(
        stack,
        "Rule",
        client_vpn_endpoint_id=endpoint_id,
        target_network_cidr=cidr,
        authorize_all_groups=True,
    )


def build(app: App) -> None:
    """Every scenario of this module, one stack each."""
    # Baselines.
    endpoint_stack(app, "Compliant")
    stack, ep, vpc = endpoint_stack(app, "CompliantCert", auth=CERTIFICATE)
    all_groups_rule(stack, ep.ref, vpc.attr_cidr_block)
    stack, ep, vpc = endpoint_stack(app, "CompliantGroupRule")
    ec2.CfnClientVpnAuthorizationRule(
        stack,
        "Rule",
        client_vpn_endpoint_id=ep.ref,
        target_network_cidr=vpc.attr_cidr_block,
        access_group_id="engineers",
    )
    # ConnectionLogging
    endpoint_stack(app, "LoggingOff", logging=False)
    _, ep, _ = endpoint_stack(app, "LoggingMissing")
    ep.add_property_deletion_override("ConnectionLogOptions")
    _, ep, _ = endpoint_stack(app, "LoggingOverride")
    ep.add_property_override("ConnectionLogOptions.Enabled", False)
    _, ep, _ = endpoint_stack(app, "LoggingAcknowledged", logging=False)
    Validations.of(ep).acknowledge(
        Acknowledgment(id="ClientVpn-ConnectionLogging", reason="test: logged elsewhere")
    )
    # LogGroupEncrypted / LogGroupRetention
    endpoint_stack(app, "LogsNoKms", log_group={"retention_in_days": 90})
    endpoint_stack(app, "LogsNoRetention", log_group={"kms_key_id": KMS_KEY})
    endpoint_stack(
        app,
        "LogsByName",
        log_group={"log_group_name": "vpn-logs", "retention_in_days": 30},
        log_group_ref="vpn-logs",
    )
    endpoint_stack(app, "LogsImported", log_group_ref="someone-elses-group")
    # AuthorizeAllGroups
    stack, ep, _ = endpoint_stack(app, "AllGroupsWorld")
    all_groups_rule(stack, ep.ref, "0.0.0.0/0")
    stack, ep, vpc = endpoint_stack(app, "AllGroupsVpcCidr", auth=DIRECTORY)
    all_groups_rule(stack, ep.ref, vpc.attr_cidr_block)
    stack, ep, _ = endpoint_stack(app, "AllGroupsVpcCidrLiteral")
    all_groups_rule(stack, ep.ref, "10.0.0.0/16")
    stack, ep, _ = endpoint_stack(app, "AllGroupsOtherCidr")
    all_groups_rule(stack, ep.ref, "192.168.10.0/24")
    stack, _, _ = endpoint_stack(app, "AllGroupsImportedEndpoint")
    all_groups_rule(stack, "cvpn-endpoint-0123456789abcdef0", "0.0.0.0/0")
    # SessionTimeout
    endpoint_stack(
        app, "NoSessionTimeout", session_timeout_hours=None, disconnect_on_session_timeout=None
    )
    endpoint_stack(app, "NoDisconnect", disconnect_on_session_timeout=False)
    # SelfServicePortal
    endpoint_stack(app, "PortalCertificate", auth=CERTIFICATE, self_service_portal="enabled")
    endpoint_stack(app, "PortalSaml", self_service_portal="enabled")
    # ClientRouteEnforcement / SplitTunnel
    endpoint_stack(app, "NotEnforced", client_route_enforcement_options=None)
    endpoint_stack(app, "EnforcedOff", client_route_enforcement_options=Enforcement(enforced=False))
    endpoint_stack(app, "Split", split_tunnel=True, client_route_enforcement_options=None)
    endpoint_stack(app, "SplitAbsent", split_tunnel=None, client_route_enforcement_options=None)
    stack, ep, _ = endpoint_stack(app, "SplitFromParameter", client_route_enforcement_options=None)
    param = CfnParameter(stack, "SplitTunnel", type="String", allowed_values=["true", "false"])
    ep.add_property_override("SplitTunnel", param.value)
    # SecurityGroupOpenIngress
    endpoint_stack(
        app,
        "SgInlineOpen",
        sg_ingress=[
            ec2.CfnSecurityGroup.IngressProperty(
                ip_protocol="tcp", from_port=443, to_port=443, cidr_ip=OPEN
            )
        ],
    )
    stack, _, _ = endpoint_stack(app, "SgSeparateOpen")
    ec2.CfnSecurityGroupIngress(
        stack,
        "Ingress",
        group_id=stack.node.find_child("Sg").attr_group_id,  # type: ignore[attr-defined]
        ip_protocol="-1",
        cidr_ipv6="::/0",
    )
    stack, _, _ = endpoint_stack(app, "SgSeparateRestricted")
    ec2.CfnSecurityGroupIngress(
        stack,
        "Ingress",
        group_id=stack.node.find_child("Sg").attr_group_id,  # type: ignore[attr-defined]
        ip_protocol="tcp",
        from_port=22,
        to_port=22,
        cidr_ip="10.0.0.0/8",
    )
    endpoint_stack(app, "SgImported", security_group_ids=["sg-0123456789abcdef0"])
    # AuthorizationPolicyShadowMode / DevicePostureWithoutPolicy (properties the floor's L1
    # lacks: set as overrides, as ClientVpn does)
    for name, mode in [("PolicyShadow", "enabled"), ("PolicyEnforced", "disabled")]:
        _, ep, _ = endpoint_stack(app, name)
        ep.add_property_override(
            "AuthorizationPolicy", {"PolicyDocument": PERMIT, "ShadowMode": mode}
        )
    _, ep, _ = endpoint_stack(app, "PolicyDefaultMode")
    ep.add_property_override("AuthorizationPolicy", {"PolicyDocument": PERMIT})
    stack, ep, _ = endpoint_stack(app, "PolicyShadowFromParameter")
    param = CfnParameter(stack, "Shadow", type="String", allowed_values=["enabled", "disabled"])
    ep.add_property_override(
        "AuthorizationPolicy", {"PolicyDocument": PERMIT, "ShadowMode": param.value_as_string}
    )
    _, ep, _ = endpoint_stack(app, "PostureNoPolicy")
    ep.add_property_override("DevicePostureOptions", posture(enabled=True))
    _, ep, _ = endpoint_stack(app, "PostureOff")
    ep.add_property_override("DevicePostureOptions", posture(enabled=False))
    for name, mode in [("PostureEnforced", "disabled"), ("PostureShadow", "enabled")]:
        _, ep, _ = endpoint_stack(app, name)
        ep.add_property_override("DevicePostureOptions", posture(enabled=True))
        ep.add_property_override(
            "AuthorizationPolicy", {"PolicyDocument": PERMIT, "ShadowMode": mode}
        )


@pytest.fixture(scope="module")
def report() -> Iterator[NagReport]:
    """The app of this module, synthesized once with ``ClientVpnChecks``."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir)
        build(app)
        yield synth_with_checks(app)


def findings(report: NagReport, stack: str) -> dict[str, dict[str, str]]:
    """Findings in one scenario stack, keyed by construct id relative to the stack."""
    return {path.removeprefix(stack + "/"): f for path, f in report.under(stack).items()}


ERROR, WARNING = "error", "warning"


class TestBaseline:
    """The baseline scenarios have no findings at all."""

    @pytest.mark.parametrize("stack", ["Compliant", "CompliantCert", "CompliantGroupRule"])
    def test_no_findings(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {}

    def test_error_findings_fail_synth(self, report: NagReport) -> None:
        assert report.synth_failed
        assert "ValidationFailed" in report.error_message


class TestConnectionLogging:
    """ClientVpn-ConnectionLogging (ERROR)."""

    @pytest.mark.parametrize("stack", ["LoggingOff", "LoggingMissing", "LoggingOverride"])
    def test_logging_off_is_an_error(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {"Endpoint": {"ClientVpn-ConnectionLogging": ERROR}}

    def test_logging_on_passes(self, report: NagReport) -> None:
        assert "ClientVpn-ConnectionLogging" not in report.at("Compliant/Endpoint")

    def test_acknowledged_finding_is_not_reported(self, report: NagReport) -> None:
        assert findings(report, "LoggingAcknowledged") == {}


class TestLogGroupEncrypted:
    """ClientVpn-LogGroupEncrypted (ERROR)."""

    def test_log_group_without_kms_key(self, report: NagReport) -> None:
        assert findings(report, "LogsNoKms") == {"Endpoint": {"ClientVpn-LogGroupEncrypted": ERROR}}

    def test_log_group_found_by_literal_name(self, report: NagReport) -> None:
        assert findings(report, "LogsByName") == {
            "Endpoint": {"ClientVpn-LogGroupEncrypted": ERROR}
        }

    def test_encrypted_log_group_passes(self, report: NagReport) -> None:
        assert findings(report, "LogsNoRetention")["Endpoint"].keys() == {
            "ClientVpn-LogGroupRetention"
        }

    def test_imported_log_group_is_unknown_not_an_error(self, report: NagReport) -> None:
        assert findings(report, "LogsImported") == {}


class TestLogGroupRetention:
    """ClientVpn-LogGroupRetention (ERROR)."""

    def test_log_group_without_retention(self, report: NagReport) -> None:
        assert findings(report, "LogsNoRetention") == {
            "Endpoint": {"ClientVpn-LogGroupRetention": ERROR}
        }

    def test_log_group_with_retention_passes(self, report: NagReport) -> None:
        assert "ClientVpn-LogGroupRetention" not in report.at("LogsNoKms/Endpoint")


class TestAuthorizeAllGroups:
    """ClientVpn-AuthorizeAllGroups (ERROR), reported on the authorization rule."""

    @pytest.mark.parametrize(
        "stack", ["AllGroupsWorld", "AllGroupsVpcCidr", "AllGroupsVpcCidrLiteral"]
    )
    def test_all_groups_with_user_based_auth(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {"Rule": {"ClientVpn-AuthorizeAllGroups": ERROR}}

    @pytest.mark.parametrize(
        "stack",
        [
            "AllGroupsOtherCidr",
            "AllGroupsImportedEndpoint",
            "CompliantCert",
            "CompliantGroupRule",
        ],
    )
    def test_not_flagged(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {}


class TestSessionTimeout:
    """ClientVpn-SessionTimeout (WARN)."""

    @pytest.mark.parametrize("stack", ["NoSessionTimeout", "NoDisconnect"])
    def test_unset_timeout_or_no_disconnect_warns(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {"Endpoint": {"ClientVpn-SessionTimeout": WARNING}}

    def test_explicit_timeout_passes(self, report: NagReport) -> None:
        assert "ClientVpn-SessionTimeout" not in report.at("Compliant/Endpoint")


class TestSelfServicePortal:
    """ClientVpn-SelfServicePortal (ERROR)."""

    def test_portal_without_user_based_auth(self, report: NagReport) -> None:
        assert findings(report, "PortalCertificate") == {
            "Endpoint": {"ClientVpn-SelfServicePortal": ERROR}
        }

    def test_portal_with_saml_passes(self, report: NagReport) -> None:
        assert findings(report, "PortalSaml") == {}


class TestClientRouteEnforcement:
    """ClientVpn-ClientRouteEnforcement (WARN)."""

    @pytest.mark.parametrize("stack", ["NotEnforced", "EnforcedOff", "SplitAbsent"])
    def test_full_tunnel_without_enforcement_warns(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {
            "Endpoint": {"ClientVpn-ClientRouteEnforcement": WARNING}
        }

    def test_split_tunnel_is_not_applicable(self, report: NagReport) -> None:
        assert "ClientVpn-ClientRouteEnforcement" not in report.at("Split/Endpoint")

    def test_enforced_passes(self, report: NagReport) -> None:
        assert "ClientVpn-ClientRouteEnforcement" not in report.at("Compliant/Endpoint")


class TestSplitTunnel:
    """ClientVpn-SplitTunnel (WARN)."""

    def test_split_tunnel_warns(self, report: NagReport) -> None:
        assert findings(report, "Split") == {"Endpoint": {"ClientVpn-SplitTunnel": WARNING}}

    def test_full_tunnel_passes(self, report: NagReport) -> None:
        assert "ClientVpn-SplitTunnel" not in report.at("Compliant/Endpoint")

    def test_split_tunnel_from_a_parameter_is_unknown(self, report: NagReport) -> None:
        assert findings(report, "SplitFromParameter") == {}


class TestSecurityGroupOpenIngress:
    """ClientVpn-SecurityGroupOpenIngress (ERROR)."""

    @pytest.mark.parametrize("stack", ["SgInlineOpen", "SgSeparateOpen"])
    def test_open_ingress_is_an_error(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {
            "Endpoint": {"ClientVpn-SecurityGroupOpenIngress": ERROR}
        }

    @pytest.mark.parametrize("stack", ["SgSeparateRestricted", "SgImported", "Compliant"])
    def test_restricted_or_unknown_groups_pass(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {}


class TestAuthorizationPolicyShadowMode:
    """ClientVpn-AuthorizationPolicyShadowMode (WARN)."""

    @pytest.mark.parametrize("stack", ["PolicyShadow", "PostureShadow"])
    def test_shadow_mode_warns(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {
            "Endpoint": {"ClientVpn-AuthorizationPolicyShadowMode": WARNING}
        }

    @pytest.mark.parametrize("stack", ["PolicyEnforced", "PolicyDefaultMode", "PostureEnforced"])
    def test_enforced_policy_passes(self, report: NagReport, stack: str) -> None:
        assert findings(report, stack) == {}

    def test_mode_from_a_parameter_is_unknown(self, report: NagReport) -> None:
        assert findings(report, "PolicyShadowFromParameter") == {}


class TestDevicePostureWithoutPolicy:
    """ClientVpn-DevicePostureWithoutPolicy (WARN)."""

    def test_posture_without_policy_warns(self, report: NagReport) -> None:
        assert findings(report, "PostureNoPolicy") == {
            "Endpoint": {"ClientVpn-DevicePostureWithoutPolicy": WARNING}
        }

    @pytest.mark.parametrize("stack", ["PostureOff", "PostureEnforced", "Compliant"])
    def test_posture_off_or_with_policy_passes(self, report: NagReport, stack: str) -> None:
        assert "ClientVpn-DevicePostureWithoutPolicy" not in report.at(f"{stack}/Endpoint")
