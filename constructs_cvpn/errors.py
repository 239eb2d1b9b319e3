"""The one exception type users catch for bad construct input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ClientVpnConfigError(ValueError):
    """Raised at synth time for a prop value AWS Client VPN would reject.

    The message names the construct path and the prop, and says what would be valid,
    e.g. ``Stack/Vpn: cidr '10.0.0.0/24' is a /24; Client VPN needs a /12 to /22 block``.
    """

    def __init__(self, path: str, prop: str, problem: str) -> None:
        self.path = path
        self.prop = prop
        super().__init__(f"{path}: {prop}: {problem}")


def checked(path: str, prop: str, check: Callable[..., T], *args: Any) -> T:
    """Run one check of ``validation``, turning its ValueError into ours for ``prop``."""
    try:
        return check(*args)
    except ValueError as err:
        raise ClientVpnConfigError(path, prop, str(err)) from None
