"""One test per ``ClientVpnConfigError`` that ``ClientVpn`` raises at synth time.

Each failing construction gets a fresh stack in the module's one App (a failed construct may
leave a half-built stack behind). Those stacks are never synthesized; tests that synthesize
put their stack in a ``Stage`` of its own, so only that stage is synthesized.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import jsii
import pytest
from aws_cdk import App, CfnParameter, Environment, Fn, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Annotations, Match, Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError, Route

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Idp"
VPC_CIDR = "10.0.0.0/16"


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App()


def new_stack(scope: App | Stage, name: str) -> tuple[Stack, ec2.Vpc]:
    stack = Stack(scope, name)
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR), max_azs=2)
    return stack, vpc


def vpn(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    """A valid mutual-auth endpoint, with ``props`` overriding the defaults."""
    defaults: dict[str, Any] = {
        "vpc": vpc,
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "config_export": False,  # its own tests live elsewhere; it needs a credentials secret
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


def saml(stack: Stack) -> ec2.ClientVpnUserBasedAuthentication:
    provider = iam.SamlProvider.from_saml_provider_arn(stack, "Idp", SAML_ARN)
    return ec2.ClientVpnUserBasedAuthentication.federated(provider)


def secret(stack: Stack) -> secretsmanager.ISecret:
    return secretsmanager.Secret.from_secret_name_v2(stack, "Credentials", "vpn/client")


def config_error(stack: Stack, prop: str, problem: str) -> Any:
    """Expect an error naming ``<stack>/Vpn``, then ``prop``, then matching ``problem``."""
    path = f"{stack.node.path}/Vpn"
    return pytest.raises(ClientVpnConfigError, match=rf"^{re.escape(path)}: {prop}: .*{problem}")


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ClientVpnConfigError, ValueError)


def test_error_carries_path_and_prop(app: App) -> None:
    stack, vpc = new_stack(app, "ErrorAttributes")
    with pytest.raises(ClientVpnConfigError) as info:
        vpn(stack, vpc, cidr="10.100.0.0/23")
    assert (info.value.path, info.value.prop) == ("ErrorAttributes/Vpn", "cidr")


# -- client CIDR ----------------------------------------------------------------------


def test_cidr_malformed(app: App) -> None:
    stack, vpc = new_stack(app, "CidrMalformed")
    with config_error(stack, "cidr", r"'10\.100\.0\.0' is not a CIDR block"):
        vpn(stack, vpc, cidr="10.100.0.0")


def test_cidr_not_ipv4(app: App) -> None:
    stack, vpc = new_stack(app, "CidrNotIpv4")
    with config_error(stack, "cidr", "is not a valid IPv4 CIDR block"):
        vpn(stack, vpc, cidr="fd00:100::/22")


def test_cidr_host_bits_set(app: App) -> None:
    stack, vpc = new_stack(app, "CidrHostBits")
    with config_error(stack, "cidr", r"'10\.100\.0\.1/22' is not a valid IPv4 CIDR.*host bits"):
        vpn(stack, vpc, cidr="10.100.0.1/22")


@pytest.mark.parametrize(("cidr", "prefix"), [("172.0.0.0/11", 11), ("10.100.0.0/23", 23)])
def test_cidr_prefix_outside_12_to_22(app: App, cidr: str, prefix: int) -> None:
    stack, vpc = new_stack(app, f"CidrPrefix{prefix}")
    with config_error(stack, "cidr", rf"is a /{prefix}; Client VPN needs a block from /12 to /22"):
        vpn(stack, vpc, cidr=cidr)


@pytest.mark.parametrize("cidr", ["172.16.0.0/12", "10.100.0.0/22"])
def test_cidr_prefix_12_and_22_accepted(app: App, cidr: str) -> None:
    stack, vpc = new_stack(app, f"CidrAccepted{cidr.split('/')[1]}")
    assert vpn(stack, vpc, cidr=cidr).endpoint is not None


@pytest.mark.parametrize(
    "cidr",
    ["10.0.4.0/22", "10.0.0.0/12"],
    ids=["client-inside-vpc", "vpc-inside-client"],
)
def test_cidr_overlaps_vpc_primary_cidr(app: App, cidr: str) -> None:
    stack, vpc = new_stack(app, f"OverlapPrimary{cidr.split('/')[1]}")
    with config_error(stack, "cidr", rf"client CIDR {re.escape(cidr)} overlaps VPC CIDR 10\.0\."):
        vpn(stack, vpc, cidr=cidr)


@pytest.mark.parametrize(
    "cidr",
    ["100.64.4.0/22", "100.64.0.0/12"],
    ids=["client-inside-vpc", "vpc-inside-client"],
)
def test_cidr_overlaps_vpc_secondary_cidr(app: App, cidr: str) -> None:
    stack, vpc = new_stack(app, f"OverlapSecondary{cidr.split('/')[1]}")
    ec2.CfnVPCCidrBlock(stack, "Secondary", vpc_id=vpc.vpc_id, cidr_block="100.64.0.0/16")
    with config_error(stack, "cidr", r"overlaps VPC CIDR 100\.64\.0\.0/16"):
        vpn(stack, vpc, cidr=cidr)


@pytest.mark.parametrize(
    "route",
    ["10.100.1.0/24", "10.64.0.0/10"],
    ids=["route-inside-client", "client-inside-route"],
)
def test_cidr_overlaps_route_destination(app: App, route: str) -> None:
    stack, vpc = new_stack(app, f"OverlapRoute{route.split('/')[1]}")
    with config_error(stack, "routes", rf"client CIDR 10\.100\.0\.0/22 overlaps route {route}"):
        vpn(stack, vpc, routes=[Route(cidr=route)])


# -- endpoint props -------------------------------------------------------------------


def test_three_dns_servers(app: App) -> None:
    stack, vpc = new_stack(app, "DnsThree")
    with config_error(stack, "dns_servers", "got 3 servers; Client VPN takes at most 2"):
        vpn(stack, vpc, dns_servers=["10.0.0.2", "1.1.1.1", "8.8.8.8"])


def test_dns_server_not_ipv4(app: App) -> None:
    stack, vpc = new_stack(app, "DnsNotIpv4")
    with config_error(stack, "dns_servers", "'fd00::2' is not an IPv4 address"):
        vpn(stack, vpc, dns_servers=["10.0.0.2", "fd00::2"])


def test_no_authentication(app: App) -> None:
    stack, vpc = new_stack(app, "NoAuth")
    with config_error(stack, "authentication", "no authentication method; give client_cert"):
        vpn(stack, vpc, client_certificate_arn=None)


def test_two_user_based_methods(app: App) -> None:
    stack, vpc = new_stack(app, "TwoUserBased")
    methods = [ec2.ClientVpnUserBasedAuthentication.active_directory("d-1234567890"), saml(stack)]
    with config_error(
        stack,
        "user_based_authentication",
        r"got 2 user-based methods \(directory-service-authentication, "
        r"federated-authentication\); Client VPN takes at most one",
    ):
        vpn(stack, vpc, user_based_authentication=methods)


def test_self_service_portal_without_user_based_auth(app: App) -> None:
    stack, vpc = new_stack(app, "PortalMutualOnly")
    with config_error(stack, "self_service_portal", "needs user_based_authentication"):
        vpn(stack, vpc, self_service_portal=True)


def test_banner_too_long(app: App) -> None:
    stack, vpc = new_stack(app, "BannerTooLong")
    with config_error(stack, "client_login_banner", "is 1401 characters long; the limit is 1400"):
        vpn(stack, vpc, client_login_banner="x" * 1401)


def test_banner_of_1400_characters_accepted(app: App) -> None:
    stack, vpc = new_stack(app, "BannerMax")
    assert vpn(stack, vpc, client_login_banner="x" * 1400).endpoint is not None


@jsii.implements(ec2.IClientVpnConnectionHandler)
class NamedHandler:
    """A connection handler whose name is a plain string (e.g. an imported function)."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def function_name(self) -> str:
        return self._name

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:111111111111:function:{self._name}"


