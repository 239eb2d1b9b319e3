"""ClientVpn-ClientRouteEnforcement: full-tunnel endpoints enforce their routes on clients."""

from __future__ import annotations

from collections.abc import Mapping

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template, as_bool


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant in full-tunnel mode unless ``ClientRouteEnforcementOptions.Enforced``."""
    split_tunnel = as_bool(endpoint.prop("SplitTunnel"), default=False)
    if split_tunnel is not False:
        # Split tunnel (or unknown): enforcement cannot be combined with it.
        return NagRuleCompliance.NOT_APPLICABLE
    options = endpoint.prop("ClientRouteEnforcementOptions")
    if options is None:
        return NagRuleCompliance.NON_COMPLIANT
    if not isinstance(options, Mapping):
        return NagRuleCompliance.NOT_APPLICABLE
    enforced = as_bool(options.get("Enforced"), default=False)
    if enforced is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT if enforced else NagRuleCompliance.NON_COMPLIANT


RULE = ClientVpnRule(
    suffix="ClientRouteEnforcement",
    resource_type=ENDPOINT,
    level=NagMessageLevel.WARN,
    info="The full-tunnel Client VPN endpoint does not enforce client routes.",
    explanation=(
        "In full-tunnel mode all client traffic is meant to go through the VPN. Client route "
        "enforcement makes the AWS-provided client undo local route changes that would send "
        "traffic around the tunnel. Set ClientRouteEnforcementOptions.Enforced to true."
    ),
    check=check,
)
