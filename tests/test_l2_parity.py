"""The CDK L2's unit tests for ``ClientVpnEndpoint``, its rules and routes, said of ``ClientVpn``.

Translated case by case from aws-cdk's ``packages/aws-cdk-lib/aws-ec2/test/``
``client-vpn-endpoint.test.ts`` (16 cases), ``client-vpn-authorization-rule.test.ts`` (5) and
``client-vpn-route.test.ts`` (5): the facts each case checks, said for ``ClientVpn``. Every
case is here: the same fact, a fact that differs (each difference is listed in README
"Moving from the L2", and the test says which row), or a case that does not apply (the
deprecated ``clientVpnEndoint`` spelling, a fake endpoint object): those are named in
``NOT_APPLICABLE`` with the reason.

Below them, the cases of issue 20 where the L2's classes met a ``ClientVpn``: a rule or a
route made outside ``add_authorization_rule`` / ``add_route`` is refused at synth naming the
method; construct ids do not collide; a refused call adds nothing; the VPC's ``Name`` tag
reaching the endpoint warns.
"""

from __future__ import annotations

import re
from typing import Any

import jsii
import pytest
from aws_cdk import App, Stack, Stage, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Annotations, Match, Template

from constructs_cvpn import ClientVpn, ClientVpnConfigError

SERVER_ARN = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Provider"
ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"

#: The L2 cases that have no ``ClientVpn`` counterpart, and why.
NOT_APPLICABLE = {
    "rule: either clientVpnEndoint (deprecated, typo) or clientVpnEndpoint is required": (
        "vpn.add_authorization_rule is a method of the endpoint: there is no endpoint to omit"
    ),
    "rule: specifying both clientVpnEndoint and clientVpnEndpoint is not allowed": (
        "the deprecated misspelt prop does not exist here"
    ),
    "rule: supplying clientVpnEndoint (deprecated due to typo) should still work": (
        "the deprecated misspelt prop does not exist here"
    ),
    "route: either clientVpnEndoint (deprecated, typo) or clientVpnEndpoint is required": (
        "vpn.add_route is a method of the endpoint: there is no endpoint to omit"
    ),
    "route: specifying both clientVpnEndoint and clientVpnEndpoint is not allowed": (
        "the deprecated misspelt prop does not exist here"
    ),
    "route: supplying clientVpnEndoint (deprecated due to typo) should still work": (
        "the deprecated misspelt prop does not exist here"
    ),
}


def new_stack(name: str) -> tuple[Stack, ec2.Vpc]:
    """The L2 tests' ``new Stack()`` and ``new ec2.Vpc(stack, 'Vpc')`` (defaults: 2 AZs)."""
    stack = Stack(Stage(App(), name), "Stack")
    return stack, ec2.Vpc(stack, "Vpc")


