"""Moving from the L2 ``ec2.ClientVpnEndpoint`` to ``ClientVpn`` without replacing the endpoint.

The L2's struct props are accepted as the L2 takes them (``vpc_subnets`` and
``client_route_enforcement_options`` as dicts). The endpoint keeps its logical id with
``override_logical_id`` on the L1, and the tests classify every endpoint change with the
CloudFormation resource schemas (tests/lifecycle/schemas.py): no create-only property may
change. The L2's associations and rules have other logical ids than ours; CloudFormation
creates the new ones before it deletes the old ones, and Client VPN refuses a second
association in an AZ: the README's two-deploy procedure removes them first.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError
from tests.lifecycle.schemas import classify

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"


def app_stack(name: str) -> tuple[Stack, ec2.Vpc]:
    """The user's stack: same construct path for the VPC in every version of the app."""
    stack = Stack(Stage(App(), name), "Network")
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"), max_azs=2)
    return stack, vpc


def l2_template(*, step_one: bool = False) -> dict[str, Any]:
    """The app with the L2, as deployed today (or after step one of the migration)."""
    stack, vpc = app_stack("StepOne" if step_one else "Today")
    ec2.ClientVpnEndpoint(
        stack,
        "Endpoint",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        logging=True,
        **(
            {
                "vpc_subnets": ec2.SubnetSelection(subnets=[]),
                "authorize_all_users_to_vpc_cidr": False,
            }
            if step_one
            else {}
        ),
    )
    return Template.from_stack(stack).to_json()["Resources"]  # type: ignore[no-any-return]


def endpoint_id(resources: dict[str, Any]) -> str:
    [lid] = [k for k, v in resources.items() if v["Type"] == ENDPOINT]
    return lid


def ours(name: str, logical_id: str) -> dict[str, Any]:
    """The same app with ``ClientVpn``: the L2's props, renamed nothing, the old logical id."""
    stack, vpc = app_stack(name)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        vpc_subnets={"subnet_type": ec2.SubnetType.PRIVATE_WITH_EGRESS},
        transport_protocol=None,  # the L2 app never set it: keep it out of the template
        config_export=False,
        authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
    )
    cfn = vpn.endpoint.node.default_child
    assert isinstance(cfn, ec2.CfnClientVpnEndpoint)
    cfn.override_logical_id(logical_id)
    return Template.from_stack(stack).to_json()["Resources"]  # type: ignore[no-any-return]


def collisions(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """New associations/rules whose identity an old one still holds (created before deletes)."""

    def identity(resource: dict[str, Any]) -> tuple[Any, ...]:
        p = resource["Properties"]
        if resource["Type"] == ASSOCIATION:
            return (ASSOCIATION, str(p["SubnetId"]))
        return (RULE, str(p["TargetNetworkCidr"]), p.get("AccessGroupId"))

    kinds = (ASSOCIATION, RULE)
    held = {identity(r) for r in old.values() if r["Type"] in kinds}
    return [
        lid
        for lid, r in new.items()
        if r["Type"] in kinds and lid not in old and identity(r) in held
    ]


def test_an_explicit_udp_where_the_l2_had_none_would_replace_the_endpoint() -> None:
    """Why the migration passes transport_protocol=None: a create-only property added."""
    today = l2_template()
    lid = endpoint_id(today)
    explicit = {**today[lid]["Properties"], "TransportProtocol": "udp"}
    assert classify(ENDPOINT, today[lid]["Properties"], explicit) == "replacement"


def test_the_endpoint_keeps_its_logical_id_and_is_not_replaced() -> None:
    today = l2_template()
    lid = endpoint_id(today)
    after = ours("After", lid)
    assert endpoint_id(after) == lid
    how = classify(ENDPOINT, today[lid]["Properties"], after[lid]["Properties"])
    assert how == "in-place"  # description, security group, logging, route enforcement


def test_in_one_deploy_the_new_associations_and_rule_collide_with_the_l2s() -> None:
    today = l2_template()
    assert len(collisions(today, ours("OneDeploy", endpoint_id(today)))) == 3  # 2 AZs + rule


def test_in_two_deploys_nothing_collides_and_the_endpoint_stays() -> None:
    today = l2_template()
    lid = endpoint_id(today)
    step_one = l2_template(step_one=True)
    assert endpoint_id(step_one) == lid
    assert classify(ENDPOINT, today[lid]["Properties"], step_one[lid]["Properties"]) == "none"
    assert not [r for r in step_one.values() if r["Type"] in (ASSOCIATION, RULE)]
    step_two = ours("StepTwo", lid)
    assert classify(ENDPOINT, step_one[lid]["Properties"], step_two[lid]["Properties"]) != (
        "replacement"
    )
    assert collisions(step_one, step_two) == []


def test_logging_true_is_accepted_and_false_refused_with_a_reason() -> None:
    stack, vpc = app_stack("Logging")
    ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["a"], logging=True)
    with pytest.raises(ClientVpnConfigError, match="logging: connection logging is always on"):
        ClientVpn(stack, "NoLogs", vpc=vpc, cidr="10.104.0.0/22", users=["a"], logging=False)


def test_vpc_subnets_as_a_dict_selects_like_the_struct() -> None:
    stack, vpc = app_stack("DictSubnets")
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        config_export=False,
        vpc_subnets={"subnet_type": ec2.SubnetType.PUBLIC},
        client_route_enforcement_options={"enforced": False},
    )
    assert [s.node.path for s in vpn.associated_subnets] == [
        s.node.path for s in vpc.public_subnets
    ]
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT, {"ClientRouteEnforcementOptions": {"Enforced": False}}
    )


def test_a_dict_with_an_unknown_key_is_refused() -> None:
    stack, vpc = app_stack("BadDict")
    with pytest.raises(ClientVpnConfigError, match=r"vpc_subnets: .*snake_case fields"):
        ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", vpc_subnets={"subnetType": 1})
