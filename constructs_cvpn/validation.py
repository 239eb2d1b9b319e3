"""Checks of Client VPN's value rules on values known at synth time.

Each function takes plain values and returns nothing or raises ``ValueError`` with a
sentence saying what is wrong and what would be valid; ``ClientVpn`` adds the construct
path and prop name. cfn-lint knows the resource schema but not these rules (see the
AWS Client VPN administrator guide, "Rules and best practices").
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from .handlers.pki.limits import USER_NAME_PATTERN
from .ip_address_type import IpAddressType

CLIENT_CIDR_PREFIXES = range(12, 23)  # /12 .. /22
MAX_DNS_SERVERS = 2
MAX_BANNER_LENGTH = 1400
CONNECT_HANDLER_PREFIX = "AWSClientVPN-"
#: EC2 API reference, CreateClientVpnEndpoint ``VpnPort``: "Valid Values: 443 | 1194".
VPN_PORTS = (443, 1194)
#: CreateClientVpnEndpoint ``SessionTimeoutHours``: "Valid values: 8 | 10 | 12 | 24".
SESSION_TIMEOUT_HOURS = (8, 10, 12, 24)

_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-fA-F-]{36}\Z")


def ipv4_network(value: str) -> ipaddress.IPv4Network:
    """Parse an IPv4 CIDR block, rejecting host bits and bare addresses."""
    if "/" not in value:
        raise ValueError(f"{value!r} is not a CIDR block; write it as a.b.c.d/n")
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as err:
        raise ValueError(
            f"{value!r} is not a valid IPv4 CIDR block ({err}); write it as a.b.c.d/n "
            "with no host bits set"
        ) from None


def ip_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse an IPv4 or IPv6 CIDR block, rejecting host bits and bare addresses."""
    if ":" not in value:
        return ipv4_network(value)
    if "/" not in value:
        raise ValueError(f"{value!r} is not a CIDR block; write it as an IPv6 prefix x:x::/n")
    try:
        return ipaddress.IPv6Network(value, strict=True)
    except ValueError as err:
        raise ValueError(
            f"{value!r} is not a valid IPv6 CIDR block ({err}); write it as x:x::/n with no "
            "host bits set"
        ) from None


def ip_address_type(value: str) -> IpAddressType:
    """One of ``ipv4``, ``ipv6``, ``dual-stack`` (or the ``IpAddressType`` member)."""
    try:
        return IpAddressType(value)
    except ValueError:
        valid = ", ".join(repr(t.value) for t in IpAddressType)
        raise ValueError(
            f"{value!r} is not an IP address type; use IpAddressType.IPV4, IPV6 or "
            f"DUAL_STACK ({valid})"
        ) from None


def client_cidr_for(value: str | None, traffic: IpAddressType) -> ipaddress.IPv4Network | None:
    """The client CIDR a traffic address type needs: IPv4 /12 to /22, or none for IPv6.

    IPv4 and dual-stack traffic need an IPv4 client block; IPv6-only traffic takes none,
    Amazon assigns the clients' IPv6 addresses (AWS Client VPN administrator guide, "IPv6
    considerations"; the EC2 API refuses ``ClientCidrBlock`` with ``ipv6`` traffic).
    """
    if not traffic.carries_ipv4:
        if value is not None:
            raise ValueError(
                f"is {value!r}, but with traffic_ip_address_type 'ipv6' Client VPN assigns the "
                "clients' IPv6 addresses itself and takes no client CIDR: omit cidr, or use "
                "'dual-stack' traffic to keep an IPv4 client block"
            )
        return None
    if value is None:
        raise ValueError(
            f"is required with traffic_ip_address_type {traffic.value!r}: give an IPv4 block "
            "from /12 to /22 (e.g. 10.100.0.0/22) for the clients' IPv4 addresses"
        )
    return client_cidr(value)


def destination_family(
    net: ipaddress.IPv4Network | ipaddress.IPv6Network, traffic: IpAddressType
) -> None:
    """A rule or route destination must be of an IP version the tunnel carries."""
    if net.version == 6 and not traffic.carries_ipv6:
        raise ValueError(
            f"{net} is an IPv6 destination, but the tunnel carries IPv4 only "
            f"(traffic_ip_address_type {traffic.value!r}); set traffic_ip_address_type to "
            "IpAddressType.DUAL_STACK or IPV6, or use an IPv4 block"
        )
    if net.version == 4 and not traffic.carries_ipv4:
        raise ValueError(
            f"{net} is an IPv4 destination, but the tunnel carries IPv6 only "
            "(traffic_ip_address_type 'ipv6'); set traffic_ip_address_type to "
            "IpAddressType.DUAL_STACK or IPV4, or use an IPv6 block"
        )