def mutual(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    """The L2 tests' endpoint: cidr, server and client certificate."""
    return ClientVpn(
        stack,
        "Endpoint",
        vpc=vpc,
        cidr=props.pop("cidr", "10.100.0.0/16"),
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        config_export=False,
        **props,
    )


def saml(stack: Stack) -> ec2.ClientVpnUserBasedAuthentication:
    return ec2.ClientVpnUserBasedAuthentication.federated(
        iam.SamlProvider.from_saml_provider_arn(stack, "Provider", SAML_ARN)
    )


def ref(stack: Stack, construct: Any) -> dict[str, str]:
    child = construct.node.default_child or construct
    return {"Ref": stack.get_logical_id(child)}


@jsii.implements(ec2.IClientVpnConnectionHandler)
class Handler:
    """The L2 test's handler given as a plain object: an ARN and an ``AWSClientVPN-`` name."""

    @property
    def function_arn(self) -> str:
        return "arn:aws:lambda:us-east-1:111111111111:function:AWSClientVPN-function-name"

    @property
    def function_name(self) -> str:
        return "AWSClientVPN-function-name"


# -- client-vpn-endpoint.test.ts -------------------------------------------------------


def test_client_vpn_endpoint() -> None:
    """Same facts, with the two documented differences in defaults: the self-service portal
    and the rule to the VPC CIDR are asked for (README: "Default settings")."""
    stack, vpc = new_stack("Endpoint")
    vpn = ClientVpn(
        stack,
        "Endpoint",
        vpc=vpc,
        cidr="10.100.0.0/16",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        client_connection_handler=Handler(),
        dns_servers=["8.8.8.8", "8.8.4.4"],
        user_based_authentication=saml(stack),
        self_service_portal=True,
        authorize_all_users_to_vpc_cidr=True,
        config_export=False,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        ENDPOINT,
        {
            "AuthenticationOptions": [
                {
                    "MutualAuthentication": {"ClientRootCertificateChainArn": CLIENT_ARN},
                    "Type": "certificate-authentication",
                },
                {
                    "FederatedAuthentication": {"SAMLProviderArn": SAML_ARN},
                    "Type": "federated-authentication",
                },
            ],
            "ClientCidrBlock": "10.100.0.0/16",
            "ConnectionLogOptions": {
                "CloudwatchLogGroup": ref(stack, vpn.log_group),
                "Enabled": True,
            },
            "ServerCertificateArn": SERVER_ARN,
            "ClientConnectOptions": {"Enabled": True, "LambdaFunctionArn": Handler().function_arn},
            "DnsServers": ["8.8.8.8", "8.8.4.4"],
            "SecurityGroupIds": [
                {
                    "Fn::GetAtt": [
                        stack.get_logical_id(vpn.security_group.node.default_child),
                        "GroupId",
                    ]
                }  # type: ignore[union-attr,arg-type]
            ],
            "VpcId": ref(stack, vpc),
        },
    )
    associations = template.find_resources(ASSOCIATION)
    assert len(associations) == 2
    assert sorted(str(a["Properties"]["SubnetId"]) for a in associations.values()) == sorted(
        str(ref(stack, s)) for s in vpc.private_subnets
    )
    for association in associations.values():
        assert association["Properties"]["ClientVpnEndpointId"] == ref(stack, vpn.endpoint)
    portal = [
        o
        for key, o in template.find_outputs("*").items()
        if key.startswith("EndpointSelfServicePortalUrl")
    ]
    assert portal == [
        {
            "Value": {
                "Fn::Join": [
                    "",
                    [
                        "https://self-service.clientvpn.amazonaws.com/endpoints/",
                        ref(stack, vpn.endpoint),
                    ],
                ]
            }
        }
    ]
    template.has_resource_properties(
        RULE,
        {
            "ClientVpnEndpointId": ref(stack, vpn.endpoint),
            "TargetNetworkCidr": {
                "Fn::GetAtt": [stack.get_logical_id(vpc.node.default_child), "CidrBlock"]
            },  # type: ignore[arg-type]
            "AuthorizeAllGroups": True,
        },
    )


def test_client_vpn_endpoint_with_custom_security_groups() -> None:
    stack, vpc = new_stack("SecurityGroups")
    groups = [ec2.SecurityGroup(stack, "SG1", vpc=vpc), ec2.SecurityGroup(stack, "SG2", vpc=vpc)]
    mutual(stack, vpc, security_groups=groups)
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT,
        {
            "SecurityGroupIds": [
                {"Fn::GetAtt": [stack.get_logical_id(g.node.default_child), "GroupId"]}  # type: ignore[arg-type]
                for g in groups
            ]
        },
    )


def test_client_vpn_endpoint_with_custom_logging() -> None:
    stack, vpc = new_stack("Logging")
    group = logs.LogGroup(stack, "LogGroup", retention=logs.RetentionDays.TWO_MONTHS)
    stream = group.add_stream("LogStream")
    mutual(stack, vpc, log_group=group, log_stream=stream)
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT,
        {
            "ConnectionLogOptions": {
                "CloudwatchLogGroup": ref(stack, group),
                "CloudwatchLogStream": ref(stack, stream),
                "Enabled": True,
            }
        },
    )


def test_client_vpn_endpoint_with_logging_disabled() -> None:
    """Differs (README "Moving from the L2", row "logging=False"): refused, logs stay on."""
    stack, vpc = new_stack("NoLogging")
    with pytest.raises(
        ClientVpnConfigError, match=r"Endpoint: logging: connection logging is always on"
    ):
        mutual(stack, vpc, logging=False)


