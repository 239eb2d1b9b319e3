"""What a ``ClientVpn``'s clients can reach: target networks, security group, rules, routes.

``NetworkAccess`` selects the target subnets (one per AZ, all in the VPC), creates the
security group (no ingress; egress only to authorized destinations), one association per
subnet keyed by its AZ, and every authorization rule and route, each checked against the
VPC and chained into lanes that keep CloudFormation within Client VPN's limit of
concurrent changes per endpoint. Destinations may be IPv4 or IPv6, of an IP version the
tunnel carries (``traffic_ip_address_type``).

Attached to a transit gateway there is no VPC, subnet or security group: one association
per Availability Zone (by name or id) and routes without a target subnet (EC2 API
reference, AssociateClientVpnTargetNetwork and CreateClientVpnRoute).

Client VPN's quotas on these (``quotas``): rules per endpoint and routes per association
warn when over the default, a group id over 255 characters and a target subnet smaller
than /27 are errors.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, Names, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, DependencyGroup, IConstruct

from . import quotas, validation
from .errors import ClientVpnConfigError, checked
from .props import CheckedProps
from .schedule import LOCAL, OffHoursSchedule, ScheduledRoute
from .tokens import LOOKUP_PLACEHOLDER_CIDR, display, id_part, known, slug, stable

#: The route key's "subnet" part for a transit gateway endpoint's routes (no target subnet).
_TRANSIT_GATEWAY = "transit-gateway"

#: How many rule/route changes CloudFormation may run on one endpoint at once. Client VPN
#: allows 10 concurrent mutations per endpoint; target network associations are also
#: mutations and may run alongside authorization rules (one per AZ, at most 6 in any
#: region), so 4 lanes keep the total at 10 or below in the worst case.
MAX_CONCURRENT_MUTATIONS = 4

#: The route every client needs for the internet in full-tunnel mode.
ANYWHERE = "0.0.0.0/0"
#: The same for IPv6 traffic.
ANYWHERE_IPV6 = "::/0"
#: cfn-lint's copy of the AWS::EC2::ClientVpnRoute schema gives DestinationCidrBlock the
#: format ipv4-network (E3002 on an IPv6 destination); the EC2 API takes IPv6 destinations
#: since Client VPN carries IPv6 (hashicorp/terraform-provider-aws#44926 creates them).
_IPV6_ROUTE_LINT = {"config": {"ignore_checks": ["E3002"]}}


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
        self._max_azs = props.max_azs
        self._placeholder_vpc = props.placeholder_vpc
        self._client_net = props.client_net
        self._traffic = props.traffic
        self._user_based = props.user_based
        self._lanes: list[IConstruct | None] = [None] * MAX_CONCURRENT_MUTATIONS
        self._mutations = 0
        self._rule_keys: set[tuple[str, str]] = set()
        self._route_keys: set[tuple[str, str]] = set()
        self._over_quota: set[str] = set()
        self._check_vpc_overlap()
        #: The target networks, one per AZ.
        self.associated_subnets: list[ec2.ISubnet] = self._select_subnets(vpc_subnets)
        if self._traffic.carries_ipv6:
            self._check_ipv6_subnets()
        #: Every target network association, for ``target_networks_associated``.
        self.associated = DependencyGroup()
        #: The target network associations, by subnet path.
        self.associations: dict[str, ec2.CfnClientVpnTargetNetworkAssociation] = {}
        self.security_group: ec2.ISecurityGroup | None = None
        self._owns_security_group = False
        self._endpoint: ec2.ClientVpnEndpoint | None = None
        #: With ``ClientVpn(schedule=...)``: the reconciler keeps associations and routes.
        self.schedule: OffHoursSchedule | None = None

    # -- what it builds ---------------------------------------------------------------

    @property
    def zones(self) -> list[str]:
        """The transit gateway endpoint's Availability Zones (names or ids), else none."""
        return self._transit_gateway.zones if self._transit_gateway else []

    def new_security_group(
        self, given: Sequence[ec2.ISecurityGroup] | None
    ) -> ec2.ISecurityGroup | None:
        """The first group given, or a new one with no ingress and no egress yet; none for a
        transit gateway endpoint."""
        if self._vpc is None:
            return None
        self._owns_security_group = given is None
        self.security_group = (
            given[0]
            if given
            else ec2.SecurityGroup(
                self._vpn,
                "SecurityGroup",
                vpc=self._vpc,
                description=f"Client VPN {self._vpn.node.path}: egress to authorized networks",
                allow_all_outbound=False,
            )
        )
        return self.security_group

    def associate(self, endpoint: ec2.ClientVpnEndpoint, endpoint_id: str) -> None:
        """One target network association per subnet, keyed by its AZ (or per AZ)."""
        self._endpoint = endpoint
        if self.schedule is not None:
            self.associated.add(self.schedule.resource)
            return
        by_id = self._transit_gateway is not None and self._transit_gateway.by_id
        for zone in self.zones:
            association = ec2.CfnClientVpnTargetNetworkAssociation(
                endpoint,
                f"Association-{id_part(self._vpn, zone)}",
                client_vpn_endpoint_id=endpoint_id,
                availability_zone_id=zone if by_id else None,
                availability_zone=None if by_id else zone,
            )
            self.associations[zone] = association
            self.associated.add(association)
        for subnet in self.associated_subnets:
            association = ec2.CfnClientVpnTargetNetworkAssociation(
                endpoint,
                f"Association-{_association_key(subnet)}",
                client_vpn_endpoint_id=endpoint_id,
                subnet_id=subnet.subnet_id,
            )
            self.associations[subnet.node.path] = association
            self.associated.add(association)

    def allow_internet(self, group_id: str | None) -> None:
        """Full-tunnel internet access: for each IP version the tunnel carries, a rule for
        0.0.0.0/0 or ::/0 and a route through every subnet."""
        for anywhere in self._anywhere():
            self.add_authorization_rule(
                anywhere,
                group_id=group_id,
                all_users=group_id is None,
                description="Internet access through the VPN",
            )
            self.add_route(anywhere, description="Internet access through the VPN")
            self._warn_without_internet_path(anywhere)

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
        key = (stable(self._vpn, client_cidr), "local")
        self._route_keys.add(key)
        if self.schedule is not None:
            self.schedule.add_route(ScheduledRoute(client_cidr, LOCAL, description))
            return
        route = self._the_endpoint().add_route(
            f"Route-{id_part(self._vpn, client_cidr)}-local",
            cidr=client_cidr,
            target=ec2.ClientVpnRouteTarget.local(),
            description=description,
        )
        route.node.add_dependency(self.associated)
        self._chain(route)

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
        primary = self._primary_cidr()
        if split_tunnel or not self._traffic.carries_ipv4 or primary is None:
            return None
        return [str(ipaddress.IPv4Network(primary, strict=False).network_address + 2)]

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
        prop = "authorization_rules"
        path = self._vpn.node.path
        if self._checkable(cidr):
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
                "authentication (Active Directory or SAML); use all_users=True",
            )
        key = (stable(self._vpn, cidr), group_id or "*")
        if key in self._rule_keys:
            who = f"group {group_id!r}" if group_id else "all users"
            raise ClientVpnConfigError(
                path,
                prop,
                f"duplicate rule for {self._display(cidr)} and {who}; Client VPN refuses the "
                "second one at deploy: remove it",
            )
        self._rule_keys.add(key)
        self._warn_over(quotas.AUTHORIZATION_RULES, len(self._rule_keys), "authorization rules")

        rule = self._the_endpoint().add_authorization_rule(
            f"Rule-{id_part(self._vpn, cidr)}-{slug(group_id) if group_id else 'AllUsers'}",
            cidr=cidr,
            group_id=group_id,
            description=description,
        )
        self._chain(rule)
        if self._owns_security_group:
            self._allow_egress(cidr)
        return rule

    def add_route(
        self,
        cidr: str,
        *,
        subnet: ec2.ISubnet | None = None,
        description: str | None = None,
    ) -> list[ec2.ClientVpnRoute]:
        """See ``ClientVpn.add_route``."""
        prop = "routes"
        path = self._vpn.node.path
        ipv6 = False
        if self._checkable(cidr):
            net = checked(path, prop, validation.ip_network, cidr)
            checked(path, prop, validation.destination_family, net, self._traffic)
            ipv6 = net.version == 6
            if self._client_net is not None and not ipv6 and cidr != ANYWHERE:
                checked(path, prop, validation.no_overlap, self._client_net, cidr, "route")
        self._check_not_vpc_cidr(cidr)
        if self._transit_gateway is not None:
            return [self._add_transit_gateway_route(cidr, subnet, description, ipv6=ipv6)]
        if subnet is not None:
            self._check_associated(subnet, cidr)
        targets = [subnet] if subnet is not None else self.associated_subnets
        created = []
        for target in targets:
            key = (stable(self._vpn, cidr), stable(self._vpn, target.subnet_id))
            if key in self._route_keys:
                raise ClientVpnConfigError(
                    path,
                    prop,
                    f"duplicate route to {self._display(cidr)} through subnet "
                    f"{target.node.path}; Client VPN refuses the second one at deploy: "
                    "remove it",
                )
            self._route_keys.add(key)
            if self.schedule is not None:
                self.schedule.add_route(ScheduledRoute(cidr, target.subnet_id, description or ""))
                continue
            route = self._the_endpoint().add_route(
                f"Route-{id_part(self._vpn, cidr)}-"
                f"{slug(Names.stack_relative_construct_path(target))}",
                cidr=cidr,
                target=ec2.ClientVpnRouteTarget.subnet(target),
                description=description,
            )
            route.node.add_dependency(self.associated)
            if ipv6:
                cfn = route.node.default_child
                assert isinstance(cfn, ec2.CfnClientVpnRoute)
                cfn.add_metadata("cfn-lint", _IPV6_ROUTE_LINT)
            self._chain(route)
            created.append(route)
        self._warn_over(
            quotas.ROUTES_PER_ASSOCIATION,
            max(self._routes_through(s) for s in self.associated_subnets),
            "routes through one associated subnet",
        )
        return created

    def _add_transit_gateway_route(
        self, cidr: str, subnet: ec2.ISubnet | None, description: str | None, *, ipv6: bool
    ) -> ec2.ClientVpnRoute:
        """One route without a target subnet, for every association (transit gateway)."""
        path = self._vpn.node.path
        if subnet is not None:
            raise ClientVpnConfigError(
                path,
                "routes",
                f"the route to {cidr} names subnet {subnet.node.path}, but a transit gateway "
                "endpoint has no subnets: its routes go to the transit gateway; leave "
                "subnet out",
            )
        key = (stable(self._vpn, cidr), _TRANSIT_GATEWAY)
        if key in self._route_keys:
            raise ClientVpnConfigError(
                path,
                "routes",
                f"duplicate route to {self._display(cidr)}; Client VPN refuses the second one "
                "at deploy: remove it",
            )
        self._route_keys.add(key)
        # The L2 route needs a target; "local" stands in and its TargetVpcSubnetId is
        # deleted: "For Transit Gateway-based endpoints, this parameter is not required"
        # (EC2 API reference, CreateClientVpnRoute).
        route = self._the_endpoint().add_route(
            f"Route-{id_part(self._vpn, cidr)}-TransitGateway",
            cidr=cidr,
            target=ec2.ClientVpnRouteTarget.local(),
            description=description,
        )
        cfn = route.node.default_child
        assert isinstance(cfn, ec2.CfnClientVpnRoute)
        cfn.add_property_deletion_override("TargetVpcSubnetId")
        if ipv6:
            cfn.add_metadata("cfn-lint", _IPV6_ROUTE_LINT)
        route.node.add_dependency(self.associated)
        self._chain(route)
        self._warn_over(
            quotas.ROUTES_PER_ASSOCIATION,
            len(self._route_keys),
            "routes, each through every associated Availability Zone",
        )
        return route

    def _routes_through(self, subnet: ec2.ISubnet) -> int:
        wanted = stable(self._vpn, subnet.subnet_id)
        return sum(1 for _, target in self._route_keys if target == wanted)

    def _warn_over(self, quota: quotas.Quota, count: int, what: str) -> None:
        """Warn (once per quota) when ``count`` is over an adjustable quota."""
        message = quota.exceeded(count, what)
        if message is None or quota.id in self._over_quota:
            return
        self._over_quota.add(quota.id)
        Annotations.of(self._vpn).add_warning_v2(f"constructs-cvpn:quota{quota.id}", message)

    # -- internals --------------------------------------------------------------------

    def _the_endpoint(self) -> ec2.ClientVpnEndpoint:
        assert self._endpoint is not None, "associate() comes before rules and routes"
        return self._endpoint

    def _chain(self, mutation: IConstruct) -> None:
        """Put a rule or route in one of ``MAX_CONCURRENT_MUTATIONS`` sequential lanes."""
        lane = self._mutations % MAX_CONCURRENT_MUTATIONS
        previous = self._lanes[lane]
        if previous is not None:
            mutation.node.add_dependency(previous)
        self._lanes[lane] = mutation
        self._mutations += 1

    def _allow_egress(self, cidr: str) -> None:
        """Open our security group's egress to an authorized destination (all protocols)."""
        assert self.security_group is not None
        ipv6 = self._version(cidr) == 6
        if cidr not in (ANYWHERE, ANYWHERE_IPV6):
            peer = ec2.Peer.ipv6(cidr) if ipv6 else ec2.Peer.ipv4(cidr)
            self.security_group.add_egress_rule(
                peer, ec2.Port.all_traffic(), f"Authorized destination {cidr}"
            )
            return
        # The L2 refuses "all traffic to anywhere" unless the group was created with
        # allow_all_outbound (allow_all_ipv6_outbound); internet access may be authorized
        # after creation, for several groups, and needs the one egress rule per version.
        construct_id = "EgressAnywhereIpv6" if ipv6 else "EgressAnywhere"
        if self._vpn.node.try_find_child(construct_id) is not None:
            return
        ec2.CfnSecurityGroupEgress(
            self._vpn,
            construct_id,
            group_id=self.security_group.security_group_id,
            ip_protocol="-1",
            cidr_ipv6=cidr if ipv6 else None,
            cidr_ip=None if ipv6 else cidr,
            description=f"Authorized destination {cidr} (internet access)",
        )

    def _version(self, cidr: str) -> int:
        """4 or 6: from the value; for a deploy-time value, from what the tunnel carries, or
        in dual-stack from where it comes (an ``Ipv6...`` attribute such as
        ``vpc.vpc_ipv6_cidr_blocks`` is IPv6, anything else IPv4)."""
        if known(cidr):
            return 6 if ":" in cidr else 4
        if not self._traffic.carries_ipv4:
            return 6
        if not self._traffic.carries_ipv6:
            return 4
        return 6 if "Ipv6" in stable(self._vpn, cidr) else 4

    def _anywhere(self) -> list[str]:
        """The default routes of the IP versions the tunnel carries."""
        return [
            anywhere
            for anywhere, carried in (
                (ANYWHERE, self._traffic.carries_ipv4),
                (ANYWHERE_IPV6, self._traffic.carries_ipv6),
            )
            if carried
        ]

    def _display(self, value: str) -> str:
        return display(self._vpn, self._vpc, value)

    def _checkable(self, cidr: str) -> bool:
        """A CIDR known at synth time (not a token, not the lookup placeholder's CIDR)."""
        return known(cidr) and not (self._placeholder_vpc and cidr == LOOKUP_PLACEHOLDER_CIDR)

    def _primary_cidr(self) -> str | None:
        """The VPC's primary IPv4 CIDR when known at synth time (not the lookup placeholder,
        and no VPC at all for a transit gateway endpoint)."""
        if self._placeholder_vpc or self._vpc is None:
            return None
        cfn = self._vpc.node.default_child
        if isinstance(cfn, ec2.CfnVPC) and cfn.cidr_block is not None:
            return cfn.cidr_block if known(cfn.cidr_block) else None
        return self._vpc.vpc_cidr_block if known(self._vpc.vpc_cidr_block) else None

    def _vpc_cidrs(self) -> list[str]:
        """The VPC's CIDR blocks known at synth time, primary and secondary."""
        cidrs: list[str] = []
        if self._placeholder_vpc or self._vpc is None:
            return cidrs
        primary = self._primary_cidr()
        if primary is not None:
            cidrs.append(primary)
        stack = Stack.of(self._vpc)
        vpc_ref = stable(self._vpn, self._vpc.vpc_id)
        for construct in stack.node.find_all():
            if (
                isinstance(construct, ec2.CfnVPCCidrBlock)
                and construct.cidr_block is not None
                and json.dumps(stack.resolve(construct.vpc_id), sort_keys=True) == vpc_ref
            ):
                cidrs.append(construct.cidr_block)
        return [c for c in cidrs if known(c)]

    def _check_vpc_overlap(self) -> None:
        if self._client_net is None:
            return
        for vpc_cidr in self._vpc_cidrs():
            checked(
                self._vpn.node.path,
                "cidr",
                validation.no_overlap,
                self._client_net,
                vpc_cidr,
                "VPC CIDR",
            )

    def _check_not_vpc_cidr(self, cidr: str) -> None:
        """A route to one of the VPC's own CIDRs duplicates the one AWS adds itself."""
        if self._vpc is None:
            return
        wanted = stable(self._vpn, cidr)
        tokens = [self._vpc.vpc_cidr_block, *self._vpc_cidrs()]
        same = any(stable(self._vpn, c) == wanted for c in tokens)
        if not same and known(cidr) and "/" in cidr and ":" not in cidr:
            net = ipaddress.IPv4Network(cidr, strict=False)
            same = any(ipaddress.IPv4Network(c, strict=False) == net for c in self._vpc_cidrs())
        if same:
            raise ClientVpnConfigError(
                self._vpn.node.path,
                "routes",
                f"the route to {cidr} is the VPC's own CIDR; AWS adds that route itself for "
                "each associated subnet (a second one fails with InvalidClientVpnDuplicateRoute"
                "): remove it and keep only an authorization rule for the VPC CIDR",
            )

    def _check_associated(self, subnet: ec2.ISubnet, cidr: str) -> None:
        """A route can only go through an associated subnet."""
        wanted = stable(self._vpn, subnet.subnet_id)
        if any(stable(self._vpn, s.subnet_id) == wanted for s in self.associated_subnets):
            return
        associated = ", ".join(s.node.path for s in self.associated_subnets)
        raise ClientVpnConfigError(
            self._vpn.node.path,
            "routes",
            f"the route to {cidr} goes through subnet {subnet.node.path}, which is not a "
            f"target network of this endpoint; use one of the associated subnets "
            f"({associated}) or add it to vpc_subnets",
        )

    def _select_subnets(self, selection: ec2.SubnetSelection | None) -> list[ec2.ISubnet]:
        """The target networks: one per AZ, all in the VPC, at most ``max_azs`` of them."""
        path = self._vpn.node.path
        if self._vpc is None:
            return []
        chosen = self._vpc.select_subnets(
            **_selection_kwargs(selection) if selection else {"one_per_az": True}
        ).subnets[: self._max_azs]
        if not chosen:
            raise ClientVpnConfigError(path, "vpc_subnets", "selects no subnet; give at least one")
        own = [
            *self._vpc.public_subnets,
            *self._vpc.private_subnets,
            *self._vpc.isolated_subnets,
        ]
        own_ids = {stable(self._vpn, s.subnet_id) for s in own}
        all_known = all(known(s.subnet_id) for s in own)
        seen_azs: dict[str, str] = {}
        for subnet in chosen:
            sid = stable(self._vpn, subnet.subnet_id)
            if sid not in own_ids and (
                _in_other_vpc(subnet, self._vpc) or (all_known and known(subnet.subnet_id))
            ):
                raise ClientVpnConfigError(
                    path,
                    "vpc_subnets",
                    f"subnet {subnet.node.path} is not in the endpoint's VPC "
                    f"{self._vpc.node.path}; every target network must be in that VPC",
                )
            az = stable(self._vpn, subnet.availability_zone)
            if az in seen_azs:
                raise ClientVpnConfigError(
                    path,
                    "vpc_subnets",
                    f"subnets {seen_azs[az]} and {subnet.node.path} are in the same "
                    f"availability zone ({self._display(subnet.availability_zone)}); Client "
                    "VPN takes one subnet per AZ (use one_per_az=True)",
                )
            seen_azs[az] = subnet.node.path
            _check_subnet_size(path, subnet)
        return list(chosen)

    def _warn_without_internet_path(self, anywhere: str) -> None:
        """``internet_access`` through a subnet with no default route (no NAT, no IGW).

        Isolated subnets have none by definition; a subnet defined in this app is looked
        for a default route of ``anywhere``'s IP version in its route table (routes added
        after the ``ClientVpn`` are not seen). An imported subnet that is not isolated is
        taken at its word.
        """
        if self._placeholder_vpc or self._vpc is None:
            return
        isolated = {stable(self._vpn, s.subnet_id) for s in self._vpc.isolated_subnets}
        routed = {
            stable(self._vpn, route.route_table_id)
            for route in Stack.of(self._vpc).node.find_all()
            if isinstance(route, ec2.CfnRoute)
            and anywhere in (route.destination_cidr_block, route.destination_ipv6_cidr_block)
        }
        without = [
            subnet.node.path
            for subnet in self.associated_subnets
            if stable(self._vpn, subnet.subnet_id) in isolated
            or (
                isinstance(subnet.node.default_child, ec2.CfnSubnet)
                and stable(self._vpn, subnet.route_table.route_table_id) not in routed
            )
        ]
        if without:
            ipv6 = anywhere == ANYWHERE_IPV6
            gateways = "an egress-only or internet gateway" if ipv6 else "NAT or internet gateway"
            Annotations.of(self._vpn).add_warning_v2(
                "constructs-cvpn:noInternetPath",
                "internet_access=True, but associated subnet(s) "
                f"{', '.join(without)} have no {'IPv6 ' if ipv6 else ''}route to the internet "
                f"(no {gateways}): clients get a {anywhere} route that leads nowhere. "
                f"Associate subnets with {'one' if ipv6 else 'a NAT gateway'} (vpc_subnets) "
                "or add one",
            )

    def _check_ipv6_subnets(self) -> None:
        """IPv6 or dual-stack traffic needs target subnets with an IPv6 CIDR.

        AWS Client VPN administrator guide, "IPv6 considerations": "For IPv6 or dual-stack
        traffic, the corresponding VPC subnets must have IPv6 or dual-stack CIDR ranges."
        Known only for subnets defined in this app (their ``CfnSubnet``, or a
        ``CfnSubnetCidrBlock`` adding an IPv6 block); imported subnets are taken at their
        word. A transit gateway endpoint has no subnets.
        """
        if self._vpc is None:
            return
        added = {
            stable(self._vpn, block.subnet_id)
            for block in Stack.of(self._vpc).node.find_all()
            if isinstance(block, ec2.CfnSubnetCidrBlock)
        }
        for subnet in self.associated_subnets:
            cfn = subnet.node.default_child
            if not isinstance(cfn, ec2.CfnSubnet):
                continue
            has_ipv6 = (
                cfn.ipv6_cidr_block is not None
                or cfn.ipv6_ipam_pool_id is not None
                or cfn.ipv6_native is True
                or stable(self._vpn, subnet.subnet_id) in added
            )
            if not has_ipv6:
                raise ClientVpnConfigError(
                    self._vpn.node.path,
                    "vpc_subnets",
                    f"subnet {subnet.node.path} has no IPv6 CIDR, and traffic_ip_address_type "
                    f"{self._traffic.value!r} needs target subnets with one (AWS: IPv6 or "
                    "dual-stack traffic needs IPv6 or dual-stack subnets); use a dual-stack "
                    "VPC (ec2.Vpc(ip_protocol=ec2.IpProtocol.DUAL_STACK)) or select subnets "
                    "that have an IPv6 block",
                )


