"""ClientVpn-DevicePostureWithoutPolicy: device posture on, but no policy decides on it."""

from __future__ import annotations

from collections.abc import Mapping

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.rules.base import ENDPOINT, ClientVpnRule
from constructs_cvpn.nag.template import Resource, Template, as_bool


def check(endpoint: Resource, template: Template) -> NagRuleCompliance:
    """Non-compliant when ``DevicePostureOptions.Enabled`` is true and there is no
    ``AuthorizationPolicy``.

    Not applicable when device posture is off or absent, or not known at synth time.
    """
    posture = endpoint.prop("DevicePostureOptions")
    if not isinstance(posture, Mapping):
        return NagRuleCompliance.NOT_APPLICABLE
    enabled = as_bool(posture.get("Enabled"), default=False)
    if not enabled:  # off, or unknown
        return NagRuleCompliance.NOT_APPLICABLE
    has_policy = endpoint.prop("AuthorizationPolicy") is not None
    return NagRuleCompliance.COMPLIANT if has_policy else NagRuleCompliance.NON_COMPLIANT


RULE = ClientVpnRule(
    suffix="DevicePostureWithoutPolicy",
    resource_type=ENDPOINT,
    level=NagMessageLevel.WARN,
    info="The Client VPN endpoint has device posture on but no authorization policy.",
    explanation=(
        "Device trust providers supply each device's posture token, but only the endpoint's "
        "Cedar authorization policy decides on it (a connection is allowed when it satisfies "
        "a permit statement). Without a policy no device is ever refused for its posture. Add "
        "an AuthorizationPolicy that reads the provider's context (context.crowdstrike.*, "
        "context.jamf.*, context.jumpcloud.*)."
    ),
    check=check,
)
