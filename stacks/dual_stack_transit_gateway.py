"""Example (d): an endpoint attached to a transit gateway (no VPC of its own), dual-stack.

A transit gateway with a CIDR block (Client VPN needs one on it) and a workload VPC attached
to it; the endpoint is associated in two of the region's AZs and routes the VPC's range to
the transit gateway. Clients keep their addresses through a transit gateway (no SNAT), so
the workload's security group allows the client CIDR. The transit gateway's default route
table propagates every attachment (``DefaultRouteTablePropagation``), the Client VPN
attachment included.

Generated PKI: ``cvpn config get --stack CvpnDualStackTransitGateway --user alice``.
"""

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_cvpn import AuthorizationRule, ClientVpn, Route, TransitGatewayAttachment

from .network import example_vpc

CLIENT_CIDR = "10.160.0.0/22"


class DualStackTransitGatewayStack(Stack):
    """Users reach a VPC behind a transit gateway; the endpoint has no VPC."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        tgw = ec2.CfnTransitGateway(
            self,
            "TransitGateway",
            description="Client VPN example",
            transit_gateway_cidr_blocks=["10.99.0.0/24"],
            default_route_table_association="enable",
            default_route_table_propagation="enable",
        )
        vpc = example_vpc(self)
        ec2.CfnTransitGatewayVpcAttachment(
            self,
            "WorkloadAttachment",
            transit_gateway_id=tgw.ref,
            vpc_id=vpc.vpc_id,
            subnet_ids=[s.subnet_id for s in vpc.private_subnets],
        )
        self.vpn = ClientVpn(
            self,
            "Vpn",
            cidr=CLIENT_CIDR,
            transit_gateway=TransitGatewayAttachment(
                transit_gateway_id=tgw.ref, availability_zones=self.availability_zones[:2]
            ),
            # DUAL-STACK (props of the ipv6 branch, wired when both are merged):
            #   endpoint_ip_address_type and traffic_ip_address_type = dual-stack, an IPv6
            #   block on the transit gateway (transit_gateway_cidr_blocks), and an IPv6 rule
            #   and route to the workload VPC's IPv6 CIDR next to the IPv4 ones below.
            split_tunnel=True,
            users=["alice"],
            authorization_rules=[
                AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True, description="Workload")
            ],
            routes=[Route(cidr=vpc.vpc_cidr_block, description="Workload VPC via the TGW")],
        )
        # What users reach: the client CIDR arrives unchanged (vpn.connections is that CIDR).
        workload = ec2.SecurityGroup(
            self, "Workload", vpc=vpc, description="Workload reached through the VPN"
        )
        workload.connections.allow_from(self.vpn, ec2.Port.tcp(443), "HTTPS from VPN clients")
        Validations.of(self.vpn).acknowledge(
            Acknowledgment(
                id="ClientVpn-SplitTunnel",
                reason="Only the workload VPC behind the transit gateway is meant to be reached "
                "through this VPN; users keep their own internet path.",
            )
        )
