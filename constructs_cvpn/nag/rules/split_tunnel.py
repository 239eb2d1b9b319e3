"""ClientVpn-SplitTunnel: flag endpoints in split-tunnel mode."""

from __future__ import annotations

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template, as_bool


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when ``SplitTunnel`` is true."""
    split_tunnel = as_bool(endpoint.prop("SplitTunnel"), default=False)
    if split_tunnel is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT if split_tunnel else NagRuleCompliance.COMPLIANT


RULE = ClientVpnRule(
    suffix="SplitTunnel",
    resource_type=ENDPOINT,
    level=NagMessageLevel.WARN,
    info="The Client VPN endpoint uses split tunnel.",
    explanation=(
        "With split tunnel only the endpoint's routes go through the VPN; the rest of the "
        "client's traffic uses its local network and bypasses your controls and logs. This is "
        "often intended (cost, latency): acknowledge the finding with a reason when it is."
    ),
    check=check,
)
