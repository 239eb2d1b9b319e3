"""ClientVpn-SecurityGroupOpenIngress: the endpoint's security groups admit no 0.0.0.0/0 or ::/0.

Ingress is read both from ``SecurityGroupIngress`` inline in ``AWS::EC2::SecurityGroup`` and from
separate ``AWS::EC2::SecurityGroupIngress`` resources whose ``GroupId`` points at the group.
Groups that are not defined in the template (imported ids) are unknown and skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import (
    ENDPOINT,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS,
    ClientVpnRule,
)
from constructs_cvpn.nag.template import OPEN_IPV4, OPEN_IPV6, Resource, Template


def _is_open(ingress: Any) -> bool:
    """True when one ingress entry admits the whole IPv4 or IPv6 internet."""
    if not isinstance(ingress, Mapping):
        return False
    return ingress.get("CidrIp") == OPEN_IPV4 or ingress.get("CidrIpv6") == OPEN_IPV6


def _ingress_of(group: Resource, template: Template) -> Iterable[Any]:
    """Every ingress entry of ``group``: inline ones and separate ingress resources."""
    inline = group.prop("SecurityGroupIngress")
    if isinstance(inline, list):
        yield from inline
    for ingress in template.of_type(SECURITY_GROUP_INGRESS):
        if template.referenced_id(ingress.prop("GroupId")) == group.logical_id:
            yield ingress.properties


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when a security group of the endpoint (in this template) is open."""
    ids = endpoint.prop("SecurityGroupIds")
    if not isinstance(ids, list):
        return NagRuleCompliance.NOT_APPLICABLE
    groups = [g for g in (template.referenced(i, SECURITY_GROUP) for i in ids) if g is not None]
    if not groups:
        return NagRuleCompliance.NOT_APPLICABLE
    if any(_is_open(entry) for group in groups for entry in _ingress_of(group, template)):
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT


RULE = ClientVpnRule(
    suffix="SecurityGroupOpenIngress",
    resource_type=ENDPOINT,
    level=NagMessageLevel.ERROR,
    info="A security group of the Client VPN endpoint allows ingress from 0.0.0.0/0 or ::/0.",
    explanation=(
        "The endpoint's security groups are applied to its network interfaces in the VPC and are "
        "what targets in the VPC trust as 'came through the VPN'. Open ingress lets anything that "
        "reaches those interfaces pass; restrict ingress to what is needed, usually nothing."
    ),
    check=check,
)