def test_client_vpn_endpoint_with_custom_authorization_rules() -> None:
    """A group rule, as the L2 test has it, with user-based authentication: the L2 test's
    endpoint has mutual authentication only, where a group rule is refused (README "Moving from
    the L2", row "a group rule with mutual authentication only"; see the test below)."""
    stack, vpc = new_stack("Rules")
    vpn = mutual(stack, vpc, user_based_authentication=saml(stack))
    vpn.add_authorization_rule("10.0.10.0/32", group_id="group-id")
    template = Template.from_stack(stack)
    template.resource_count_is(RULE, 1)
    template.has_resource_properties(
        RULE,
        {
            "ClientVpnEndpointId": ref(stack, vpn.endpoint),
            "TargetNetworkCidr": "10.0.10.0/32",
            "AccessGroupId": "group-id",
            "AuthorizeAllGroups": False,
        },
    )


def test_group_rule_with_mutual_authentication_only_is_refused() -> None:
    """AuthorizeClientVpnIngress: AccessGroupId is "the Active Directory group or identity
    provider (IdP) group"; a certificate carries no group, so such a rule would authorize
    nobody (EC2 API reference; admin guide, "Client authorization")."""
    stack, vpc = new_stack("MutualGroup")
    vpn = mutual(stack, vpc)
    with pytest.raises(ClientVpnConfigError, match=r"groups need user-based authentication"):
        vpn.add_authorization_rule("10.0.10.0/32", group_id="group-id")


def test_client_vpn_endpoint_with_custom_route() -> None:
    """The L2's ``local`` route to the client CIDR is ``client_to_client=True`` here (with its
    rule); it depends on every association, as in the L2 test."""
    stack, vpc = new_stack("Route")
    vpn = mutual(stack, vpc, client_to_client=True)
    template = Template.from_stack(stack)
    [route] = template.find_resources(ROUTE).values()
    assert route["Properties"] == {
        "ClientVpnEndpointId": ref(stack, vpn.endpoint),
        "DestinationCidrBlock": "10.100.0.0/16",
        "TargetVpcSubnetId": "local",
        "Description": "Client-to-client access",
    }
    association_ids = set(template.find_resources(ASSOCIATION))
    assert len(association_ids) == 2
    assert association_ids <= set(route["DependsOn"])


def test_client_vpn_endpoint_with_custom_session_timeout() -> None:
    stack, vpc = new_stack("Timeout")
    mutual(stack, vpc, session_timeout=ec2.ClientVpnSessionTimeout.TEN_HOURS)
    Template.from_stack(stack).has_resource_properties(ENDPOINT, {"SessionTimeoutHours": 10})


@pytest.mark.parametrize("enforced", [True, False])
def test_client_vpn_endpoint_with_client_route_enforcement(enforced: bool) -> None:
    stack, vpc = new_stack(f"Enforcement{enforced}")
    mutual(stack, vpc, client_route_enforcement_options={"enforced": enforced})
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT, {"ClientRouteEnforcementOptions": {"Enforced": enforced}}
    )


def test_client_route_enforcement_with_split_tunnel_is_refused() -> None:
    stack, vpc = new_stack("EnforcementSplit")
    with pytest.raises(ClientVpnConfigError, match=r"cannot be combined with split_tunnel"):
        mutual(stack, vpc, client_route_enforcement_options={"enforced": True}, split_tunnel=True)


def test_client_vpn_endpoint_with_client_login_banner() -> None:
    stack, vpc = new_stack("Banner")
    mutual(stack, vpc, client_login_banner="Welcome!")
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT, {"ClientLoginBannerOptions": {"Enabled": True, "BannerText": "Welcome!"}}
    )


def test_more_than_two_dns_servers_are_refused() -> None:
    stack, vpc = new_stack("Dns")
    with pytest.raises(ClientVpnConfigError, match=r"Endpoint: dns_servers: "):
        mutual(stack, vpc, dns_servers=["1.1.1.1", "2.2.2.2", "3.3.3.3"])


def test_log_group_with_logging_disabled_is_refused() -> None:
    """Same outcome (refused); the reason given is that logging is always on."""
    stack, vpc = new_stack("LogGroupNoLogging")
    with pytest.raises(ClientVpnConfigError, match=r"Endpoint: logging: "):
        mutual(stack, vpc, logging=False, log_group=logs.LogGroup(stack, "LogGroup"))


