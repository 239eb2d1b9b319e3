"""constructs-cvpn: an AWS CDK construct library for AWS Client VPN.

``from constructs_cvpn import ClientVpn, ClientVpnConfigError``

The construct names are loaded on first use, so that ``cvpn`` and the Lambda-side code
can import the package without starting the CDK's jsii runtime.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .access import AuthorizationRule, Route
    from .client_vpn import MAX_CONCURRENT_MUTATIONS, ClientVpn
    from .errors import ClientVpnConfigError
    from .ip_address_type import IpAddressType
    from .office_hours import OfficeHours
    from .posture import AuthorizationPolicy, DeviceTrustProvider
    from .transit_gateway import TransitGatewayAttachment

__all__ = [
    "MAX_CONCURRENT_MUTATIONS",
    "AuthorizationPolicy",
    "AuthorizationRule",
    "ClientVpn",
    "ClientVpnConfigError",
    "DeviceTrustProvider",
    "IpAddressType",
    "OfficeHours",
    "Route",
    "TransitGatewayAttachment",
]

_HOMES = {
    "MAX_CONCURRENT_MUTATIONS": ".client_vpn",
    "AuthorizationRule": ".access",
    "ClientVpn": ".client_vpn",
    "ClientVpnConfigError": ".errors",
    "IpAddressType": ".ip_address_type",
    "OfficeHours": ".office_hours",
    "Route": ".access",
    "AuthorizationPolicy": ".posture",
    "DeviceTrustProvider": ".posture",
    "TransitGatewayAttachment": ".transit_gateway",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name], __name__), name)
