"""Realistic set-ups a CDK user composes, each synthesized and checked for one specific thing.

Every set-up is an app of its own (synthesized whole: cross-stack references need that),
without the cryptography wheels (``cvpn:skipBundling``), and every template passes cfn-lint
without an error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App, CfnElement, CfnParameter, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Annotations, Match, Template
from cfnlint.api import ManualArgs, lint
from constructs import IConstruct

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError, Route
from tests.test_client_vpn_lookup import LOOKUP_KEY, LOOKUP_RESULT, PRIVATE_SUBNET_IDS, VPC_ID

ENV = Environment(account="111111111111", region="eu-west-1")
THREE_AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
AZ_CONTEXT = {"availability-zones:account=111111111111:region=eu-west-1": THREE_AZS}
SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Idp"
PORTAL_ARN = "arn:aws:iam::111111111111:saml-provider/Portal"
DIRECTORY = "d-1234567890"

ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"


def new_app(**context: Any) -> App:
    return App(context={"cvpn:skipBundling": True, **AZ_CONTEXT, **context})


def synth(stack: Stack) -> Template:
    """The stack's template, after cfn-lint found no error in it."""
    template = Template.from_stack(stack)
    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=["eu-west-1"]))
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
    return template


def props_of(template: Template, type_: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template.find_resources(type_).values()]


def endpoint_props(template: Template) -> dict[str, Any]:
    [props] = props_of(template, ENDPOINT)
    return props


def logical_id(construct: IConstruct) -> str:
    child = construct.node.default_child
    assert isinstance(child, CfnElement)
    return str(Stack.of(construct).resolve(Stack.of(construct).get_logical_id(child)))


def warnings(stack: Stack) -> list[str]:
    found = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    return [str(w.entry.data) for w in found]


# -- networks ---------------------------------------------------------------------------


def test_isolated_only_vpc() -> None:
    """No NAT, no internet gateway: the endpoint sits in the isolated subnets."""
    stack = Stack(new_app(), "Isolated", env=ENV)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        split_tunnel=True,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        users=["alice"],
        authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
    )
    template = synth(stack)
    subnets = sorted(json.dumps(p["SubnetId"]) for p in props_of(template, ASSOCIATION))
    assert subnets == sorted(json.dumps(stack.resolve(s.subnet_id)) for s in vpc.isolated_subnets)
    assert [s.node.path for s in vpn.associated_subnets] == [
        s.node.path for s in vpc.isolated_subnets
    ]
    template.resource_count_is("AWS::EC2::NatGateway", 0)


def test_three_az_vpc_gets_one_association_per_az_keyed_by_az() -> None:
    stack = Stack(new_app(), "ThreeAz", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=3)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        config_export=False,
        internet_access=True,
    )
    template = synth(stack)
    assert len(props_of(template, ASSOCIATION)) == 3
    assert sorted(a.node.id for a in vpn.associations.values()) == [
        f"Association-{az}" for az in THREE_AZS
    ]
    # Internet access: one 0.0.0.0/0 route through each AZ's subnet.
    routes = [p for p in props_of(template, ROUTE) if p["DestinationCidrBlock"] == "0.0.0.0/0"]
    assert len(routes) == 3
    assert not [w for w in warnings(stack) if "noInternetPath" in w]  # NAT in every AZ


def test_vpc_from_attributes() -> None:
    stack = Stack(new_app(), "Attributes", env=ENV)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.0.0.0/16",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    )
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        config_export=False,
        authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
    )
    template = synth(stack)
    assert sorted(p["SubnetId"] for p in props_of(template, ASSOCIATION)) == [
        "subnet-0aaaaaaaaaaaaaaa1",
        "subnet-0bbbbbbbbbbbbbbb2",
    ]
    assert endpoint_props(template)["VpcId"] == "vpc-0123456789abcdef0"
    [rule] = props_of(template, RULE)
    assert rule["TargetNetworkCidr"] == "10.0.0.0/16"
    # The imported VPC's CIDR is known: an overlapping client block is refused.
    with pytest.raises(ClientVpnConfigError, match=re.escape("overlaps VPC CIDR 10.0.0.0/16")):
        ClientVpn(stack, "Overlap", vpc=vpc, cidr="10.0.4.0/22", users=["a"])


