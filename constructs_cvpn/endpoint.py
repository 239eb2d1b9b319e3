"""The Client VPN endpoint itself: the L2 ``ec2.ClientVpnEndpoint`` as ``ClientVpn`` sets it up.

The L2 gets no subnets (``NetworkAccess`` creates the associations, keyed by AZ) and no
rules (``authorize_all_users_to_vpc_cidr=False``); its endpoint's ``TagSpecifications``
come from the ``ClientVpn``'s tag manager, rendered at synthesis.

Properties the L2 does not know are set on its L1: ``TransitGatewayConfiguration`` (in the
L1 since aws-cdk-lib 2.269.0, our floor) and, as property overrides because the floor's L1
lacks them (added in 2.275.0), ``DevicePostureOptions``, ``AuthorizationPolicy`` and
``ConnectionLogOptions.IncludeAuthorizationPolicyContext``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Acknowledgment, IAnyProducer, IResolveContext, Lazy, TagManager, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .tokens import LOOKUP_PLACEHOLDER_CIDR, Constant
from .transit_gateway import TransitGatewayAttachment


def new_endpoint(
    vpn: Construct,
    *,
    vpc: ec2.IVpc | None,
    placeholder_vpc: bool,
    tags: TagManager,
    transit_gateway: TransitGatewayAttachment | None = None,
    overrides: Mapping[str, Any] | None = None,
    **props: Any,
) -> ec2.ClientVpnEndpoint:
    """The L2 endpoint (construct id ``Endpoint``) with ``props`` as the L2 takes them.

    With ``transit_gateway`` (and no ``vpc``) the endpoint has no VPC and no security group.
    ``overrides`` are CloudFormation property paths and values set on the L1.
    """
    if transit_gateway is not None:
        vpc = _no_vpc(vpn)
        props["security_groups"] = [_no_security_group(vpn)]
    assert vpc is not None
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
    if transit_gateway is not None:
        # "You cannot specify both TransitGatewayConfiguration and VpcId/SecurityGroupIds"
        # (EC2 API reference, CreateClientVpnEndpoint): the L2 always writes both.
        cfn.add_property_deletion_override("VpcId")
        cfn.add_property_deletion_override("SecurityGroupIds")
        # The zones are associated one by one (NetworkAccess), not listed here: a list here
        # is create-only, so adding an AZ would replace the endpoint.
        cfn.transit_gateway_configuration = (
            ec2.CfnClientVpnEndpoint.TransitGatewayConfigurationProperty(
                transit_gateway_id=transit_gateway.transit_gateway_id
            )
        )
    for property_path, value in (overrides or {}).items():
        cfn.add_property_override(property_path, value)
    if overrides:
        Validations.of(cfn).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::F3002",
                reason="aws-cdk-lib's own template check lags its L1 here: it does not know "
                "DevicePostureOptions, AuthorizationPolicy or ConnectionLogOptions."
                "IncludeAuthorizationPolicyContext, which are in the resource's "
                "CloudFormation schema (and in cfn-lint's); ClientVpn checks their values",
            )
        )
    return endpoint


def _no_vpc(vpn: Construct) -> ec2.IVpc:
    """What the L2 is given for a transit gateway endpoint: no resource, its id deleted.

    The L2 requires a VPC; it reads its id (the ``VpcId`` we delete) and, when the CIDR is
    known, compares it with the client CIDR: the CIDR is hidden behind a token.
    """
    return ec2.Vpc.from_vpc_attributes(
        vpn,
        "NoVpc",
        vpc_id=Lazy.string(Constant("none")),
        availability_zones=[Lazy.string(Constant("none"))],
        vpc_cidr_block=Lazy.string(Constant("0.0.0.0/32")),
    )


def _no_security_group(vpn: Construct) -> ec2.ISecurityGroup:
    """What the L2 is given as security group for a transit gateway endpoint (else it creates
    one in the VPC): no resource, its id deleted with ``SecurityGroupIds``."""
    return ec2.SecurityGroup.from_security_group_id(
        vpn, "NoSecurityGroup", Lazy.string(Constant("none")), mutable=False
    )


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