def test_no_authentication_option_is_refused() -> None:
    stack, vpc = new_stack("NoAuth")
    with pytest.raises(ClientVpnConfigError, match=r"Endpoint: authentication: no authentication"):
        ClientVpn(
            stack,
            "Endpoint",
            vpc=vpc,
            cidr="10.100.0.0/16",
            server_certificate_arn=SERVER_ARN,
            config_export=False,
        )


@pytest.mark.parametrize("disconnect", [True, False])
def test_disconnect_on_session_timeout(disconnect: bool) -> None:
    stack, vpc = new_stack(f"Disconnect{disconnect}")
    mutual(stack, vpc, disconnect_on_session_timeout=disconnect)
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT, {"DisconnectOnSessionTimeout": disconnect}
    )


# -- client-vpn-authorization-rule.test.ts ---------------------------------------------


def test_rule_normal_usage() -> None:
    stack, vpc = new_stack("RuleNormal")
    vpn = mutual(stack, vpc)
    vpn.add_authorization_rule("10.0.10.0/32", all_users=True)
    Template.from_stack(stack).resource_count_is(RULE, 1)


def test_rule_invalid_call_adds_nothing() -> None:
    stack, vpc = new_stack("RuleInvalid")
    vpn = mutual(stack, vpc)
    children = len(vpn.endpoint.node.children)
    with pytest.raises(ClientVpnConfigError, match=r"names no group"):
        vpn.add_authorization_rule("10.0.10.0/32")
    assert len(vpn.endpoint.node.children) == children
    Template.from_stack(stack).resource_count_is(RULE, 0)


# -- client-vpn-route.test.ts -----------------------------------------------------------


def test_route_normal_usage() -> None:
    """``ec2.ClientVpnRoute(..., client_vpn_endpoint=vpn)`` is refused at synth (the next
    section); the same route through ``add_route``: one VPC, one endpoint, a route per
    associated subnet (the L2 test's single ``local`` route is ``client_to_client``)."""
    stack, vpc = new_stack("RouteNormal")
    vpn = mutual(stack, vpc, user_based_authentication=saml(stack))
    vpn.add_authorization_rule("0.0.0.0/0", all_users=True)
    vpn.add_route("0.0.0.0/0")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is(ENDPOINT, 1)
    template.resource_count_is(ROUTE, 2)


def test_route_invalid_call_adds_nothing() -> None:
    stack, vpc = new_stack("RouteInvalid")
    vpn = mutual(stack, vpc)
    before = len(vpn.endpoint.node.children)
    with pytest.raises(ClientVpnConfigError, match=r"routes: "):
        vpn.add_route("0.0.0.0/0", subnet=vpc.public_subnets[0])
    assert len(vpn.endpoint.node.children) == before
    Template.from_stack(stack).resource_count_is(ROUTE, 0)


def test_every_case_of_the_l2_suites_is_accounted_for() -> None:
    """26 cases: 20 here as tests (two of them parametrized twice) and 6 not applicable."""
    translated = [
        name
        for name, value in globals().items()
        if name.startswith("test_")
        and callable(value)
        and value.__module__ == __name__
        and name
        not in {
            "test_group_rule_with_mutual_authentication_only_is_refused",
            "test_every_case_of_the_l2_suites_is_accounted_for",
        }
        and not name.startswith("test_issue20_")
    ]
    parametrized = 2  # route enforcement and disconnect-on-timeout run twice, as in the L2
    assert len(translated) + parametrized + len(NOT_APPLICABLE) == 26


# -- issue 20: the L2's classes meet a ClientVpn ---------------------------------------


def synth_error(stack: Stack) -> str:
    """The ClientVpnConfigError raised at synth (jsii hands it on as a RuntimeError with the
    same one-line message: the construct path, the prop, what to do)."""
    with pytest.raises(RuntimeError) as caught:
        Template.from_stack(stack)
    message = str(caught.value)
    assert message.startswith(f"{stack.node.path}/Endpoint: authorization_rules/routes: ")
    return message


def test_issue20_l2_rule_class_on_a_client_vpn_is_refused_naming_the_method() -> None:
    stack, vpc = new_stack("L2Rule")
    vpn = mutual(stack, vpc)
    ec2.ClientVpnAuthorizationRule(stack, "Rule", client_vpn_endpoint=vpn, cidr="10.1.0.0/16")
    message = synth_error(stack)
    assert "L2Rule/Stack/Rule" in message
    assert "vpn.add_authorization_rule(" in message
    assert "egress" in message