def test_connect_handler_name_without_prefix(app: App) -> None:
    stack, vpc = new_stack(app, "HandlerName")
    with config_error(
        stack, "client_connection_handler", "'posture-check' must start with 'AWSClientVPN-'"
    ):
        vpn(stack, vpc, client_connection_handler=NamedHandler("posture-check"))


def test_connect_handler_lambda_function_name_without_prefix(app: App) -> None:
    stack, vpc = new_stack(app, "HandlerFunctionName")
    handler = lambda_.Function(
        stack,
        "Handler",
        function_name="posture-check",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    with config_error(
        stack, "client_connection_handler", "'posture-check' must start with 'AWSClientVPN-'"
    ):
        vpn(stack, vpc, client_connection_handler=handler)


def test_route_enforcement_with_split_tunnel(app: App) -> None:
    stack, vpc = new_stack(app, "EnforcementSplit")
    with config_error(
        stack, "client_route_enforcement_options", "cannot be combined with split_tunnel=True"
    ):
        vpn(
            stack,
            vpc,
            split_tunnel=True,
            client_route_enforcement_options=ec2.ClientRouteEnforcementOptions(enforced=True),
        )


def test_server_certificate_not_in_acm(app: App) -> None:
    stack, vpc = new_stack(app, "ServerCertIam")
    with config_error(stack, "server_certificate_arn", "is not an ACM certificate ARN"):
        vpn(stack, vpc, server_certificate_arn="arn:aws:iam::111111111111:server-certificate/vpn")


def test_client_certificate_not_in_acm(app: App) -> None:
    stack, vpc = new_stack(app, "ClientCertIam")
    with config_error(stack, "client_certificate_arn", "is not an ACM certificate ARN"):
        vpn(stack, vpc, client_certificate_arn="arn:aws:iam::111111111111:server-certificate/ca")


def test_log_group_with_log_retention(app: App) -> None:
    stack, vpc = new_stack(app, "LogGroupRetention")
    group = logs.LogGroup(stack, "Logs")
    with config_error(stack, "log_retention", "applies only to the log group this construct"):
        vpn(stack, vpc, log_group=group, log_retention=logs.RetentionDays.ONE_MONTH)


def test_internet_access_with_split_tunnel(app: App) -> None:
    stack, vpc = new_stack(app, "InternetSplit")
    with config_error(stack, "internet_access", "needs split_tunnel=False"):
        vpn(stack, vpc, internet_access=True, split_tunnel=True)


def test_internet_access_group_without_internet_access(app: App) -> None:
    stack, vpc = new_stack(app, "InternetGroupAlone")
    with config_error(stack, "internet_access_group_id", "needs internet_access=True"):
        vpn(stack, vpc, user_based_authentication=saml(stack), internet_access_group_id="ops")


def test_config_prefix_malformed(app: App) -> None:
    stack, vpc = new_stack(app, "ConfigPrefix")
    with config_error(stack, "config_prefix", "'/configs/' is not a usable key prefix"):
        vpn(
            stack,
            vpc,
            config_export=True,
            client_credentials_secret=secret(stack),
            config_prefix="/configs/",
        )


@pytest.mark.parametrize("prefix", ["configs*", "team/con?figs"])
def test_config_prefix_with_an_iam_wildcard(app: App, prefix: str) -> None:
    """A wildcard in the prefix would widen every policy and condition that names it."""
    stack, vpc = new_stack(app, f"ConfigPrefixWildcard{len(prefix)}")
    with pytest.raises(ClientVpnConfigError) as raised:
        vpn(
            stack,
            vpc,
            config_export=True,
            client_credentials_secret=secret(stack),
            config_prefix=prefix,
        )
    assert raised.value.prop == "config_prefix"
    assert "which would be wildcards in the IAM policies" in str(raised.value)


def test_config_prefix_with_a_wildcard_and_the_generated_pki(app: App) -> None:
    """The generated PKI uses the prefix (user files) also with config_export=False."""
    stack = Stack(app, "PkiPrefixWildcard")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1)
    with pytest.raises(ClientVpnConfigError, match=r"PkiPrefixWildcard/Vpn: config_prefix: "):
        ClientVpn(
            stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", config_export=False, config_prefix="users*"
        )


