"""ClientVpn-AuthorizeAllGroups: no "all groups" rule to everywhere or to a VPC CIDR.

Only applies when the endpoint authenticates users (Active Directory or SAML): then access can
and should be granted per group. With certificate-only authentication there are no groups, so
authorizing all clients is the only option.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import (
    AUTHORIZATION_RULE,
    ENDPOINT,
    VPC,
    VPC_CIDR_BLOCK,
    ClientVpnRule,
)
from constructs_cvpn.nag.template import (
    OPEN_IPV4,
    OPEN_IPV6,
    Resource,
    Template,
    as_bool,
    user_based_auth,
)


def _vpc_cidrs(template: Template) -> set[str]:
    """Literal CIDRs of the VPCs (primary and secondary blocks) defined in the template."""
    cidrs = {vpc.prop("CidrBlock") for vpc in template.of_type(VPC)}
    cidrs |= {block.prop("CidrBlock") for block in template.of_type(VPC_CIDR_BLOCK)}
    return {cidr for cidr in cidrs if isinstance(cidr, str)}


def _is_vpc_cidr(target: Any, template: Template) -> bool:
    """True when ``target`` is a VPC's CIDR: ``Fn::GetAtt [<VPC>, CidrBlock]`` or its value."""
    if isinstance(target, str):
        return target in _vpc_cidrs(template)
    if not isinstance(target, Mapping) or "Fn::GetAtt" not in target:
        return False
    attr = target["Fn::GetAtt"]
    name = attr[1] if isinstance(attr, list) and len(attr) > 1 else str(attr).partition(".")[2]
    return template.referenced(target, VPC) is not None and name == "CidrBlock"


def check(rule: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant for ``AuthorizeAllGroups`` to 0.0.0.0/0 or a VPC CIDR with user-based auth."""
    all_groups = as_bool(rule.prop("AuthorizeAllGroups"), default=False)
    if all_groups is None:
        return NagRuleCompliance.NOT_APPLICABLE
    if not all_groups:
        return NagRuleCompliance.COMPLIANT
    endpoint = template.referenced(rule.prop("ClientVpnEndpointId"), ENDPOINT)
    if endpoint is None or user_based_auth(endpoint) is not True:
        return NagRuleCompliance.NOT_APPLICABLE
    target = rule.prop("TargetNetworkCidr")
    if target in (OPEN_IPV4, OPEN_IPV6) or _is_vpc_cidr(target, template):
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT


RULE = ClientVpnRule(
    suffix="AuthorizeAllGroups",
    resource_type=AUTHORIZATION_RULE,
    level=NagMessageLevel.ERROR,
    info=(
        "The Client VPN authorization rule grants all groups access to 0.0.0.0/0 or to a VPC "
        "CIDR although the endpoint uses user-based authentication."
    ),
    explanation=(
        "With Active Directory or SAML authentication, every authenticated user would reach the "
        "whole network. Grant access per group (AccessGroupId) and per destination instead of "
        "AuthorizeAllGroups: true (the L2's authorizeAllUsersToVpcCidr default)."
    ),
    check=check,
)
