"""``IpAddressType``: the values of ``ClientVpn``'s two address-type props.

Client VPN separates the *endpoint* address type (the outer tunnel: which IP version
clients connect over) from the *traffic* address type (the inner traffic: client
addresses, routes and authorization rules). Both take the EC2 API's values ``ipv4``,
``ipv6`` and ``dual-stack`` (EC2 API reference, CreateClientVpnEndpoint
``EndpointIpAddressType``/``TrafficIpAddressType``; AWS Client VPN administrator guide,
"IP address types" in "AWS Client VPN endpoints").
"""

from __future__ import annotations

import enum


class IpAddressType(enum.StrEnum):
    """IPv4 only, IPv6 only, or both (dual-stack).

    A ``StrEnum``: ``IpAddressType.DUAL_STACK == "dual-stack"``, and the props also take
    the plain strings.
    """

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    DUAL_STACK = "dual-stack"

    @property
    def carries_ipv4(self) -> bool:
        """True for ``IPV4`` and ``DUAL_STACK``."""
        return self is not IpAddressType.IPV6

    @property
    def carries_ipv6(self) -> bool:
        """True for ``IPV6`` and ``DUAL_STACK``."""
        return self is not IpAddressType.IPV4