def test_mutual_export_without_credentials_secret_exports_aws_config_as_is(app: App) -> None:
    # Teams that issue one certificate per person: the shared file carries no key, each
    # person adds theirs locally (cvpn config get --cert/--key).
    stack, vpc = new_stack(app, "ExportNoSecret")
    vpn(stack, vpc, config_export=True)
    template = Template.from_stack(stack)
    (export,) = template.find_resources("Custom::ClientVpnConfigExport").values()
    assert "CredentialsSecretArn" not in export["Properties"]
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "secretsmanager:" not in policies


def test_credentials_secret_without_mutual_auth(app: App) -> None:
    stack, vpc = new_stack(app, "SecretNoMutual")
    with config_error(stack, "client_credentials_secret", "applies only to mutual authentication"):
        vpn(
            stack,
            vpc,
            client_certificate_arn=None,
            user_based_authentication=saml(stack),
            client_credentials_secret=secret(stack),
        )


# -- target networks ------------------------------------------------------------------


def test_two_subnets_in_one_az(app: App) -> None:
    stack, vpc = new_stack(app, "SameAz")
    subnets = [vpc.public_subnets[0], vpc.private_subnets[0]]
    with config_error(
        stack,
        "vpc_subnets",
        "subnets SameAz/Vpc/PublicSubnet1 and SameAz/Vpc/PrivateSubnet1 are in the same "
        "availability zone",
    ):
        vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=subnets))


