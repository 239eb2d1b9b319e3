"""ClientVpn-ConnectionLogging: the endpoint logs connections to CloudWatch Logs."""

from __future__ import annotations

from collections.abc import Mapping

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template, as_bool


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when ``ConnectionLogOptions.Enabled`` is false or missing."""
    options = endpoint.prop("ConnectionLogOptions")
    if options is None:
        return NagRuleCompliance.NON_COMPLIANT
    if not isinstance(options, Mapping):
        return NagRuleCompliance.NOT_APPLICABLE
    enabled = as_bool(options.get("Enabled"), default=False)
    if enabled is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT if enabled else NagRuleCompliance.NON_COMPLIANT


RULE = ClientVpnRule(
    suffix="ConnectionLogging",
    resource_type=ENDPOINT,
    level=NagMessageLevel.ERROR,
    info="The Client VPN endpoint does not have connection logging enabled.",
    explanation=(
        "Connection logs record every connection attempt, its result and the client's identity "
        "and address. Without them there is no audit trail of who reached the VPC through the "
        "VPN. Set ConnectionLogOptions.Enabled to true with a CloudWatch Logs log group."
    ),
    check=check,
)
