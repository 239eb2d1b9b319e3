"""The network-access room: associations, rules and routes, and the order they deploy in.

Oracles written here from the Client VPN quotas (admin guide, "Client VPN quotas"):
at most 10 concurrent operations on one endpoint (not adjustable), and an endpoint has at
most one association per AZ; the construct plans for 6 AZs, so rules and routes may use
10 - 6 = 4 lanes. Routes need their subnet associated (AWS rejects a route through a subnet
that is not a target network yet).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from constructs_cvpn import AuthorizationRule, ClientVpn, Route
from tests.graph import ancestors_of, longest_chain, max_concurrent

SERVER = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
ENV = Environment(account="111111111111", region="eu-west-1")
AZS = [f"eu-west-1{letter}" for letter in "abc"]
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"

CONCURRENT_OPERATIONS = 10  # Client VPN quota per endpoint, not adjustable
MOST_ASSOCIATIONS = 6  # one per AZ; the most AZs the construct plans for
LANES = CONCURRENT_OPERATIONS - MOST_ASSOCIATIONS


def _build(rules: int, routes: int, *, later: int = 0) -> dict[str, Any]:
    """A mutual-auth VPN in 3 AZs with ``rules`` rules, ``routes`` routes (each through every
    associated subnet) and ``later`` more rules added after construction."""
    app = App(context={"availability-zones:account=111111111111:region=eu-west-1": AZS})
    stack = Stack(app, "Network", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=3, nat_gateways=1)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER,
        client_certificate_arn=CLIENT,
        config_export=False,
        authorization_rules=[
            AuthorizationRule(cidr=f"172.16.{i}.0/24", all_users=True) for i in range(rules)
        ],
        routes=[Route(cidr=f"192.168.{i}.0/24") for i in range(routes)],
    )
    for i in range(later):
        vpn.add_authorization_rule(f"172.17.{i}.0/24", all_users=True)
    resources: dict[str, Any] = Template.from_stack(stack).to_json()["Resources"]
    return resources


@pytest.mark.parametrize(
    ("rules", "routes", "later"),
    [(1, 0, 0), (3, 0, 0), (4, 0, 0), (9, 0, 0), (2, 3, 0), (5, 2, 4)],
    ids=["1", "3", "4", "9", "2+3x3", "5+2x3+4-later"],
)
def test_rules_and_routes_are_spread_over_at_most_four_lanes(
    rules: int, routes: int, later: int
) -> None:
    """Catches: one lane (everything in a row: a 200-rule deploy takes hours), more than four
    lanes (with 6 associations CloudFormation exceeds the 10 concurrent operations and the
    deploy fails with ConcurrentMutationLimitExceeded), lanes left unused (fewer than
    ``min(n, 4)`` at once), uneven lanes (a chain longer than ``ceil(n / 4)``), and
    rules added after construction starting new, unchained lanes."""
    resources = _build(rules, routes, later=later)
    associations = sum(r["Type"] == ASSOCIATION for r in resources.values())
    assert associations == 3
    mutations = rules + routes * associations + later
    assert sum(r["Type"] in (RULE, ROUTE) for r in resources.values()) == mutations
    assert max_concurrent(resources, {RULE, ROUTE}) == min(mutations, LANES)
    assert longest_chain(resources, {RULE, ROUTE}) == math.ceil(mutations / LANES)


def test_every_route_waits_for_every_association() -> None:
    """Catches: a route that does not wait (AWS rejects a route through a subnet that is not
    associated yet), or that waits for one association only (the first AZ's, say: routes
    through the other subnets then race their associations)."""
    resources = _build(1, 2)
    associations = {n for n, r in resources.items() if r["Type"] == ASSOCIATION}
    assert len(associations) == 3
    ancestors = ancestors_of(resources)
    routes = [n for n, r in resources.items() if r["Type"] == ROUTE]
    assert len(routes) == 2 * 3
    for route in routes:
        assert associations <= ancestors[route], route


def _two_private_groups_vpn(selection: ec2.SubnetSelection | None) -> ClientVpn:
    """A VPC with two private subnet groups ("App" and "Data") in each of 3 AZs."""
    app = App(context={"availability-zones:account=111111111111:region=eu-west-1": AZS})
    stack = Stack(app, "Groups", env=ENV)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=3,
        nat_gateways=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ec2.SubnetConfiguration(name="Data", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        ],
    )
    return ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER,
        client_certificate_arn=CLIENT,
        config_export=False,
        vpc_subnets=selection,
    )


@pytest.mark.parametrize(
    "selection",
    [None, ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)],
    ids=["default", "by-type"],
)
def test_a_selection_without_one_per_az_still_takes_one_subnet_per_az(
    selection: ec2.SubnetSelection | None,
) -> None:
    """Six private subnets in 3 AZs: Client VPN takes one subnet per AZ, so a selection that
    does not say ``one_per_az`` gets it (catches dropping the one_per_az default, which would
    select both groups and fail with "in the same availability zone")."""
    vpn = _two_private_groups_vpn(selection)
    azs = sorted(subnet.availability_zone for subnet in vpn.associated_subnets)
    assert azs == AZS


def test_explicit_subnets_are_taken_as_given() -> None:
    """``subnets=[...]`` is not narrowed to one per AZ by us (the user chose them)."""
    app = App(context={"availability-zones:account=111111111111:region=eu-west-1": AZS})
    stack = Stack(app, "Given", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=3, nat_gateways=1)
    chosen = vpc.private_subnets[:2]
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER,
        client_certificate_arn=CLIENT,
        config_export=False,
        vpc_subnets=ec2.SubnetSelection(subnets=chosen),
    )
    assert [s.node.path for s in vpn.associated_subnets] == [s.node.path for s in chosen]
