"""ClientVpn-LogGroupRetention: the connection log group has a retention period."""

from __future__ import annotations

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules._log_group import connection_log_group
from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when the endpoint's log group (in this template) has no ``RetentionInDays``."""
    group = connection_log_group(endpoint, template)
    if group is None:
        return NagRuleCompliance.NOT_APPLICABLE
    if group.prop("RetentionInDays") is None:
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT


RULE = ClientVpnRule(
    suffix="LogGroupRetention",
    resource_type=ENDPOINT,
    level=NagMessageLevel.ERROR,
    info="The Client VPN connection log group has no retention period (RetentionInDays).",
    explanation=(
        "Without RetentionInDays, CloudWatch Logs keeps connection logs (personal data) forever. "
        "Choose a retention that matches your audit and privacy requirements."
    ),
    check=check,
)
