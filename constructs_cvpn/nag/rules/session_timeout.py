"""ClientVpn-SessionTimeout: the session length and what happens at its end are explicit.

Level WARN, not ERROR: the service always ends sessions (24 hours when SessionTimeoutHours is
unset) and the API documents DisconnectOnSessionTimeout as true by default, so leaving them out
is not an open door. The rule asks for explicit values so the posture is reviewable in the
template rather than inherited from service defaults.
"""

from __future__ import annotations

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template, as_bool


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant unless SessionTimeoutHours is set and DisconnectOnSessionTimeout is true."""
    disconnect = as_bool(endpoint.prop("DisconnectOnSessionTimeout"), default=False)
    if disconnect is None:
        return NagRuleCompliance.NOT_APPLICABLE
    if endpoint.prop("SessionTimeoutHours") is None or not disconnect:
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT


RULE = ClientVpnRule(
    suffix="SessionTimeout",
    resource_type=ENDPOINT,
    level=NagMessageLevel.WARN,
    info=(
        "The Client VPN endpoint does not set SessionTimeoutHours and "
        "DisconnectOnSessionTimeout: true."
    ),
    explanation=(
        "A bounded session that ends with a disconnect forces users to authenticate again, which "
        "limits the use of a stolen device or session. Set both explicitly (8, 10, 12 or 24 hours)."
    ),
    check=check,
)
