"""What a Client VPN's associations cost per month at list price.

Client VPN bills two meters (AWS price list usage types ``ClientVPN-EndpointHours`` and
``ClientVPN-ConnectionHours``): every hour each target network association (one per subnet or,
with a transit gateway, one per AZ) exists, and every hour each client is connected. The
associations are the fixed part: this module states it for a synthesized template
(``make synth``) and for each ``ClientVpn`` (``vpn.monthly_cost()``, and an info annotation
every app's synth shows).

The prices are US East (N. Virginia) list prices from https://aws.amazon.com/vpn/pricing/, as
read on ``PRICE_DATE``; other regions cost more (e.g. Asia Pacific (Tokyo): $0.15 per
association-hour). Taxes, data transfer and the connection hours are not included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ASSOCIATION_TYPE = "AWS::EC2::ClientVpnTargetNetworkAssociation"

PRICE_REGION = "US East (N. Virginia), us-east-1"
PRICE_DATE = "2026-11-26"
PRICE_SOURCE = "https://aws.amazon.com/vpn/pricing/"
ASSOCIATION_HOUR_USD = Decimal("0.10")
"""List price of one endpoint association for one hour (``ClientVPN-EndpointHours``)."""
CONNECTION_HOUR_USD = Decimal("0.05")
"""List price of one connected client for one hour (``ClientVPN-ConnectionHours``)."""

HOURS_PER_MONTH = 730
"""Hours in a month as AWS's pricing calculator counts them (8,760 / 12)."""


@dataclass(frozen=True)
class MonthlyCost:
    """The fixed monthly part of one endpoint's bill: its associations' hours at list price.

    ``hours_per_association`` is how long each association exists in a month: all month
    (``HOURS_PER_MONTH``) unless a schedule removes them part of the time. Connection hours,
    data transfer and taxes are not included (see ``price_note``).
    """

    associations: int
    hours_per_association: int = HOURS_PER_MONTH

    @property
    def association_hours(self) -> int:
        """Association-hours billed in a month."""
        return self.associations * self.hours_per_association

    @property
    def usd(self) -> Decimal:
        """Their list price in USD (``ASSOCIATION_HOUR_USD`` per association-hour)."""
        return self.association_hours * ASSOCIATION_HOUR_USD

    def line(self, endpoint: str) -> str:
        """One report line: ``<endpoint>: 2 associations x 730 h = ... = $146.00/month``."""
        n = self.associations
        return (
            f"{endpoint}: {n} association{'s' if n != 1 else ''} x "
            f"{self.hours_per_association} h = {self.association_hours:,} "
            f"association-hours/month = ${self.usd:,.2f}/month"
        )

    def note(self, endpoint: str) -> str:
        """The line and the price it uses, with its source and date (the synth annotation)."""
        return f"monthly fixed cost: {self.line(endpoint)}, {price_note()}"


def association_hours_per_month(associations: int) -> int:
    """Association-hours billed in a month for ``associations`` kept all month."""
    return MonthlyCost(associations).association_hours


def association_cost_per_month(associations: int) -> Decimal:
    """Their list price in USD (``ASSOCIATION_HOUR_USD`` per association-hour)."""
    return MonthlyCost(associations).usd


def associations_by_endpoint(template: Mapping[str, Any]) -> dict[str, int]:
    """The number of target network associations of each endpoint of a synthesized template.

    Keyed by the endpoint's logical id (the association's ``ClientVpnEndpointId`` is a
    ``Ref`` to it); an association of an endpoint outside the template is keyed by the
    endpoint id as written. Endpoints without associations are listed with 0.
    """
    resources: Mapping[str, Any] = template.get("Resources") or {}
    counts: Counter[str] = Counter(
        {lid: 0 for lid, r in resources.items() if r.get("Type") == "AWS::EC2::ClientVpnEndpoint"}
    )
    for resource in resources.values():
        if resource.get("Type") != ASSOCIATION_TYPE:
            continue
        endpoint = (resource.get("Properties") or {}).get("ClientVpnEndpointId")
        if isinstance(endpoint, Mapping) and isinstance(endpoint.get("Ref"), str):
            endpoint = endpoint["Ref"]
        counts[str(endpoint)] += 1
    return dict(counts)


def monthly_line(endpoint: str, associations: int) -> str:
    """One report line: association-hours per month and their list price."""
    return MonthlyCost(associations).line(endpoint)


def price_note() -> str:
    """Which price the report uses, where from and when."""
    return (
        f"at ${ASSOCIATION_HOUR_USD} per association-hour ({PRICE_REGION} list price, "
        f"{PRICE_SOURCE}, read {PRICE_DATE}); plus ${CONNECTION_HOUR_USD} per connection-hour "
        "for each connected client, not included"
    )
