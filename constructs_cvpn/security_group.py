"""A ``ClientVpn``'s security group: no ingress, egress only to authorized destinations.

Client VPN sends client traffic into the VPC from the endpoint's network interfaces, under
the endpoint's security groups: a destination clients are authorized to reach needs an
egress rule there, or the rule authorizes them to reach nothing. A group you bring
(``security_groups``) is yours: nothing is added to it.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .descriptions import security_group_description
from .ip_address_type import IpAddressType
from .tokens import known, stable

#: The route every client needs for the internet in full-tunnel mode.
ANYWHERE = "0.0.0.0/0"
#: The same for IPv6 traffic.
ANYWHERE_IPV6 = "::/0"


def new_security_group(vpn: Construct, vpc: ec2.IVpc) -> ec2.SecurityGroup:
    """A new group with no ingress and no egress yet."""
    return ec2.SecurityGroup(
        vpn,
        "SecurityGroup",
        vpc=vpc,
        description=security_group_description(vpn.node.path, "egress to authorized networks"),
        allow_all_outbound=False,
    )


def allow_egress(vpn: Construct, group: ec2.ISecurityGroup, cidr: str, *, ipv6: bool) -> None:
    """Open the group's egress to an authorized destination (all protocols)."""
    if cidr not in (ANYWHERE, ANYWHERE_IPV6):
        peer = ec2.Peer.ipv6(cidr) if ipv6 else ec2.Peer.ipv4(cidr)
        group.add_egress_rule(peer, ec2.Port.all_traffic(), f"Authorized destination {cidr}")
        return
    # The L2 refuses "all traffic to anywhere" unless the group was created with
    # allow_all_outbound (allow_all_ipv6_outbound); internet access may be authorized
    # after creation, for several groups, and needs the one egress rule per version.
    construct_id = "EgressAnywhereIpv6" if ipv6 else "EgressAnywhere"
    if vpn.node.try_find_child(construct_id) is not None:
        return
    ec2.CfnSecurityGroupEgress(
        vpn,
        construct_id,
        group_id=group.security_group_id,
        ip_protocol="-1",
        cidr_ipv6=cidr if ipv6 else None,
        cidr_ip=None if ipv6 else cidr,
        description=f"Authorized destination {cidr} (internet access)",
    )


def is_ipv6(vpn: Construct, cidr: str, traffic: IpAddressType) -> bool:
    """Whether ``cidr`` is IPv6: from the value; for a deploy-time value, from what the
    tunnel carries, or in dual-stack from where it comes (an ``Ipv6...`` attribute such as
    ``vpc.vpc_ipv6_cidr_blocks`` is IPv6, anything else IPv4)."""
    if known(cidr):
        return ":" in cidr
    if not traffic.carries_ipv4:
        return True
    if not traffic.carries_ipv6:
        return False
    return "Ipv6" in stable(vpn, cidr)


def anywhere(traffic: IpAddressType) -> list[str]:
    """The default routes of the IP versions the tunnel carries."""
    return [
        default
        for default, carried in (
            (ANYWHERE, traffic.carries_ipv4),
            (ANYWHERE_IPV6, traffic.carries_ipv6),
        )
        if carried
    ]
