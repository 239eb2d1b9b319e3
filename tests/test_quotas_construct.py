"""Client VPN's quotas as ``ClientVpn`` enforces them, and ``max_azs``.

Oracle: the guide's figures written out here (200 rules, 100 routes per association, 255
characters, /27), counted independently of the construct (e.g. 51 routes x 2 subnets is
still 51 per association, not 102).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match, Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError, Route

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Idp"
ENV = Environment(account="111111111111", region="eu-west-1")
AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App(
        context={
            "cvpn:skipBundling": True,
            "availability-zones:account=111111111111:region=eu-west-1": AZS,
        }
    )


def new_stack(app: App, name: str, *, cidr_mask: int | None = None) -> tuple[Stack, ec2.Vpc]:
    stack = Stack(Stage(app, name), "Stack", env=ENV)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=3,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(
                name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=cidr_mask
            )
        ],
    )
    return stack, vpc


def vpn(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    defaults: dict[str, Any] = {
        "vpc": vpc,
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "config_export": False,
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


def cidrs(n: int) -> list[str]:
    """``n`` distinct /24s outside the VPC (10.0.0.0/16) and the client CIDR."""
    return [f"172.{16 + i // 256}.{i % 256}.0/24" for i in range(n)]


def quota_warnings(stack: Stack, quota: str) -> list[Any]:
    return Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp(re.escape(quota))
    )


def config_error(stack: Stack, prop: str, problem: str) -> Any:
    path = f"{stack.node.path}/Vpn"
    return pytest.raises(ClientVpnConfigError, match=rf"^{re.escape(path)}: {prop}: .*{problem}")


# -- authorization rules per endpoint (200, adjustable) -------------------------------------


@pytest.mark.parametrize(("count", "warned"), [(200, False), (201, True)])
def test_authorization_rules_over_200_warn(app: App, count: int, warned: bool) -> None:
    stack, vpc = new_stack(app, f"Rules{count}")
    vpn(
        stack, vpc, authorization_rules=[AuthorizationRule(c, all_users=True) for c in cidrs(count)]
    )
    found = quota_warnings(stack, "Authorization rules per Client VPN endpoint")
    assert len(found) == int(warned)
    if warned:
        assert "authorization rules: 201" in str(found[0].entry.data)


# -- routes per association (100, adjustable): counted per association ------------------------


def test_routes_through_every_subnet_count_once_per_association(app: App) -> None:
    """100 routes through each of 3 subnets are 300 routes but 100 per association."""
    stack, vpc = new_stack(app, "Routes100")
    vpn(stack, vpc, routes=[Route(c) for c in cidrs(100)])
    assert quota_warnings(stack, "Routes per Client VPN target network association") == []


def test_the_101st_route_of_an_association_warns(app: App) -> None:
    stack, vpc = new_stack(app, "Routes101")
    construct = vpn(stack, vpc, routes=[Route(c) for c in cidrs(100)])
    construct.add_route("192.168.0.0/24", subnet=construct.associated_subnets[0])
    [warning] = quota_warnings(stack, "Routes per Client VPN target network association")
    assert "routes through one associated subnet: 101" in str(warning.entry.data)


# -- group id length (255, fixed) ------------------------------------------------------------


def _saml(stack: Stack) -> ec2.ClientVpnUserBasedAuthentication:
    return ec2.ClientVpnUserBasedAuthentication.federated(
        iam.SamlProvider.from_saml_provider_arn(stack, "Idp", SAML_ARN)
    )


def test_group_id_of_255_characters_passes(app: App) -> None:
    stack, vpc = new_stack(app, "Group255")
    vpn(
        stack,
        vpc,
        user_based_authentication=_saml(stack),
        authorization_rules=[AuthorizationRule("172.16.0.0/16", group_id="g" * 255)],
    )


def test_group_id_over_255_characters(app: App) -> None:
    stack, vpc = new_stack(app, "Group256")
    with config_error(stack, "authorization_rules", r"group_id length: 256.*\(255\).*not raise"):
        vpn(
            stack,
            vpc,
            user_based_authentication=_saml(stack),
            authorization_rules=[AuthorizationRule("172.16.0.0/16", group_id="g" * 256)],
        )


# -- target subnets: /27 or larger ------------------------------------------------------------


def test_a_27_subnet_passes(app: App) -> None:
    stack, vpc = new_stack(app, "Subnet27", cidr_mask=27)
    vpn(stack, vpc)


def test_a_28_subnet_is_too_small(app: App) -> None:
    stack, vpc = new_stack(app, "Subnet28", cidr_mask=28)
    with config_error(stack, "vpc_subnets", r"\(10\.0\.0\.0/28\) is smaller than /27"):
        vpn(stack, vpc)


# -- the connect handler's home ---------------------------------------------------------------


def test_connect_handler_in_another_region(app: App) -> None:
    stack, vpc = new_stack(app, "HandlerRegion")
    handler = lambda_.Function.from_function_arn(
        stack, "H", "arn:aws:lambda:us-east-1:111111111111:function:AWSClientVPN-check"
    )
    with config_error(stack, "client_connection_handler", "is in region us-east-1"):
        vpn(stack, vpc, client_connection_handler=handler)


def test_connect_handler_in_another_account(app: App) -> None:
    stack, vpc = new_stack(app, "HandlerAccount")
    handler = lambda_.Function.from_function_arn(
        stack, "H", "arn:aws:lambda:eu-west-1:222222222222:function:AWSClientVPN-check"
    )
    with config_error(stack, "client_connection_handler", "is in account 222222222222"):
        vpn(stack, vpc, client_connection_handler=handler)


def test_a_qualified_connect_handler_is_supported(app: App) -> None:
    """Admin guide: "Qualified Lambda functions are supported"."""
    stack, vpc = new_stack(app, "HandlerAlias")
    arn = "arn:aws:lambda:eu-west-1:111111111111:function:AWSClientVPN-check:live"
    vpn(stack, vpc, client_connection_handler=lambda_.Function.from_function_arn(stack, "H", arn))
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::ClientVpnEndpoint",
        {"ClientConnectOptions": {"Enabled": True, "LambdaFunctionArn": arn}},
    )


# -- max_azs ------------------------------------------------------------------------------


def associated_azs(stack: Stack) -> list[str]:
    template = Template.from_stack(stack).to_json()
    subnets = {
        lid: r["Properties"]["AvailabilityZone"]
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    return sorted(
        subnets[r["Properties"]["SubnetId"]["Ref"]]
        for r in template["Resources"].values()
        if r["Type"] == ASSOCIATION
    )


@pytest.mark.parametrize(
    ("max_azs", "expected"), [(None, AZS), (1, AZS[:1]), (2, AZS[:2]), (5, AZS)]
)
def test_max_azs_keeps_the_first_azs(app: App, max_azs: int | None, expected: list[str]) -> None:
    stack, vpc = new_stack(app, f"MaxAzs{max_azs}")
    vpn(stack, vpc, max_azs=max_azs)
    assert associated_azs(stack) == expected


@pytest.mark.parametrize("value", [0, -1])
def test_max_azs_below_one(app: App, value: int) -> None:
    stack, vpc = new_stack(app, f"MaxAzsBad{abs(value)}")
    with config_error(stack, "max_azs", "give a number of AZs of 1 or more"):
        vpn(stack, vpc, max_azs=value)
