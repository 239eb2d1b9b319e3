"""Which subnets a ``ClientVpn`` associates, and which it refuses (``associations.py``).

Oracles: the README ("Target networks: the VPC's private subnets, one per AZ";
``vpc_subnets``: "one subnet per AZ, all in ``vpc``, each a /27 or larger"), the AWS Client
VPN administrator guide as the module quotes it (one subnet per AZ; IPv6 or dual-stack
traffic needs subnets with an IPv6 CIDR; a NAT gateway carries no IPv6, an egress-only or
internet gateway does) and the module's docstrings (a subnet's CIDR is checked only when
known; an imported subnet is taken at its word; a subnet defined inside another VPC
construct is not in the endpoint's VPC).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Environment, Fn, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from constructs_cvpn import ClientVpn, ClientVpnConfigError, IpAddressType

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
ENV = Environment(account="111111111111", region="eu-west-1")
AZS = ["eu-west-1a", "eu-west-1b"]
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App(
        context={
            "cvpn:skipBundling": True,
            "availability-zones:account=111111111111:region=eu-west-1": AZS,
        }
    )


def new_stack(app: App, name: str) -> Stack:
    return Stack(Stage(app, name), "Stack", env=ENV)


def two_group_vpc(stack: Stack) -> ec2.Vpc:
    """Two AZs, two isolated subnet groups: two private subnets in each AZ."""
    return ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Apps", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ec2.SubnetConfiguration(name="Data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )


def isolated_vpc(stack: Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )


def vpn(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    defaults: dict[str, Any] = {
        "vpc": vpc,
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "config_export": False,
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


def associated_subnet_ids(stack: Stack) -> list[Any]:
    found = Template.from_stack(stack).find_resources(ASSOCIATION).values()
    return [a["Properties"]["SubnetId"] for a in found]


def ref(stack: Stack, subnet: ec2.ISubnet) -> Any:
    return stack.resolve(subnet.subnet_id)


def config_error(stack: Stack, prop: str, problem: str) -> Any:
    path = f"{stack.node.path}/Vpn"
    return pytest.raises(ClientVpnConfigError, match=rf"^{re.escape(path)}: {prop}: .*{problem}")


def extra_subnet(vpc: ec2.Vpc, name: str, cidr: str, az: str) -> ec2.Subnet:
    """A subnet of ``vpc`` added inside the Vpc construct after the fact (not one of its
    subnet groups, so not in ``vpc.isolated_subnets``)."""
    return ec2.Subnet(vpc, name, vpc_id=vpc.vpc_id, availability_zone=az, cidr_block=cidr)


# -- one subnet per AZ ---------------------------------------------------------------------------


def test_one_per_az_false_is_honoured_and_refused(app: App) -> None:
    # The user asked for every subnet of the type: two per AZ, which Client VPN refuses.
    stack = new_stack(app, "OnePerAzFalse")
    vpc = two_group_vpc(stack)
    same_az = r"are in the same availability zone \(eu-west-1a\).*\(use one_per_az=True\)$"
    with config_error(stack, "vpc_subnets", same_az):
        vpn(
            stack,
            vpc,
            vpc_subnets=ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, one_per_az=False
            ),
        )


def test_a_list_of_subnets_in_one_az_is_told_to_list_one_per_az(app: App) -> None:
    # one_per_az does not apply to a list of subnets (CDK's select_subnets ignores it), so
    # the fix to name is the list itself, not one_per_az.
    stack = new_stack(app, "ListedTwice")
    vpc = two_group_vpc(stack)
    a, b = (
        g.subnets[0] for g in (vpc.select_subnets(subnet_group_name=n) for n in ("Apps", "Data"))
    )
    with config_error(stack, "vpc_subnets", r"one subnet per AZ \(list one per AZ\)$"):
        vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[a, b], one_per_az=True))


# -- all in the endpoint's VPC -------------------------------------------------------------------


def test_imported_subnet_with_a_deploy_time_id_is_taken_at_its_word(app: App) -> None:
    # The VPC's subnet ids are known; this one's is not, so nothing says it is elsewhere.
    stack = new_stack(app, "ImportedTokenSubnet")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=AZS,
        isolated_subnet_ids=["subnet-00000000000000001", "subnet-00000000000000002"],
    )
    subnet = ec2.Subnet.from_subnet_attributes(
        stack,
        "Shared",
        subnet_id=Fn.import_value("SharedSubnetId"),
        availability_zone="eu-west-1a",
    )
    vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[subnet]))
    assert associated_subnet_ids(stack) == [{"Fn::ImportValue": "SharedSubnetId"}]


def test_imported_subnet_beside_a_vpc_of_this_app_is_taken_at_its_word(app: App) -> None:
    # The VPC's subnet ids are deploy-time refs: a known id cannot be compared with them.
    stack = new_stack(app, "ImportedBesideVpc")
    vpc = isolated_vpc(stack)
    subnet = ec2.Subnet.from_subnet_attributes(
        stack, "Imported", subnet_id="subnet-0aaaaaaaaaaaaaaaa", availability_zone="eu-west-1a"
    )
    vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[subnet]))
    assert associated_subnet_ids(stack) == ["subnet-0aaaaaaaaaaaaaaaa"]


def test_subnet_added_inside_the_vpc_construct_is_in_the_vpc(app: App) -> None:
    stack = new_stack(app, "ExtraInVpc")
    vpc = isolated_vpc(stack)
    extra = extra_subnet(vpc, "Extra", "10.0.200.0/24", "eu-west-1a")
    vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[extra]))
    assert associated_subnet_ids(stack) == [ref(stack, extra)]


class SharedSubnets(Construct):
    """A user's construct that groups imported subnets of a VPC and records its id: not a
    VPC (it selects no subnets)."""

    def __init__(self, scope: Construct, id: str, vpc_id: str) -> None:
        super().__init__(scope, id)
        self.vpc_id = vpc_id
        self.subnet = ec2.Subnet.from_subnet_attributes(
            self, "A", subnet_id="subnet-0bbbbbbbbbbbbbbbb", availability_zone="eu-west-1a"
        )


def test_subnet_in_a_construct_that_only_records_a_vpc_id_is_taken(app: App) -> None:
    stack = new_stack(app, "RecordsVpcId")
    vpc = isolated_vpc(stack)
    shared = SharedSubnets(stack, "Shared", vpc.vpc_id)
    vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[shared.subnet]))
    assert associated_subnet_ids(stack) == ["subnet-0bbbbbbbbbbbbbbbb"]


# -- /27 or larger --------------------------------------------------------------------------------


def test_subnet_cidr_from_parameters_is_not_checked(app: App) -> None:
    # "checked when its CIDR is known": a CIDR made of deploy-time parts is not.
    stack = new_stack(app, "ParamCidr")
    vpc = isolated_vpc(stack)
    base = CfnParameter(stack, "Base", default="10.0.200.0")
    mask = CfnParameter(stack, "Mask", default="24")
    subnet = ec2.Subnet.from_subnet_attributes(
        stack,
        "Imported",
        subnet_id="subnet-0cccccccccccccccc",
        availability_zone="eu-west-1a",
        ipv4_cidr_block=f"{base.value_as_string}/{mask.value_as_string}",
    )
    vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[subnet]))
    assert associated_subnet_ids(stack) == ["subnet-0cccccccccccccccc"]


# -- IPv6 traffic needs subnets with an IPv6 CIDR -----------------------------------------------


def test_a_subnet_without_ipv6_after_an_imported_one_is_refused(app: App) -> None:
    # The imported subnet is taken at its word; the next one, of this app, is still checked.
    stack = new_stack(app, "ImportedThenOwn")
    vpc = isolated_vpc(stack)
    imported = ec2.Subnet.from_subnet_attributes(
        stack, "Imported", subnet_id="subnet-0dddddddddddddddd", availability_zone="eu-west-1b"
    )
    own = vpc.isolated_subnets[0]
    assert own.availability_zone == "eu-west-1a"
    with config_error(stack, "vpc_subnets", rf"subnet {re.escape(own.node.path)} has no IPv6"):
        vpn(
            stack,
            vpc,
            traffic_ip_address_type=IpAddressType.DUAL_STACK,
            vpc_subnets=ec2.SubnetSelection(subnets=[imported, own]),
        )


def test_subnets_with_an_ipam_ipv6_pool_carry_ipv6(app: App) -> None:
    stack = new_stack(app, "IpamPool")
    vpc = isolated_vpc(stack)
    for subnet in vpc.isolated_subnets:
        cfn = subnet.node.default_child
        assert isinstance(cfn, ec2.CfnSubnet)
        cfn.ipv6_ipam_pool_id = "ipam-pool-0123456789abcdef0"
        cfn.ipv6_netmask_length = 64
    vpn(stack, vpc, traffic_ip_address_type=IpAddressType.DUAL_STACK)
    assert len(associated_subnet_ids(stack)) == 2


def test_subnets_with_an_added_ipv6_block_carry_ipv6(app: App) -> None:
    stack = new_stack(app, "AddedBlock")
    vpc = isolated_vpc(stack)
    for i, subnet in enumerate(vpc.isolated_subnets):
        ec2.CfnSubnetCidrBlock(
            stack,
            f"Ipv6Block{i}",
            subnet_id=subnet.subnet_id,
            ipv6_cidr_block=f"2001:db8:0:{i}::/64",
        )
    vpn(stack, vpc, traffic_ip_address_type=IpAddressType.DUAL_STACK)
    assert len(associated_subnet_ids(stack)) == 2


def test_a_subnet_marked_not_ipv6_native_has_no_ipv6(app: App) -> None:
    stack = new_stack(app, "NotNative")
    vpc = isolated_vpc(stack)
    for subnet in vpc.isolated_subnets:
        cfn = subnet.node.default_child
        assert isinstance(cfn, ec2.CfnSubnet)
        cfn.ipv6_native = False
    with config_error(stack, "vpc_subnets", "has no IPv6 CIDR"):
        vpn(stack, vpc, traffic_ip_address_type=IpAddressType.DUAL_STACK)


# -- internet access without a path ---------------------------------------------------------------


def test_ipv6_warning_does_not_send_the_user_to_a_nat_gateway(app: App) -> None:
    # A NAT gateway carries no IPv6: the ::/0 warning names egress-only/internet gateways.
    stack = new_stack(app, "DualStackIsolated")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
        ip_protocol=ec2.IpProtocol.DUAL_STACK,
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    vpn(stack, vpc, traffic_ip_address_type=IpAddressType.DUAL_STACK, internet_access=True)
    found = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("no route to the internet|no IPv6 route to the internet")
    )
    messages = [str(w.entry.data) for w in found]
    [ipv4] = [m for m in messages if "no route to the internet" in m]
    [ipv6] = [m for m in messages if "no IPv6 route to the internet" in m]
    assert "NAT gateway" in ipv4
    assert "NAT" not in ipv6
    assert "egress-only or internet gateway" in ipv6
