"""What a ``ClientVpn``'s clients can reach: target networks, security group, rules, routes.

``NetworkAccess`` puts the rooms together: the target subnets and their associations
(``associations``), the security group (``security_group``: no ingress; egress only to
authorized destinations), the authorization rules (``rules``) and routes (``routes``),
each checked against what synth knows of the VPC (``vpc_cidrs``) and chained into lanes
that keep CloudFormation within Client VPN's limit of concurrent changes per endpoint
(``lanes``). Destinations may be IPv4 or IPv6, of an IP version the tunnel carries
(``traffic_ip_address_type``).

Attached to a transit gateway there is no VPC, subnet or security group: one association
per Availability Zone (by name or id) and routes without a target subnet (EC2 API
reference, AssociateClientVpnTargetNetwork and CreateClientVpnRoute).

Client VPN's quotas on these (``quotas``): rules per endpoint and routes per association
warn when over the default, a group id over 255 characters and a target subnet smaller
than /27 are errors.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import aws_ec2 as ec2
from constructs import Construct, DependencyGroup

from . import associations, security_group
from .lanes import MAX_CONCURRENT_MUTATIONS, Mutations
from .props import CheckedProps
from .routes import Routes
from .rules import AuthorizationRules
from .security_group import ANYWHERE, ANYWHERE_IPV6
from .vpc_cidrs import VpcCidrs

if TYPE_CHECKING:
    from .schedule import OffHoursSchedule

__all__ = ["ANYWHERE", "ANYWHERE_IPV6", "MAX_CONCURRENT_MUTATIONS", "NetworkAccess"]


class NetworkAccess:
    """Subnets, associations, security group, rules and routes of one ``ClientVpn``.

    Constructs are created in ``vpn``'s scope (``SecurityGroup``, ``EgressAnywhere``) and
    in the endpoint's (``Association-<AZ>``, ``Rule-...``, ``Route-...``), with ids derived
    from what they connect, so reordering or adding subnets, rules and routes replaces
    nothing else.
    """

    def __init__(
        self,
        vpn: Construct,
        *,
        vpc: ec2.IVpc | None,
        props: CheckedProps,
        vpc_subnets: ec2.SubnetSelection | None,
    ) -> None:
        self._vpn = vpn
        self._vpc = vpc
        self._transit_gateway = props.transit_gateway
        self._placeholder_vpc = props.placeholder_vpc
        self._traffic = props.traffic
        self._cidrs = VpcCidrs(vpn, vpc, placeholder_vpc=props.placeholder_vpc)
        self._mutations = Mutations(vpn)
        self._cidrs.check_overlap(props.client_net)
        #: The target networks, one per AZ.
        self.associated_subnets: list[ec2.ISubnet] = associations.select_subnets(
            vpn, vpc, vpc_subnets, max_azs=props.max_azs
        )
        if self._traffic.carries_ipv6:
            associations.check_ipv6_subnets(vpn, vpc, self.associated_subnets, self._traffic)
        #: Every target network association, for ``target_networks_associated``.
        self.associated = DependencyGroup()
        #: The target network associations, by subnet path.
        self.associations: dict[str, ec2.CfnClientVpnTargetNetworkAssociation] = {}
        self.security_group: ec2.ISecurityGroup | None = None
        self._owns_security_group = False
        self.rules = AuthorizationRules(
            vpn,
            cidrs=self._cidrs,
            traffic=self._traffic,
            user_based=props.user_based,
            mutations=self._mutations,
            on_authorized=self._allow_egress,
        )
        self.routes = Routes(
            vpn,
            cidrs=self._cidrs,
            traffic=self._traffic,
            client_net=props.client_net,
            transit_gateway=props.transit_gateway,
            mutations=self._mutations,
            associated=self.associated,
            subnets=self.associated_subnets,
        )

    # -- what it builds ---------------------------------------------------------------

    def new_security_group(
        self, given: Sequence[ec2.ISecurityGroup] | None
    ) -> ec2.ISecurityGroup | None:
        """The first group given, or a new one with no ingress and no egress yet; none for a
        transit gateway endpoint."""
        if self._vpc is None:
            return None
        self._owns_security_group = given is None
        self.security_group = (
            given[0] if given else security_group.new_security_group(self._vpn, self._vpc)
        )
        return self.security_group

    def schedule(self, reconciler: OffHoursSchedule) -> None:
        """Hand associations and routes to the off-hours reconciler (before ``associate``)."""
        self.associated.add(reconciler.resource)
        self.routes.schedule = reconciler

    def associate(self, endpoint: ec2.ClientVpnEndpoint, endpoint_id: str) -> None:
        """One target network association per subnet, keyed by its AZ (or per AZ); none when
        scheduled (the reconciler associates)."""
        self._mutations.endpoint = endpoint
        if self.routes.schedule is not None:
            return
        self.associations.update(
            associations.associate(
                self._vpn,
                endpoint,
                endpoint_id,
                transit_gateway=self._transit_gateway,
                subnets=self.associated_subnets,
                associated=self.associated,
            )
        )

    def allow_internet(self, group_id: str | None) -> None:
        """Full-tunnel internet access: for each IP version the tunnel carries, a rule for
        0.0.0.0/0 or ::/0 and a route through every subnet."""
        for anywhere in security_group.anywhere(self._traffic):
            self.add_authorization_rule(
                anywhere,
                group_id=group_id,
                all_users=group_id is None,
                description="Internet access through the VPN",
            )
            self.add_route(anywhere, description="Internet access through the VPN")
            if not self._placeholder_vpc and self._vpc is not None:
                associations.warn_without_internet_path(
                    self._vpn,
                    self._vpc,
                    self.associated_subnets,
                    anywhere,
                    ipv6=anywhere == ANYWHERE_IPV6,
                )

    def allow_client_to_client(self, client_cidr: str, group_id: str | None) -> None:
        """Clients reach each other: a rule for the client CIDR and its ``local`` route.

        CreateClientVpnRoute: "To add a route for the local network, enter the client CIDR
        range" with the target ``local``; every route needs an authorization rule (AWS
        Client VPN administrator guide, "Routes"). The route goes through no subnet, so
        there is one, whatever the number of associations.
        """
        description = "Client-to-client access"
        self.add_authorization_rule(
            client_cidr, group_id=group_id, all_users=group_id is None, description=description
        )
        self.routes.add_local(client_cidr, description)

    def dns_servers(self, given: Sequence[str] | None, *, split_tunnel: bool) -> list[str] | None:
        """The DNS servers to push: those given (``[]``: none), else the VPC resolver.

        Without ``dns_servers`` Client VPN leaves clients with their own resolver (EC2 API,
        CreateClientVpnEndpoint ``DnsServers``), which a full tunnel usually cannot reach.
        So a full tunnel that carries IPv4 gets the VPC's Route 53 Resolver, which answers
        at "the primary private IPV4 CIDR range provisioned to your VPC plus two" (Amazon
        VPC user guide, "Amazon DNS server"), when that CIDR is known at synth. Split
        tunnel keeps the clients' own resolver.
        """
        if given is not None:
            return list(given) or None
        primary = self._cidrs.primary()
        if split_tunnel or not self._traffic.carries_ipv4 or primary is None:
            return None
        return [str(ipaddress.IPv4Network(primary, strict=False).network_address + 2)]

    @property
    def own_resources(self) -> set[str]:
        """Paths of the rule and route resources made here (``synth_checks``)."""
        return self._mutations.resource_paths

    # -- rules and routes -------------------------------------------------------------

    def add_authorization_rule(
        self,
        cidr: str,
        *,
        group_id: str | None = None,
        all_users: bool = False,
        description: str | None = None,
    ) -> ec2.ClientVpnAuthorizationRule:
        """See ``ClientVpn.add_authorization_rule``."""
        return self.rules.add(cidr, group_id=group_id, all_users=all_users, description=description)

    def add_route(
        self,
        cidr: str,
        *,
        subnet: ec2.ISubnet | None = None,
        description: str | None = None,
    ) -> list[ec2.ClientVpnRoute]:
        """See ``ClientVpn.add_route``."""
        return self.routes.add(cidr, subnet=subnet, description=description)

    def _allow_egress(self, cidr: str) -> None:
        """Our own security group's egress to a destination a rule authorizes."""
        if not self._owns_security_group:
            return
        assert self.security_group is not None
        ipv6 = security_group.is_ipv6(self._vpn, cidr, self._traffic)
        security_group.allow_egress(self._vpn, self.security_group, cidr, ipv6=ipv6)
