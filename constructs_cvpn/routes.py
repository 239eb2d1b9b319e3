"""A ``ClientVpn``'s routes: checked, one per associated subnet, after the associations.

A route sends client traffic for a destination through an associated subnet (or, for a
transit gateway endpoint, to the transit gateway; or, for the client CIDR, to ``local``).
Every route waits for the target network associations (AWS rejects a route through a
subnet not associated yet) and joins a lane. Client VPN refuses a second route for the
same destination and subnet at deploy, so a duplicate is refused at synth; over 100 routes
per association (the default quota) warns.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from aws_cdk import Names
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, DependencyGroup

from . import quotas, validation
from .errors import ClientVpnConfigError, checked
from .ip_address_type import IpAddressType
from .lanes import Mutations
from .office_hours import LOCAL_INDEX, ScheduledRoute
from .security_group import ANYWHERE
from .tokens import id_part, slug, stable
from .transit_gateway import TransitGatewayAttachment
from .vpc_cidrs import VpcCidrs

if TYPE_CHECKING:
    from .schedule import OffHoursSchedule

#: The route key's "subnet" part for a transit gateway endpoint's routes (no target subnet).
_TRANSIT_GATEWAY = "transit-gateway"

#: cfn-lint's copy of the AWS::EC2::ClientVpnRoute schema gives DestinationCidrBlock the
#: format ipv4-network (E3002 on an IPv6 destination); the EC2 API takes IPv6 destinations
#: since Client VPN carries IPv6 (hashicorp/terraform-provider-aws#44926 creates them).
_IPV6_ROUTE_LINT = {"config": {"ignore_checks": ["E3002"]}}


class Routes:
    """The endpoint's routes, through ``subnets`` (none for a transit gateway endpoint)."""

    def __init__(
        self,
        vpn: Construct,
        *,
        cidrs: VpcCidrs,
        traffic: IpAddressType,
        client_net: ipaddress.IPv4Network | None,
        transit_gateway: TransitGatewayAttachment | None,
        mutations: Mutations,
        associated: DependencyGroup,
        subnets: list[ec2.ISubnet],
    ) -> None:
        self._vpn = vpn
        self._cidrs = cidrs
        self._traffic = traffic
        self._client_net = client_net
        self._transit_gateway = transit_gateway
        self._mutations = mutations
        self._associated = associated
        self._subnets = subnets
        self._keys: set[tuple[str, str]] = set()
        #: The destination of every route (one entry per ``add``), as given.
        self.cidrs: list[str] = []
        #: With ``ClientVpn(schedule=...)``: routes go to the reconciler, not the template.
        self.schedule: OffHoursSchedule | None = None

    def add(
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
        if self._cidrs.checkable(cidr):
            net = checked(path, prop, validation.ip_network, cidr)
            checked(path, prop, validation.destination_family, net, self._traffic)
            ipv6 = net.version == 6
            if self._client_net is not None and not ipv6 and cidr != ANYWHERE:
                checked(path, prop, validation.no_overlap, self._client_net, cidr, "route")
        self._cidrs.check_not_vpc_cidr(cidr)
        if self._transit_gateway is not None:
            return [self._add_transit_gateway_route(cidr, subnet, description, ipv6=ipv6)]
        if subnet is not None:
            self._check_associated(subnet, cidr)
        targets = [subnet] if subnet is not None else self._subnets
        for target in targets:  # all checked before any is created: a refusal adds nothing
            if self._key(cidr, target) in self._keys:
                raise ClientVpnConfigError(
                    path,
                    prop,
                    f"duplicate route to {self._cidrs.display(cidr)} through subnet "
                    f"{target.node.path}; Client VPN refuses the second one at deploy: "
                    "remove it",
                )
        self.cidrs.append(cidr)
        created = []
        for target in targets:
            self._keys.add(self._key(cidr, target))
            if self.schedule is not None:
                index = self.schedule.subnet_index(target.subnet_id)
                self.schedule.add_route(ScheduledRoute(cidr, index, description or ""))
                continue
            route = self._mutations.endpoint.add_route(
                f"Route-{id_part(self._vpn, cidr)}-"
                f"{slug(Names.stack_relative_construct_path(target))}",
                cidr=cidr,
                target=ec2.ClientVpnRouteTarget.subnet(target),
                description=description,
            )
            route.node.add_dependency(self._associated)
            if ipv6:
                cfn = route.node.default_child
                assert isinstance(cfn, ec2.CfnClientVpnRoute)
                cfn.add_metadata("cfn-lint", _IPV6_ROUTE_LINT)
            self._mutations.chain(route)
            created.append(route)
        self._mutations.warn_over(
            quotas.ROUTES_PER_ASSOCIATION,
            max(self._routes_through(s) for s in self._subnets),
            "routes through one associated subnet",
        )
        return created

    def add_local(self, client_cidr: str, description: str) -> None:
        """The client CIDR's ``local`` route (client-to-client), through no subnet."""
        key = (stable(self._vpn, client_cidr), "local")
        self._keys.add(key)
        self.cidrs.append(client_cidr)
        if self.schedule is not None:
            self.schedule.add_route(ScheduledRoute(client_cidr, LOCAL_INDEX, description))
            return
        route = self._mutations.endpoint.add_route(
            f"Route-{id_part(self._vpn, client_cidr)}-local",
            cidr=client_cidr,
            target=ec2.ClientVpnRouteTarget.local(),
            description=description,
        )
        route.node.add_dependency(self._associated)
        self._mutations.chain(route)

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
        if key in self._keys:
            raise ClientVpnConfigError(
                path,
                "routes",
                f"duplicate route to {self._cidrs.display(cidr)}; Client VPN refuses the second "
                "one at deploy: remove it",
            )
        self._keys.add(key)
        self.cidrs.append(cidr)
        # The L2 route needs a target; "local" stands in and its TargetVpcSubnetId is
        # deleted: "For Transit Gateway-based endpoints, this parameter is not required"
        # (EC2 API reference, CreateClientVpnRoute).
        route = self._mutations.endpoint.add_route(
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
        route.node.add_dependency(self._associated)
        self._mutations.chain(route)
        self._mutations.warn_over(
            quotas.ROUTES_PER_ASSOCIATION,
            len(self._keys),
            "routes, each through every associated Availability Zone",
        )
        return route

    def _key(self, cidr: str, subnet: ec2.ISubnet) -> tuple[str, str]:
        return (stable(self._vpn, cidr), stable(self._vpn, subnet.subnet_id))

    def _routes_through(self, subnet: ec2.ISubnet) -> int:
        wanted = stable(self._vpn, subnet.subnet_id)
        return sum(1 for _, target in self._keys if target == wanted)

    def _check_associated(self, subnet: ec2.ISubnet, cidr: str) -> None:
        """A route can only go through an associated subnet."""
        wanted = stable(self._vpn, subnet.subnet_id)
        if any(stable(self._vpn, s.subnet_id) == wanted for s in self._subnets):
            return
        associated = ", ".join(s.node.path for s in self._subnets)
        raise ClientVpnConfigError(
            self._vpn.node.path,
            "routes",
            f"the route to {cidr} goes through subnet {subnet.node.path}, which is not a "
            f"target network of this endpoint; use one of the associated subnets "
            f"({associated}) or add it to vpc_subnets",
        )