def test_subnet_from_another_vpc(app: App) -> None:
    stack, vpc = new_stack(app, "OtherVpc")
    other = ec2.Vpc(stack, "Other", ip_addresses=ec2.IpAddresses.cidr("10.1.0.0/16"), max_azs=1)
    with config_error(
        stack,
        "vpc_subnets",
        "subnet OtherVpc/Other/PrivateSubnet1 is not in the endpoint's VPC OtherVpc/Vpc",
    ):
        vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[other.private_subnets[0]]))


# -- rules and routes -----------------------------------------------------------------


def test_rule_cidr_malformed(app: App) -> None:
    stack, vpc = new_stack(app, "RuleCidr")
    with config_error(stack, "authorization_rules", r"'10\.0\.0\.1/16' is not a valid IPv4"):
        vpn(stack, vpc, authorization_rules=[AuthorizationRule(cidr="10.0.0.1/16", all_users=True)])


def test_route_cidr_malformed(app: App) -> None:
    stack, vpc = new_stack(app, "RouteCidr")
    with config_error(stack, "routes", r"'192\.168\.0\.0' is not a CIDR block"):
        vpn(stack, vpc, routes=[Route(cidr="192.168.0.0")])


def test_duplicate_rule(app: App) -> None:
    stack, vpc = new_stack(app, "DuplicateRule")
    rule = AuthorizationRule(cidr="10.0.0.0/16", all_users=True)
    with config_error(stack, "authorization_rules", "duplicate rule for"):
        vpn(stack, vpc, authorization_rules=[rule, rule])


def test_duplicate_route(app: App) -> None:
    stack, vpc = new_stack(app, "DuplicateRoute")
    route = Route(cidr="192.168.0.0/16", description="On-premises")
    with config_error(stack, "routes", "duplicate route to"):
        vpn(stack, vpc, routes=[route, Route(cidr="192.168.0.0/16")])


