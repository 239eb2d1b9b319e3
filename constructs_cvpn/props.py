"""The props of ``ClientVpn`` checked as a whole, before anything is built.

One function, ``check_props`` (with the single-rule checks of ``prop_checks``): each rule
is one ``ClientVpnConfigError`` naming the prop and what would be valid (values known only
at deploy time are skipped, with a warning where it matters). It returns the normalised
values the rooms build from: structs given as dicts become structs, user-based
authentication becomes a list, the client CIDR a network. Checks that need the VPC's CIDRs
and subnets live with them in ``network``'s rooms (``vpc_cidrs``, ``associations``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aws_cdk import Annotations, Duration, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import prop_checks, validation
from .errors import ClientVpnConfigError, checked
from .ip_address_type import IpAddressType
from .posture import AuthorizationPolicy, DeviceTrustProvider
from .tokens import display, is_lookup_placeholder, known
from .transit_gateway import TransitGatewayAttachment

T = TypeVar("T")

UserAuthentication = (
    ec2.ClientVpnUserBasedAuthentication | Sequence[ec2.ClientVpnUserBasedAuthentication] | None
)


@dataclass(frozen=True)
class CheckedProps:
    """What ``check_props`` hands to the rooms."""

    #: True while the VPC is ``Vpc.from_lookup``'s placeholder: the checks of its CIDRs and
    #: subnets wait for the synthesis after the lookup.
    placeholder_vpc: bool
    #: The client CIDR as a network, or None when it is a token or absent (IPv6 traffic).
    client_net: ipaddress.IPv4Network | None
    #: No server certificate given: the generated PKI issues every certificate.
    generated_pki: bool
    #: At most one Active Directory or SAML method.
    user_auths: list[ec2.ClientVpnUserBasedAuthentication]
    vpc_subnets: ec2.SubnetSelection | None
    #: Enforced in full-tunnel mode unless the user said otherwise.
    route_enforcement: ec2.ClientRouteEnforcementOptions
    #: Attached to a transit gateway instead of a VPC (then there is no VPC).
    transit_gateway: TransitGatewayAttachment | None = None
    #: Associate at most this many AZs of the subnet selection.
    max_azs: int | None = None
    #: ``DevicePostureOptions``, ``AuthorizationPolicy`` and
    #: ``ConnectionLogOptions.IncludeAuthorizationPolicyContext`` as CloudFormation takes them.
    endpoint_overrides: dict[str, Any] = field(default_factory=dict)
    #: The address types as given (None: left out of the template, AWS's default IPv4).
    endpoint_ip_address_type: IpAddressType | None = None
    traffic_ip_address_type: IpAddressType | None = None
    #: Append AWS's IPv6 leak block to every client file (IPv4-only full tunnel).
    block_ipv6_leak: bool = False
    #: ``port`` and ``session_timeout`` as the L2 takes them.
    port: ec2.VpnPort = ec2.VpnPort.HTTPS
    session_timeout: ec2.ClientVpnSessionTimeout = ec2.ClientVpnSessionTimeout.TWELVE_HOURS

    @property
    def user_based(self) -> bool:
        return bool(self.user_auths)

    @property
    def traffic(self) -> IpAddressType:
        """What the tunnel carries: the traffic type given, else IPv4 (AWS's default)."""
        return self.traffic_ip_address_type or IpAddressType.IPV4


def check_props(
    scope: Construct,
    *,
    vpc: ec2.IVpc | None,
    cidr: str | None,
    logging: bool,
    server_certificate_arn: str | None,
    client_certificate_arn: str | None,
    user_based_authentication: UserAuthentication,
    self_service_portal: bool,
    dns_servers: Sequence[str] | None,
    split_tunnel: bool,
    client_login_banner: str | None,
    client_connection_handler: ec2.IClientVpnConnectionHandler | None,
    client_route_enforcement_options: ec2.ClientRouteEnforcementOptions | Mapping[str, Any] | None,
    vpc_subnets: ec2.SubnetSelection | Mapping[str, Any] | None,
    log_group: logs.ILogGroup | None,
    log_retention: logs.RetentionDays | None,
    internet_access: bool,
    internet_access_group_id: str | None,
    config_export: bool,
    config_prefix: str,
    client_credentials_secret: object | None,
    users: Sequence[str],
    transit_gateway: TransitGatewayAttachment | None = None,
    security_groups: Sequence[ec2.ISecurityGroup] | None = None,
    max_azs: int | None = None,
    authorize_all_users_to_vpc_cidr: bool = False,
    device_trust_providers: Sequence[DeviceTrustProvider] = (),
    authorization_policy: AuthorizationPolicy | None = None,
    log_authorization_policy_context: bool | None = None,
    endpoint_ip_address_type: IpAddressType | str | None = None,
    traffic_ip_address_type: IpAddressType | str | None = None,
    client_to_client: bool = False,
    client_to_client_group_id: str | None = None,
    ipv6_leak_protection: bool | None = None,
    port: ec2.VpnPort | int = ec2.VpnPort.HTTPS,
    session_timeout: ec2.ClientVpnSessionTimeout | Duration = (
        ec2.ClientVpnSessionTimeout.TWELVE_HOURS
    ),
) -> CheckedProps:
    """Check every prop rule that needs no VPC lookup; see the module docstring."""
    path = scope.node.path
    prop_checks.check_network(
        scope,
        vpc=vpc,
        transit_gateway=transit_gateway,
        security_groups=security_groups,
        vpc_subnets=vpc_subnets,
        max_azs=max_azs,
        authorize_all_users_to_vpc_cidr=authorize_all_users_to_vpc_cidr,
    )
    overrides = prop_checks.posture_overrides(
        scope,
        device_trust_providers=device_trust_providers,
        authorization_policy=authorization_policy,
        log_authorization_policy_context=log_authorization_policy_context,
    )
    placeholder_vpc = vpc is not None and is_lookup_placeholder(vpc)
    if placeholder_vpc:
        Annotations.of(scope).add_info(
            "the VPC is Vpc.from_lookup's placeholder (the CDK CLI looks it up after this "
            "synthesis): the checks against its CIDRs and subnets run on the next synthesis"
        )
    if logging is not True:
        raise ClientVpnConfigError(
            path,
            "logging",
            "connection logging is always on: the logs are the one record of who "
            "connected from where (and cdk-nag's ClientVpn-ConnectionLogging requires "
            "them); drop logging=False, or use the L2 ec2.ClientVpnEndpoint",
        )
    # The L2 (like every jsii struct prop) also takes these as dicts.
    subnets = _struct(path, "vpc_subnets", ec2.SubnetSelection, vpc_subnets)
    enforcement = _struct(
        path,
        "client_route_enforcement_options",
        ec2.ClientRouteEnforcementOptions,
        client_route_enforcement_options,
    )
    user_auths = _user_auths(path, user_based_authentication)
    generated_pki = server_certificate_arn is None
    prop_checks.check_authentication(
        path,
        generated_pki=generated_pki,
        user_based=bool(user_auths),
        client_certificate_arn=client_certificate_arn,
        client_credentials_secret=client_credentials_secret,
        users=users,
    )
    endpoint_type = _address_type(path, "endpoint_ip_address_type", endpoint_ip_address_type)
    traffic_type = _address_type(path, "traffic_ip_address_type", traffic_ip_address_type)
    traffic = traffic_type or IpAddressType.IPV4
    if cidr is None or known(cidr):
        checked(path, "cidr", validation.client_cidr_for, cidr, traffic)
    elif not traffic.carries_ipv4:  # refused whatever its value: name it in user words
        checked(path, "cidr", validation.client_cidr_for, display(scope, vpc, cidr), traffic)
    else:
        Annotations.of(scope).add_warning_v2(
            "constructs-cvpn:clientCidrUnknown",
            f"cidr is {display(scope, vpc, cidr)}, known only at deploy time: the checks of "
            "its size (/12 to /22) and of overlaps with the VPC's CIDRs and the routes are "
            "skipped; a bad value fails the deploy (and cidr replaces the endpoint)",
        )
    for prop, arn in (
        ("server_certificate_arn", server_certificate_arn),
        ("client_certificate_arn", client_certificate_arn),
    ):
        if arn is not None and known(arn):
            checked(path, prop, validation.acm_certificate_arn, arn)
    if client_certificate_arn is None and not user_auths and not generated_pki:
        raise ClientVpnConfigError(
            path,
            "authentication",
            "no authentication method; give client_certificate_arn (mutual), "
            "user_based_authentication (Active Directory or SAML), or both",
        )
    if self_service_portal and not user_auths:
        raise ClientVpnConfigError(
            path,
            "self_service_portal",
            "the self-service portal needs user_based_authentication (AD or SAML)",
        )
    if dns_servers is not None and all(known(d) for d in dns_servers):
        checked(path, "dns_servers", validation.dns_servers, dns_servers)
    if client_login_banner is not None and known(client_login_banner):
        checked(path, "client_login_banner", validation.banner, client_login_banner)
    handler_name = _function_name(client_connection_handler)
    if handler_name is not None:
        checked(path, "client_connection_handler", validation.connect_handler_name, handler_name)
    if client_connection_handler is not None:
        prop_checks.check_handler_home(scope, client_connection_handler)
    if split_tunnel and enforcement and enforcement.enforced is True:
        raise ClientVpnConfigError(
            path,
            "client_route_enforcement_options",
            "client route enforcement cannot be combined with split_tunnel=True",
        )
    if log_group is not None and log_retention is not None:
        raise ClientVpnConfigError(
            path,
            "log_retention",
            "applies only to the log group this construct creates; set the retention on "
            "the log_group you bring instead",
        )
    if internet_access and split_tunnel:
        raise ClientVpnConfigError(
            path,
            "internet_access",
            "routes all traffic through the VPN and needs split_tunnel=False",
        )
    if internet_access_group_id is not None and not internet_access:
        raise ClientVpnConfigError(path, "internet_access_group_id", "needs internet_access=True")
    prop_checks.check_client_to_client(
        path,
        enabled=client_to_client,
        group_id=client_to_client_group_id,
        traffic=traffic,
        user_based=bool(user_auths),
    )
    block_ipv6_leak = prop_checks.ipv6_leak_protection(
        path, ipv6_leak_protection, split_tunnel=split_tunnel, traffic=traffic
    )
    if config_export or generated_pki:
        checked(path, "config_prefix", validation.key_prefix, config_prefix)
    if client_credentials_secret is not None and client_certificate_arn is None:
        raise ClientVpnConfigError(
            path,
            "client_credentials_secret",
            "applies only to mutual authentication (client_certificate_arn)",
        )
    return CheckedProps(
        placeholder_vpc=placeholder_vpc,
        client_net=None
        if cidr is None or Token.is_unresolved(cidr)
        else ipaddress.IPv4Network(cidr),
        generated_pki=generated_pki,
        user_auths=user_auths,
        vpc_subnets=subnets,
        route_enforcement=enforcement
        or ec2.ClientRouteEnforcementOptions(enforced=not split_tunnel),
        transit_gateway=transit_gateway,
        max_azs=max_azs,
        endpoint_overrides=overrides,
        endpoint_ip_address_type=endpoint_type,
        traffic_ip_address_type=traffic_type,
        block_ipv6_leak=block_ipv6_leak,
        port=_port(path, port),
        session_timeout=_session_timeout(path, session_timeout),
    )


_PORTS = {443: ec2.VpnPort.HTTPS, 1194: ec2.VpnPort.OPENVPN}
_TIMEOUTS = {
    8: ec2.ClientVpnSessionTimeout.EIGHT_HOURS,
    10: ec2.ClientVpnSessionTimeout.TEN_HOURS,
    12: ec2.ClientVpnSessionTimeout.TWELVE_HOURS,
    24: ec2.ClientVpnSessionTimeout.TWENTY_FOUR_HOURS,
}


def _port(path: str, value: ec2.VpnPort | int) -> ec2.VpnPort:
    """The L2's enum, or the number the props table gives (443 or 1194)."""
    if isinstance(value, ec2.VpnPort):
        return value
    return _PORTS[checked(path, "port", validation.vpn_port, value)]


def _session_timeout(
    path: str, value: ec2.ClientVpnSessionTimeout | Duration
) -> ec2.ClientVpnSessionTimeout:
    """The L2's enum, or a ``Duration`` of 8, 10, 12 or 24 hours."""
    if isinstance(value, ec2.ClientVpnSessionTimeout):
        return value
    if not isinstance(value, Duration):
        raise ClientVpnConfigError(
            path,
            "session_timeout",
            f"got {value!r}; give Duration.hours(8, 10, 12 or 24) or an "
            "ec2.ClientVpnSessionTimeout",
        )
    try:
        minutes = value.to_minutes()
    except RuntimeError:  # jsii: not a whole number of minutes
        raise ClientVpnConfigError(
            path,
            "session_timeout",
            f"{value.to_human_string()} is not a Client VPN session timeout; use 8, 10, 12 "
            "or 24 hours (Duration.hours(n) or ec2.ClientVpnSessionTimeout)",
        ) from None
    hours = checked(path, "session_timeout", validation.session_timeout_hours, minutes)
    return _TIMEOUTS[hours]


def _address_type(path: str, prop: str, value: IpAddressType | str | None) -> IpAddressType | None:
    return None if value is None else checked(path, prop, validation.ip_address_type, value)


def _struct(path: str, prop: str, struct: type[T], value: T | Mapping[str, Any] | None) -> T | None:
    """A struct prop given as the struct or, as the L2 takes it too, as a dict."""
    if value is None or isinstance(value, struct):
        return value
    if not isinstance(value, Mapping):
        raise ClientVpnConfigError(path, prop, f"expected an ec2.{struct.__name__} or a dict")
    try:
        return struct(**value)
    except TypeError as err:
        raise ClientVpnConfigError(
            path, prop, f"{err}; the keys are the snake_case fields of ec2.{struct.__name__}"
        ) from None


def _user_auths(path: str, value: UserAuthentication) -> list[ec2.ClientVpnUserBasedAuthentication]:
    """At most one user-based method, as a list."""
    if value is None:
        return []
    auths = list(value) if isinstance(value, Sequence) else [value]
    if len(auths) > 1:
        kinds = ", ".join(str(a.render().get("type")) for a in auths)
        raise ClientVpnConfigError(
            path,
            "user_based_authentication",
            f"got {len(auths)} user-based methods ({kinds}); Client VPN takes at most one "
            "(Active Directory or SAML), optionally with mutual authentication",
        )
    return auths


def _function_name(handler: ec2.IClientVpnConnectionHandler | None) -> str | None:
    """The connect handler's name when known at synth time.

    A ``lambda_.Function``'s ``function_name`` attribute is always a token; the name given
    to it sits on its L1.
    """
    if handler is None:
        return None
    cfn = handler.node.default_child if isinstance(handler, Construct) else None
    name = getattr(cfn, "function_name", None) or handler.function_name
    return name if isinstance(name, str) and known(name) else None
