"""What synth knows of a ``ClientVpn``'s VPC CIDRs, and the checks made against them.

The client CIDR may not overlap the VPC's CIDRs (primary and secondary), a route may not be
one of them (AWS adds that route itself on association), and the VPC resolver sits at the
primary CIDR plus two. Each is known at synth only for a VPC defined in this app or
imported with its CIDR; ``Vpc.from_lookup``'s placeholder and a transit gateway endpoint
(no VPC) have none.
"""

from __future__ import annotations

import ipaddress
import json

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from . import validation
from .errors import ClientVpnConfigError, checked
from .tokens import LOOKUP_PLACEHOLDER_CIDR, display, known, stable


class VpcCidrs:
    """The VPC's CIDRs as far as synth knows them."""

    def __init__(self, vpn: Construct, vpc: ec2.IVpc | None, *, placeholder_vpc: bool) -> None:
        self._vpn = vpn
        self._vpc = vpc
        self._placeholder_vpc = placeholder_vpc

    def display(self, value: str) -> str:
        return display(self._vpn, self._vpc, value)

    def checkable(self, cidr: str) -> bool:
        """A CIDR known at synth time (not a token, not the lookup placeholder's CIDR)."""
        return known(cidr) and not (self._placeholder_vpc and cidr == LOOKUP_PLACEHOLDER_CIDR)

    def primary(self) -> str | None:
        """The VPC's primary IPv4 CIDR when known at synth time (not the lookup placeholder,
        and no VPC at all for a transit gateway endpoint)."""
        if self._placeholder_vpc or self._vpc is None:
            return None
        cfn = self._vpc.node.default_child
        if isinstance(cfn, ec2.CfnVPC) and cfn.cidr_block is not None:
            return cfn.cidr_block if known(cfn.cidr_block) else None
        return self._vpc.vpc_cidr_block if known(self._vpc.vpc_cidr_block) else None

    def all(self) -> list[str]:
        """The VPC's CIDR blocks known at synth time, primary and secondary."""
        cidrs: list[str] = []
        if self._placeholder_vpc or self._vpc is None:
            return cidrs
        primary = self.primary()
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

    def check_overlap(self, client_net: ipaddress.IPv4Network | None) -> None:
        """The client CIDR overlaps none of the VPC's CIDRs."""
        if client_net is None:
            return
        for vpc_cidr in self.all():
            checked(
                self._vpn.node.path,
                "cidr",
                validation.no_overlap,
                client_net,
                vpc_cidr,
                "VPC CIDR",
            )

    def check_not_vpc_cidr(self, cidr: str) -> None:
        """A route to one of the VPC's own CIDRs duplicates the one AWS adds itself."""
        if self._vpc is None:
            return
        wanted = stable(self._vpn, cidr)
        tokens = [self._vpc.vpc_cidr_block, *self.all()]
        # Known CIDRs are canonical by now (a route's and the VPC's are refused with host
        # bits set), so comparing their comparable forms is comparing the networks.
        if any(stable(self._vpn, c) == wanted for c in tokens):
            raise ClientVpnConfigError(
                self._vpn.node.path,
                "routes",
                f"the route to {cidr} is the VPC's own CIDR; AWS adds that route itself for "
                "each associated subnet (a second one fails with InvalidClientVpnDuplicateRoute"
                "): remove it and keep only an authorization rule for the VPC CIDR",
            )