def test_route_to_the_vpc_primary_cidr(app: App) -> None:
    stack, vpc = new_stack(app, "RouteVpcCidr")
    with config_error(
        stack,
        "routes",
        r"the route to 10\.0\.0\.0/16 is the VPC's own CIDR; AWS adds that route itself "
        r"for each associated subnet \(a second one fails with InvalidClientVpnDuplicateRoute",
    ):
        vpn(stack, vpc, routes=[Route(cidr="10.0.0.0/16")])


def test_route_to_the_vpc_cidr_token(app: App) -> None:
    stack, vpc = new_stack(app, "RouteVpcCidrToken")
    with config_error(stack, "routes", "is the VPC's own CIDR"):
        vpn(stack, vpc, routes=[Route(cidr=vpc.vpc_cidr_block)])


def test_route_to_the_vpc_secondary_cidr(app: App) -> None:
    stack, vpc = new_stack(app, "RouteVpcSecondary")
    ec2.CfnVPCCidrBlock(stack, "Secondary", vpc_id=vpc.vpc_id, cidr_block="100.64.0.0/16")
    with config_error(stack, "routes", r"the route to 100\.64\.0\.0/16 is the VPC's own CIDR"):
        vpn(stack, vpc, routes=[Route(cidr="100.64.0.0/16")])


def test_route_inside_the_vpc_cidr_is_accepted(app: App) -> None:
    """Only the exact VPC CIDR is added by AWS; a narrower destination is a route of its own."""
    stack, vpc = new_stack(Stage(app, "RouteInsideVpc"), "Stack")
    vpn(stack, vpc, routes=[Route(cidr="10.0.128.0/17")])
    Template.from_stack(stack).resource_properties_count_is(
        "AWS::EC2::ClientVpnRoute", {"DestinationCidrBlock": "10.0.128.0/17"}, 2
    )


def test_route_through_a_subnet_that_is_not_associated(app: App) -> None:
    stack, vpc = new_stack(app, "RouteUnassociated")
    with config_error(
        stack,
        "routes",
        r"the route to 192\.168\.0\.0/16 goes through subnet RouteUnassociated/Vpc/PublicSubnet1, "
        r"which is not a target network of this endpoint; use one of the associated subnets "
        r"\(RouteUnassociated/Vpc/PrivateSubnet1, RouteUnassociated/Vpc/PrivateSubnet2\)",
    ):
        vpn(stack, vpc, routes=[Route(cidr="192.168.0.0/16", subnet=vpc.public_subnets[0])])


def test_add_route_through_an_unassociated_subnet_after_construction(app: App) -> None:
    stack, vpc = new_stack(app, "AddRouteUnassociated")
    endpoint = vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[vpc.private_subnets[0]]))
    with config_error(
        stack, "routes", "goes through subnet AddRouteUnassociated/Vpc/PrivateSubnet2"
    ):
        endpoint.add_route("192.168.0.0/16", subnet=vpc.private_subnets[1])


# -- users ----------------------------------------------------------------------------


def test_at_most_2000_users() -> None:
    app = App(context={"cvpn:skipBundling": True})
    stack, vpc = new_stack(app, "ManyUsers")
    names = [f"user{i}" for i in range(2000)]
    endpoint = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=names)
    with config_error(
        stack,
        "users",
        r"adding 'one-more' would make 2001 users; one endpoint takes at most 2000",
    ):
        endpoint.add_user("one-more")


def test_2001_users_in_the_props() -> None:
    app = App(context={"cvpn:skipBundling": True})
    stack, vpc = new_stack(app, "TooManyUsers")
    with config_error(stack, "users", "would make 2001 users; one endpoint takes at most 2000"):
        ClientVpn(
            stack,
            "Vpn",
            vpc=vpc,
            cidr="10.100.0.0/22",
            users=[f"user{i}" for i in range(2001)],
        )


