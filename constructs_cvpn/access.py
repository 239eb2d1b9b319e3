"""Authorization rules and routes, given as data to ``ClientVpn``."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2


@dataclass(frozen=True)
class AuthorizationRule:
    """Lets clients reach a destination network.

    Attributes:
        cidr: IPv4 or IPv6 destination block, e.g. ``10.0.0.0/16`` or ``2001:db8::/32``,
            of an IP version the tunnel carries (``traffic_ip_address_type``).
        group_id: Active Directory group SID or SAML group name allowed to reach ``cidr``.
            Needs user-based authentication.
        all_users: authorize every connected client instead of one group. Must be set
            explicitly (there is no implicit "everyone" rule); required with mutual
            authentication alone, which has no groups. Default: False.
        description: shown in the console. Default: none. Create-only, like every
            property of a rule: changing it replaces the rule, and CloudFormation creates
            the replacement before deleting the original, which Client VPN refuses (a
            second rule for the same CIDR and group). Change it in two deploys: remove the
            rule and deploy, then add it back with the new description and deploy.
    """

    cidr: str
    group_id: str | None = None
    all_users: bool = False
    description: str | None = None


@dataclass(frozen=True)
class Route:
    """Sends client traffic for ``cidr`` through the endpoint.

    Attributes:
        cidr: IPv4 or IPv6 destination block, e.g. ``172.16.0.0/16``, ``0.0.0.0/0`` or
            ``2001:db8::/32``, of an IP version the tunnel carries
            (``traffic_ip_address_type``). Must not overlap the client CIDR, and must not be
            one of the VPC's CIDRs (AWS adds that route itself on association; a second one
            fails at deploy).
        subnet: associated subnet to route through; must be one of the endpoint's
            target networks. Default: one route per associated subnet, so the route
            survives the loss of an AZ.
        description: shown in the console. Default: none. Create-only, like every
            property of a route: changing it replaces the route, and CloudFormation
            creates the replacement before deleting the original, which Client VPN
            refuses (a second route for the same destination and subnet). Change it in
            two deploys: remove the route and deploy, then add it back with the new
            description and deploy.

    A route also needs an ``AuthorizationRule`` for clients to use it. The route to the
    VPC's own CIDR is added by AWS on association and is not listed here.
    """

    cidr: str
    subnet: ec2.ISubnet | None = None
    description: str | None = None