def test_vpc_from_lookup_with_pinned_context() -> None:
    """The context cdk.context.json holds after the CLI's lookup: the real VPC is checked."""
    stack = Stack(new_app(**{LOOKUP_KEY: LOOKUP_RESULT}), "Lookup", env=ENV)
    vpc = ec2.Vpc.from_lookup(stack, "Vpc", vpc_id=VPC_ID)
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        users=["alice"],
        internet_access=True,
        authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
    )
    template = synth(stack)
    assert sorted(p["SubnetId"] for p in props_of(template, ASSOCIATION)) == PRIVATE_SUBNET_IDS
    assert not [w for w in warnings(stack) if "noInternetPath" in w]  # private: not isolated


def test_secondary_cidr_is_checked_like_the_primary() -> None:
    stack = Stack(new_app(), "Secondary", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"), max_azs=2)
    ec2.CfnVPCCidrBlock(stack, "Secondary", vpc_id=vpc.vpc_id, cidr_block="100.64.0.0/16")
    with pytest.raises(ClientVpnConfigError, match=re.escape("overlaps VPC CIDR 100.64.0.0/16")):
        ClientVpn(stack, "Overlap", vpc=vpc, cidr="100.64.0.0/22", users=["a"])
    with pytest.raises(
        ClientVpnConfigError, match=re.escape("the route to 100.64.0.0/16 is the VPC's own")
    ):
        ClientVpn(
            stack,
            "RouteToSecondary",
            vpc=vpc,
            cidr="10.100.0.0/22",
            routes=[Route("100.64.0.0/16")],
        )
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        users=["alice"],
        authorization_rules=[AuthorizationRule(cidr="100.64.0.0/16", all_users=True)],
    )


# -- several VPNs, several stacks -------------------------------------------------------