def test_rule_without_group_or_all_users(app: App) -> None:
    stack, vpc = new_stack(app, "RuleNoGroup")
    with config_error(
        stack, "authorization_rules", r"the rule for 10\.0\.0\.0/16 names no group; give group_id"
    ):
        vpn(stack, vpc, authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16")])


def test_rule_with_group_under_mutual_auth_only(app: App) -> None:
    stack, vpc = new_stack(app, "RuleGroupMutual")
    with config_error(
        stack, "authorization_rules", "names group 'ops', but groups need user-based"
    ):
        vpn(stack, vpc, authorization_rules=[AuthorizationRule(cidr=VPC_CIDR, group_id="ops")])


def test_rule_with_group_and_all_users(app: App) -> None:
    stack, vpc = new_stack(app, "RuleGroupAndAll")
    rule = AuthorizationRule(cidr=VPC_CIDR, group_id="ops", all_users=True)
    with config_error(stack, "authorization_rules", "sets both group_id and all_users"):
        vpn(
            stack,
            vpc,
            client_certificate_arn=None,
            user_based_authentication=saml(stack),
            authorization_rules=[rule],
        )


def test_add_route_after_construction_is_validated(app: App) -> None:
    stack, vpc = new_stack(app, "AddRouteLater")
    endpoint = vpn(stack, vpc)
    with config_error(stack, "routes", "overlaps route 10.100.0.0/16"):
        endpoint.add_route("10.100.0.0/16")


# -- tokens skip the value checks -----------------------------------------------------


def test_tokens_skip_value_checks(app: App) -> None:
    stack, vpc = new_stack(Stage(app, "Tokens"), "Stack")
    cidr = CfnParameter(stack, "ClientCidr", default="10.100.0.0/22").value_as_string
    server = CfnParameter(stack, "ServerCert").value_as_string
    client = CfnParameter(stack, "ClientCert").value_as_string
    vpn(stack, vpc, cidr=cidr, server_certificate_arn=server, client_certificate_arn=client)
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::ClientVpnEndpoint",
        {
            "ClientCidrBlock": {"Ref": "ClientCidr"},
            "ServerCertificateArn": {"Ref": "ServerCert"},
            "AuthenticationOptions": [
                {
                    "Type": "certificate-authentication",
                    "MutualAuthentication": {
                        "ClientRootCertificateChainArn": {"Ref": "ClientCert"}
                    },
                }
            ],
        },
    )


def test_token_rule_and_route_cidrs_skip_value_checks(app: App) -> None:
    stack, vpc = new_stack(Stage(app, "TokenCidrs"), "Stack")
    onprem = CfnParameter(stack, "OnPremCidr").value_as_string
    vpn(
        stack,
        vpc,
        authorization_rules=[AuthorizationRule(cidr=onprem, all_users=True)],
        routes=[Route(cidr=onprem)],
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::ClientVpnAuthorizationRule", {"TargetNetworkCidr": {"Ref": "OnPremCidr"}}
    )
    template.resource_properties_count_is(
        "AWS::EC2::ClientVpnRoute", {"DestinationCidrBlock": {"Ref": "OnPremCidr"}}, 2
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupEgress": Match.array_with(
                [Match.object_like({"CidrIp": {"Ref": "OnPremCidr"}})]
            )
        },
    )


# -- issue 11: warnings where a user needs a word, user-level names in messages -------


def warnings_of(stack: Stack) -> list[tuple[str, str]]:
    """(path, message) of every warning annotation in ``stack`` (synthesizes its stage)."""
    found = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    return [(w.id, str(w.entry.data)) for w in found]


def staged(name: str, **context: Any) -> tuple[Stack, ec2.Vpc]:
    """A stack in a Stage of its own (this module's App is never synthesized whole)."""
    return new_stack(Stage(App(context=context or None), name), "Stack")


