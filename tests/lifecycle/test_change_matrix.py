"""The change-safety matrix: what one change of each ``ClientVpn`` prop does on the next deploy.

For every prop of ``ClientVpn.__init__`` (the test fails when a prop has no row), a baseline
stack and a variant with one realistic change are synthesized, and every resource is
classified by logical id as added, removed, updated in place or replaced, using the
CloudFormation resource schemas cfn-lint ships (``tests/lifecycle/schemas.py``). A resource
whose properties reference a replaced resource (``Ref``/``Fn::GetAtt``/``Fn::Sub``) sees a
new value there too, so replacement propagates (a new endpoint id replaces every rule).

Asserted for every row, against the schema and the literal expectations below (never the
construct's own constants):

a. the endpoint's classification is the expected one, and for each prop it agrees with the
   README Props table's **R** marks and with the docstring's "*Replaces*" marks;
b. no replacement collides with its predecessor (CloudFormation creates the new resource
   before it deletes the old one): fixed physical names, rule keys (endpoint, CIDR, group),
   route keys (endpoint, CIDR, subnet), associations (one per subnet and per AZ), S3 keys of
   the file-writing custom resources. Rows where a collision is inherent (a rule or route
   description is create-only) must show it, and the README documents the two-step way;
c. a change that alters what a client needs in its ``.ovpn`` changes the properties of every
   file-writing custom resource, so CloudFormation sends each an Update.

The README "Change safety" table is rendered from the rows below; regenerate it with
``python -m tests.lifecycle.test_change_matrix --write-readme`` (``--observed`` prints what
the current code actually does).
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager

from constructs_cvpn import (
    AuthorizationPolicy,
    AuthorizationRule,
    ClientVpn,
    DeviceTrustProvider,
    OfficeHours,
    Route,
    TransitGatewayAttachment,
)
from tests.lifecycle.schemas import changes_service_token, classify

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

# -- literals (the test's own oracle values) -----------------------------------------------

ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"
SUBNET = "AWS::EC2::Subnet"
VPC = "AWS::EC2::VPC"
USERS = "Custom::ClientVpnUsers"
EXPORT = "Custom::ClientVpnConfigExport"
AUTHORITY = "Custom::ClientVpnCertificateAuthority"
#: The custom resources that write client configuration files.
FILE_WRITERS = frozenset({USERS, EXPORT})

#: The property holding a resource's fixed physical name: a replacement or re-creation that
#: keeps it collides with its predecessor ("already exists"; CloudFormation refuses to
#: replace a custom-named resource).
NAME_PROPERTIES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::Events::Rule": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::KMS::Alias": "AliasName",
    # The CA secret the handler creates under exactly this name (a prefix plus a per-request
    # suffix, CaSecretPrefix, does not collide).
    AUTHORITY: "CaSecretName",
}

#: How the table names replaced resources.
LABELS = {
    ASSOCIATION: "association",
    RULE: "rule",
    ROUTE: "route",
    "AWS::EC2::SecurityGroup": "security group",
    "AWS::EC2::SecurityGroupEgress": "egress rule",
    "AWS::Logs::LogGroup": "log group",
    "AWS::S3::Bucket": "bucket",
    "AWS::S3::BucketPolicy": "bucket policy",
    "AWS::KMS::Key": "KMS key",
    "AWS::Lambda::Function": "function",
    "AWS::Lambda::Permission": "permission",
    "AWS::IAM::Role": "role",
    "AWS::IAM::Policy": "policy",
    "AWS::Events::Rule": "schedule",
    "AWS::CloudWatch::Alarm": "alarm",
}

REGION = "eu-west-1"
AZS = [f"{REGION}{letter}" for letter in "abc"]
ENV = Environment(account="111111111111", region=REGION)
CONTEXT = {
    "cvpn:skipBundling": True,
    f"availability-zones:account=111111111111:region={REGION}": AZS,
}
VPC_CIDR = "10.0.0.0/16"
CLIENT_CIDR = "10.100.0.0/22"
PEER_CIDR = "172.16.0.0/16"
OTHER_CIDR = "192.168.0.0/16"
ALL_TO_PEER = AuthorizationRule(cidr=PEER_CIDR, all_users=True)
TCP = ec2.TransportProtocol.TCP
NOT_ENFORCED = ec2.ClientRouteEnforcementOptions(enforced=False)
ONE_YEAR = logs.RetentionDays.ONE_YEAR


def _acm(n: int) -> str:
    return f"arn:aws:acm:{REGION}:111111111111:certificate/00000000-0000-4000-8000-00000000000{n}"


SERVER_ARN, SERVER_ARN_2, CLIENT_ARN, CLIENT_ARN_2 = _acm(1), _acm(2), _acm(3), _acm(4)
SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Idp"
SAML_ARN_2 = "arn:aws:iam::111111111111:saml-provider/OtherIdp"
PORTAL_SAML_ARN = "arn:aws:iam::111111111111:saml-provider/Portal"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:111111111111:secret:vpn/client-AbCdEf"
SECRET_ARN_2 = f"arn:aws:secretsmanager:{REGION}:111111111111:secret:vpn/client-2-GhIjKl"

# -- scenarios -------------------------------------------------------------------------------

Props = dict[str, Any]
Edit = Callable[[Stack, ec2.Vpc], Props]


def _saml(
    stack: Stack, arn: str = SAML_ARN, id: str = "Idp"
) -> ec2.ClientVpnUserBasedAuthentication:
    idp = iam.SamlProvider.from_saml_provider_arn(stack, id, arn)
    portal = iam.SamlProvider.from_saml_provider_arn(stack, f"Portal{id}", PORTAL_SAML_ARN)
    return ec2.ClientVpnUserBasedAuthentication.federated(idp, portal)


def _pki(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {
        "users": ["alice", "bob"],
        "authorization_rules": [AuthorizationRule(cidr=PEER_CIDR, all_users=True)],
        "routes": [Route(cidr=PEER_CIDR)],
    }


def _mutual(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "client_credentials_secret": secretsmanager.Secret.from_secret_complete_arn(
            stack, "Credentials", SECRET_ARN
        ),
        "authorization_rules": [AuthorizationRule(cidr=PEER_CIDR, all_users=True)],
        "routes": [Route(cidr=PEER_CIDR)],
    }


def _saml_props(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {
        "server_certificate_arn": SERVER_ARN,
        "user_based_authentication": _saml(stack),
        "authorization_rules": [AuthorizationRule(cidr=PEER_CIDR, group_id="engineering")],
        "routes": [Route(cidr=PEER_CIDR)],
    }


TGW_ID, TGW_ID_2 = "tgw-0123456789abcdef0", "tgw-0fedcba9876543210"


def _attachment(tgw: str = TGW_ID, zones: list[str] = AZS[:2]) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(tgw, availability_zones=zones)


def _tgw(stack: Stack, vpc: ec2.Vpc) -> Props:
    """Own certs, attached to a transit gateway in two AZs (the VPC is not used)."""
    return {**_mutual(stack, vpc), "vpc": None, "transit_gateway": _attachment()}


#: Every scenario: a VPC in three AZs (two groups of isolated subnets) and a
#: ``ClientVpn`` with the scenario's props; rows change one prop on top.
SCENARIOS: dict[str, tuple[str, Edit]] = {
    "pki": ("generated PKI", _pki),
    "mutual": ("own certs", _mutual),
    "saml": ("SAML", _saml_props),
    "tgw": ("transit gateway", _tgw),
}


def _nothing(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {}


def _set(**props: Any) -> Edit:
    """An edit that sets literal props."""
    return lambda stack, vpc: dict(props)


REPLACED, IN_PLACE, UNCHANGED = "replacement", "in-place", "none"
#: What a new endpoint id replaces in every scenario: each association, rule and route.
WITH_ENDPOINT = "3 associations, 1 rule, 3 routes"


@dataclass(frozen=True)
class Change:
    """One row: a change of ``prop`` on a scenario, and what it must do."""

    prop: str
    scenario: str
    tried: str
    after: Edit
    #: expected endpoint classification: "none", "in-place" or "replacement"
    endpoint: str
    #: expected replaced resources other than the endpoint, as the table shows them
    replaced: str = "none"
    #: the change alters what a client needs in its .ovpn
    ovpn: bool = False
    #: why CloudFormation cannot apply this change in one deploy (a collision is expected)
    two_step: str | None = None
    #: props of both the baseline and the variant, on top of the scenario
    before: Edit = _nothing
    #: the row that stands for ``prop`` in the README/docstring R-mark check
    primary: bool = True
    suffix: str = ""

    @property
    def id(self) -> str:
        return f"{self.prop}[{self.scenario}{'-' + self.suffix if self.suffix else ''}]"

    def also(self, scenario: str) -> Change:
        """The same change on another scenario (not the prop's primary row)."""
        return replace(self, scenario=scenario, primary=False)


def _rule(description: str) -> Edit:
    rule = AuthorizationRule(cidr=PEER_CIDR, all_users=True, description=description)
    return _set(authorization_rules=[rule])


def _route(description: str) -> Edit:
    return _set(routes=[Route(cidr=PEER_CIDR, description=description)])


def _other_vpc(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {"vpc": _vpc(stack, "OtherVpc", "10.1.0.0/16")}


def _dual_stack_vpc(stack: Stack, vpc: ec2.Vpc) -> Props:
    """The scenario on a dual-stack VPC (IPv6 traffic needs subnets with an IPv6 CIDR)."""
    return {"vpc": _vpc(stack, "DualStackVpc", VPC_CIDR, dual_stack=True)}


def _other_vpc_and_cidr(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {**_other_vpc(stack, vpc), "cidr": "10.101.0.0/22"}


def _other_saml(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {"user_based_authentication": _saml(stack, SAML_ARN_2, "OtherIdp")}


def _other_secret(stack: Stack, vpc: ec2.Vpc) -> Props:
    secret = secretsmanager.Secret.from_secret_complete_arn(stack, "Other", SECRET_ARN_2)
    return {"client_credentials_secret": secret}


def _connect_handler(stack: Stack, vpc: ec2.Vpc) -> Props:
    handler = lambda_.Function(
        stack,
        "ConnectHandler",
        function_name="AWSClientVPN-posture",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    return {"client_connection_handler": handler}


def _own(prop: str, factory: Callable[[Stack, ec2.Vpc], Any]) -> Edit:
    return lambda stack, vpc: {prop: factory(stack, vpc)}


def _without_first_az(stack: Stack, vpc: ec2.Vpc) -> Props:
    return {
        "vpc_subnets": ec2.SubnetSelection(subnet_group_name="Private", availability_zones=AZS[1:])
    }


def _reordered_subnets(stack: Stack, vpc: ec2.Vpc) -> Props:
    subnets = vpc.select_subnets(subnet_group_name="Private").subnets
    return {"vpc_subnets": ec2.SubnetSelection(subnets=list(reversed(subnets)))}


JAMF = DeviceTrustProvider(type="jamf", tenant_id="tenant-1")
PERMIT = 'permit(principal, action, resource) when { context.jamf.risk == "LOW" };'
BREAK_GLASS = "arn:aws:iam::111111111111:role/BreakGlass"
#: The schedule moves associations and routes out of the template (to the reconciler's
#: configuration) and back: the diff shows them removed or added, nothing replaced. What
#: the switch does to a running VPN (the reconciler's associations are not template
#: resources, so no collision can show here) is the README's "Off-hours schedule".
_HOURS = _set(schedule=OfficeHours(time_zone="Europe/Berlin"))

_POLICY = _set(
    authorization_policy=AuthorizationPolicy.from_text(PERMIT), device_trust_providers=[JAMF]
)

_CIDR = Change("cidr", "pki", "10.100.0.0/22 → 10.101.0.0/22", _set(cidr="10.101.0.0/22"),
               REPLACED, WITH_ENDPOINT, ovpn=True)  # fmt: skip
_TCP = Change("transport_protocol", "pki", "UDP → TCP", _set(transport_protocol=TCP),
              REPLACED, WITH_ENDPOINT, ovpn=True)  # fmt: skip
_PORT = Change("port", "pki", "443 → 1194", _set(port=ec2.VpnPort.OPENVPN), IN_PLACE, ovpn=True)
_VERSION = Change("config_version", "pki", "none → 2", _set(config_version="2"), UNCHANGED,
                  ovpn=True)  # fmt: skip
_LABEL = Change("remote_random_label", "pki", "False → True", _set(remote_random_label=True),
                UNCHANGED, ovpn=True)  # fmt: skip

#: One row per prop (``primary``), plus rows that show a prop in another scenario or a
#: second kind of change. The order is the table's.
ROWS: list[Change] = [
    Change("vpc", "pki", "another VPC", _other_vpc, IN_PLACE, "3 associations, 1 security group",
           two_step="the new associations are in the same AZs as the old ones"),
    Change("vpc", "pki", "another VPC and another cidr", _other_vpc_and_cidr, REPLACED,
           "3 associations, 1 rule, 1 security group", ovpn=True, primary=False,
           suffix="with-cidr"),
    _CIDR, _CIDR.also("mutual"), _CIDR.also("saml"),
    Change("server_certificate_arn", "mutual", "another ACM certificate",
           _set(server_certificate_arn=SERVER_ARN_2), IN_PLACE, ovpn=True),
    Change("client_certificate_arn", "mutual", "another client root CA",
           _set(client_certificate_arn=CLIENT_ARN_2), REPLACED, WITH_ENDPOINT, ovpn=True),
    Change("user_based_authentication", "saml", "another SAML provider", _other_saml,
           REPLACED, WITH_ENDPOINT, ovpn=True),
    Change("self_service_portal", "saml", "False → True", _set(self_service_portal=True),
           IN_PLACE),
    Change("endpoint_ip_address_type", "pki", "not set (IPv4) → dual-stack",
           _set(endpoint_ip_address_type="dual-stack"), REPLACED, WITH_ENDPOINT, ovpn=True),
    Change("traffic_ip_address_type", "pki", "not set (IPv4) → dual-stack, dual-stack VPC",
           _set(traffic_ip_address_type="dual-stack"), REPLACED, WITH_ENDPOINT, ovpn=True,
           before=_dual_stack_vpc),
    Change("dns_servers", "pki", "VPC resolver (default) → 1.1.1.1",
           _set(dns_servers=["1.1.1.1"]), IN_PLACE),
    # Split tunnel also drops the default VPC resolver and the IPv6 leak block from the files.
    Change("split_tunnel", "pki", "False → True", _set(split_tunnel=True), IN_PLACE, ovpn=True),
    _TCP, _TCP.also("mutual"),
    _PORT, _PORT.also("mutual"), _PORT.also("saml"),
    Change("session_timeout", "pki", "12 h → 8 h",
           _set(session_timeout=ec2.ClientVpnSessionTimeout.EIGHT_HOURS), IN_PLACE),
    Change("disconnect_on_session_timeout", "pki", "True → False",
           _set(disconnect_on_session_timeout=False), IN_PLACE),
    Change("client_login_banner", "pki", "none → a banner",
           _set(client_login_banner="Authorized use only."), IN_PLACE),
    Change("client_connection_handler", "pki", "none → a Lambda", _connect_handler, IN_PLACE),
    Change("client_route_enforcement_options", "pki", "enforced → not enforced",
           _set(client_route_enforcement_options=NOT_ENFORCED), IN_PLACE),
    Change("description", "pki", "default → own text", _set(description="Engineering VPN"),
           IN_PLACE),
    Change("tags", "pki", "none → one tag", _set(tags={"team": "network"}), REPLACED,
           WITH_ENDPOINT, ovpn=True),
    Change("security_groups", "pki", "own group → a group you bring",
           _own("security_groups", lambda s, v: [ec2.SecurityGroup(s, "Group", vpc=v)]),
           IN_PLACE),
    Change("vpc_subnets", "pki", "3 AZs → without the first AZ", _without_first_az, UNCHANGED),
    Change("vpc_subnets", "pki", "same subnets, listed in another order", _reordered_subnets,
           UNCHANGED, primary=False, suffix="reordered"),
    Change("vpc_subnets", "pki", "another subnet in each AZ",
           _set(vpc_subnets=ec2.SubnetSelection(subnet_group_name="Spare")), UNCHANGED,
           "3 associations", primary=False, suffix="moved",
           two_step="the new associations are in the same AZs as the old ones"),
    Change("max_azs", "pki", "none (3 AZs) → 2", _set(max_azs=2), UNCHANGED),
    Change("transit_gateway", "mutual", "VPC → a transit gateway in 2 AZs",
           lambda stack, vpc: {"vpc": None, "transit_gateway": _attachment()}, REPLACED,
           "2 associations, 1 rule", ovpn=True),
    Change("transit_gateway", "tgw", "another transit gateway",
           _set(transit_gateway=_attachment(TGW_ID_2)), REPLACED, "2 associations, 1 rule, 1 route",
           ovpn=True, primary=False, suffix="other"),
    Change("transit_gateway", "tgw", "2 AZs → 3 AZs", _set(transit_gateway=_attachment(zones=AZS)),
           UNCHANGED, primary=False, suffix="add-az"),
    Change("logging", "pki", "True (the only value; False is refused)", _set(logging=True),
           UNCHANGED),
    Change("log_group", "pki", "new group → a group you bring",
           _own("log_group", lambda s, v: logs.LogGroup(s, "Logs", retention=ONE_YEAR)),
           IN_PLACE),
    Change("log_stream", "pki", "none → a named stream of the group you bring",
           _own("log_stream", lambda s, v: logs.LogStream.from_log_stream_name(s, "S", "vpn")),
           IN_PLACE,
           before=_own("log_group", lambda s, v: logs.LogGroup(s, "Logs", retention=ONE_YEAR))),
    Change("log_retention", "pki", "1 year → 3 months",
           _set(log_retention=logs.RetentionDays.THREE_MONTHS), UNCHANGED),
    Change("encryption_key", "pki", "new key → a key you bring",
           _own("encryption_key", lambda s, v: kms.Key(s, "Key", enable_key_rotation=True)),
           UNCHANGED),
    Change("authorization_rules", "pki", "add a rule",
           _set(authorization_rules=[ALL_TO_PEER, AuthorizationRule(OTHER_CIDR, all_users=True)]),
           UNCHANGED),
    Change("authorization_rules", "pki", "change a rule's description", _rule("new text"),
           UNCHANGED, "1 rule", before=_rule("old text"), primary=False, suffix="description",
           two_step="the new rule has the same endpoint, CIDR and group as the old one"),
    Change("routes", "pki", "add a route",
           _set(routes=[Route(cidr=PEER_CIDR), Route(cidr=OTHER_CIDR)]), UNCHANGED),
    Change("routes", "pki", "change a route's description", _route("new text"), UNCHANGED,
           "3 routes", before=_route("old text"), primary=False, suffix="description",
           two_step="the new routes have the same endpoint, CIDR and subnet as the old ones"),
    Change("authorize_all_users_to_vpc_cidr", "pki", "False → True",
           _set(authorize_all_users_to_vpc_cidr=True), UNCHANGED),
    Change("internet_access", "pki", "False → True", _set(internet_access=True), UNCHANGED),
    Change("internet_access_group_id", "saml", "all users → one group",
           _set(internet_access=True, internet_access_group_id="engineering"), UNCHANGED,
           before=_set(internet_access=True)),
    Change("client_to_client", "pki", "False → True", _set(client_to_client=True), UNCHANGED),
    Change("client_to_client_group_id", "saml", "all users → one group",
           _set(client_to_client_group_id="engineering"), UNCHANGED,
           before=_set(client_to_client=True)),
    Change("config_export", "mutual", "True → False (and the credentials secret dropped)",
           _set(config_export=False, client_credentials_secret=None), UNCHANGED),
    Change("config_bucket", "mutual", "new bucket → a bucket you bring",
           _own("config_bucket", lambda s, v: s3.Bucket(s, "Bucket")), UNCHANGED),
    Change("config_prefix", "mutual", "client-config → vpn", _set(config_prefix="vpn"),
           UNCHANGED),
    Change("client_credentials_secret", "mutual", "another secret", _other_secret, UNCHANGED,
           ovpn=True),
    # The CA secret's guard (the authority's GuardAdminArns, updated in place) and the config
    # bucket policy's Deny exemptions change; no file and no endpoint property does.
    Change("break_glass_arn", "pki", "account root → a role", _set(break_glass_arn=BREAK_GLASS),
           UNCHANGED),
    Change("break_glass_arn", "mutual", "account root → a role",
           _set(break_glass_arn=BREAK_GLASS), UNCHANGED, primary=False),
    _VERSION, _VERSION.also("mutual"), _VERSION.also("saml"),
    _LABEL, _LABEL.also("mutual"),
    Change("ipv6_leak_protection", "pki", "on (default, IPv4 full tunnel) → False",
           _set(ipv6_leak_protection=False), UNCHANGED, ovpn=True),
    Change("users", "pki", "add a user", _set(users=["alice", "bob", "carol"]), UNCHANGED,
           ovpn=True),
    Change("ca_validity_days", "pki", "3650 → 1825", _set(ca_validity_days=1825), UNCHANGED),
    Change("server_certificate_validity_days", "pki", "825 → 397",
           _set(server_certificate_validity_days=397), UNCHANGED),
    Change("client_certificate_validity_days", "pki", "825 → 397",
           _set(client_certificate_validity_days=397), UNCHANGED),
    Change("device_trust_providers", "mutual", "none → a Jamf tenant",
           _set(device_trust_providers=[JAMF]), IN_PLACE),
    Change("authorization_policy", "mutual", "none → a Cedar policy", _POLICY, IN_PLACE,
           before=_set(device_trust_providers=[JAMF])),
    Change("authorization_policy", "mutual", "enforced → shadow mode",
           _set(authorization_policy=AuthorizationPolicy.from_text(PERMIT, shadow_mode=True)),
           IN_PLACE, before=_POLICY, primary=False, suffix="shadow"),
    Change("log_authorization_policy_context", "mutual", "on (with a policy) → off",
           _set(log_authorization_policy_context=False), IN_PLACE, before=_POLICY),
    Change("schedule", "pki",
           "none → office hours: 3 associations and 3 routes leave the template for the "
           "reconciler; down until its next check", _HOURS, UNCHANGED),
    Change("schedule", "pki",
           "office hours → none: the associations and routes return to the template; "
           "deploy while asleep", _set(schedule=None), UNCHANGED, before=_HOURS,
           primary=False, suffix="off"),
]  # fmt: skip

# -- synthesis -------------------------------------------------------------------------------

Resources = dict[str, dict[str, Any]]


def _vpc(stack: Stack, id: str, cidr: str, *, dual_stack: bool = False) -> ec2.Vpc:
    """Two groups of isolated subnets (no NAT: nothing here needs one, and synth is faster)."""
    return ec2.Vpc(
        stack,
        id,
        ip_addresses=ec2.IpAddresses.cidr(cidr),
        ip_protocol=ec2.IpProtocol.DUAL_STACK if dual_stack else ec2.IpProtocol.IPV4_ONLY,
        max_azs=len(AZS),
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name=name, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            for name in ("Private", "Spare")
        ],
    )


def synthesize(scenario: str, *edits: Edit) -> Resources:
    """The resources of a fresh App's stack: the scenario's ``ClientVpn`` with ``edits``.

    One App per template, so construct paths (and so logical ids and names) are the same in
    the baseline and the variant.
    """
    app = App(context=CONTEXT, analytics_reporting=False)
    stack = Stack(app, "Stack", env=ENV)
    vpc = _vpc(stack, "Vpc", VPC_CIDR)
    props: Props = {"vpc": vpc, "cidr": CLIENT_CIDR, **SCENARIOS[scenario][1](stack, vpc)}
    for edit in edits:
        props.update(edit(stack, vpc))
    ClientVpn(stack, "Vpn", **props)
    template = app.synth().get_stack_by_name("Stack").template
    resources: Resources = template["Resources"]
    return resources


# -- the template diff ----------------------------------------------------------------------

_SUB_REF = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


def mark_replaced(value: Any, replaced: frozenset[str]) -> Any:
    """``value`` with every reference to a replaced resource tagged: its value is new."""
    if isinstance(value, list):
        return [mark_replaced(v, replaced) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        target = None
        if key == "Ref":
            target = arg
        elif key == "Fn::GetAtt":
            target = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
        elif key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            hits = [m for m in _SUB_REF.findall(text) if m in replaced]
            target = hits[0] if hits else None
        if target in replaced:
            return {key: arg, "replaced": target}
    return {k: mark_replaced(v, replaced) for k, v in value.items()}


@dataclass
class Diff:
    """Every resource of a baseline and a variant, classified by logical id."""

    old: Resources
    new: Resources
    added: frozenset[str]
    removed: frozenset[str]
    #: logical id -> "in-place" | "replacement" for resources in both templates that change
    updates: dict[str, str]
    #: the variant's properties with references to replaced resources tagged
    marked: dict[str, dict[str, Any]]

    @property
    def replaced(self) -> frozenset[str]:
        return frozenset(lid for lid, how in self.updates.items() if how == "replacement")

    def of_type(self, resource_type: str) -> list[str]:
        return sorted(lid for lid, r in self.new.items() if r["Type"] == resource_type)

    def classification(self, lid: str) -> str:
        if lid in self.added:
            return "added"
        return self.updates.get(lid, "none")


def diff(old: Resources, new: Resources) -> Diff:
    """Classify every resource; replacement propagates through references until stable.

    Assumed: an in-place update keeps a resource's ``Ref`` and attributes (true of what this
    construct references: an ACM re-import keeps the ARN, a key or role keeps its ARN).
    Custom resources that answer an Update with a new physical id are the handler's choice
    and do not show in a template.
    """
    common = sorted(old.keys() & new.keys())
    replaced: frozenset[str] = frozenset()
    while True:
        updates: dict[str, str] = {}
        marked: dict[str, dict[str, Any]] = {}
        for lid in sorted(new):
            marked[lid] = mark_replaced(new[lid].get("Properties", {}), replaced)
        for lid in common:
            if old[lid]["Type"] != new[lid]["Type"]:
                updates[lid] = "replacement"
                continue
            how = classify(old[lid]["Type"], old[lid].get("Properties", {}), marked[lid])
            if how != "none":
                updates[lid] = how
        now = frozenset(lid for lid, how in updates.items() if how == "replacement")
        if now == replaced:
            return Diff(
                old=old,
                new=new,
                added=frozenset(new.keys() - old.keys()),
                removed=frozenset(old.keys() - new.keys()),
                updates=updates,
                marked=marked,
            )
        replaced = now


# -- collisions ------------------------------------------------------------------------------


def _resolve(value: Any, resources: Resources) -> Any:
    """Resolve what the template itself knows: a VPC's CIDR block."""
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target, attribute = value["Fn::GetAtt"]
        resource = resources.get(target, {})
        if resource.get("Type") == VPC and attribute == "CidrBlock":
            return resource["Properties"]["CidrBlock"]
    return value


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _az(subnet: Any, resources: Resources) -> str:
    if isinstance(subnet, dict) and set(subnet) == {"Ref"}:
        resource = resources.get(subnet["Ref"], {})
        if resource.get("Type") == SUBNET:
            return _canon(resource["Properties"]["AvailabilityZone"])
    return "subnet " + _canon(subnet)


def identities(
    resource_type: str, props: dict[str, Any], resources: Resources
) -> list[tuple[str, ...]]:
    """What must be unique among the resources that exist at one time."""
    out: list[tuple[str, ...]] = []
    name_prop = NAME_PROPERTIES.get(resource_type)
    if name_prop and name_prop in props:
        out.append(("name", resource_type, _canon(props[name_prop])))
    endpoint = _canon(props.get("ClientVpnEndpointId"))
    if resource_type == RULE:
        group = _canon(props["AccessGroupId"]) if "AccessGroupId" in props else "all users"
        cidr = _canon(_resolve(props["TargetNetworkCidr"], resources))
        out.append(("rule (endpoint, CIDR, group)", endpoint, cidr, group))
    elif resource_type == ROUTE:
        cidr = _canon(_resolve(props["DestinationCidrBlock"], resources))
        # A transit gateway endpoint's routes have no target subnet.
        subnet = _canon(props.get("TargetVpcSubnetId"))
        out.append(("route (endpoint, CIDR, subnet)", endpoint, cidr, subnet))
    elif resource_type == ASSOCIATION:
        if "SubnetId" in props:
            subnet_id = props["SubnetId"]
            out.append(("association (endpoint, subnet)", endpoint, _canon(subnet_id)))
            out.append(("association (endpoint, AZ)", endpoint, _az(subnet_id, resources)))
        else:  # a transit gateway endpoint's association: by AZ name or id
            zone = props.get("AvailabilityZone", props.get("AvailabilityZoneId"))
            out.append(("association (endpoint, AZ)", endpoint, _canon(zone)))
    elif resource_type == USERS:
        out.append(("S3 prefix", _canon(props.get("Bucket")), _canon(props.get("Prefix"))))
    elif resource_type == EXPORT:
        out.append(("S3 key", _canon(props.get("Bucket")), _canon(props.get("Key"))))
    return out


def collisions(d: Diff) -> list[str]:
    """Every way the deploy of ``d`` would collide with what exists at the time.

    CloudFormation creates added and replacement resources first and deletes removed and
    replaced ones in the clean-up phase, so the new ones must not share an identity with the
    old ones; nor may two resources of the new template share one.
    """
    problems: list[str] = []
    gone: dict[tuple[str, ...], str] = {}
    for lid in sorted(d.removed | d.replaced):
        resource = d.old[lid]
        for ident in identities(resource["Type"], resource.get("Properties", {}), d.old):
            gone[ident] = lid
    seen: dict[tuple[str, ...], str] = {}
    for lid in sorted(d.new):
        for ident in identities(d.new[lid]["Type"], d.marked[lid], d.new):
            if ident in seen:
                problems.append(f"{lid} and {seen[ident]} share {ident[0]} {ident[1:]}")
            seen[ident] = lid
            if (lid in d.added or lid in d.replaced) and ident in gone:
                problems.append(
                    f"{lid} ({d.classification(lid)}) is created while {gone[ident]} still "
                    f"holds {ident[0]} {ident[1:]}"
                )
    for lid, how in d.updates.items():
        if how == "in-place" and changes_service_token(
            d.new[lid]["Type"], d.old[lid].get("Properties"), d.marked[lid]
        ):
            problems.append(f"{lid}: a custom resource's ServiceToken cannot change")
    return problems


# -- observations and the table -------------------------------------------------------------


def summarize_replaced(d: Diff) -> str:
    """The replaced resources other than the endpoint, as the table shows them."""
    counts = Counter(
        LABELS.get(d.new[lid]["Type"], d.new[lid]["Type"])
        for lid in d.replaced
        if d.new[lid]["Type"] != ENDPOINT
    )
    if not counts:
        return "none"
    order = list(LABELS.values())
    ranked = sorted(
        counts.items(),
        key=lambda item: (
            (order.index(item[0]), item[0]) if item[0] in order else (len(order), item[0])
        ),
    )
    return ", ".join(f"{n} {label}{'s' if n > 1 else ''}" for label, n in ranked)


@dataclass
class Observed:
    """What synthesis and the schema say about one row."""

    diff: Diff
    endpoint: str
    replaced: str
    collisions: list[str]
    writers: dict[str, str] = field(default_factory=dict)

    @property
    def reaches_every_file(self) -> bool:
        return bool(self.writers) and all(
            how in {"added", "in-place", "replacement"} for how in self.writers.values()
        )


def observe(row: Change, baselines: dict[tuple[str, Edit], Resources]) -> Observed:
    key = (row.scenario, row.before)
    if key not in baselines:
        baselines[key] = synthesize(row.scenario, row.before)
    d = diff(baselines[key], synthesize(row.scenario, row.before, row.after))
    (endpoint,) = d.of_type(ENDPOINT)
    writers = {
        lid: d.classification(lid)
        for lid, resource in d.new.items()
        if resource["Type"] in FILE_WRITERS
    }
    return Observed(
        diff=d,
        endpoint=d.classification(endpoint),
        replaced=summarize_replaced(d),
        collisions=collisions(d),
        writers=writers,
    )


def observe_all() -> dict[str, Observed]:
    baselines: dict[tuple[str, Edit], Resources] = {}
    return {row.id: observe(row, baselines) for row in ROWS}


_ENDPOINT_CELL = {"replacement": "**replaced**", "in-place": "in place", "none": "unchanged"}


def table(rows: list[Change] = ROWS) -> str:
    """The README table, rendered from the rows' expectations (which the tests check)."""
    lines = [
        "| prop | change tried | endpoint | other resources replaced | reaches every .ovpn |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        replaced = row.replaced
        if row.two_step:
            replaced += f"; **collides** ({row.two_step}): two deploys"
        lines.append(
            f"| `{row.prop}` | {row.tried} ({SCENARIOS[row.scenario][0]}) "
            f"| {_ENDPOINT_CELL[row.endpoint]} | {replaced} "
            f"| {'yes' if row.ovpn else 'not needed'} |"
        )
    return "\n".join(lines)


BEGIN = "<!-- change-matrix: python -m tests.lifecycle.test_change_matrix --write-readme -->"
END = "<!-- /change-matrix -->"


def readme_section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def readme_table(text: str) -> str | None:
    section = readme_section(text, "Change safety")
    if BEGIN not in section or END not in section:
        return None
    return section.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def write_readme() -> None:
    text = README.read_text()
    current = readme_table(text)
    if current is None:
        raise SystemExit(f"README.md: no '## Change safety' section with {BEGIN} ... {END}")
    text = text.replace(f"{BEGIN}\n{current}\n{END}", f"{BEGIN}\n{table()}\n{END}")
    README.write_text(text)


# -- README and docstring marks --------------------------------------------------------------


def props_of_client_vpn() -> list[str]:
    params = inspect.signature(ClientVpn.__init__).parameters
    return [name for name in params if name not in {"self", "scope", "id"}]


def readme_replaces(text: str) -> dict[str, bool]:
    """prop -> marked **R** in the README Props table (a cell may list several props)."""
    marks: dict[str, bool] = {}
    for line in readme_section(text, "Props").splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        for name in re.findall(r"`(\w+)`", cell):
            marks[name] = "**R**" in cell
    return marks


def docstring_replaces() -> dict[str, bool]:
    """prop -> its ``Args:`` entry in ``ClientVpn.__init__`` says *Replaces*."""
    doc = inspect.getdoc(ClientVpn.__init__) or ""
    args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    entries: dict[str, str] = {}
    current = None
    for line in args.splitlines():
        match = re.match(r"^    (\w+): ?(.*)$", line)
        if match:
            current = match.group(1)
            entries[current] = match.group(2)
        elif current is not None and line.startswith("     "):
            entries[current] += " " + line.strip()
        elif line.strip() and not line.startswith(" "):
            break
    return {name: "*Replaces" in text for name, text in entries.items()}


# -- tests -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def observed() -> Iterator[dict[str, Observed]]:
    yield observe_all()


def test_every_prop_has_a_row() -> None:
    props = props_of_client_vpn()
    primary = [row.prop for row in ROWS if row.primary]
    missing = [p for p in props if p not in primary]
    assert not missing, f"ClientVpn props without a change-matrix row in ROWS: {missing}"
    unknown = sorted(set(row.prop for row in ROWS) - set(props))
    assert not unknown, f"rows for props ClientVpn no longer has: {unknown}"
    assert len(primary) == len(set(primary)), "one primary row per prop"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_endpoint_classification(row: Change, observed: dict[str, Observed]) -> None:
    got = observed[row.id]
    assert got.endpoint == row.endpoint, (
        f"{row.id}: {row.tried}: the endpoint is {got.endpoint!r}, expected {row.endpoint!r} "
        f"(changed endpoint properties: {_endpoint_changes(got.diff)})"
    )
    assert got.replaced == row.replaced, f"{row.id}: replaced resources"


def _endpoint_changes(d: Diff) -> list[str]:
    (lid,) = d.of_type(ENDPOINT)
    old = d.old.get(lid, {}).get("Properties", {})
    new = d.marked[lid]
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def test_readme_and_docstring_replace_marks() -> None:
    """The README's **R** marks and the docstring's *Replaces* marks agree with the rows."""
    readme = readme_replaces(README.read_text())
    docs = docstring_replaces()
    problems = []
    for row in ROWS:
        if not row.primary:
            continue
        replaces = row.endpoint == "replacement"
        if row.prop not in readme:
            problems.append(f"{row.prop}: not in the README Props table")
        elif readme[row.prop] != replaces:
            problems.append(
                f"{row.prop}: README **R** is {readme[row.prop]}, schema says {replaces}"
            )
        if row.prop not in docs:
            problems.append(f"{row.prop}: no Args entry in the ClientVpn docstring")
        elif docs[row.prop] != replaces:
            problems.append(
                f"{row.prop}: docstring *Replaces* is {docs[row.prop]}, schema says {replaces}"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_no_collision(row: Change, observed: dict[str, Observed]) -> None:
    found = observed[row.id].collisions
    if row.two_step:
        assert found, f"{row.id}: expected a collision ({row.two_step}), found none"
    else:
        assert not found, f"{row.id}: {row.tried} cannot deploy in one step:\n" + "\n".join(found)


@pytest.mark.parametrize("row", [r for r in ROWS if r.ovpn], ids=lambda row: row.id)
def test_change_reaches_every_config_file(row: Change, observed: dict[str, Observed]) -> None:
    got = observed[row.id]
    assert got.writers, f"{row.id}: no file-writing custom resource in the template"
    stale = {lid: how for lid, how in got.writers.items() if how == "none"}
    assert not stale, (
        f"{row.id}: {row.tried} alters what clients need in their .ovpn, but these "
        f"file-writing resources get no Update (their properties do not change): {stale}"
    )


def _types(resources: Resources, lids: frozenset[str] | set[str]) -> Counter[str]:
    return Counter(resources[lid]["Type"] for lid in lids)


def test_break_glass_reaches_the_guard_and_the_bucket_policy(
    observed: dict[str, Observed],
) -> None:
    """The new principal is in the CA's guard and the bucket's Deny exemptions, in place."""
    d = observed["break_glass_arn[pki]"].diff
    changed = {lid for lid, how in d.updates.items() if how == "in-place"}
    assert not d.added and not d.removed and not d.replaced
    types = _types(d.new, changed)
    assert types[AUTHORITY] == 1 and types["AWS::S3::BucketPolicy"] == 1, types
    (authority,) = d.of_type(AUTHORITY)
    assert BREAK_GLASS in json.dumps(d.new[authority]["Properties"])
    assert BREAK_GLASS not in json.dumps(d.old[authority]["Properties"])
    (policy,) = (lid for lid in changed if d.new[lid]["Type"] == "AWS::S3::BucketPolicy")
    assert "ConfigBucket" in policy
    assert BREAK_GLASS in json.dumps(d.new[policy]["Properties"])
    # Own certificates: no authority, only the bucket policy changes.
    d = observed["break_glass_arn[mutual]"].diff
    assert _types(d.new, set(d.updates)) == Counter({"AWS::S3::BucketPolicy": 1})


def test_schedule_moves_associations_and_routes_out_of_the_template(
    observed: dict[str, Observed],
) -> None:
    """On: the 3 associations and 3 routes are removed, one reconciler added; off: back."""
    on = observed["schedule[pki]"].diff
    assert _types(on.old, on.removed) == Counter({ASSOCIATION: 3, ROUTE: 3})
    assert _types(on.new, on.added)["Custom::ClientVpnSchedule"] == 1
    assert not on.of_type(ASSOCIATION) and not on.of_type(ROUTE)
    assert on.of_type(RULE), "authorization rules stay CloudFormation's"
    off = observed["schedule[pki-off]"].diff
    assert _types(off.new, off.added) == Counter({ASSOCIATION: 3, ROUTE: 3})
    assert _types(off.old, off.removed)["Custom::ClientVpnSchedule"] == 1


def test_two_step_changes_are_documented() -> None:
    """Description changes collide; the README and the docstrings say how to make them."""
    two_step = re.compile(r"remove.*deploy.*add.*deploy", re.I | re.S)
    section = readme_section(README.read_text(), "Change safety")
    assert two_step.search(section), (
        "README 'Change safety' must give the two-step procedure (remove, deploy; add, deploy)"
    )
    for method in (ClientVpn.add_authorization_rule, ClientVpn.add_route):
        doc = inspect.getdoc(method) or ""
        assert "create-only" in doc and two_step.search(doc), (
            f"ClientVpn.{method.__name__}: the docstring must say that a description is "
            "create-only and how to change it in two deploys"
        )


def test_readme_table_is_current() -> None:
    current = readme_table(README.read_text())
    assert current == table(), (
        "README.md '## Change safety' table differs from the change matrix; regenerate it with "
        "`.venv/bin/python -m tests.lifecycle.test_change_matrix --write-readme`"
    )


def test_the_matrix_detects_a_rule_description_collision() -> None:
    """The collision check itself: a replaced rule with the same key is found."""
    rule = {
        "Type": RULE,
        "Properties": {
            "ClientVpnEndpointId": {"Ref": "Endpoint"},
            "TargetNetworkCidr": "10.0.0.0/16",
            "AuthorizeAllGroups": True,
            "Description": "old",
        },
    }
    endpoint = {"Type": ENDPOINT, "Properties": {"ClientCidrBlock": CLIENT_CIDR}}
    new_rule = json.loads(json.dumps(rule))
    new_rule["Properties"]["Description"] = "new"
    d = diff({"Endpoint": endpoint, "Rule": rule}, {"Endpoint": endpoint, "Rule": new_rule})
    assert d.updates == {"Rule": "replacement"}
    assert len(collisions(d)) == 1
    moved = json.loads(json.dumps(endpoint))
    moved["Properties"]["ClientCidrBlock"] = "10.101.0.0/22"
    d = diff({"Endpoint": endpoint, "Rule": rule}, {"Endpoint": moved, "Rule": new_rule})
    assert d.updates == {"Endpoint": "replacement", "Rule": "replacement"}
    assert collisions(d) == []


def _print_observed() -> int:
    results = observe_all()
    bad = 0
    for row in ROWS:
        got = results[row.id]
        reach = "yes" if got.reaches_every_file else "NO"
        print(
            f"{row.id:55} endpoint={got.endpoint:12} replaced={got.replaced:40} "
            f"files={reach:3} collisions={len(got.collisions)}"
        )
        for problem in got.collisions:
            print(f"    {problem}")
        if got.endpoint != row.endpoint or got.replaced != row.replaced:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    if "--write-readme" in sys.argv:
        write_readme()
    elif "--observed" in sys.argv:
        raise SystemExit(_print_observed())
    else:
        print(table())