def test_issue20_l2_route_class_on_a_client_vpn_is_refused_naming_the_method() -> None:
    stack, vpc = new_stack("L2Route")
    vpn = mutual(stack, vpc)
    ec2.ClientVpnRoute(
        stack,
        "Route",
        client_vpn_endpoint=vpn,
        cidr="10.1.0.0/16",
        target=ec2.ClientVpnRouteTarget.subnet(vpc.private_subnets[0]),
    )
    message = synth_error(stack)
    assert "L2Route/Stack/Route" in message
    assert "vpn.add_route(" in message


@pytest.mark.parametrize("method", ["add_route", "add_authorization_rule"])
def test_issue20_the_inner_endpoints_methods_are_refused_naming_ours(method: str) -> None:
    stack, vpc = new_stack(f"Inner{method.title().replace('_', '')}")
    vpn = mutual(stack, vpc)
    if method == "add_route":
        vpn.endpoint.add_route(
            "R", cidr="10.1.0.0/16", target=ec2.ClientVpnRouteTarget.subnet(vpc.private_subnets[0])
        )
    else:
        vpn.endpoint.add_authorization_rule("R", cidr="10.1.0.0/16")
    message = synth_error(stack)
    assert f"vpn.{method}(" in message
    assert "Endpoint/Endpoint/R" in message


def test_issue20_an_l1_rule_on_the_endpoint_is_refused_too() -> None:
    stack, vpc = new_stack("L1Rule")
    vpn = mutual(stack, vpc)
    ec2.CfnClientVpnAuthorizationRule(
        stack,
        "Rule",
        client_vpn_endpoint_id=vpn.endpoint_id,
        target_network_cidr="10.1.0.0/16",
        authorize_all_groups=True,
    )
    assert "vpn.add_authorization_rule(" in synth_error(stack)


def test_issue20_rules_of_another_endpoint_are_left_alone() -> None:
    stack, vpc = new_stack("OtherEndpoint")
    mutual(stack, vpc)
    other = ec2.ClientVpnEndpoint(
        stack,
        "L2",
        vpc=vpc,
        cidr="10.200.0.0/16",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
    )
    other.add_authorization_rule("Extra", cidr="10.9.0.0/16")
    Template.from_stack(stack).resource_count_is(RULE, 2)  # the L2's VPC rule and Extra


def test_issue20_group_ids_differing_by_slash_and_dash_do_not_collide() -> None:
    stack, vpc = new_stack("Groups")
    vpn = mutual(stack, vpc, user_based_authentication=saml(stack))
    vpn.add_authorization_rule("10.1.0.0/16", group_id="eng/ops")
    vpn.add_authorization_rule("10.1.0.0/16", group_id="eng-ops")
    rules = Template.from_stack(stack).find_resources(RULE)
    assert sorted(r["Properties"]["AccessGroupId"] for r in rules.values()) == [
        "eng-ops",
        "eng/ops",
    ]


def test_issue20_a_refused_duplicate_route_adds_nothing() -> None:
    stack, vpc = new_stack("DuplicateRoute")
    vpn = mutual(stack, vpc)
    vpn.add_authorization_rule("172.16.0.0/16", all_users=True)
    second = vpc.private_subnets[1]
    vpn.add_route("172.16.0.0/16", subnet=second)
    with pytest.raises(ClientVpnConfigError, match=r"duplicate route"):
        vpn.add_route("172.16.0.0/16")
    routes = Template.from_stack(stack).find_resources(ROUTE)
    assert [r["Properties"]["TargetVpcSubnetId"] for r in routes.values()] == [ref(stack, second)]


def warnings(stack: Stack, id_: str) -> list[str]:
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(".*"))
    return [str(w.entry.data) for w in found if id_ in str(w.entry.data)]


def test_issue20_a_client_vpn_under_the_vpc_warns_of_the_inherited_name_tag() -> None:
    stack, vpc = new_stack("UnderVpc")
    ClientVpn(
        vpc,
        "Endpoint",
        vpc=vpc,
        cidr="10.100.0.0/16",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        config_export=False,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        ENDPOINT,
        {
            "TagSpecifications": [
                {
                    "ResourceType": "client-vpn-endpoint",
                    "Tags": [{"Key": "Name", "Value": "UnderVpc/Stack/Vpc"}],
                }
            ]
        },
    )
    [message] = warnings(stack, "constructs-cvpn:inheritedTag")
    assert "'Name'" in message
    assert "UnderVpc/Stack/Vpc" in message
    assert re.search(r"replaces the endpoint", message)