def _check_subnet_size(path: str, subnet: ec2.ISubnet) -> None:
    """A target subnet needs "a CIDR block with at least a /27 bitmask" (admin guide,
    cvpn-working-target.html); checked when its CIDR is known (an imported subnet without
    ``ipv4_cidr_block`` has none to check)."""
    try:
        cidr = subnet.ipv4_cidr_block
    except RuntimeError:  # jsii's form of the CDK's CannotReferenceImportedSubnets
        return
    if not known(cidr) or "/" not in cidr:
        return
    prefix = int(cidr.rsplit("/", 1)[1])
    if prefix > quotas.TARGET_SUBNET_MIN_PREFIX:
        raise ClientVpnConfigError(
            path,
            "vpc_subnets",
            f"subnet {subnet.node.path} ({cidr}) is smaller than /"
            f"{quotas.TARGET_SUBNET_MIN_PREFIX}; Client VPN needs a target subnet of /"
            f"{quotas.TARGET_SUBNET_MIN_PREFIX} or larger with at least "
            f"{quotas.TARGET_SUBNET_FREE_ADDRESSES} free addresses at all times "
            f"[{quotas.TARGET_NETWORKS_PAGE}]",
        )


def _association_key(subnet: ec2.ISubnet) -> str:
    """The construct-id part of a subnet's association: its AZ when known at synth.

    Environment-agnostic stacks have token AZs; then the subnet's construct path (relative
    to its stack) keys it, which is just as stable under reordering.
    """
    az = subnet.availability_zone
    if known(az):
        return az
    return slug(Names.stack_relative_construct_path(subnet))


def _in_other_vpc(subnet: ec2.ISubnet, vpc: ec2.IVpc) -> bool:
    """True when the subnet was defined inside another VPC construct of this app."""
    scope = subnet.node.scope
    while scope is not None:
        if scope is vpc:
            return False
        if hasattr(scope, "vpc_id") and hasattr(scope, "select_subnets"):
            return True
        scope = scope.node.scope
    return False


def _selection_kwargs(selection: ec2.SubnetSelection) -> dict[str, Any]:
    """The fields a user set on a SubnetSelection, defaulting to one subnet per AZ."""
    kwargs: dict[str, Any] = {
        name: getattr(selection, name)
        for name in (
            "availability_zones",
            "subnet_filters",
            "subnet_group_name",
            "subnet_type",
            "subnets",
        )
        if getattr(selection, name) is not None
    }
    kwargs["one_per_az"] = selection.one_per_az if selection.one_per_az is not None else None
    if "subnets" not in kwargs and kwargs["one_per_az"] is None:
        kwargs["one_per_az"] = True
    if kwargs["one_per_az"] is None:
        del kwargs["one_per_az"]
    return kwargs