def test_two_vpns_in_one_stack_share_a_key_and_a_bucket() -> None:
    stack = Stack(new_app(), "Shared", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(
        stack,
        "Configs",
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=False,
        enforce_ssl=True,
        versioned=True,
    )
    engineering = ClientVpn(
        stack,
        "Engineering",
        vpc=vpc,
        cidr="10.100.0.0/22",
        encryption_key=key,
        config_bucket=bucket,
        users=["alice"],
    )
    contractors = ClientVpn(
        stack,
        "Contractors",
        vpc=vpc,
        cidr="10.104.0.0/22",
        encryption_key=key,
        config_bucket=bucket,
        users=["bob"],
    )
    template = synth(stack)  # cfn-lint: no duplicate Sid (E3512) in the shared key policy
    template.resource_count_is("AWS::S3::Bucket", 1)
    key_props = template.to_json()["Resources"][stack.resolve(logical_id(key))]["Properties"]
    sids = [s.get("Sid") for s in key_props["KeyPolicy"]["Statement"] if s.get("Sid")]
    assert len(sids) == len(set(sids))
    for vpn in (engineering, contractors):
        assert f"AllowCloudWatchLogsForClientVpnLogGroups{vpn.vpn_id}" in sids
    assert engineering.config_base != contractors.config_base
    assert engineering.user_config_key("alice").startswith(engineering.config_base)


def test_cross_stack_grants_and_connections() -> None:
    """The VPN in a network stack; a database stack lets it in, an app stack's role reads."""
    app = new_app()
    network = Stack(app, "Network", env=ENV)
    vpc = ec2.Vpc(network, "Vpc", max_azs=2)
    vpn = ClientVpn(network, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    data = Stack(app, "Data", env=ENV)
    database = rds.DatabaseInstance(
        data,
        "Database",
        engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
        vpc=vpc,
    )
    database.connections.allow_from(vpn, ec2.Port.tcp(5432))
    people = Stack(app, "People", env=ENV)
    role = iam.Role(people, "Alice", assumed_by=iam.AccountRootPrincipal())
    vpn.grant_read_user_config("alice", role)

    ingress = props_of(synth(data), "AWS::EC2::SecurityGroupIngress")
    assert [i["FromPort"] for i in ingress] == [5432]
    assert "Fn::ImportValue" in json.dumps(ingress[0]["SourceSecurityGroupId"])
    policies = props_of(synth(people), "AWS::IAM::ManagedPolicy")
    [statements] = [p["PolicyDocument"]["Statement"] for p in policies]
    assert {s["Action"] for s in statements} == {"s3:GetObject", "kms:Decrypt"}
    assert "users/alice.ovpn" in json.dumps(statements)


# -- client CIDR and authentication -----------------------------------------------------


def test_client_cidr_from_a_parameter() -> None:
    stack = Stack(new_app(), "TokenCidr", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    cidr = CfnParameter(stack, "ClientCidr", default="10.100.0.0/22")
    ClientVpn(stack, "Vpn", vpc=vpc, cidr=cidr.value_as_string, users=["alice"])
    template = synth(stack)
    assert endpoint_props(template)["ClientCidrBlock"] == {"Ref": "ClientCidr"}
    assert [w for w in warnings(stack) if w.startswith("cidr is the parameter")]


def test_saml_with_self_service_portal() -> None:
    stack = Stack(new_app(), "Saml", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    idp = iam.SamlProvider.from_saml_provider_arn(stack, "Idp", SAML_ARN)
    portal = iam.SamlProvider.from_saml_provider_arn(stack, "Portal", PORTAL_ARN)
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        user_based_authentication=ec2.ClientVpnUserBasedAuthentication.federated(idp, portal),
        self_service_portal=True,
        split_tunnel=True,
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", group_id="engineering")],
    )
    template = synth(stack)
    props = endpoint_props(template)
    assert props["AuthenticationOptions"] == [
        {
            "Type": "federated-authentication",
            "FederatedAuthentication": {
                "SAMLProviderArn": SAML_ARN,
                "SelfServiceSAMLProviderArn": PORTAL_ARN,
            },
        }
    ]
    assert props["SelfServicePortal"] == "enabled"
    [rule] = props_of(template, RULE)
    assert rule["AccessGroupId"] == "engineering"
    # The shared export, as AWS gives it (auth-user-pass and auth-federate), no secret.
    [export] = props_of(template, "Custom::ClientVpnConfigExport")
    assert "CredentialsSecretArn" not in export


def test_active_directory() -> None:
    stack = Stack(new_app(), "Directory", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        user_based_authentication=ec2.ClientVpnUserBasedAuthentication.active_directory(DIRECTORY),
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", group_id="S-1-5-21-1-2-3")],
    )
    template = synth(stack)
    assert endpoint_props(template)["AuthenticationOptions"] == [
        {"Type": "directory-service-authentication", "ActiveDirectory": {"DirectoryId": DIRECTORY}}
    ]


def test_active_directory_with_mutual_authentication() -> None:
    stack = Stack(new_app(), "DirectoryMutual", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    credentials = secretsmanager.Secret.from_secret_name_v2(stack, "Credentials", "vpn/client")
    ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        client_credentials_secret=credentials,
        user_based_authentication=ec2.ClientVpnUserBasedAuthentication.active_directory(DIRECTORY),
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", group_id="S-1-5-21-1-2-3")],
    )
    template = synth(stack)
    types = sorted(o["Type"] for o in endpoint_props(template)["AuthenticationOptions"])
    assert types == ["certificate-authentication", "directory-service-authentication"]
    [export] = props_of(template, "Custom::ClientVpnConfigExport")
    assert "CredentialsSecretArn" in export


# -- bring your own ---------------------------------------------------------------------


def test_bring_your_own_security_group_bucket_key_and_log_group() -> None:
    stack = Stack(new_app(), "Byo", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc, allow_all_outbound=False)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(
        stack, "Bucket", encryption=s3.BucketEncryption.KMS, encryption_key=key, versioned=True
    )
    log_group = logs.LogGroup(stack, "Connections", encryption_key=key)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        security_groups=[group],
        encryption_key=key,
        config_bucket=bucket,
        log_group=log_group,
        users=["alice"],
        authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
    )
    template = synth(stack)
    assert (vpn.security_group, vpn.encryption_key, vpn.config_bucket, vpn.log_group) == (
        group,
        key,
        bucket,
        log_group,
    )
    template.resource_count_is("AWS::S3::Bucket", 1)  # no bucket (nor access-log bucket) of ours
    template.resource_count_is("AWS::KMS::Key", 2)  # yours and the CA's own key
    props = endpoint_props(template)
    assert props["SecurityGroupIds"] == [{"Fn::GetAtt": [logical_id(group), "GroupId"]}]
    assert props["ConnectionLogOptions"]["CloudwatchLogGroup"] == {"Ref": logical_id(log_group)}
