"""``ClientVpn(transit_gateway=...)``: the endpoint, associations, rules and routes it makes,
and one test per error AWS's rules imply.

Oracle: the EC2 API reference's rules written out here (no ``VpcId``/``SecurityGroupIds``
with ``TransitGatewayConfiguration``; associations by ``AvailabilityZone`` or
``AvailabilityZoneId``; routes without ``TargetVpcSubnetId``) and cfn-lint's resource schemas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Annotations, Match, Template
from cfnlint.api import ManualArgs, lint

from constructs_cvpn import (
    AuthorizationRule,
    ClientVpn,
    ClientVpnConfigError,
    Route,
    TransitGatewayAttachment,
)

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
TGW = "tgw-0123456789abcdef0"
ENV = Environment(account="111111111111", region="eu-west-1")
ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"
ROUTE = "AWS::EC2::ClientVpnRoute"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
BEHIND_TGW = "10.20.0.0/16"


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App(context={"cvpn:skipBundling": True})


def new_stack(app: App, name: str) -> Stack:
    return Stack(Stage(app, name), "Stack", env=ENV)


def attached(**zones: Any) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(
        TGW, **(zones or {"availability_zones": ["eu-west-1a", "eu-west-1b"]})
    )


def vpn(stack: Stack, **props: Any) -> ClientVpn:
    defaults: dict[str, Any] = {
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "config_export": False,
        "transit_gateway": attached(),
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


def build(app: App, name: str, **props: Any) -> tuple[ClientVpn, Template]:
    stack = new_stack(app, name)
    construct = vpn(stack, **props)
    return construct, Template.from_stack(stack)


@pytest.fixture(scope="module")
def full(app: App) -> tuple[ClientVpn, Template]:
    """Rules and routes to the networks behind the transit gateway, and internet access."""
    return build(
        app,
        "Full",
        authorization_rules=[AuthorizationRule(cidr=BEHIND_TGW, all_users=True)],
        routes=[Route(cidr=BEHIND_TGW, description="Behind the transit gateway")],
        internet_access=True,
    )


def test_endpoint_has_a_transit_gateway_and_no_vpc_or_security_group(
    full: tuple[ClientVpn, Template],
) -> None:
    _, template = full
    [endpoint] = template.find_resources(ENDPOINT).values()
    props = endpoint["Properties"]
    assert props["TransitGatewayConfiguration"] == {"TransitGatewayId": TGW}
    assert "VpcId" not in props
    assert "SecurityGroupIds" not in props
    template.resource_count_is("AWS::EC2::SecurityGroup", 0)
    template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)


def test_one_association_per_az_name(full: tuple[ClientVpn, Template]) -> None:
    vpn_, template = full
    associations = template.find_resources(ASSOCIATION)
    assert sorted(a["Properties"]["AvailabilityZone"] for a in associations.values()) == [
        "eu-west-1a",
        "eu-west-1b",
    ]
    assert all(set(a["Properties"]) == {"AvailabilityZone", "ClientVpnEndpointId"}
               for a in associations.values())  # fmt: skip
    assert sorted(vpn_.associations) == ["eu-west-1a", "eu-west-1b"]
    assert vpn_.associated_subnets == []


def test_associations_by_az_id(app: App) -> None:
    _, template = build(
        app, "ById", transit_gateway=attached(availability_zone_ids=["euw1-az1", "euw1-az2"])
    )
    ids = [a["Properties"] for a in template.find_resources(ASSOCIATION).values()]
    assert sorted(p["AvailabilityZoneId"] for p in ids) == ["euw1-az1", "euw1-az2"]
    assert all("AvailabilityZone" not in p for p in ids)


def test_one_route_per_destination_without_a_target_subnet(
    full: tuple[ClientVpn, Template],
) -> None:
    _, template = full
    routes = [r["Properties"] for r in template.find_resources(ROUTE).values()]
    assert sorted(r["DestinationCidrBlock"] for r in routes) == ["0.0.0.0/0", BEHIND_TGW]
    assert all("TargetVpcSubnetId" not in r for r in routes)


def test_routes_wait_for_every_association(full: tuple[ClientVpn, Template]) -> None:
    _, template = full
    associations = set(template.find_resources(ASSOCIATION))
    for route in template.find_resources(ROUTE).values():
        assert associations <= set(route.get("DependsOn", []))


def test_rules(full: tuple[ClientVpn, Template]) -> None:
    _, template = full
    rules = [r["Properties"]["TargetNetworkCidr"] for r in template.find_resources(RULE).values()]
    assert sorted(rules) == ["0.0.0.0/0", BEHIND_TGW]


def test_connections_are_the_client_cidr(app: App) -> None:
    """No SNAT through a transit gateway: what clients reach sees the client CIDR."""
    stack = new_stack(app, "Connections")
    construct = vpn(stack)
    vpc = ec2.Vpc(stack, "Workloads", max_azs=1, nat_gateways=0)
    db = ec2.SecurityGroup(stack, "Db", vpc=vpc)
    db.connections.allow_from(construct, ec2.Port.tcp(5432))
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": [
                Match.object_like({"CidrIp": "10.100.0.0/22", "FromPort": 5432, "ToPort": 5432})
            ]
        },
    )
    assert construct.security_group is None


def test_cfn_lint_finds_no_error(full: tuple[ClientVpn, Template]) -> None:
    _, template = full
    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=["eu-west-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []


# -- errors ---------------------------------------------------------------------------------


def config_error(stack: Stack, prop: str, problem: str) -> Any:
    path = f"{stack.node.path}/Vpn"
    return pytest.raises(ClientVpnConfigError, match=rf"^{re.escape(path)}: {prop}: .*{problem}")


def test_neither_vpc_nor_transit_gateway(app: App) -> None:
    stack = new_stack(app, "NoNetwork")
    with config_error(stack, "vpc", "is required.*or transit_gateway="):
        vpn(stack, transit_gateway=None)


@pytest.mark.parametrize(
    "prop", ["vpc", "security_groups", "vpc_subnets", "max_azs", "authorize_all_users_to_vpc_cidr"]
)
def test_vpc_props_are_refused_with_a_transit_gateway(app: App, prop: str) -> None:
    stack = new_stack(app, "Refused" + prop.title().replace("_", ""))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    value = {
        "vpc": vpc,
        "security_groups": [ec2.SecurityGroup(stack, "Sg", vpc=vpc)],
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        "max_azs": 1,
        "authorize_all_users_to_vpc_cidr": True,
    }[prop]
    with config_error(
        stack, prop, "does not apply with transit_gateway.*VpcId and SecurityGroupIds"
    ):
        vpn(stack, **{prop: value})


def test_transit_gateway_checks_carry_the_construct_path(app: App) -> None:
    stack = new_stack(app, "BadZone")
    with config_error(stack, "transit_gateway", "'us-east-1a' is not in the stack's region"):
        vpn(stack, transit_gateway=attached(availability_zones=["us-east-1a"]))


def test_route_through_a_subnet(app: App) -> None:
    stack = new_stack(app, "RouteSubnet")
    other = ec2.Vpc(stack, "Other", max_azs=1, nat_gateways=0)
    subnet = other.isolated_subnets[0] if other.isolated_subnets else other.public_subnets[0]
    with config_error(stack, "routes", "a transit gateway endpoint has no subnets"):
        vpn(stack, routes=[Route(cidr=BEHIND_TGW, subnet=subnet)])


def test_duplicate_route(app: App) -> None:
    stack = new_stack(app, "RouteTwice")
    with config_error(stack, "routes", "duplicate route to 10.20.0.0/16"):
        vpn(stack, routes=[Route(cidr=BEHIND_TGW), Route(cidr=BEHIND_TGW)])


def test_the_101st_route_warns_each_goes_through_every_az(app: App) -> None:
    """Routes per association (100, adjustable): a transit gateway route counts against
    every AZ association, so 101 routes are 101 per association."""
    quota = "Routes per Client VPN target network association"
    counts: dict[int, list[Any]] = {}
    for n in (100, 101):
        stack = new_stack(app, f"TgwRoutes{n}")
        vpn(stack, routes=[Route(f"172.16.{i}.0/24") for i in range(n)])
        counts[n] = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp(re.escape(quota))
        )
    assert counts[100] == []
    [warning] = counts[101]
    assert "routes, each through every associated Availability Zone: 101" in str(warning.entry.data)
