"""Fine-grained template tests of ``ClientVpn``: every default and every prop.

One App for the module. Every test builds its stack inside a ``Stage`` of its own, so
``Template.from_stack`` synthesizes that stage only (a stack directly in the App would make
each synthesis cover every stack built so far).
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import jsii
import pytest
from aws_cdk import (
    App,
    CfnWaitConditionHandle,
    Environment,
    RemovalPolicy,
    Stack,
    Stage,
    TagManager,
    Tags,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint
from constructs import IConstruct

from constructs_cvpn import AuthorizationRule, ClientVpn, Route
from tests.graph import max_concurrent

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Idp"
PORTAL_SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Portal"
VPC_CIDR = "10.0.0.0/16"

ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"

#: An environment whose AZ lookup is pinned (six AZs, the most any region has for Client VPN
#: planning purposes), so the concurrency test sees the worst case of associations.
SIX_AZ_ENV = Environment(account="111111111111", region="eu-west-1")
SIX_AZS = [f"eu-west-1{letter}" for letter in "abcdef"]

#: The stack's uuid (the last segment of its id): every log group name ends with it.
STACK_UUID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App(context={"availability-zones:account=111111111111:region=eu-west-1": SIX_AZS})


def new_stack(
    app: App,
    name: str,
    *,
    subnets: list[ec2.SubnetConfiguration] | None = None,
    env: Environment | None = None,
    max_azs: int = 2,
) -> tuple[Stack, ec2.Vpc]:
    stack = Stack(Stage(app, name), "Stack", env=env)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
        max_azs=max_azs,
        nat_gateways=1,
        subnet_configuration=subnets,
    )
    return stack, vpc


def vpn(stack: Stack, vpc: ec2.IVpc, **props: Any) -> ClientVpn:
    """A mutual-auth endpoint with every other prop at its default, unless overridden."""
    defaults: dict[str, Any] = {
        "vpc": vpc,
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "config_export": False,  # tested on its own; it needs a credentials secret
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


def build(app: App, name: str, **props: Any) -> tuple[Stack, ClientVpn, Template]:
    stack, vpc = new_stack(app, name)
    endpoint = vpn(stack, vpc, **props)
    return stack, endpoint, Template.from_stack(stack)


def logical_id(construct: IConstruct) -> str:
    stack = Stack.of(construct)
    child = construct.node.default_child
    return stack.get_logical_id(child if child is not None else construct)  # type: ignore[arg-type]


def ref(construct: IConstruct) -> dict[str, str]:
    return {"Ref": logical_id(construct)}


def resources(template: Template, type_: str) -> dict[str, Any]:
    return template.find_resources(type_)


def saml(stack: Stack, *, portal: bool = False) -> ec2.ClientVpnUserBasedAuthentication:
    idp = iam.SamlProvider.from_saml_provider_arn(stack, "Idp", SAML_ARN)
    portal_idp = (
        iam.SamlProvider.from_saml_provider_arn(stack, "PortalIdp", PORTAL_SAML_ARN)
        if portal
        else None
    )
    return ec2.ClientVpnUserBasedAuthentication.federated(idp, portal_idp)


def paths(constructs: list[Any]) -> list[str]:
    return [c.node.path for c in constructs]


def association_subnets(template: Template) -> list[Any]:
    return [r["Properties"]["SubnetId"] for r in resources(template, ASSOCIATION).values()]


# -- defaults -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defaults(app: App) -> tuple[Stack, ClientVpn, Template]:
    return build(app, "Defaults")


def test_default_endpoint_properties(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    _, endpoint, template = defaults
    template.resource_count_is(ENDPOINT, 1)
    template.has_resource_properties(
        ENDPOINT,
        {
            "ClientCidrBlock": "10.100.0.0/22",
            "ServerCertificateArn": SERVER_ARN,
            "AuthenticationOptions": [
                {
                    "Type": "certificate-authentication",
                    "MutualAuthentication": {"ClientRootCertificateChainArn": CLIENT_ARN},
                }
            ],
            "SplitTunnel": False,
            "TransportProtocol": "udp",
            "VpnPort": 443,
            "SessionTimeoutHours": 12,
            "DisconnectOnSessionTimeout": True,
            "ClientRouteEnforcementOptions": {"Enforced": True},
            "ConnectionLogOptions": {
                "Enabled": True,
                "CloudwatchLogGroup": ref(endpoint.log_group),
                "CloudwatchLogStream": Match.absent(),
            },
            "SelfServicePortal": "disabled",
            # Full tunnel: the VPC resolver, 10.0.0.0/16's base plus two (Amazon VPC user
            # guide, "Amazon DNS server").
            "DnsServers": ["10.0.0.2"],
            "EndpointIpAddressType": Match.absent(),
            "TrafficIpAddressType": Match.absent(),
            "ClientLoginBannerOptions": Match.absent(),
            "ClientConnectOptions": Match.absent(),
            "TagSpecifications": Match.absent(),
            "Description": "Client VPN Defaults/Stack/Vpn",
            "SecurityGroupIds": [{"Fn::GetAtt": [logical_id(endpoint.security_group), "GroupId"]}],
            "VpcId": ref(endpoint.node.scope.node.find_child("Vpc")),  # type: ignore[union-attr]
        },
    )


def test_default_has_no_rule_and_no_route(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    _, _, template = defaults
    template.resource_count_is(RULE, 0)
    template.resource_count_is(ROUTE, 0)


def test_default_log_group(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    _, endpoint, template = defaults
    template.resource_count_is("AWS::Logs::LogGroup", 1)
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "KmsKeyId": {"Fn::GetAtt": [logical_id(endpoint.encryption_key), "Arn"]},
                "RetentionInDays": 365,
                "LogGroupName": {
                    "Fn::Join": ["", ["/aws/client-vpn/DefaultsStack-Vpn-11521148/", STACK_UUID]]
                },
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    assert isinstance(endpoint.log_group, logs.LogGroup)


def test_retained_log_group_name_carries_the_stack_uuid(
    defaults: tuple[Stack, ClientVpn, Template],
) -> None:
    """Destroy then deploy: the retained group of the old stack must not block the new one.

    A redeployed stack gets a new stack id, hence a new name; within one stack the name
    never changes.
    """
    _, _, template = defaults
    [group] = resources(template, "AWS::Logs::LogGroup").values()
    assert group["DeletionPolicy"] == "Retain"
    name = group["Properties"]["LogGroupName"]
    assert not isinstance(name, str)
    assert name["Fn::Join"][1][-1] == STACK_UUID


def test_default_kms_key(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    _, endpoint, template = defaults
    keys = resources(template, "AWS::KMS::Key")
    assert list(keys) == [logical_id(endpoint.encryption_key)]
    key = next(iter(keys.values()))
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert key["UpdateReplacePolicy"] == "Retain"

    log_group_name = next(iter(resources(template, "AWS::Logs::LogGroup").values()))["Properties"][
        "LogGroupName"
    ]["Fn::Join"][1][0]
    logs_statements = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service")
        == {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    ]
    assert len(logs_statements) == 1
    statement = logs_statements[0]
    assert statement["Sid"] == "AllowCloudWatchLogsForClientVpnLogGroupsDefaultsStackVpn45726DA4"
    assert {
        "Sid": "DenyGrantsExceptForAwsResourcesDefaultsStackVpn45726DA4",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "kms:CreateGrant",
        "Resource": "*",
        "Condition": {
            "BoolIfExists": {
                "kms:GrantIsForAWSResource": "false",
                "aws:PrincipalIsAWSService": "false",
            }
        },
    } in key["Properties"]["KeyPolicy"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert "kms:GenerateDataKey*" in statement["Action"]
    assert "kms:Decrypt*" in statement["Action"]
    # One condition operator (ArnEquals/ArnLike) on the log group ARN encryption context.
    [(operator, condition)] = statement["Condition"].items()
    assert operator in ("ArnEquals", "ArnLike")
    assert list(condition) == ["kms:EncryptionContext:aws:logs:arn"]
    arn_parts = condition["kms:EncryptionContext:aws:logs:arn"]["Fn::Join"][1]
    assert arn_parts[-1] == ":log-group:/aws/client-vpn/DefaultsStack-Vpn-11521148*"
    # The key lets CloudWatch Logs use it for this group, whatever the stack's uuid.
    assert re.fullmatch(arn_parts[-1][len(":log-group:") :].replace("*", ".*"), log_group_name)
    assert {"Ref": "AWS::Region"} in arn_parts
    assert {"Ref": "AWS::AccountId"} in arn_parts


def test_default_security_group(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    _, endpoint, template = defaults
    groups = resources(template, "AWS::EC2::SecurityGroup")
    group = groups[logical_id(endpoint.security_group)]["Properties"]
    assert (
        group["GroupDescription"] == "Client VPN Defaults/Stack/Vpn: egress to authorized networks"
    )
    assert "SecurityGroupIngress" not in group
    # No rule, so nothing is reachable: only CDK's "disallow all" placeholder.
    assert [e["CidrIp"] for e in group["SecurityGroupEgress"]] == ["255.255.255.255/32"]
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)


def test_default_one_association_per_az_on_private_subnets(
    defaults: tuple[Stack, ClientVpn, Template],
) -> None:
    stack, endpoint, template = defaults
    vpc = stack.node.find_child("Vpc")
    assert isinstance(vpc, ec2.Vpc)
    assert len(vpc.private_subnets) == 2
    assert association_subnets(template) == [ref(s) for s in vpc.private_subnets]
    template.all_resources_properties(ASSOCIATION, {"ClientVpnEndpointId": ref(endpoint.endpoint)})
    assert paths(endpoint.associated_subnets) == paths(vpc.private_subnets)


def test_default_endpoint_id_output(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    _, endpoint, template = defaults
    outputs = template.find_outputs("*", {"Value": ref(endpoint.endpoint)})
    assert len(outputs) == 1
    [(name, output)] = outputs.items()
    assert name.startswith("VpnEndpointId")
    assert output["Description"] == "Client VPN endpoint id"


def test_attributes(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    stack, endpoint, _ = defaults
    assert isinstance(endpoint.endpoint, ec2.ClientVpnEndpoint)
    assert stack.resolve(endpoint.endpoint_id) == ref(endpoint.endpoint)
    assert stack.resolve(endpoint.endpoint_arn) == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ec2:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":client-vpn-endpoint/",
                ref(endpoint.endpoint),
            ],
        ]
    }
    assert isinstance(endpoint.security_group, ec2.SecurityGroup)
    assert endpoint.connections.security_groups == [endpoint.security_group]
    assert isinstance(endpoint.encryption_key, kms.Key)
    assert stack.resolve(endpoint.log_group.log_group_name) == ref(endpoint.log_group)


def test_is_a_connectable_for_security_group_rules(app: App) -> None:
    """``allow_from(vpn, ...)`` works on an RDS instance and a plain security group."""
    stack, vpc = new_stack(app, "Connectable")
    endpoint = vpn(stack, vpc)
    database = rds.DatabaseInstance(
        stack,
        "Database",
        engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
        vpc=vpc,
    )
    database.connections.allow_from(endpoint, ec2.Port.tcp(5432))
    web = ec2.SecurityGroup(stack, "Web", vpc=vpc)
    web.connections.allow_from(endpoint, ec2.Port.HTTPS)
    assert ec2.IClientVpnEndpoint in ClientVpn.__jsii_ifaces__  # type: ignore[attr-defined]
    template = Template.from_stack(stack)
    group = {"Fn::GetAtt": [logical_id(endpoint.security_group), "GroupId"]}
    for port, target in ((5432, database), (443, web)):
        target_group = target.connections.security_groups[0]
        template.has_resource_properties(
            "AWS::EC2::SecurityGroupIngress",
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "SourceSecurityGroupId": group,
                "GroupId": {"Fn::GetAtt": [logical_id(target_group), "GroupId"]},
            },
        )


def test_is_an_endpoint_for_the_l2s_apis(app: App) -> None:
    """What takes the L2's ``IClientVpnEndpoint`` takes a ``ClientVpn``: a CfnResource's
    endpoint id, its stack, env and removal policy. (The L2's rule and route classes are
    refused at synth, naming ``add_authorization_rule`` / ``add_route``: test_l2_parity.)"""
    stack, vpc = new_stack(app, "AsEndpoint")
    endpoint = vpn(stack, vpc)
    CfnWaitConditionHandle(stack, "Waiter").add_override(
        "Metadata.Endpoint", endpoint.client_vpn_endpoint_ref.client_vpn_endpoint_id
    )
    endpoint.apply_removal_policy(RemovalPolicy.RETAIN)
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::CloudFormation::WaitConditionHandle",
        {"Metadata": {"Endpoint": ref(endpoint.endpoint)}},
    )
    template.has_resource(ENDPOINT, {"DeletionPolicy": "Retain"})
    assert endpoint.stack is stack
    assert endpoint.env.region == stack.region
    assert stack.resolve(endpoint.client_vpn_endpoint_ref.client_vpn_endpoint_id) == ref(
        endpoint.endpoint
    )


def test_target_networks_associated(app: App) -> None:
    stack, vpc = new_stack(app, "Associated")
    endpoint = vpn(stack, vpc)
    waiter = CfnWaitConditionHandle(stack, "Waiter")
    waiter.node.add_dependency(endpoint.target_networks_associated)
    template = Template.from_stack(stack)
    depends_on = template.to_json()["Resources"]["Waiter"]["DependsOn"]
    assert sorted(depends_on) == sorted(resources(template, ASSOCIATION))
    assert len(depends_on) == 2


def test_associations_are_ours_not_the_l2s(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    """The L2 gets no subnets, so it creates none of its index-named associations."""
    stack, endpoint, template = defaults
    assert sorted(resources(template, ASSOCIATION)) == [
        "VpnEndpointAssociationVpcPrivateSubnet141157A60",
        "VpnEndpointAssociationVpcPrivateSubnet2277EAFF8",
    ]
    assert endpoint.endpoint.node.try_find_child("Association0") is None
    assert sorted(stack.resolve(logical_id(a)) for a in endpoint.associations.values()) == sorted(
        resources(template, ASSOCIATION)
    )


def association_ids(app: App, name: str, azs: str) -> dict[str, str]:
    """Logical id of each association, by subnet id, with the subnets of ``azs`` in order."""
    stack, vpc = new_stack(app, name, env=SIX_AZ_ENV, max_azs=3)
    by_az = {s.availability_zone[-1]: s for s in vpc.private_subnets}
    vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnets=[by_az[az] for az in azs]))
    return {
        str(r["Properties"]["SubnetId"]["Ref"]): logical
        for logical, r in resources(Template.from_stack(stack), ASSOCIATION).items()
    }


def test_association_ids_survive_reordering_subnets(app: App) -> None:
    forward = association_ids(app, "AzForward", "ab")
    backward = association_ids(app, "AzBackward", "ba")
    assert forward == backward
    assert sorted(forward.values()) == [
        "VpnEndpointAssociationeuwest1aED67AED9",
        "VpnEndpointAssociationeuwest1bA89848D8",
    ]


def test_adding_an_az_keeps_the_other_associations(app: App) -> None:
    two = association_ids(app, "AzTwo", "ab")
    three = association_ids(app, "AzThree", "abc")
    assert {k: three[k] for k in two} == two
    assert sorted(set(three.values()) - set(two.values())) == [
        "VpnEndpointAssociationeuwest1cCECE67B7"
    ]


def test_removing_the_first_az_keeps_the_others(app: App) -> None:
    """With index-named associations, dropping the first subnet renamed every other one."""
    three = association_ids(app, "AzAll", "abc")
    two = association_ids(app, "AzLastTwo", "bc")
    assert {k: three[k] for k in two} == two


# -- endpoint props -------------------------------------------------------------------


def test_dns_servers(app: App) -> None:
    _, _, template = build(app, "Dns", dns_servers=["10.0.0.2", "1.1.1.1"])
    template.has_resource_properties(ENDPOINT, {"DnsServers": ["10.0.0.2", "1.1.1.1"]})


def test_split_tunnel_turns_route_enforcement_off(app: App) -> None:
    _, _, template = build(app, "Split", split_tunnel=True)
    template.has_resource_properties(
        ENDPOINT, {"SplitTunnel": True, "ClientRouteEnforcementOptions": {"Enforced": False}}
    )


def test_tcp(app: App) -> None:
    _, _, template = build(app, "Tcp", transport_protocol=ec2.TransportProtocol.TCP)
    template.has_resource_properties(ENDPOINT, {"TransportProtocol": "tcp"})


def test_port_1194(app: App) -> None:
    _, _, template = build(app, "Port1194", port=ec2.VpnPort.OPENVPN)
    template.has_resource_properties(ENDPOINT, {"VpnPort": 1194})


@pytest.mark.parametrize(
    ("timeout", "hours"),
    [
        (ec2.ClientVpnSessionTimeout.EIGHT_HOURS, 8),
        (ec2.ClientVpnSessionTimeout.TEN_HOURS, 10),
        (ec2.ClientVpnSessionTimeout.TWELVE_HOURS, 12),
        (ec2.ClientVpnSessionTimeout.TWENTY_FOUR_HOURS, 24),
    ],
)
def test_session_timeout(app: App, timeout: ec2.ClientVpnSessionTimeout, hours: int) -> None:
    _, _, template = build(app, f"Timeout{hours}", session_timeout=timeout)
    template.has_resource_properties(ENDPOINT, {"SessionTimeoutHours": hours})


def test_disconnect_on_session_timeout_off(app: App) -> None:
    _, _, template = build(app, "NoDisconnect", disconnect_on_session_timeout=False)
    template.has_resource_properties(ENDPOINT, {"DisconnectOnSessionTimeout": False})


def test_login_banner(app: App) -> None:
    _, _, template = build(app, "Banner", client_login_banner="Authorized use only.")
    template.has_resource_properties(
        ENDPOINT,
        {"ClientLoginBannerOptions": {"Enabled": True, "BannerText": "Authorized use only."}},
    )


def test_connect_handler(app: App) -> None:
    stack, vpc = new_stack(app, "Handler")
    handler = lambda_.Function(
        stack,
        "Handler",
        function_name="AWSClientVPN-posture-check",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    vpn(stack, vpc, client_connection_handler=handler)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function", {"FunctionName": "AWSClientVPN-posture-check"}
    )
    template.has_resource_properties(
        ENDPOINT,
        {
            "ClientConnectOptions": {
                "Enabled": True,
                "LambdaFunctionArn": {"Fn::GetAtt": [logical_id(handler), "Arn"]},
            }
        },
    )


@pytest.mark.parametrize("split_tunnel", [False, True])
def test_explicit_route_enforcement_off(app: App, split_tunnel: bool) -> None:
    _, _, template = build(
        app,
        f"EnforcementOff{split_tunnel}",
        split_tunnel=split_tunnel,
        client_route_enforcement_options=ec2.ClientRouteEnforcementOptions(enforced=False),
    )
    template.has_resource_properties(
        ENDPOINT,
        {"SplitTunnel": split_tunnel, "ClientRouteEnforcementOptions": {"Enforced": False}},
    )


def test_description(app: App) -> None:
    _, _, template = build(app, "Description", description="Engineering VPN")
    template.has_resource_properties(ENDPOINT, {"Description": "Engineering VPN"})


def test_tags(app: App) -> None:
    _, _, template = build(app, "Tags", tags={"team": "net", "env": "prod"})
    template.has_resource_properties(
        ENDPOINT,
        {
            "TagSpecifications": [
                {
                    "ResourceType": "client-vpn-endpoint",
                    "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "net"}],
                }
            ]
        },
    )


def test_tags_of_a_scope_reach_the_endpoint_merged_with_tags(app: App) -> None:
    stack, vpc = new_stack(app, "TagsOf")
    endpoint = vpn(stack, vpc, tags={"team": "net"})
    Tags.of(stack).add("CostCenter", "42")
    Tags.of(endpoint).add("team", "platform", priority=200)  # overrides the prop's value
    Tags.of(stack).add("Hidden", "x", exclude_resource_types=[ENDPOINT])
    template = Template.from_stack(stack)
    template.has_resource_properties(
        ENDPOINT,
        {
            "TagSpecifications": [
                {
                    "ResourceType": "client-vpn-endpoint",
                    "Tags": [
                        {"Key": "CostCenter", "Value": "42"},
                        {"Key": "team", "Value": "platform"},
                    ],
                }
            ]
        },
    )
    # Every other taggable resource of the construct gets the tag the usual way.
    template.has_resource_properties(
        "AWS::KMS::Key", {"Tags": Match.array_with([{"Key": "CostCenter", "Value": "42"}])}
    )
    assert isinstance(endpoint.tags, TagManager)


def test_no_tags_no_tag_specifications(defaults: tuple[Stack, ClientVpn, Template]) -> None:
    _, _, template = defaults
    [props] = [r["Properties"] for r in resources(template, ENDPOINT).values()]
    assert "TagSpecifications" not in props


# -- authentication -------------------------------------------------------------------


def test_active_directory(app: App) -> None:
    _, _, template = build(
        app,
        "ActiveDirectory",
        client_certificate_arn=None,
        user_based_authentication=ec2.ClientVpnUserBasedAuthentication.active_directory(
            "d-1234567890"
        ),
    )
    template.has_resource_properties(
        ENDPOINT,
        {
            "AuthenticationOptions": [
                {
                    "Type": "directory-service-authentication",
                    "ActiveDirectory": {"DirectoryId": "d-1234567890"},
                }
            ],
            "SelfServicePortal": "disabled",
        },
    )


def test_saml_without_portal_by_default(app: App) -> None:
    stack, vpc = new_stack(app, "Saml")
    vpn(stack, vpc, client_certificate_arn=None, user_based_authentication=saml(stack))
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT,
        {
            "AuthenticationOptions": [
                {
                    "Type": "federated-authentication",
                    "FederatedAuthentication": {
                        "SAMLProviderArn": SAML_ARN,
                        "SelfServiceSAMLProviderArn": Match.absent(),
                    },
                }
            ],
            "SelfServicePortal": "disabled",
        },
    )


def test_saml_with_self_service_portal(app: App) -> None:
    stack, vpc = new_stack(app, "SamlPortal")
    vpn(
        stack,
        vpc,
        client_certificate_arn=None,
        user_based_authentication=saml(stack),
        self_service_portal=True,
    )
    Template.from_stack(stack).has_resource_properties(ENDPOINT, {"SelfServicePortal": "enabled"})


def test_saml_with_self_service_saml_provider(app: App) -> None:
    stack, vpc = new_stack(app, "SamlPortalIdp")
    vpn(
        stack,
        vpc,
        client_certificate_arn=None,
        user_based_authentication=saml(stack, portal=True),
        self_service_portal=True,
    )
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT,
        {
            "AuthenticationOptions": [
                {
                    "Type": "federated-authentication",
                    "FederatedAuthentication": {
                        "SAMLProviderArn": SAML_ARN,
                        "SelfServiceSAMLProviderArn": PORTAL_SAML_ARN,
                    },
                }
            ],
            "SelfServicePortal": "enabled",
        },
    )


def test_mutual_and_saml(app: App) -> None:
    stack, vpc = new_stack(app, "MutualSaml")
    vpn(stack, vpc, user_based_authentication=saml(stack))
    template = Template.from_stack(stack)
    options = next(iter(resources(template, ENDPOINT).values()))["Properties"][
        "AuthenticationOptions"
    ]
    assert sorted(options, key=lambda o: o["Type"]) == [
        {
            "Type": "certificate-authentication",
            "MutualAuthentication": {"ClientRootCertificateChainArn": CLIENT_ARN},
        },
        {
            "Type": "federated-authentication",
            "FederatedAuthentication": {"SAMLProviderArn": SAML_ARN},
        },
    ]


# -- logging and encryption -----------------------------------------------------------


def test_existing_log_group(app: App) -> None:
    stack, vpc = new_stack(app, "ExistingLogGroup")
    group = logs.LogGroup(stack, "Logs", retention=logs.RetentionDays.ONE_WEEK)
    endpoint = vpn(stack, vpc, log_group=group)
    template = Template.from_stack(stack)
    assert endpoint.log_group is group
    template.resource_count_is("AWS::Logs::LogGroup", 1)
    template.has_resource_properties(
        ENDPOINT, {"ConnectionLogOptions": {"Enabled": True, "CloudwatchLogGroup": ref(group)}}
    )


def test_log_stream(app: App) -> None:
    stack, vpc = new_stack(app, "LogStream")
    group = logs.LogGroup(stack, "Logs")
    stream = logs.LogStream(stack, "Stream", log_group=group)
    vpn(stack, vpc, log_group=group, log_stream=stream)
    Template.from_stack(stack).has_resource_properties(
        ENDPOINT,
        {
            "ConnectionLogOptions": {
                "Enabled": True,
                "CloudwatchLogGroup": ref(group),
                "CloudwatchLogStream": ref(stream),
            }
        },
    )


def test_log_retention(app: App) -> None:
    _, _, template = build(app, "Retention", log_retention=logs.RetentionDays.ONE_MONTH)
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": {
                "Fn::Join": ["", ["/aws/client-vpn/RetentionStack-Vpn-F81B82BF/", STACK_UUID]]
            },
            "RetentionInDays": 30,
        },
    )


def test_encryption_key(app: App) -> None:
    stack, vpc = new_stack(app, "OwnKey")
    key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    endpoint = vpn(stack, vpc, encryption_key=key)
    template = Template.from_stack(stack)
    assert endpoint.encryption_key is key
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [logical_id(key), "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {
                                    "Service": {
                                        "Fn::Join": [
                                            "",
                                            ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"],
                                        ]
                                    }
                                }
                            }
                        )
                    ]
                )
            }
        },
    )


def test_two_vpns_share_one_key_with_unique_sids(app: App) -> None:
    """Each ClientVpn adds its logs statement to a shared key under a Sid of its own:
    a duplicate Sid is cfn-lint E3512, and KMS rejects the policy."""
    stack, vpc = new_stack(app, "SharedKey")
    key = kms.Key(stack, "SharedKey", enable_key_rotation=True)
    ClientVpn(
        stack,
        "VpnA",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        config_export=False,
        encryption_key=key,
    )
    ClientVpn(
        stack,
        "VpnB",
        vpc=vpc,
        cidr="10.104.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        config_export=False,
        encryption_key=key,
    )
    template = Template.from_stack(stack)
    (policy,) = [
        k["Properties"]["KeyPolicy"] for k in resources(template, "AWS::KMS::Key").values()
    ]
    sids = [statement.get("Sid") for statement in policy["Statement"]]
    assert sids == [
        None,  # the CDK's own account statement
        "AllowCloudWatchLogsForClientVpnLogGroupsSharedKeyStackVpnA3013B8B0",
        "AllowCloudWatchLogsForClientVpnLogGroupsSharedKeyStackVpnBD210BFB7",
    ]
    # A key the application brings is its own: no deny statement is added to it.
    assert "kms:CreateGrant" not in json.dumps(policy)
    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=["eu-west-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id == "E3512"] == []
    assert [m.rule.id for m in matches if m.rule.id.startswith("E")] == []


# -- network --------------------------------------------------------------------------


def test_security_groups(app: App) -> None:
    stack, vpc = new_stack(app, "OwnGroups")
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc, allow_all_outbound=False)
    endpoint = vpn(
        stack,
        vpc,
        security_groups=[group],
        authorization_rules=[AuthorizationRule(cidr=VPC_CIDR, all_users=True)],
    )
    template = Template.from_stack(stack)
    assert endpoint.security_group is group
    template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    template.has_resource_properties(
        ENDPOINT, {"SecurityGroupIds": [{"Fn::GetAtt": [logical_id(group), "GroupId"]}]}
    )
    # A group you bring is yours: no egress is added for the rule.
    egress = resources(template, "AWS::EC2::SecurityGroup")[logical_id(group)]["Properties"][
        "SecurityGroupEgress"
    ]
    assert [e["CidrIp"] for e in egress] == ["255.255.255.255/32"]
    template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)


def test_vpc_subnets_isolated(app: App) -> None:
    stack, vpc = new_stack(
        app,
        "Isolated",
        subnets=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )
    endpoint = vpn(
        stack, vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    )
    template = Template.from_stack(stack)
    assert association_subnets(template) == [ref(s) for s in vpc.isolated_subnets]
    assert paths(endpoint.associated_subnets) == paths(vpc.isolated_subnets)


def test_vpc_subnets_by_group_name(app: App) -> None:
    stack, vpc = new_stack(
        app,
        "GroupName",
        subnets=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ec2.SubnetConfiguration(name="Vpn", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        ],
    )
    vpn(stack, vpc, vpc_subnets=ec2.SubnetSelection(subnet_group_name="Vpn"))
    template = Template.from_stack(stack)
    expected = vpc.select_subnets(subnet_group_name="Vpn").subnets
    assert len(expected) == 2
    assert association_subnets(template) == [ref(s) for s in expected]


# -- authorization rules --------------------------------------------------------------


def test_rules_by_group_and_for_all_users(app: App) -> None:
    stack, vpc = new_stack(app, "Rules")
    vpn(
        stack,
        vpc,
        user_based_authentication=saml(stack),
        client_certificate_arn=None,
        authorization_rules=[
            AuthorizationRule(cidr=VPC_CIDR, group_id="engineering", description="The VPC"),
            AuthorizationRule(cidr="192.168.0.0/16", all_users=True),
        ],
    )
    template = Template.from_stack(stack)
    template.resource_count_is(RULE, 2)
    template.has_resource_properties(
        RULE,
        {
            "TargetNetworkCidr": VPC_CIDR,
            "AccessGroupId": "engineering",
            "AuthorizeAllGroups": False,
            "Description": "The VPC",
        },
    )
    template.has_resource_properties(
        RULE,
        {
            "TargetNetworkCidr": "192.168.0.0/16",
            "AccessGroupId": Match.absent(),
            "AuthorizeAllGroups": True,
            "Description": Match.absent(),
        },
    )


def test_rules_open_security_group_egress_to_their_cidrs_only(app: App) -> None:
    _, _, template = build(
        app,
        "RuleEgress",
        authorization_rules=[
            AuthorizationRule(cidr=VPC_CIDR, all_users=True),
            AuthorizationRule(cidr="192.168.0.0/16", all_users=True),
        ],
    )
    [group] = resources(template, "AWS::EC2::SecurityGroup").values()
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": VPC_CIDR,
            "Description": f"Authorized destination {VPC_CIDR}",
            "IpProtocol": "-1",
        },
        {
            "CidrIp": "192.168.0.0/16",
            "Description": "Authorized destination 192.168.0.0/16",
            "IpProtocol": "-1",
        },
    ]
    template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)
    template.resource_count_is(RULE, 2)
    template.resource_count_is(ROUTE, 0)


def test_authorize_all_users_to_vpc_cidr(app: App) -> None:
    stack, vpc = new_stack(app, "AllUsersVpc")
    vpn(stack, vpc, authorize_all_users_to_vpc_cidr=True)
    template = Template.from_stack(stack)
    vpc_cidr = {"Fn::GetAtt": [logical_id(vpc), "CidrBlock"]}
    template.resource_count_is(RULE, 1)
    template.has_resource_properties(
        RULE, {"TargetNetworkCidr": vpc_cidr, "AuthorizeAllGroups": True}
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": [Match.object_like({"CidrIp": vpc_cidr, "IpProtocol": "-1"})]},
    )


def test_internet_access(app: App) -> None:
    _, endpoint, template = build(app, "Internet", internet_access=True)
    template.resource_count_is(RULE, 1)
    template.has_resource_properties(
        RULE, {"TargetNetworkCidr": "0.0.0.0/0", "AuthorizeAllGroups": True}
    )
    routes = resources(template, ROUTE)
    assert len(routes) == 2
    assert sorted(
        (r["Properties"]["DestinationCidrBlock"], str(r["Properties"]["TargetVpcSubnetId"]))
        for r in routes.values()
    ) == sorted(("0.0.0.0/0", str(s)) for s in association_subnets(template))
    associations = set(resources(template, ASSOCIATION))
    for route in routes.values():
        assert associations <= set(route["DependsOn"])
    template.resource_count_is("AWS::EC2::SecurityGroupEgress", 1)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {
            "CidrIp": "0.0.0.0/0",
            "IpProtocol": "-1",
            "GroupId": {"Fn::GetAtt": [logical_id(endpoint.security_group), "GroupId"]},
        },
    )


def test_internet_access_group(app: App) -> None:
    stack, vpc = new_stack(app, "InternetGroup")
    vpn(
        stack,
        vpc,
        client_certificate_arn=None,
        user_based_authentication=saml(stack),
        internet_access=True,
        internet_access_group_id="ops",
    )
    template = Template.from_stack(stack)
    template.resource_count_is(RULE, 1)
    template.has_resource_properties(
        RULE,
        {"TargetNetworkCidr": "0.0.0.0/0", "AccessGroupId": "ops", "AuthorizeAllGroups": False},
    )


def test_two_groups_authorized_to_the_internet(app: App) -> None:
    stack, vpc = new_stack(app, "InternetTwoGroups")
    vpn(
        stack,
        vpc,
        client_certificate_arn=None,
        user_based_authentication=saml(stack),
        authorization_rules=[AuthorizationRule(cidr="0.0.0.0/0", group_id="engineering")],
        internet_access=True,
        internet_access_group_id="ops",
    )
    template = Template.from_stack(stack)
    template.resource_properties_count_is(RULE, {"TargetNetworkCidr": "0.0.0.0/0"}, 2)
    template.resource_properties_count_is(
        "AWS::EC2::SecurityGroupEgress", {"CidrIp": "0.0.0.0/0"}, 1
    )


# -- routes ---------------------------------------------------------------------------


def test_route_goes_through_every_associated_subnet(app: App) -> None:
    _, _, template = build(
        app, "Routes", routes=[Route(cidr="192.168.0.0/16", description="On-premises")]
    )
    routes = resources(template, ROUTE)
    assert sorted(str(r["Properties"]["TargetVpcSubnetId"]) for r in routes.values()) == sorted(
        str(s) for s in association_subnets(template)
    )
    for route in routes.values():
        assert route["Properties"]["DestinationCidrBlock"] == "192.168.0.0/16"
        assert route["Properties"]["Description"] == "On-premises"
        assert set(resources(template, ASSOCIATION)) <= set(route["DependsOn"])


def test_route_through_one_subnet(app: App) -> None:
    stack, vpc = new_stack(app, "RouteOneSubnet")
    vpn(stack, vpc, routes=[Route(cidr="192.168.0.0/16", subnet=vpc.private_subnets[1])])
    template = Template.from_stack(stack)
    template.resource_count_is(ROUTE, 1)
    [route] = resources(template, ROUTE).values()
    assert route["Properties"]["TargetVpcSubnetId"] == ref(vpc.private_subnets[1])
    assert set(resources(template, ASSOCIATION)) <= set(route["DependsOn"])


def test_add_rule_and_route_after_construction(app: App) -> None:
    stack, vpc = new_stack(app, "AddLater")
    endpoint = vpn(stack, vpc)
    rule = endpoint.add_authorization_rule("192.168.0.0/16", all_users=True, description="On-prem")
    routes = endpoint.add_route("192.168.0.0/16", description="On-prem")
    template = Template.from_stack(stack)
    assert isinstance(rule, ec2.ClientVpnAuthorizationRule)
    assert len(routes) == 2
    assert all(isinstance(r, ec2.ClientVpnRoute) for r in routes)
    template.has_resource_properties(
        RULE,
        {
            "TargetNetworkCidr": "192.168.0.0/16",
            "AuthorizeAllGroups": True,
            "Description": "On-prem",
        },
    )
    assert sorted(resources(template, ROUTE)) == sorted(logical_id(r) for r in routes)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": [Match.object_like({"CidrIp": "192.168.0.0/16"})]},
    )


def test_construct_ids_are_stable_when_rules_and_routes_are_reordered(app: App) -> None:
    rules = [
        AuthorizationRule(cidr=VPC_CIDR, all_users=True),
        AuthorizationRule(cidr="192.168.0.0/16", all_users=True),
        AuthorizationRule(cidr="172.16.0.0/12", all_users=True),
    ]
    routes = [Route(cidr="192.168.0.0/16"), Route(cidr="172.16.0.0/12")]

    def ids(name: str, order: list[int]) -> tuple[list[str], list[str]]:
        _, _, template = build(
            app,
            name,
            authorization_rules=[rules[i] for i in order],
            routes=[routes[i] for i in order if i < len(routes)],
        )
        return sorted(resources(template, RULE)), sorted(resources(template, ROUTE))

    first = ids("OrderA", [0, 1, 2])
    second = ids("OrderB", [2, 1, 0])
    assert len(first[0]) == 3
    assert len(first[1]) == 4
    assert first == second


# -- concurrency ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depends_on", "expected"),
    [
        ({"a": [], "b": [], "c": []}, 3),  # no ordering: all at once
        ({"a": [], "b": ["a"], "c": ["b"]}, 1),  # one chain
        ({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}, 2),  # diamond
        ({"a": [], "x": ["a"], "b": ["x"], "c": []}, 2),  # ordered through a non-counted node
    ],
)
def test_max_concurrent_helper(depends_on: dict[str, list[str]], expected: int) -> None:
    graph = {
        name: {"Type": "Other" if name == "x" else ROUTE, "DependsOn": deps}
        for name, deps in depends_on.items()
    }
    assert max_concurrent(graph, {ROUTE}) == expected


def test_rules_and_routes_stay_within_the_concurrent_mutation_limit(app: App) -> None:
    stack, vpc = new_stack(app, "Concurrency", env=SIX_AZ_ENV, max_azs=6)
    vpn(
        stack,
        vpc,
        authorization_rules=[
            AuthorizationRule(cidr=f"172.16.{i}.0/24", all_users=True) for i in range(30)
        ],
        routes=[Route(cidr=f"192.168.{i}.0/24") for i in range(10)],
    )
    template = Template.from_stack(stack)
    all_resources = template.to_json()["Resources"]
    mutations = {n: r for n, r in all_resources.items() if r["Type"] in (RULE, ROUTE)}
    associations = resources(template, ASSOCIATION)
    assert len(associations) == 6
    assert len(mutations) == 30 + 10 * 6

    # Chains: every rule/route waits for at most one other rule/route.
    heads = []
    for name, resource in mutations.items():
        predecessors = [d for d in resource.get("DependsOn", []) if d in mutations]
        assert len(predecessors) <= 1, name
        if not predecessors:
            heads.append(name)

    concurrent = max_concurrent(all_resources, {RULE, ROUTE})
    assert concurrent == len(heads)
    # Client VPN allows 10 concurrent changes per endpoint; 6 associations may run beside the
    # rules, so 4 lanes, all in use with 90 rules and routes (one lane, or five, would fail).
    assert concurrent == 4
    assert len(associations) + concurrent == 10


# -- a connection handler as a plain interface ----------------------------------------


@jsii.implements(ec2.IClientVpnConnectionHandler)
class NamedHandler:
    """A connection handler given by name and ARN (e.g. a function of another app)."""

    ARN = "arn:aws:lambda:eu-west-1:111111111111:function:AWSClientVPN-imported"

    @property
    def function_name(self) -> str:
        return "AWSClientVPN-imported"

    @property
    def function_arn(self) -> str:
        return self.ARN


def test_connect_handler_by_interface(app: App) -> None:
    _, _, template = build(app, "HandlerInterface", client_connection_handler=NamedHandler())
    template.has_resource_properties(
        ENDPOINT,
        {
            "ClientConnectOptions": {
                "Enabled": True,
                "LambdaFunctionArn": NamedHandler.ARN,
            }
        },
    )
