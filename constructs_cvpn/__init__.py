"""constructs-cvpn: an AWS CDK construct library for AWS Client VPN.

``from constructs_cvpn import ClientVpn, ClientVpnConfigError``
"""

from .access import AuthorizationRule, Route
from .client_vpn import MAX_CONCURRENT_MUTATIONS, ClientVpn
from .errors import ClientVpnConfigError

__all__ = [
    "MAX_CONCURRENT_MUTATIONS",
    "AuthorizationRule",
    "ClientVpn",
    "ClientVpnConfigError",
    "Route",
]
