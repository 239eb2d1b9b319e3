"""The rules of the ``ClientVpn`` pack, one module per rule.

Each module holds a pure ``check(resource, template)`` function and a ``RULE`` describing it
(id suffix, resource type, level, info and explanation).
"""

from constructs_cvpn.nag.rules import (
    authorization_policy_shadow_mode,
    authorize_all_groups,
    client_route_enforcement,
    connection_logging,
    device_posture_policy,
    log_group_encrypted,
    log_group_retention,
    security_group_ingress,
    self_service_portal,
    session_timeout,
    split_tunnel,
)
from constructs_cvpn.nag.rules.base import PACK_NAME, ClientVpnRule

ALL_RULES: tuple[ClientVpnRule, ...] = (
    connection_logging.RULE,
    log_group_encrypted.RULE,
    log_group_retention.RULE,
    authorize_all_groups.RULE,
    session_timeout.RULE,
    self_service_portal.RULE,
    client_route_enforcement.RULE,
    split_tunnel.RULE,
    security_group_ingress.RULE,
    authorization_policy_shadow_mode.RULE,
    device_posture_policy.RULE,
)
"""Every rule of the pack, in report order."""

__all__ = ["ALL_RULES", "PACK_NAME", "ClientVpnRule"]
