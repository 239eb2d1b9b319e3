"""IPv6 and dual-stack, client-to-client, the VPC-resolver default and the IPv6 leak block.

Template tests state the synthesized properties explicitly; the values come from the AWS
sources named in each test (the EC2 API's enum values, the admin guide), not from the
construct's constants. One App for the module; each stack sits in a ``Stage`` of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Fn, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template
from cfnlint.api import ManualArgs, lint

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError, IpAddressType, Route

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Idp"
VPC_CIDR = "10.0.0.0/16"
CLIENT_CIDR = "10.100.0.0/22"
V6_PEER = "2001:db8::/32"

ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"
EGRESS = "AWS::EC2::SecurityGroupEgress"
EXPORT = "Custom::ClientVpnConfigExport"
USERS = "Custom::ClientVpnUsers"
#: AWS Client VPN administrator guide, "IPv6 considerations" (the lines are the handler's
#: business; here only the switch that asks for them is checked).
LEAK_SWITCH = "BlockIpv6Leak"


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App()


def new_stack(app: App, name: str, *, dual_stack_vpc: bool = True) -> tuple[Stack, ec2.Vpc]:
    stack = Stack(Stage(app, name), "Stack")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
        ip_protocol=ec2.IpProtocol.DUAL_STACK if dual_stack_vpc else ec2.IpProtocol.IPV4_ONLY,
        max_azs=2,
        nat_gateways=1,
    )
    return stack, vpc


def vpn(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    defaults: dict[str, Any] = {
        "vpc": vpc,
        "cidr": CLIENT_CIDR,
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "config_export": False,
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


def build(app: App, name: str, *, dual_stack_vpc: bool = True, **props: Any) -> Template:
    stack, vpc = new_stack(app, name, dual_stack_vpc=dual_stack_vpc)
    vpn(stack, vpc, **props)
    return Template.from_stack(stack)


def endpoint_props(template: Template) -> dict[str, Any]:
    (endpoint,) = template.find_resources(ENDPOINT).values()
    return endpoint["Properties"]  # type: ignore[no-any-return]


def by_destination(template: Template, type_: str, key: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for resource in template.find_resources(type_).values():
        found.setdefault(json.dumps(resource["Properties"][key]), []).append(resource)
    return found


def config_error(stack: Stack, prop: str, problem: str) -> Any:
    path = f"{stack.node.path}/Vpn"
    return pytest.raises(ClientVpnConfigError, match=rf"^{re.escape(path)}: {prop}: .*{problem}")


def saml(stack: Stack) -> ec2.ClientVpnUserBasedAuthentication:
    provider = iam.SamlProvider.from_saml_provider_arn(stack, "Idp", SAML_ARN)
    return ec2.ClientVpnUserBasedAuthentication.federated(provider)


# -- address types --------------------------------------------------------------------------


def test_address_types_are_left_out_by_default(app: App) -> None:
    # Both are create-only: writing "ipv4" into an existing endpoint would replace it.
    props = endpoint_props(build(app, "DefaultTypes", dual_stack_vpc=False))
    assert "EndpointIpAddressType" not in props
    assert "TrafficIpAddressType" not in props
    assert props["ClientCidrBlock"] == CLIENT_CIDR


def test_dual_stack_endpoint_and_traffic(app: App) -> None:
    props = endpoint_props(
        build(
            app,
            "DualStack",
            endpoint_ip_address_type=IpAddressType.DUAL_STACK,
            traffic_ip_address_type="dual-stack",
        )
    )
    # The EC2 API's values: ipv4 | ipv6 | dual-stack.
    assert props["EndpointIpAddressType"] == "dual-stack"
    assert props["TrafficIpAddressType"] == "dual-stack"
    assert props["ClientCidrBlock"] == CLIENT_CIDR


def test_ipv6_traffic_has_no_client_cidr(app: App) -> None:
    props = endpoint_props(
        build(
            app,
            "Ipv6Traffic",
            cidr=None,
            endpoint_ip_address_type=IpAddressType.IPV6,
            traffic_ip_address_type=IpAddressType.IPV6,
        )
    )
    assert props["EndpointIpAddressType"] == "ipv6"
    assert props["TrafficIpAddressType"] == "ipv6"
    assert "ClientCidrBlock" not in props
    assert "DnsServers" not in props  # the VPC resolver is IPv4: not reachable in this tunnel


def test_ipv4_endpoint_with_ipv6_traffic(app: App) -> None:
    # "independent of the endpoint's supported protocols" (admin guide, IP address types).
    props = endpoint_props(
        build(
            app,
            "MixedTypes",
            cidr=None,
            endpoint_ip_address_type=IpAddressType.IPV4,
            traffic_ip_address_type=IpAddressType.IPV6,
        )
    )
    assert (props["EndpointIpAddressType"], props["TrafficIpAddressType"]) == ("ipv4", "ipv6")


# -- IPv6 rules, routes and egress ---------------------------------------------------------


@pytest.fixture(scope="module")
def dual_stack(app: App) -> Template:
    return build(
        app,
        "DualStackAccess",
        traffic_ip_address_type=IpAddressType.DUAL_STACK,
        authorization_rules=[
            AuthorizationRule(cidr=V6_PEER, all_users=True),
            AuthorizationRule(cidr="172.16.0.0/16", all_users=True),
        ],
        routes=[Route(cidr=V6_PEER)],
        internet_access=True,
        client_to_client=True,
    )


def test_ipv6_rule(dual_stack: Template) -> None:
    rules = by_destination(dual_stack, RULE, "TargetNetworkCidr")
    (rule,) = rules[json.dumps(V6_PEER)]
    assert rule["Properties"]["AuthorizeAllGroups"] is True


def test_ipv6_route_through_every_association_with_a_lint_note(dual_stack: Template) -> None:
    routes = by_destination(dual_stack, ROUTE, "DestinationCidrBlock")[json.dumps(V6_PEER)]
    assert len(routes) == 2  # one per associated subnet (two AZs)
    for route in routes:
        # cfn-lint 1.58's copy of the resource schema formats the destination as
        # ipv4-network (E3002); the EC2 API takes IPv6 destinations.
        assert route["Metadata"] == {"cfn-lint": {"config": {"ignore_checks": ["E3002"]}}}


def test_ipv4_route_has_no_lint_note(dual_stack: Template) -> None:
    for route in by_destination(dual_stack, ROUTE, "DestinationCidrBlock")['"0.0.0.0/0"']:
        assert "Metadata" not in route


def test_security_group_egress_by_ip_version(dual_stack: Template) -> None:
    (group,) = dual_stack.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": Match.string_like_regexp("Client VPN")}},
    ).values()
    egress = group["Properties"]["SecurityGroupEgress"]
    assert {
        "CidrIpv6": V6_PEER,
        "IpProtocol": "-1",
        "Description": f"Authorized destination {V6_PEER}",
    } in egress
    assert {
        "CidrIp": "172.16.0.0/16",
        "IpProtocol": "-1",
        "Description": "Authorized destination 172.16.0.0/16",
    } in egress
    anywhere = [r["Properties"] for r in dual_stack.find_resources(EGRESS).values()]
    assert sorted(json.dumps([p.get("CidrIp"), p.get("CidrIpv6")]) for p in anywhere) == [
        '["0.0.0.0/0", null]',
        '[null, "::/0"]',
    ]


def test_internet_access_in_dual_stack_routes_both_families(dual_stack: Template) -> None:
    routes = by_destination(dual_stack, ROUTE, "DestinationCidrBlock")
    assert len(routes['"0.0.0.0/0"']) == 2 and len(routes['"::/0"']) == 2
    rules = by_destination(dual_stack, RULE, "TargetNetworkCidr")
    assert len(rules['"0.0.0.0/0"']) == 1 and len(rules['"::/0"']) == 1


# -- client-to-client -------------------------------------------------------------------------


def test_client_to_client_route_and_rule(dual_stack: Template) -> None:
    # CreateClientVpnRoute: "To add a route for the local network, enter the client CIDR
    # range" and target "local"; every route needs an authorization rule (admin guide,
    # Routes).
    (route,) = by_destination(dual_stack, ROUTE, "DestinationCidrBlock")[json.dumps(CLIENT_CIDR)]
    assert route["Properties"]["TargetVpcSubnetId"] == "local"
    (rule,) = by_destination(dual_stack, RULE, "TargetNetworkCidr")[json.dumps(CLIENT_CIDR)]
    assert rule["Properties"]["AuthorizeAllGroups"] is True


def test_client_to_client_for_one_group(app: App) -> None:
    stack, vpc = new_stack(app, "ClientToClientGroup", dual_stack_vpc=False)
    vpn(
        stack,
        vpc,
        client_certificate_arn=None,
        user_based_authentication=saml(stack),
        client_to_client=True,
        client_to_client_group_id="engineering",
    )
    template = Template.from_stack(stack)
    (rule,) = by_destination(template, RULE, "TargetNetworkCidr")[json.dumps(CLIENT_CIDR)]
    assert rule["Properties"]["AccessGroupId"] == "engineering"
    assert rule["Properties"]["AuthorizeAllGroups"] is False


def test_no_client_to_client_route_by_default(app: App) -> None:
    template = build(app, "NoClientToClient", dual_stack_vpc=False)
    template.resource_count_is(ROUTE, 0)


# -- DNS default ------------------------------------------------------------------------------


def test_full_tunnel_pushes_the_vpc_resolver(app: App) -> None:
    # Amazon VPC user guide, "Amazon DNS server": the primary IPv4 CIDR's base plus two.
    props = endpoint_props(build(app, "Resolver", dual_stack_vpc=False))
    assert props["DnsServers"] == ["10.0.0.2"]


def test_dual_stack_full_tunnel_pushes_the_vpc_resolver(app: App) -> None:
    props = endpoint_props(build(app, "ResolverDual", traffic_ip_address_type="dual-stack"))
    assert props["DnsServers"] == ["10.0.0.2"]


def test_resolver_of_the_primary_cidr_not_a_secondary_one(app: App) -> None:
    stack, vpc = new_stack(app, "ResolverSecondary", dual_stack_vpc=False)
    ec2.CfnVPCCidrBlock(stack, "Secondary", vpc_id=vpc.vpc_id, cidr_block="10.1.0.0/16")
    vpn(stack, vpc)
    assert endpoint_props(Template.from_stack(stack))["DnsServers"] == ["10.0.0.2"]


def test_split_tunnel_keeps_the_clients_resolver(app: App) -> None:
    props = endpoint_props(build(app, "ResolverSplit", dual_stack_vpc=False, split_tunnel=True))
    assert "DnsServers" not in props


@pytest.mark.parametrize(
    ("servers", "expected"), [(["1.1.1.1"], ["1.1.1.1"]), ([], None)], ids=["own", "none"]
)
def test_dns_servers_given_win(app: App, servers: list[str], expected: list[str] | None) -> None:
    name = f"ResolverGiven{len(servers)}"
    props = endpoint_props(build(app, name, dual_stack_vpc=False, dns_servers=servers))
    assert props.get("DnsServers") == expected


def test_vpc_cidr_unknown_at_synth_pushes_nothing(app: App) -> None:
    stack = Stack(Stage(app, "ResolverImported"), "Stack")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block=Fn.import_value("VpcCidr"),
        availability_zones=["eu-west-1a"],
        private_subnet_ids=["subnet-0123456789abcdef0"],
    )
    vpn(stack, vpc)
    assert "DnsServers" not in endpoint_props(Template.from_stack(stack))


# -- IPv6 leak block ----------------------------------------------------------------------------


def _export_props(template: Template, type_: str) -> dict[str, Any]:
    (resource,) = template.find_resources(type_).values()
    return resource["Properties"]  # type: ignore[no-any-return]


def test_leak_block_on_for_ipv4_full_tunnel(app: App) -> None:
    template = build(app, "LeakGenerated", dual_stack_vpc=False, server_certificate_arn=None,
                     client_certificate_arn=None)  # fmt: skip
    assert _export_props(template, USERS)[LEAK_SWITCH] == "true"


def test_leak_block_on_the_shared_export(app: App) -> None:
    on = build(app, "LeakExportOn", dual_stack_vpc=False, config_export=True)
    assert _export_props(on, EXPORT)[LEAK_SWITCH] == "true"
    off = build(app, "LeakExportOff", dual_stack_vpc=False, config_export=True, split_tunnel=True)
    assert LEAK_SWITCH not in _export_props(off, EXPORT)


@pytest.mark.parametrize(
    "props",
    [
        {"split_tunnel": True},
        {"traffic_ip_address_type": IpAddressType.DUAL_STACK},
        {"ipv6_leak_protection": False},
    ],
    ids=["split", "dual-stack", "off"],
)
def test_leak_block_off(app: App, props: dict[str, Any]) -> None:
    name = "Leak" + "".join(k.title().replace("_", "") for k in props)
    template = build(app, name, server_certificate_arn=None, client_certificate_arn=None, **props)
    assert LEAK_SWITCH not in _export_props(template, USERS)


# -- cfn-lint -----------------------------------------------------------------------------------


def test_dual_stack_template_is_cfn_lint_clean(dual_stack: Template) -> None:
    matches = lint(json.dumps(dual_stack.to_json()), config=ManualArgs(regions=["eu-west-1"]))
    assert [str(m) for m in matches] == []


# -- one test per new ClientVpnConfigError ------------------------------------------------------


@pytest.mark.parametrize("prop", ["endpoint_ip_address_type", "traffic_ip_address_type"])
def test_address_type_misspelled(app: App, prop: str) -> None:
    stack, vpc = new_stack(app, f"Bad{prop.title().replace('_', '')}")
    with config_error(stack, prop, r"'dualstack' is not an IP address type; use IpAddressType"):
        vpn(stack, vpc, **{prop: "dualstack"})


def test_cidr_with_ipv6_traffic(app: App) -> None:
    stack, vpc = new_stack(app, "CidrWithIpv6")
    with config_error(stack, "cidr", "Client VPN assigns the clients' IPv6 addresses itself"):
        vpn(stack, vpc, traffic_ip_address_type=IpAddressType.IPV6)


def test_cidr_parameter_with_ipv6_traffic_named_in_user_words(app: App) -> None:
    stack, vpc = new_stack(app, "CidrParamWithIpv6")
    cidr = CfnParameter(stack, "ClientCidr").value_as_string
    with config_error(stack, "cidr", r"is 'the parameter CidrParamWithIpv6/Stack/ClientCidr'"):
        vpn(stack, vpc, cidr=cidr, traffic_ip_address_type=IpAddressType.IPV6)


@pytest.mark.parametrize("traffic", [None, IpAddressType.DUAL_STACK], ids=["default", "dual"])
def test_cidr_missing_with_ipv4_traffic(app: App, traffic: IpAddressType | None) -> None:
    stack, vpc = new_stack(app, f"NoCidr{traffic or 'Default'}".replace("-", ""))
    expected = (traffic or IpAddressType.IPV4).value
    with config_error(stack, "cidr", f"is required with traffic_ip_address_type '{expected}'"):
        vpn(stack, vpc, cidr=None, traffic_ip_address_type=traffic)


def test_ipv6_rule_with_ipv4_traffic(app: App) -> None:
    stack, vpc = new_stack(app, "Ipv6RuleIpv4Traffic")
    with config_error(stack, "authorization_rules", r"2001:db8::/32 is an IPv6 destination"):
        vpn(stack, vpc, authorization_rules=[AuthorizationRule(cidr=V6_PEER, all_users=True)])


def test_ipv6_route_with_ipv4_traffic(app: App) -> None:
    stack, vpc = new_stack(app, "Ipv6RouteIpv4Traffic")
    with config_error(stack, "routes", r"2001:db8::/32 is an IPv6 destination"):
        vpn(stack, vpc, routes=[Route(cidr=V6_PEER)])


def test_ipv4_rule_with_ipv6_traffic(app: App) -> None:
    stack, vpc = new_stack(app, "Ipv4RuleIpv6Traffic")
    endpoint = vpn(stack, vpc, cidr=None, traffic_ip_address_type=IpAddressType.IPV6)
    with config_error(stack, "authorization_rules", r"172\.16\.0\.0/16 is an IPv4 destination"):
        endpoint.add_authorization_rule("172.16.0.0/16", all_users=True)


def test_ipv6_rule_with_host_bits(app: App) -> None:
    stack, vpc = new_stack(app, "Ipv6HostBits")
    endpoint = vpn(stack, vpc, traffic_ip_address_type=IpAddressType.DUAL_STACK)
    with config_error(stack, "authorization_rules", "is not a valid IPv6 CIDR block"):
        endpoint.add_authorization_rule("2001:db8::1/32", all_users=True)


def test_dual_stack_traffic_through_subnets_without_ipv6(app: App) -> None:
    stack, vpc = new_stack(app, "NoIpv6Subnets", dual_stack_vpc=False)
    with config_error(stack, "vpc_subnets", r"subnet NoIpv6Subnets/Stack/Vpc/PrivateSubnet1 has"):
        vpn(stack, vpc, traffic_ip_address_type=IpAddressType.DUAL_STACK)


def test_client_to_client_with_ipv6_traffic(app: App) -> None:
    stack, vpc = new_stack(app, "ClientToClientIpv6")
    with config_error(stack, "client_to_client", "IPv6-only traffic has none"):
        vpn(stack, vpc, cidr=None, traffic_ip_address_type="ipv6", client_to_client=True)


def test_client_to_client_group_without_client_to_client(app: App) -> None:
    stack, vpc = new_stack(app, "ClientToClientGroupAlone")
    with config_error(stack, "client_to_client_group_id", "needs client_to_client=True"):
        vpn(stack, vpc, client_to_client_group_id="engineering")


def test_client_to_client_group_without_user_based_auth(app: App) -> None:
    stack, vpc = new_stack(app, "ClientToClientGroupMutual")
    with config_error(stack, "client_to_client_group_id", "groups need user-based"):
        vpn(stack, vpc, client_to_client=True, client_to_client_group_id="engineering")


@pytest.mark.parametrize(
    ("props", "problem"),
    [
        ({"split_tunnel": True}, "applies to full tunnel only"),
        ({"traffic_ip_address_type": "dual-stack"}, "the tunnel carries IPv6 itself"),
    ],
    ids=["split", "dual-stack"],
)
def test_ipv6_leak_protection_where_it_does_not_apply(
    app: App, props: dict[str, Any], problem: str
) -> None:
    stack, vpc = new_stack(app, f"LeakOn{'Split' if 'split_tunnel' in props else 'Dual'}")
    with config_error(stack, "ipv6_leak_protection", problem):
        vpn(stack, vpc, ipv6_leak_protection=True, **props)


def test_ipv6_route_is_not_checked_against_the_ipv4_client_cidr(app: App) -> None:
    # ::/0 "contains" nothing of 10.100.0.0/22; neither does an IPv6 peer.
    template = build(app, "Ipv6NoOverlap", traffic_ip_address_type="dual-stack",
                     routes=[Route(cidr="::/0"), Route(cidr=V6_PEER)])  # fmt: skip
    assert len(template.find_resources(ROUTE)) == 4


def test_internet_access_without_an_ipv6_route_warns(app: App) -> None:
    stack = Stack(Stage(app, "NoIpv6Internet"), "Stack")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
        ip_protocol=ec2.IpProtocol.DUAL_STACK,
        max_azs=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    vpn(stack, vpc, traffic_ip_address_type="dual-stack", internet_access=True)
    found = [
        str(w.entry.data)
        for w in Annotations.from_stack(stack).find_warning("*", Match.any_value())
    ]
    assert any("have no IPv6 route to the internet" in str(w) and "::/0 route" in str(w)
               for w in found), found  # fmt: skip
    assert any("have no route to the internet" in str(w) for w in found), found


def test_dual_stack_internet_through_egress_only_gateway_is_quiet(app: App) -> None:
    # ec2.Vpc's dual-stack private subnets route ::/0 to an egress-only internet gateway.
    stack, vpc = new_stack(app, "Ipv6InternetQuiet")
    vpn(stack, vpc, traffic_ip_address_type="dual-stack", internet_access=True)
    found = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("route to the internet")
    )
    assert found == []


def test_deploy_time_ipv6_block_gets_an_ipv6_egress_rule(app: App) -> None:
    # The VPC's Amazon-provided IPv6 block is known only at deploy time: its egress rule
    # must still be CidrIpv6 (CidrIp with an IPv6 value fails at deploy).
    stack, vpc = new_stack(app, "TokenIpv6Egress")
    block = Fn.select(0, vpc.vpc_ipv6_cidr_blocks)
    parameter = CfnParameter(stack, "PeerCidr").value_as_string
    vpn(
        stack,
        vpc,
        traffic_ip_address_type="dual-stack",
        authorization_rules=[
            AuthorizationRule(cidr=block, all_users=True),
            AuthorizationRule(cidr=parameter, all_users=True),
        ],
    )
    template = Template.from_stack(stack)
    (group,) = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": Match.string_like_regexp("Client VPN")}},
    ).values()
    egress = group["Properties"]["SecurityGroupEgress"]
    vpc_id = stack.get_logical_id(vpc.node.default_child)  # type: ignore[arg-type]
    resolved = {"Fn::Select": [0, {"Fn::GetAtt": [vpc_id, "Ipv6CidrBlocks"]}]}
    assert [e for e in egress if e.get("CidrIpv6") == resolved]
    assert [e for e in egress if e.get("CidrIp") == {"Ref": "PeerCidr"}]


@pytest.mark.parametrize(
    ("traffic", "key"), [(IpAddressType.IPV6, "CidrIpv6"), (IpAddressType.IPV4, "CidrIp")]
)
def test_a_deploy_time_destination_takes_the_family_the_tunnel_carries(
    app: App, traffic: IpAddressType, key: str
) -> None:
    # A tunnel of one IP version carries only that version: a destination known only at
    # deploy time (a parameter) is of that version, and its egress rule must say so
    # (CidrIp with an IPv6 value, or CidrIpv6 with an IPv4 one, fails at deploy).
    stack, vpc = new_stack(app, f"TokenEgress{key}")
    parameter = CfnParameter(stack, "PeerCidr").value_as_string
    ipv6 = traffic == IpAddressType.IPV6
    vpn(
        stack,
        vpc,
        cidr=None if ipv6 else "10.100.0.0/22",
        endpoint_ip_address_type=traffic,
        traffic_ip_address_type=traffic,
        authorization_rules=[AuthorizationRule(cidr=parameter, all_users=True)],
    )
    template = Template.from_stack(stack)
    (group,) = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": Match.string_like_regexp("Client VPN")}},
    ).values()
    rules = [
        e for e in group["Properties"]["SecurityGroupEgress"] if {"Ref": "PeerCidr"} in e.values()
    ]
    assert [sorted(set(rule) & {"CidrIp", "CidrIpv6"}) for rule in rules] == [[key]]


def test_ipv6_only_template_is_cfn_lint_clean(app: App) -> None:
    template = build(
        app,
        "Ipv6OnlyLint",
        cidr=None,
        endpoint_ip_address_type=IpAddressType.IPV6,
        traffic_ip_address_type=IpAddressType.IPV6,
        authorization_rules=[AuthorizationRule(cidr=V6_PEER, all_users=True)],
        routes=[Route(cidr=V6_PEER)],
        internet_access=True,
    )
    assert "ClientCidrBlock" not in endpoint_props(template)
    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=["eu-west-1"]))
    assert [str(m) for m in matches] == []
