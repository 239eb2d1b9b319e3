"""ClientVpn-LogGroupEncrypted: the connection log group is encrypted with a KMS key."""

from __future__ import annotations

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules._log_group import connection_log_group
from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when the endpoint's log group (in this template) has no ``KmsKeyId``."""
    group = connection_log_group(endpoint, template)
    if group is None:
        return NagRuleCompliance.NOT_APPLICABLE
    if group.prop("KmsKeyId") in (None, ""):
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT


RULE = ClientVpnRule(
    suffix="LogGroupEncrypted",
    resource_type=ENDPOINT,
    level=NagMessageLevel.ERROR,
    info="The Client VPN connection log group is not encrypted with a KMS key (KmsKeyId).",
    explanation=(
        "Connection logs hold user names, device addresses and connection times. Encrypting the "
        "log group with a customer-managed KMS key lets you control and audit who can read them."
    ),
    check=check,
)
