"""The Client VPN endpoint itself: the L2 ``ec2.ClientVpnEndpoint`` as ``ClientVpn`` sets it up.

The L2 gets no subnets (``NetworkAccess`` creates the associations, keyed by AZ) and no
rules (``authorize_all_users_to_vpc_cidr=False``); its endpoint's ``TagSpecifications``
come from the ``ClientVpn``'s tag manager, rendered at synthesis. The address types the L2
lacks are set on its ``CfnClientVpnEndpoint``, which has them since aws-cdk-lib 2.269.0 (the
floor); without a client CIDR (IPv6-only traffic) ``ClientCidrBlock`` is left out.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import IAnyProducer, IResolveContext, Lazy, TagManager
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .ip_address_type import IpAddressType
from .tokens import LOOKUP_PLACEHOLDER_CIDR, Constant


def new_endpoint(
    vpn: Construct,
    *,
    vpc: ec2.IVpc,
    placeholder_vpc: bool,
    tags: TagManager,
    cidr: str | None,
    endpoint_ip_address_type: IpAddressType | None,
    traffic_ip_address_type: IpAddressType | None,
    **props: Any,
) -> ec2.ClientVpnEndpoint:
    """The L2 endpoint (construct id ``Endpoint``) with ``props`` as the L2 takes them.

    ``cidr`` None (IPv6-only traffic, which takes no client CIDR) gives the L2 a token that
    resolves to nothing, so the template has no ``ClientCidrBlock``. The address types are
    set only when given: both are create-only, so writing AWS's default ``ipv4`` into an
    existing endpoint's template would replace it.
    """
    endpoint = ec2.ClientVpnEndpoint(
        vpn,
        "Endpoint",
        vpc=_stand_in(vpn, vpc, placeholder=placeholder_vpc)
        if placeholder_vpc or cidr is None
        else vpc,
        cidr=Lazy.string(Constant(None)) if cidr is None else cidr,
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
    if endpoint_ip_address_type is not None:
        cfn.endpoint_ip_address_type = endpoint_ip_address_type.value
    if traffic_ip_address_type is not None:
        cfn.traffic_ip_address_type = traffic_ip_address_type.value
    return endpoint


def _stand_in(vpn: Construct, vpc: ec2.IVpc, *, placeholder: bool) -> ec2.IVpc:
    """The VPC with its CIDR hidden behind a token, for the L2's client-CIDR check.

    The L2 compares the client CIDR with a known VPC CIDR: it refuses ``Vpc.from_lookup``'s
    placeholder ``1.2.3.4/5``, and cannot parse the token that stands for no client CIDR. It
    reads nothing else of the VPC but its id. The stand-in creates no resource, so the
    templates before and after a lookup name the same resources.
    """
    return ec2.Vpc.from_vpc_attributes(
        vpn,
        "LookupPlaceholderVpc" if placeholder else "VpcWithoutClientCidr",
        vpc_id=vpc.vpc_id,
        availability_zones=vpc.availability_zones,
        vpc_cidr_block=Lazy.string(
            Constant(LOOKUP_PLACEHOLDER_CIDR if placeholder else vpc.vpc_cidr_block)
        ),
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
