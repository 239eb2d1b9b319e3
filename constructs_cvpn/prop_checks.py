"""The single-rule checks ``check_props`` runs, one function per concern.

A VPC or a transit gateway (and the props that only make sense with one), device posture and
the Cedar policy, the connect handler's home, client-to-client, the IPv6 leak block, and
the authentication methods. Each raises one ``ClientVpnConfigError`` naming the prop and
what would be valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, Arn, ArnFormat, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from . import posture
from .errors import ClientVpnConfigError, checked
from .ip_address_type import IpAddressType
from .posture import AuthorizationPolicy, DeviceTrustProvider
from .tokens import known
from .transit_gateway import TransitGatewayAttachment
from .transit_gateway import check as check_attachment


def check_network(
    scope: Construct,
    *,
    vpc: ec2.IVpc | None,
    transit_gateway: TransitGatewayAttachment | None,
    security_groups: Sequence[ec2.ISecurityGroup] | None,
    vpc_subnets: object | None,
    max_azs: int | None,
    authorize_all_users_to_vpc_cidr: bool,
) -> None:
    """A VPC or a transit gateway, never both, and the props that only make sense with one.

    EC2 API reference, CreateClientVpnEndpoint: "You cannot specify both
    TransitGatewayConfiguration and VpcId/SecurityGroupIds"; admin guide (cvpn-tgw.html):
    "You cannot mix VPC subnet associations and Transit Gateway associations".
    """
    path = scope.node.path
    if max_azs is not None and (isinstance(max_azs, bool) or max_azs < 1):
        raise ClientVpnConfigError(
            path, "max_azs", f"is {max_azs!r}; give a number of AZs of 1 or more, or None for all"
        )
    if transit_gateway is None:
        if vpc is None:
            raise ClientVpnConfigError(
                path,
                "vpc",
                "is required: give the VPC whose subnets the endpoint is associated with, or "
                "transit_gateway=TransitGatewayAttachment(...) to attach it to a transit gateway",
            )
        _check_vpc_cidr_known(path, vpc)
        return
    given = {
        "vpc": vpc is not None,
        "security_groups": bool(security_groups),
        "vpc_subnets": vpc_subnets is not None,
        "max_azs": max_azs is not None,
        "authorize_all_users_to_vpc_cidr": authorize_all_users_to_vpc_cidr,
    }
    for prop, is_given in given.items():
        if is_given:
            raise ClientVpnConfigError(
                path,
                prop,
                "does not apply with transit_gateway: a transit gateway endpoint has no VPC, "
                "security groups or subnets (Client VPN refuses VpcId and SecurityGroupIds "
                "with TransitGatewayConfiguration); choose the AZs in "
                "TransitGatewayAttachment(availability_zones=...) and authorize the networks "
                "behind the transit gateway with authorization_rules",
            )
    region = Stack.of(scope).region
    checked(path, "transit_gateway", check_attachment, transit_gateway, region)


def posture_overrides(
    scope: Construct,
    *,
    device_trust_providers: Sequence[DeviceTrustProvider],
    authorization_policy: AuthorizationPolicy | None,
    log_authorization_policy_context: bool | None,
) -> dict[str, Any]:
    """Device posture, the Cedar policy and the policy context in the connection logs."""
    path = scope.node.path
    overrides: dict[str, Any] = {}
    providers = list(device_trust_providers)
    if providers:
        checked(path, "device_trust_providers", posture.trust_providers, providers)
        overrides["DevicePostureOptions"] = posture.device_posture_options(providers)
    if authorization_policy is None:
        if log_authorization_policy_context:
            raise ClientVpnConfigError(
                path,
                "log_authorization_policy_context",
                "logs the evaluation context of the authorization policy, and there is none; "
                "give authorization_policy, or leave this prop out",
            )
        return overrides
    text = checked(path, "authorization_policy", posture.policy_text, authorization_policy)
    checked(path, "authorization_policy", posture.policy_document, text)
    missing = posture.unconfigured_providers(text, providers)
    if missing:
        Annotations.of(scope).add_warning_v2(
            "constructs-cvpn:policyReadsUnconfiguredProvider",
            f"authorization_policy reads device signals of {', '.join(missing)} "
            "(context." + ", context.".join(missing) + "), but device_trust_providers has no "
            "such provider: those values never exist, so conditions on them never hold. Add "
            "the provider, or change the policy",
        )
    overrides["AuthorizationPolicy"] = posture.authorization_policy(authorization_policy, text)
    if log_authorization_policy_context is not False:
        overrides["ConnectionLogOptions.IncludeAuthorizationPolicyContext"] = True
    return overrides


def check_handler_home(scope: Construct, handler: ec2.IClientVpnConnectionHandler) -> None:
    """The connect handler must be in the endpoint's account and region.

    Admin guide, "Connection authorization": "The Lambda function must be in the same AWS
    Region and the same AWS account as the Client VPN endpoint" (qualified functions, a
    version or an alias, are supported). Checked when the handler's ARN and the stack's
    environment are known.
    """
    arn = handler.function_arn
    if not known(arn) or not arn.startswith("arn:"):
        return
    parts = Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME)
    stack = Stack.of(scope)
    for what, theirs, ours in (
        ("region", parts.region, stack.region),
        ("account", parts.account, stack.account),
    ):
        if theirs and known(theirs) and known(ours) and theirs != ours:
            raise ClientVpnConfigError(
                scope.node.path,
                "client_connection_handler",
                f"the function {arn} is in {what} {theirs}, the endpoint in {ours}; Client "
                "VPN only invokes a connect handler in its own account and region",
            )


def check_client_to_client(
    path: str,
    *,
    enabled: bool,
    group_id: str | None,
    traffic: IpAddressType,
    user_based: bool,
) -> None:
    """Client-to-client needs an IPv4 client CIDR to route; a group needs AD or SAML."""
    if group_id is not None and not enabled:
        raise ClientVpnConfigError(path, "client_to_client_group_id", "needs client_to_client=True")
    if enabled and not traffic.carries_ipv4:
        raise ClientVpnConfigError(
            path,
            "client_to_client",
            "routes the client CIDR to the clients, and IPv6-only traffic has none (Amazon "
            "assigns the clients' IPv6 addresses): use traffic_ip_address_type 'dual-stack' "
            "with a cidr, or drop client_to_client",
        )
    if group_id is not None and not user_based:
        raise ClientVpnConfigError(
            path,
            "client_to_client_group_id",
            f"names group {group_id!r}, but groups need user-based authentication (Active "
            "Directory or SAML); omit it to let every client reach the others",
        )


def ipv6_leak_protection(
    path: str, value: bool | None, *, split_tunnel: bool, traffic: IpAddressType
) -> bool:
    """On by default where it applies: a full tunnel that carries IPv4 only."""
    applies = not split_tunnel and not traffic.carries_ipv6
    if value is None:
        return applies
    if value and split_tunnel:
        raise ClientVpnConfigError(
            path,
            "ipv6_leak_protection",
            "applies to full tunnel only: with split_tunnel=True clients send only the "
            "routed networks through the VPN by design; drop ipv6_leak_protection=True",
        )
    if value and traffic.carries_ipv6:
        raise ClientVpnConfigError(
            path,
            "ipv6_leak_protection",
            f"applies to IPv4-only traffic: with traffic_ip_address_type {traffic.value!r} the "
            "tunnel carries IPv6 itself; route it with routes and authorization_rules "
            "(internet_access adds ::/0) and drop ipv6_leak_protection=True",
        )
    return value


def check_authentication(
    path: str,
    *,
    generated_pki: bool,
    user_based: bool,
    client_certificate_arn: str | None,
    client_credentials_secret: object | None,
    users: Sequence[str],
) -> None:
    """Certificates given or generated, never a mix; AD/SAML needs a given server cert."""
    if generated_pki and (client_certificate_arn or client_credentials_secret):
        prop = "client_certificate_arn" if client_certificate_arn else "client_credentials_secret"
        raise ClientVpnConfigError(
            path,
            prop,
            "is generated when server_certificate_arn is omitted; give both certificate "
            "ARNs (and the secret) or neither",
        )
    if user_based and generated_pki:
        raise ClientVpnConfigError(
            path,
            "server_certificate_arn",
            "is required with user_based_authentication (Active Directory or SAML): "
            "without it the generated PKI would add mutual authentication with per-user "
            "certificates, and nobody without one could connect; give the ACM ARN of a "
            "server certificate (and client_certificate_arn for AD or SAML together with "
            "mutual authentication)",
        )
    if users and not generated_pki:
        raise ClientVpnConfigError(
            path,
            "users",
            "per-user certificates come from the generated PKI; omit "
            "server_certificate_arn to use it",
        )


def _check_vpc_cidr_known(path: str, vpc: ec2.IVpc) -> None:
    """An imported VPC must say its CIDR: the client CIDR's overlap check, the route check
    and the default DNS server read it (``Vpc.from_vpc_attributes`` without
    ``vpc_cidr_block`` raises the CDK's CannotPerformOperationVpcCidr on first read)."""
    try:
        vpc.vpc_cidr_block  # noqa: B018 - reading it is the check
    except RuntimeError:
        raise ClientVpnConfigError(
            path,
            "vpc",
            f"{vpc.node.path} has no CIDR (imported without one): pass "
            "vpc_cidr_block='<the VPC's primary IPv4 CIDR>' to ec2.Vpc.from_vpc_attributes, "
            "or use ec2.Vpc.from_lookup",
        ) from None
