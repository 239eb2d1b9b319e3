"""``ClientVpn(device_trust_providers=..., authorization_policy=...,
log_authorization_policy_context=...)``: the template, one test per error, the warning.

Oracle: the CloudFormation property shapes (``DevicePostureOptions``, ``AuthorizationPolicy``
with ``ShadowMode`` ``enabled``/``disabled``, ``ConnectionLogOptions.
IncludeAuthorizationPolicyContext``) written out here, and cfn-lint's schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Annotations, Match, Template
from cfnlint.api import ManualArgs, lint

from constructs_cvpn import (
    AuthorizationPolicy,
    ClientVpn,
    ClientVpnConfigError,
    DeviceTrustProvider,
)

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
POLICY = 'permit(principal, action, resource) when { context.jamf.risk == "LOW" };'
JAMF = DeviceTrustProvider(type="jamf", tenant_id="tenant-1")


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App(context={"cvpn:skipBundling": True})


def new_stack(app: App, name: str) -> tuple[Stack, ec2.Vpc]:
    stack = Stack(Stage(app, name), "Stack")
    return stack, ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)


def vpn(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    defaults: dict[str, Any] = {
        "vpc": vpc,
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "config_export": False,
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


def endpoint(app: App, name: str, **props: Any) -> tuple[Stack, dict[str, Any]]:
    stack, vpc = new_stack(app, name)
    vpn(stack, vpc, **props)
    [resource] = Template.from_stack(stack).find_resources(ENDPOINT).values()
    return stack, resource["Properties"]


def test_posture_and_enforced_policy(app: App) -> None:
    stack, props = endpoint(
        app,
        "Enforced",
        device_trust_providers=[JAMF],
        authorization_policy=AuthorizationPolicy.from_text(POLICY, description="Jamf risk"),
    )
    assert props["DevicePostureOptions"] == {
        "Enabled": True,
        "TrustProviders": [{"TrustProviderType": "jamf", "TenantId": "tenant-1"}],
    }
    assert props["AuthorizationPolicy"] == {
        "PolicyDocument": POLICY,
        "ShadowMode": "disabled",
        "Description": "Jamf risk",
    }
    # The policy's context is logged unless asked otherwise.
    assert props["ConnectionLogOptions"]["IncludeAuthorizationPolicyContext"] is True
    assert props["ConnectionLogOptions"]["Enabled"] is True
    template = json.dumps(Template.from_stack(stack).to_json())
    errors = [
        f"{m.rule.id} {m.message}"
        for m in lint(template, config=ManualArgs(regions=["eu-west-1"]))
        if m.rule.id.startswith("E")
    ]
    assert errors == []


def test_the_cdks_lagging_template_check_is_acknowledged_not_shown(app: App) -> None:
    stack, _ = endpoint(
        app, "NoCdkWarning", authorization_policy=AuthorizationPolicy.from_text(POLICY)
    )
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("F3002"))
    assert warnings == []


def test_policy_from_a_file_in_shadow_mode(app: App, tmp_path: Path) -> None:
    path = tmp_path / "vpn.cedar"
    path.write_text(POLICY + "\n", encoding="utf-8")
    _, props = endpoint(
        app,
        "FromFile",
        device_trust_providers=[JAMF],
        authorization_policy=AuthorizationPolicy.from_file(path, shadow_mode=True),
    )
    assert props["AuthorizationPolicy"] == {
        "PolicyDocument": POLICY + "\n",
        "ShadowMode": "enabled",
    }


def test_policy_context_can_be_left_out_of_the_logs(app: App) -> None:
    _, props = endpoint(
        app,
        "NoContext",
        authorization_policy=AuthorizationPolicy.from_text(POLICY),
        log_authorization_policy_context=False,
    )
    assert "IncludeAuthorizationPolicyContext" not in props["ConnectionLogOptions"]


def test_nothing_by_default(app: App) -> None:
    _, props = endpoint(app, "Default")
    assert "DevicePostureOptions" not in props
    assert "AuthorizationPolicy" not in props
    assert "IncludeAuthorizationPolicyContext" not in props["ConnectionLogOptions"]


def test_policy_reading_an_unconfigured_provider_warns(app: App) -> None:
    stack, _ = endpoint(
        app, "Unconfigured", authorization_policy=AuthorizationPolicy.from_text(POLICY)
    )
    [warning] = Annotations.from_stack(stack).find_warning(
        "/Unconfigured/Stack/Vpn", Match.string_like_regexp("device signals of jamf")
    )
    assert "policyReadsUnconfiguredProvider" in json.dumps(warning.entry.data)


# -- errors ---------------------------------------------------------------------------------


def config_error(stack: Stack, prop: str, problem: str) -> Any:
    path = f"{stack.node.path}/Vpn"
    return pytest.raises(ClientVpnConfigError, match=rf"^{re.escape(path)}: {prop}: .*{problem}")


def test_policy_context_without_a_policy(app: App) -> None:
    stack, vpc = new_stack(app, "ContextNoPolicy")
    with config_error(stack, "log_authorization_policy_context", "there is none"):
        vpn(stack, vpc, log_authorization_policy_context=True)


def test_unknown_trust_provider(app: App) -> None:
    stack, vpc = new_stack(app, "UnknownProvider")
    with config_error(stack, "device_trust_providers", "'intune' is not one Client VPN"):
        vpn(stack, vpc, device_trust_providers=[DeviceTrustProvider("intune", "t")])


def test_policy_without_permit(app: App) -> None:
    stack, vpc = new_stack(app, "NoPermit")
    with config_error(stack, "authorization_policy", "would deny every connection"):
        vpn(
            stack,
            vpc,
            authorization_policy=AuthorizationPolicy.from_text(
                "forbid(principal, action, resource);"
            ),
        )


def test_policy_file_missing(app: App, tmp_path: Path) -> None:
    stack, vpc = new_stack(app, "NoFile")
    with config_error(stack, "authorization_policy", "does not exist"):
        vpn(stack, vpc, authorization_policy=AuthorizationPolicy.from_file(tmp_path / "x.cedar"))
