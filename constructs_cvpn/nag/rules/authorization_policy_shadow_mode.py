"""ClientVpn-AuthorizationPolicyShadowMode: an authorization policy left in shadow mode."""

from __future__ import annotations

from collections.abc import Mapping

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template, is_intrinsic


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when ``AuthorizationPolicy.ShadowMode`` is ``enabled``.

    Not applicable without a policy, or when the mode is not known at synth time.
    """
    policy = endpoint.prop("AuthorizationPolicy")
    if not isinstance(policy, Mapping) or is_intrinsic(policy):
        return NagRuleCompliance.NOT_APPLICABLE
    mode = policy.get("ShadowMode", "disabled")  # the API's default: enforced
    if not isinstance(mode, str):
        return NagRuleCompliance.NOT_APPLICABLE
    enforced = mode.lower() != "enabled"
    return NagRuleCompliance.COMPLIANT if enforced else NagRuleCompliance.NON_COMPLIANT


RULE = ClientVpnRule(
    suffix="AuthorizationPolicyShadowMode",
    resource_type=ENDPOINT,
    level=NagMessageLevel.WARN,
    info="The Client VPN authorization policy is in shadow mode.",
    explanation=(
        "In shadow mode Client VPN evaluates the Cedar authorization policy and records the "
        "decision in the connection logs, but never blocks a connection: devices and users the "
        "policy denies still connect. Shadow mode is for trying a policy on real traffic; once "
        "the logged decisions are right, set ShadowMode to disabled to enforce it."
    ),
    check=check,
)
