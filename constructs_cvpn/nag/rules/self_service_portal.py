"""ClientVpn-SelfServicePortal: the self-service portal is only on with user-based auth."""

from __future__ import annotations

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template, is_intrinsic, user_based_auth


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when ``SelfServicePortal`` is enabled without AD or SAML authentication."""
    portal = endpoint.prop("SelfServicePortal")
    if is_intrinsic(portal):
        return NagRuleCompliance.NOT_APPLICABLE
    if not (isinstance(portal, str) and portal.lower() == "enabled"):
        return NagRuleCompliance.COMPLIANT
    user_based = user_based_auth(endpoint)
    if user_based is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT if user_based else NagRuleCompliance.NON_COMPLIANT


RULE = ClientVpnRule(
    suffix="SelfServicePortal",
    resource_type=ENDPOINT,
    level=NagMessageLevel.ERROR,
    info="The Client VPN self-service portal is enabled without user-based authentication.",
    explanation=(
        "The self-service portal hands out the client configuration to users who sign in with "
        "Active Directory or SAML. Without user-based authentication it has nobody to "
        "authenticate and the service rejects it; disable it or add user-based authentication."
    ),
    check=check,
)