def client_cidr(value: str) -> ipaddress.IPv4Network:
    """The client CIDR must be an IPv4 block from /12 to /22."""
    net = ipv4_network(value)
    if net.prefixlen not in CLIENT_CIDR_PREFIXES:
        raise ValueError(
            f"{value!r} is a /{net.prefixlen}; Client VPN needs a block from /12 to /22 "
            "(e.g. 10.100.0.0/22)"
        )
    return net


def no_overlap(client: ipaddress.IPv4Network, other: str, what: str) -> None:
    """The client CIDR may not overlap a VPC CIDR or a route destination, either way.

    The default route 0.0.0.0/0 is the one destination allowed to contain the client CIDR;
    callers skip it.
    """
    net = ipv4_network(other)
    if client.overlaps(net):
        raise ValueError(
            f"client CIDR {client} overlaps {what} {net}; choose a client block outside it"
        )


def dns_servers(values: Sequence[str]) -> None:
    """At most two DNS servers, each an IPv4 address."""
    if len(values) > MAX_DNS_SERVERS:
        raise ValueError(f"got {len(values)} servers; Client VPN takes at most {MAX_DNS_SERVERS}")
    for value in values:
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 address") from None


def banner(value: str) -> None:
    """The login banner holds at most 1400 characters."""
    if len(value) > MAX_BANNER_LENGTH:
        raise ValueError(f"is {len(value)} characters long; the limit is {MAX_BANNER_LENGTH}")


def connect_handler_name(value: str) -> None:
    """A connect-handler Lambda's name must start with ``AWSClientVPN-``."""
    if not value.startswith(CONNECT_HANDLER_PREFIX):
        raise ValueError(
            f"function name {value!r} must start with {CONNECT_HANDLER_PREFIX!r} "
            "(Client VPN only invokes functions named so)"
        )


def acm_certificate_arn(value: str) -> None:
    """A server or client root certificate must be an ACM certificate ARN."""
    if not _ACM_ARN.match(value):
        raise ValueError(
            f"{value!r} is not an ACM certificate ARN "
            "(arn:aws:acm:<region>:<account>:certificate/<uuid>)"
        )


_KEY_PREFIX = re.compile(r"^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*\Z")


def key_prefix(value: str) -> None:
    """An S3 key prefix of safe characters, without leading or trailing slash.

    No ``*`` or ``?``: the prefix becomes part of IAM resource ARNs and ``StringLike``
    conditions, where they are wildcards (``a*`` would reach every prefix starting with a).
    """
    wildcards = sorted({c for c in value if c in "*?"})
    if wildcards:
        raise ValueError(
            f"{value!r} contains {' and '.join(repr(c) for c in wildcards)}, which would be "
            "wildcards in the IAM policies and conditions that name this prefix; use letters, "
            "digits and !_.'()-"
        )
    if not _KEY_PREFIX.match(value):
        raise ValueError(
            f"{value!r} is not a usable key prefix; use letters, digits and !_.'()- in "
            "segments separated by single slashes, with no leading or trailing slash"
        )


def vpn_port(value: int) -> int:
    """443 or 1194 (a number; ``ClientVpn`` also takes the L2's ``ec2.VpnPort``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in VPN_PORTS:
        raise ValueError(f"{value!r} is not a Client VPN port; use 443 or 1194 (or ec2.VpnPort)")
    return value


def session_timeout_hours(minutes: int) -> int:
    """A session timeout of 8, 10, 12 or 24 hours, given in minutes."""
    hours, rest = divmod(minutes, 60)
    if rest or hours not in SESSION_TIMEOUT_HOURS:
        raise ValueError(
            f"{minutes} minutes is not a Client VPN session timeout; use 8, 10, 12 or 24 hours "
            "(Duration.hours(n) or ec2.ClientVpnSessionTimeout)"
        )
    return hours


def user_name(value: str) -> str:
    """A user name of the generated PKI: the certificate CN and the file ``<name>.ovpn``.

    1 to 64 letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit (the
    handler enforces the same pattern: ``handlers.pki.limits.USER_NAME_PATTERN``). One rule
    for the construct and the ``cvpn`` command, which imports this module without the CDK.
    """
    if not USER_NAME_PATTERN.match(value):
        raise ValueError(
            f"{value!r} is not a safe user name; use 1 to 64 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return value


_TAG_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,128}\Z")


def principal_tag_key(value: str) -> str:
    """A tag key usable in the policy variable ``${aws:PrincipalTag/<key>}``: 1 to 128
    letters, digits, spaces and ``_.:/=+-@`` (IAM tag key rules; no ``$``, ``{`` or ``}``
    that would end the variable), and not ``aws:``-prefixed (reserved)."""
    if not _TAG_KEY.match(value) or value.lower().startswith("aws:"):
        raise ValueError(
            f"{value!r} is not a usable session tag key; use 1 to 128 letters, digits, spaces "
            "and _.:/=+-@, not starting with 'aws:' (e.g. 'cvpn-user')"
        )
    return value
