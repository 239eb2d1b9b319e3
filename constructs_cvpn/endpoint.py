"""The Client VPN endpoint itself: the L2 ``ec2.ClientVpnEndpoint`` as ``ClientVpn`` sets it up.

The L2 gets no subnets (``NetworkAccess`` creates the associations, keyed by AZ) and no
rules (``authorize_all_users_to_vpc_cidr=False``); its endpoint's ``TagSpecifications``
come from the ``ClientVpn``'s tag manager, rendered at synthesis.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import IAnyProducer, IResolveContext, Lazy, TagManager
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .tokens import LOOKUP_PLACEHOLDER_CIDR, Constant


def new_endpoint(
    vpn: Construct,
    *,
    vpc: ec2.IVpc,
    placeholder_vpc: bool,
    tags: TagManager,
    **props: Any,
) -> ec2.ClientVpnEndpoint:
    """The L2 endpoint (construct id ``Endpoint``) with ``props`` as the L2 takes them."""
    endpoint = ec2.ClientVpnEndpoint(
        vpn,
        "Endpoint",
        vpc=_placeholder_stand_in(vpn, vpc) if placeholder_vpc else vpc,
        authorize_all_users_to_vpc_cidr=False,
        logging=True,
        # No subnets: the L2 would name its associations by index (Association0..N), so
        # reordering or adding subnets would replace unrelated associations.
        vpc_subnets=ec2.SubnetSelection(subnets=[]),
        **props,
    )
    cfn = endpoint.node.default_child
    assert isinstance(cfn, ec2.CfnClientVpnEndpoint)
    # Rendered at synthesis: Tags.of(...) aspects add to the tag manager first.
    cfn.tag_specifications = Lazy.uncached_any(_TagSpecifications(tags))
    return endpoint


def _placeholder_stand_in(vpn: Construct, vpc: ec2.IVpc) -> ec2.IVpc:
    """``Vpc.from_lookup``'s placeholder with its CIDR hidden behind a token.

    The L2 compares the client CIDR with a known VPC CIDR and refuses the placeholder's
    ``1.2.3.4/5``; it reads nothing else of the VPC but its id. The stand-in creates no
    resource, so the templates before and after the lookup name the same resources.
    """
    return ec2.Vpc.from_vpc_attributes(
        vpn,
        "LookupPlaceholderVpc",
        vpc_id=vpc.vpc_id,
        availability_zones=vpc.availability_zones,
        vpc_cidr_block=Lazy.string(Constant(LOOKUP_PLACEHOLDER_CIDR)),
    )


@jsii.implements(IAnyProducer)
class _TagSpecifications:
    """The endpoint's TagSpecifications from a tag manager, or nothing without tags."""

    def __init__(self, tags: TagManager) -> None:
        self._tags = tags

    def produce(self, context: IResolveContext) -> Any:
        rendered = self._tags.render_tags()
        if not rendered:
            return None
        # The L1 resolves its props before mapping them to CloudFormation: give its own
        # (camelCase) shape, as TagSpecificationProperty and CfnTag would.
        tags = sorted(
            ({"key": str(t["Key"]), "value": str(t["Value"])} for t in rendered),
            key=lambda tag: tag["key"],
        )
        return [{"resourceType": "client-vpn-endpoint", "tags": tags}]