def test_internet_access_through_isolated_subnets_warns() -> None:
    stack, _ = staged("NoNat")
    vpc = ec2.Vpc(
        stack,
        "IsolatedVpc",
        ip_addresses=ec2.IpAddresses.cidr("10.1.0.0/16"),
        max_azs=2,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    vpn(stack, vpc, internet_access=True)
    [(path, message)] = warnings_of(stack)
    assert path == "/NoNat/Stack/Vpn"
    assert message.startswith(
        "internet_access=True, but associated subnet(s) NoNat/Stack/IsolatedVpc/IsolatedSubnet1, "
        "NoNat/Stack/IsolatedVpc/IsolatedSubnet2 have no route to the internet"
    )
    # IPv4 traffic needs a NAT or internet gateway (an egress-only gateway is IPv6 only).
    assert "NAT or internet gateway" in message
    assert "egress-only" not in message
    assert "[ack: constructs-cvpn:noInternetPath]" in message


def test_internet_access_through_imported_isolated_subnets_warns() -> None:
    stack, _ = staged("ImportedIsolated")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Imported",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=["eu-west-1a"],
        isolated_subnet_ids=["subnet-0123456789abcdef0"],
    )
    vpn(
        stack,
        vpc,
        internet_access=True,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    )
    assert [m for _, m in warnings_of(stack) if "no route to the internet" in m]


def test_internet_access_through_nat_subnets_is_quiet() -> None:
    stack, vpc = staged("WithNat")
    vpn(stack, vpc, internet_access=True)
    assert warnings_of(stack) == []


def test_a_client_cidr_from_a_parameter_warns_that_checks_are_skipped() -> None:
    stack, vpc = staged("TokenCidr")
    cidr = CfnParameter(stack, "ClientCidr", default="10.100.0.0/22")
    vpn(stack, vpc, cidr=cidr.value_as_string)
    [(_, message)] = warnings_of(stack)
    assert message.startswith(
        "cidr is the parameter TokenCidr/Stack/ClientCidr, known only at deploy time: the "
        "checks of its size (/12 to /22) and of overlaps with the VPC's CIDRs and the routes "
        "are skipped"
    )
    assert "Token[" not in message


def test_an_imported_key_warns_with_the_statement_its_policy_needs() -> None:
    stage = Stage(App(), "ImportedKey")
    stack = Stack(stage, "Stack", env=Environment(account="111111111111", region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR), max_azs=2)
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-00000000000a"
    )
    endpoint = vpn(stack, vpc, encryption_key=key)
    [(_, message)] = warnings_of(stack)
    assert message.startswith("encryption_key is imported, so its key policy cannot be changed")
    statement = json.loads(
        message.split("Add this statement to the key policy: ")[1].split(" [ack:")[0]
    )
    assert statement == {
        "Sid": f"AllowCloudWatchLogsForClientVpnLogGroups{endpoint.vpn_id}",
        "Effect": "Allow",
        "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
        "Action": [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ],
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111111111111:"
                f"log-group:{endpoint.log_group_prefix}*"
            }
        },
    }


def test_a_key_of_this_app_gets_the_statement_and_no_warning() -> None:
    stack, vpc = staged("OwnKey")
    vpn(stack, vpc, encryption_key=kms.Key(stack, "Key", enable_key_rotation=True))
    assert warnings_of(stack) == []


def test_skipped_bundling_warns_on_every_handler_function() -> None:
    stack, vpc = staged("Skipped", **{"cvpn:skipBundling": True})
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        users=["alice"],
        authorization_rules=[AuthorizationRule(cidr=VPC_CIDR, all_users=True)],
    )
    found = warnings_of(stack)
    assert sorted(path for path, _ in found) == [
        "/Skipped/Stack/Vpn/CertificateAuthority/Handler/Function",
        "/Skipped/Stack/Vpn/Users/Handler/Function",
    ]
    assert len(found) == 2
    assert all("the function fails if this template is deployed" in m for _, m in found)


