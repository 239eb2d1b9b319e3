"""A ``ClientVpn``'s target networks: which subnets, checked, and one association per AZ.

Client VPN takes one subnet per Availability Zone, all in the endpoint's VPC, each a /27 or
larger; IPv6 or dual-stack traffic needs subnets with an IPv6 CIDR. Each association is a
construct keyed by its AZ (or, when the AZ is a token, by the subnet's construct path), so
reordering or adding subnets leaves the other associations alone. A transit gateway
endpoint has no subnets: one association per Availability Zone it names (EC2 API
reference, AssociateClientVpnTargetNetwork).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Names, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, DependencyGroup

from . import quotas
from .errors import ClientVpnConfigError
from .ip_address_type import IpAddressType
from .tokens import display, id_part, known, slug, stable
from .transit_gateway import TransitGatewayAttachment


def associate(
    vpn: Construct,
    endpoint: ec2.ClientVpnEndpoint,
    endpoint_id: str,
    *,
    transit_gateway: TransitGatewayAttachment | None,
    subnets: list[ec2.ISubnet],
    associated: DependencyGroup,
) -> dict[str, ec2.CfnClientVpnTargetNetworkAssociation]:
    """One target network association per subnet, keyed by its AZ (or per AZ), by subnet
    path (by AZ name or id for a transit gateway endpoint); each joins ``associated``."""
    associations: dict[str, ec2.CfnClientVpnTargetNetworkAssociation] = {}
    by_id = transit_gateway is not None and transit_gateway.by_id
    for zone in transit_gateway.zones if transit_gateway else []:
        association = ec2.CfnClientVpnTargetNetworkAssociation(
            endpoint,
            f"Association-{id_part(vpn, zone)}",
            client_vpn_endpoint_id=endpoint_id,
            availability_zone_id=zone if by_id else None,
            availability_zone=None if by_id else zone,
        )
        associations[zone] = association
        associated.add(association)
    for subnet in subnets:
        association = ec2.CfnClientVpnTargetNetworkAssociation(
            endpoint,
            f"Association-{_association_key(subnet)}",
            client_vpn_endpoint_id=endpoint_id,
            subnet_id=subnet.subnet_id,
        )
        associations[subnet.node.path] = association
        associated.add(association)
    return associations


def select_subnets(
    vpn: Construct,
    vpc: ec2.IVpc | None,
    selection: ec2.SubnetSelection | None,
    *,
    max_azs: int | None,
) -> list[ec2.ISubnet]:
    """The target networks: one per AZ, all in the VPC, at most ``max_azs`` of them."""
    path = vpn.node.path
    if vpc is None:
        return []
    chosen = vpc.select_subnets(
        **_selection_kwargs(selection) if selection else {"one_per_az": True}
    ).subnets[:max_azs]
    if not chosen:
        raise ClientVpnConfigError(path, "vpc_subnets", "selects no subnet; give at least one")
    own = [
        *vpc.public_subnets,
        *vpc.private_subnets,
        *vpc.isolated_subnets,
    ]
    own_ids = {stable(vpn, s.subnet_id) for s in own}
    all_known = all(known(s.subnet_id) for s in own)
    seen_azs: dict[str, str] = {}
    for subnet in chosen:
        sid = stable(vpn, subnet.subnet_id)
        if sid not in own_ids and (
            _in_other_vpc(subnet, vpc) or (all_known and known(subnet.subnet_id))
        ):
            raise ClientVpnConfigError(
                path,
                "vpc_subnets",
                f"subnet {subnet.node.path} is not in the endpoint's VPC "
                f"{vpc.node.path}; every target network must be in that VPC",
            )
        az = stable(vpn, subnet.availability_zone)
        if az in seen_azs:
            # one_per_az does not apply to a list of subnets (SubnetSelection ignores it)
            fix = "list one per AZ" if selection and selection.subnets else "use one_per_az=True"
            raise ClientVpnConfigError(
                path,
                "vpc_subnets",
                f"subnets {seen_azs[az]} and {subnet.node.path} are in the same "
                f"availability zone ({display(vpn, vpc, subnet.availability_zone)}); Client "
                f"VPN takes one subnet per AZ ({fix})",
            )
        seen_azs[az] = subnet.node.path
        _check_subnet_size(path, subnet)
    return list(chosen)


def warn_without_internet_path(
    vpn: Construct, vpc: ec2.IVpc, subnets: list[ec2.ISubnet], anywhere: str, *, ipv6: bool
) -> None:
    """``internet_access`` through a subnet with no default route (no NAT, no IGW).

    Isolated subnets have none by definition; a subnet defined in this app is looked
    for a default route of ``anywhere``'s IP version in its route table (routes added
    after the ``ClientVpn`` are not seen). An imported subnet that is not isolated is
    taken at its word.
    """
    isolated = {stable(vpn, s.subnet_id) for s in vpc.isolated_subnets}
    routed = {
        stable(vpn, route.route_table_id)
        for route in Stack.of(vpc).node.find_all()
        if isinstance(route, ec2.CfnRoute)
        and anywhere in (route.destination_cidr_block, route.destination_ipv6_cidr_block)
    }
    without = [
        subnet.node.path
        for subnet in subnets
        if stable(vpn, subnet.subnet_id) in isolated
        or (
            isinstance(subnet.node.default_child, ec2.CfnSubnet)
            and stable(vpn, subnet.route_table.route_table_id) not in routed
        )
    ]
    if without:
        gateways = "an egress-only or internet gateway" if ipv6 else "NAT or internet gateway"
        Annotations.of(vpn).add_warning_v2(
            "constructs-cvpn:noInternetPath",
            "internet_access=True, but associated subnet(s) "
            f"{', '.join(without)} have no {'IPv6 ' if ipv6 else ''}route to the internet "
            f"(no {gateways}): clients get a {anywhere} route that leads nowhere. "
            f"Associate subnets with {'one' if ipv6 else 'a NAT gateway'} (vpc_subnets) "
            "or add one",
        )


def check_ipv6_subnets(
    vpn: Construct, vpc: ec2.IVpc | None, subnets: list[ec2.ISubnet], traffic: IpAddressType
) -> None:
    """IPv6 or dual-stack traffic needs target subnets with an IPv6 CIDR.

    AWS Client VPN administrator guide, "IPv6 considerations": "For IPv6 or dual-stack
    traffic, the corresponding VPC subnets must have IPv6 or dual-stack CIDR ranges."
    Known only for subnets defined in this app (their ``CfnSubnet``, or a
    ``CfnSubnetCidrBlock`` adding an IPv6 block); imported subnets are taken at their
    word. A transit gateway endpoint has no subnets.
    """
    if vpc is None:
        return
    added = {
        stable(vpn, block.subnet_id)
        for block in Stack.of(vpc).node.find_all()
        if isinstance(block, ec2.CfnSubnetCidrBlock)
    }
    for subnet in subnets:
        cfn = subnet.node.default_child
        if not isinstance(cfn, ec2.CfnSubnet):
            continue
        has_ipv6 = (
            cfn.ipv6_cidr_block is not None
            or cfn.ipv6_ipam_pool_id is not None
            or cfn.ipv6_native is True
            or stable(vpn, subnet.subnet_id) in added
        )
        if not has_ipv6:
            raise ClientVpnConfigError(
                vpn.node.path,
                "vpc_subnets",
                f"subnet {subnet.node.path} has no IPv6 CIDR, and traffic_ip_address_type "
                f"{traffic.value!r} needs target subnets with one (AWS: IPv6 or "
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
