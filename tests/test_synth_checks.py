"""What a newcomer's first synth says (issue 20): forms of props the L2 takes, a VPC without a
known CIDR, VPNs nobody can use, the cost of every app's VPN.

Each stack lives in a Stage of its own, so a synthesis covers that stack only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError, Route

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
ENDPOINT = "AWS::EC2::ClientVpnEndpoint"


def new_stack(name: str) -> tuple[Stack, ec2.Vpc]:
    stack = Stack(Stage(App(), name), "Stack")
    return stack, ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"), max_azs=2)


def mutual(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    return ClientVpn(
        stack,
        "Vpn",
        **{
            "vpc": vpc,
            "cidr": "10.100.0.0/22",
            "server_certificate_arn": SERVER_ARN,
            "client_certificate_arn": CLIENT_ARN,
            "config_export": False,
            **props,
        },
    )


def warnings(stack: Stack, id_: str) -> list[str]:
    found = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    return [
        str(w.entry.data) for w in found if f"[ack: constructs-cvpn:{id_}]" in str(w.entry.data)
    ]


# -- props as the L2 takes them -------------------------------------------------------


@pytest.mark.parametrize("port", [443, 1194])
def test_port_as_an_int(port: int) -> None:
    """README's props table: "443 or 1194"."""
    stack, vpc = new_stack(f"Port{port}")
    mutual(stack, vpc, port=port)
    Template.from_stack(stack).has_resource_properties(ENDPOINT, {"VpnPort": port})


def test_port_other_than_443_or_1194_is_refused() -> None:
    stack, vpc = new_stack("Port22")
    with pytest.raises(ClientVpnConfigError, match=r"^Port22/Stack/Vpn: port: .*443 or 1194"):
        mutual(stack, vpc, port=22)


@pytest.mark.parametrize("hours", [8, 10, 12, 24])
def test_session_timeout_as_a_duration(hours: int) -> None:
    stack, vpc = new_stack(f"Timeout{hours}")
    mutual(stack, vpc, session_timeout=Duration.hours(hours))
    Template.from_stack(stack).has_resource_properties(ENDPOINT, {"SessionTimeoutHours": hours})


def test_session_timeout_of_other_length_is_refused() -> None:
    stack, vpc = new_stack("Timeout9")
    with pytest.raises(
        ClientVpnConfigError, match=r"^Timeout9/Stack/Vpn: session_timeout: .*8, 10, 12 or 24"
    ):
        mutual(stack, vpc, session_timeout=Duration.minutes(90))


def test_a_vpc_without_a_known_cidr_names_what_to_pass() -> None:
    """``Vpc.from_vpc_attributes`` without ``vpc_cidr_block``, literal rule CIDRs and no DNS
    servers: a ClientVpnConfigError, not jsii's CannotPerformOperationVpcCidr."""
    stack = Stack(Stage(App(), "NoCidr"), "Stack")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Imported",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    )
    with pytest.raises(ClientVpnConfigError, match=r"^NoCidr/Stack/Vpn: vpc: .*vpc_cidr_block="):
        mutual(
            stack,
            vpc,
            dns_servers=[],
            authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
        )


# -- VPNs nobody can use --------------------------------------------------------------


def test_generated_pki_without_users_warns() -> None:
    stack, vpc = new_stack("NoUsers")
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
    )
    [message] = warnings(stack, "noUsers")
    assert "add_user" in message


def test_users_without_a_rule_warn() -> None:
    stack, vpc = new_stack("NoRule")
    ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    [message] = warnings(stack, "noAuthorizationRule")
    assert message.startswith("1 user(s) and no authorization rule")


def test_a_rule_added_after_the_constructor_counts() -> None:
    stack, vpc = new_stack("LateRule")
    vpn = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    vpn.add_authorization_rule("10.0.0.0/16", all_users=True)
    assert warnings(stack, "noAuthorizationRule") == []
    assert warnings(stack, "noUsers") == []


def test_a_route_no_rule_covers_warns_and_a_covered_one_does_not() -> None:
    stack, vpc = new_stack("Uncovered")
    mutual(
        stack,
        vpc,
        authorization_rules=[AuthorizationRule(cidr="172.16.5.0/24", all_users=True)],
        routes=[Route(cidr="172.16.0.0/16"), Route(cidr="192.168.0.0/16")],
    )
    [message] = warnings(stack, "routeNotAuthorized")
    assert message.startswith("the route to 192.168.0.0/16 ")


# -- grants with your own certificates -------------------------------------------------


def test_per_user_grant_with_own_certificates_names_the_shared_grant() -> None:
    stack, vpc = new_stack("GrantOwnCerts")
    secret_vpn = mutual(stack, vpc, config_export=True)
    role = iam.Role(stack, "Role", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ClientVpnConfigError, match=r"grant_read_config\(grantee\)"):
        secret_vpn.grant_read_user_config("alice", role)


# -- cost in every app ------------------------------------------------------------------


def test_every_app_sees_the_monthly_cost() -> None:
    stack, vpc = new_stack("Cost")
    vpn = mutual(stack, vpc)
    cost = vpn.monthly_cost()
    # Two associations kept all month: 2 x (8,760 h / 12) at $0.10 per association-hour
    # (aws.amazon.com/vpn/pricing, US East).
    assert cost.associations == 2
    assert cost.association_hours == 2 * 8760 // 12
    assert cost.usd == Decimal("146.00")
    infos = Annotations.from_stack(stack).find_info("/Cost/Stack/Vpn", Match.any_value())
    [text] = [str(i.entry.data) for i in infos if "association-hours" in str(i.entry.data)]
    assert "1,460 association-hours/month" in text
    assert "$146.00/month" in text
    assert "https://aws.amazon.com/vpn/pricing/" in text
    assert "read 2026-11-26" in text


@pytest.mark.parametrize("tag", ["cvpn}user", "${x}", "aws:username", "", "t" * 129])
def test_the_sso_grant_refuses_a_tag_key_that_breaks_the_variable(tag: str) -> None:
    stack, vpc = new_stack(f"BadTag{len(tag)}{tag[:1].isalpha()}")
    vpn = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    role = iam.Role(stack, "Role", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ClientVpnConfigError, match=r"Vpn: principal_tag: .*session tag key"):
        vpn.grant_read_own_user_config(role, principal_tag=tag)


def test_the_sso_grant_with_own_certificates_names_the_shared_grant() -> None:
    stack, vpc = new_stack("SsoOwnCerts")
    vpn = mutual(stack, vpc, config_export=True)
    role = iam.Role(stack, "Role", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ClientVpnConfigError, match=r"grant_read_config\(grantee\)"):
        vpn.grant_read_own_user_config(role)