def test_issue20_tags_given_to_the_construct_itself_do_not_warn() -> None:
    stack, vpc = new_stack("OwnTags")
    vpn = mutual(stack, vpc, tags={"team": "net"})
    Tags.of(vpn).add("cost-centre", "42")
    Template.from_stack(stack)
    assert warnings(stack, "constructs-cvpn:inheritedTag") == []


def test_issue20_a_stack_wide_tag_warns_naming_the_stack() -> None:
    stack, vpc = new_stack("StackTag")
    mutual(stack, vpc)
    Tags.of(stack).add("owner", "platform")
    Template.from_stack(stack)
    [message] = warnings(stack, "constructs-cvpn:inheritedTag")
    assert "'owner'" in message and "StackTag/Stack" in message


def test_issue20_a_group_named_allusers_does_not_collide_with_the_all_users_rule() -> None:
    stack, vpc = new_stack("AllUsersGroup")
    vpn = mutual(stack, vpc, user_based_authentication=saml(stack))
    vpn.add_authorization_rule("10.1.0.0/16", all_users=True)
    vpn.add_authorization_rule("10.1.0.0/16", group_id="AllUsers")
    rules = Template.from_stack(stack).find_resources(RULE).values()
    assert sorted(str(r["Properties"].get("AccessGroupId")) for r in rules) == ["AllUsers", "None"]


def test_issue20_the_refusal_names_the_l2_construct_and_the_l1_as_it_is() -> None:
    # The L2's own path (what the user wrote), not its "/Resource"; an L1 by its own path.
    stack, vpc = new_stack("Names")
    vpn = mutual(stack, vpc)
    ec2.ClientVpnAuthorizationRule(stack, "L2Rule", client_vpn_endpoint=vpn, cidr="10.1.0.0/16")
    ec2.CfnClientVpnAuthorizationRule(
        stack,
        "L1Rule",
        client_vpn_endpoint_id=vpn.endpoint_id,
        target_network_cidr="10.2.0.0/16",
        authorize_all_groups=True,
    )
    made_elsewhere = synth_error(stack).split("made elsewhere: ", 1)[1]
    assert [entry.split(" (")[0] for entry in made_elsewhere.split("; ")] == [
        "Names/Stack/L2Rule",
        "Names/Stack/L1Rule",
    ]


def test_issue20_a_rule_made_elsewhere_is_found_beside_the_vpns_own() -> None:
    # The VPN's own rule and route come first in the tree; the foreign one after them.
    stack, vpc = new_stack("Beside")
    vpn = mutual(stack, vpc, authorize_all_users_to_vpc_cidr=True)
    vpn.add_route("10.1.0.0/16")
    ec2.ClientVpnAuthorizationRule(stack, "Rule", client_vpn_endpoint=vpn, cidr="10.1.0.0/16")
    assert "Beside/Stack/Rule (" in synth_error(stack)


def test_issue20_each_inherited_tag_warns_past_the_vpns_own() -> None:
    # "a-own" (the construct's own, no warning) sorts before "z-team" (the stack's).
    stack, vpc = new_stack("TwoTags")
    vpn = mutual(stack, vpc)
    Tags.of(vpn).add("a-own", "x")
    Tags.of(stack).add("z-team", "platform")
    Template.from_stack(stack)
    [message] = warnings(stack, "constructs-cvpn:inheritedTag")
    assert "'z-team' from TwoTags/Stack " in message


def test_issue20_an_inherited_tag_names_the_scope_that_set_that_tag() -> None:
    # The stack sets another tag: the app's tag is still named as the app's.
    app = App()
    stack = Stack(app, "Stack")
    vpn = mutual(stack, ec2.Vpc(stack, "Vpc"))
    Tags.of(app).add("team", "platform")
    Tags.of(stack).add("env", "prod")
    Template.from_stack(stack)
    sources = {
        re.search(r"tag '(\w+)' from (.+?) \(", m).groups()  # type: ignore[union-attr]
        for m in warnings(Stack.of(vpn), "constructs-cvpn:inheritedTag")
    }
    assert sources == {("team", "the app"), ("env", "Stack")}