def test_duplicate_rule_for_the_vpc_cidr_names_it(app: App) -> None:
    stack, vpc = new_stack(app, "DuplicateVpcRule")
    rule = AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)
    with config_error(
        stack,
        "authorization_rules",
        re.escape("duplicate rule for the VPC CIDR (DuplicateVpcRule/Vpc) and all users;"),
    ) as raised:
        vpn(stack, vpc, authorization_rules=[rule, rule])
    assert "Fn::GetAtt" not in str(raised.value)


def test_duplicate_route_names_the_parameter_and_subnet(app: App) -> None:
    stack, vpc = new_stack(app, "DuplicateTokenRoute")
    peer = CfnParameter(stack, "Peer").value_as_string
    with config_error(
        stack,
        "routes",
        re.escape(
            "duplicate route to the parameter DuplicateTokenRoute/Peer through subnet "
            "DuplicateTokenRoute/Vpc/PrivateSubnet1;"
        ),
    ):
        vpn(stack, vpc, routes=[Route(cidr=peer), Route(cidr=peer)])


def test_two_subnets_in_one_token_az_name_the_az() -> None:
    stack, vpc = staged("TokenAz")  # environment-agnostic: the AZs are Fn::Select tokens
    subnets = [vpc.public_subnets[0], vpc.private_subnets[0]]
    with pytest.raises(ClientVpnConfigError) as raised:
        vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=subnets))
    assert "are in the same availability zone (the region's availability zone #1);" in str(
        raised.value
    )
    assert "${Token" not in str(raised.value)


@pytest.mark.parametrize("kind", ["saml", "ad"])
def test_user_based_auth_needs_a_server_certificate(app: App, kind: str) -> None:
    stack, vpc = new_stack(app, f"UserBasedNoServerCert{kind}")
    auth = (
        saml(stack)
        if kind == "saml"
        else ec2.ClientVpnUserBasedAuthentication.active_directory("d-1234567890")
    )
    with config_error(
        stack,
        "server_certificate_arn",
        re.escape("is required with user_based_authentication (Active Directory or SAML)"),
    ):
        ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", user_based_authentication=auth)


def test_grant_read_config_with_the_generated_pki_points_to_user_grants() -> None:
    stack, vpc = staged("PkiGrant", **{"cvpn:skipBundling": True})
    endpoint = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    role = iam.Role(stack, "Role", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ClientVpnConfigError, match="use grant_read_user_config"):
        endpoint.grant_read_config(role)


def test_duplicate_rule_for_another_resources_attribute_names_it(app: App) -> None:
    stack, vpc = new_stack(app, "DuplicateOtherVpcRule")
    other = ec2.Vpc(stack, "Peer", ip_addresses=ec2.IpAddresses.cidr("172.16.0.0/16"), max_azs=1)
    rule = AuthorizationRule(cidr=other.vpc_cidr_block, all_users=True)
    with config_error(
        stack,
        "authorization_rules",
        re.escape("duplicate rule for the CidrBlock of DuplicateOtherVpcRule/Peer and all users"),
    ):
        vpn(stack, vpc, authorization_rules=[rule, rule])


def test_duplicate_rule_for_an_imported_value_says_deploy_time(app: App) -> None:
    stack, vpc = new_stack(app, "DuplicateImportedRule")
    cidr = Fn.import_value("PeerCidr")
    rule = AuthorizationRule(cidr=cidr, all_users=True)
    with config_error(
        stack,
        "authorization_rules",
        re.escape("duplicate rule for a value known only at deploy time and all users"),
    ):
        vpn(stack, vpc, authorization_rules=[rule, rule])


def test_vpc_subnets_of_the_wrong_type_is_refused(app: App) -> None:
    stack, vpc = new_stack(app, "SubnetsWrongType")
    with config_error(stack, "vpc_subnets", "expected an ec2.SubnetSelection or a dict"):
        vpn(stack, vpc, vpc_subnets=["subnet-1"])
