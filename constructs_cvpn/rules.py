"""A ``ClientVpn``'s authorization rules: checked, keyed by CIDR and group, in lanes.

A rule lets one group (Active Directory SID or SAML group name), or every user, reach a
destination. Client VPN refuses a second rule for the same CIDR and group at deploy, so a
duplicate is refused at synth; over 200 rules per endpoint (the default quota) warns.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from . import quotas, validation
from .errors import ClientVpnConfigError, checked
from .ip_address_type import IpAddressType
from .lanes import Mutations
from .tokens import ALL_USERS_PART, group_part, id_part, known, stable
from .vpc_cidrs import VpcCidrs


class AuthorizationRules:
    """The endpoint's authorization rules; ``on_authorized(cidr)`` runs for each one."""

    def __init__(
        self,
        vpn: Construct,
        *,
        cidrs: VpcCidrs,
        traffic: IpAddressType,
        user_based: bool,
        mutations: Mutations,
        on_authorized: Callable[[str], None],
    ) -> None:
        self._vpn = vpn
        self._cidrs = cidrs
        self._traffic = traffic
        self._user_based = user_based
        self._mutations = mutations
        self._on_authorized = on_authorized
        self._keys: set[tuple[str, str]] = set()
        #: The destination of every rule, as given.
        self.cidrs: list[str] = []

    def add(
        self,
        cidr: str,
        *,
        group_id: str | None = None,
        all_users: bool = False,
        description: str | None = None,
    ) -> ec2.ClientVpnAuthorizationRule:
        """See ``ClientVpn.add_authorization_rule``."""
        prop = "authorization_rules"
        path = self._vpn.node.path
        if self._cidrs.checkable(cidr):
            net = checked(path, prop, validation.ip_network, cidr)
            checked(path, prop, validation.destination_family, net, self._traffic)
        if group_id is None and not all_users:
            raise ClientVpnConfigError(
                path,
                prop,
                f"the rule for {cidr} names no group; give group_id, or all_users=True to "
                "authorize every user explicitly",
            )
        if group_id is not None and all_users:
            raise ClientVpnConfigError(
                path, prop, f"the rule for {cidr} sets both group_id and all_users"
            )
        if group_id is not None and known(group_id):
            too_long = quotas.GROUP_ID_LENGTH.exceeded(len(group_id), "group_id length")
            if too_long:
                raise ClientVpnConfigError(path, prop, f"the rule for {cidr}: {too_long}")
        if group_id is not None and not self._user_based:
            raise ClientVpnConfigError(
                path,
                prop,
                f"the rule for {cidr} names group {group_id!r}, but groups need user-based "
                "authentication (Active Directory or SAML): a client certificate carries no "
                "group, so the rule would authorize nobody (AuthorizeClientVpnIngress: "
                "AccessGroupId is an AD or IdP group); use all_users=True",
            )
        key = (stable(self._vpn, cidr), group_id or "*")
        if key in self._keys:
            who = f"group {group_id!r}" if group_id else "all users"
            raise ClientVpnConfigError(
                path,
                prop,
                f"duplicate rule for {self._cidrs.display(cidr)} and {who}; Client VPN refuses "
                "the second one at deploy: remove it",
            )
        self._keys.add(key)
        self.cidrs.append(cidr)
        self._mutations.warn_over(
            quotas.AUTHORIZATION_RULES, len(self._keys), "authorization rules"
        )

        who = group_part(group_id) if group_id else ALL_USERS_PART
        rule = self._mutations.endpoint.add_authorization_rule(
            f"Rule-{id_part(self._vpn, cidr)}-{who}",
            cidr=cidr,
            group_id=group_id,
            description=description,
        )
        self._mutations.chain(rule)
        self._on_authorized(cidr)
        return rule
