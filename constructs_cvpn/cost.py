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

from .handlers.schedule.hours import parse_days, parse_time

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
HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class MonthlyCost:
    """The fixed monthly part of one endpoint's bill: its associations' hours at list price.

    ``hours_per_association`` is how long each association exists in a month: all month
    (``HOURS_PER_MONTH``) unless a schedule removes them part of the time
    (:meth:`scheduled`; ``schedule`` then says when, ``hours_per_week`` how long, and
    :meth:`line` shows 24/7 beside it).
    Connection hours, data transfer and taxes are not included (see ``price_note``).
    A value: immutable and hashable, equal when its fields are.
    """

    associations: int
    hours_per_association: Decimal | int = HOURS_PER_MONTH
    schedule: str | None = None
    hours_per_week: Decimal | int = HOURS_PER_WEEK

    @classmethod
    def scheduled(
        cls, associations: int, *, time_zone: str, days: str, start: str, stop: str
    ) -> MonthlyCost:
        """Associations kept ``start`` to ``stop`` on ``days`` only (``OfficeHours``)."""
        weekly = scheduled_hours_per_week(days, start, stop)
        return cls(
            associations,
            weekly * HOURS_PER_MONTH / HOURS_PER_WEEK,
            f"{days} {start}-{stop} {time_zone}",
            weekly,
        )

    @property
    def association_hours(self) -> Decimal | int:
        """Association-hours billed in a month."""
        return self.associations * self.hours_per_association

    @property
    def usd(self) -> Decimal:
        """Their list price in USD (``ASSOCIATION_HOUR_USD`` per association-hour)."""
        return Decimal(self.association_hours) * ASSOCIATION_HOUR_USD

    def line(self, endpoint: str) -> str:
        """One report line: ``<endpoint>: 2 associations x 730 h = ... = $146.00/month``;
        with a schedule, its hours a week and the 24/7 figures beside."""
        n = self.associations
        plural = "s" if n != 1 else ""
        if self.schedule is None:
            return (
                f"{endpoint}: {n} association{plural} x "
                f"{self.hours_per_association} h = {self.association_hours:,} "
                f"association-hours/month = ${self.usd:,.2f}/month"
            )
        weekly = self.hours_per_week
        always = MonthlyCost(n)
        fewer = (1 - weekly / HOURS_PER_WEEK) * 100
        return (
            f"{endpoint}: {n} association{plural} scheduled {self.schedule}: {weekly:g} of "
            f"{HOURS_PER_WEEK} h a week = {self.association_hours:,.0f} "
            f"association-hours/month = ${self.usd:,.2f}/month (24/7: "
            f"{always.association_hours:,} = ${always.usd:,.2f}; {fewer:.0f} % fewer)"
        )

    def note(self, endpoint: str) -> str:
        """The line and the price it uses, with its source and date (the synth annotation)."""
        return f"monthly fixed cost: {self.line(endpoint)}, {price_note()}"


def association_hours_per_month(associations: int) -> int:
    """Association-hours billed in a month for ``associations`` kept all month."""
    return int(MonthlyCost(associations).association_hours)


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


# -- off-hours schedule (``ClientVpn(schedule=OfficeHours(...))``) ----------------------

SCHEDULE_TYPE = "Custom::ClientVpnSchedule"


def scheduled_hours_per_week(days: str, start: str, stop: str) -> Decimal:
    """Hours a week the schedule keeps the associations: (stop - start) on each of ``days``.

    A stop before the start runs past midnight. Daylight saving time shifts the hours with
    the wall clock; the two changeover weeks of a year are an hour longer or shorter.
    """
    (start_h, start_m), (stop_h, stop_m) = parse_time(start), parse_time(stop)
    minutes = (stop_h * 60 + stop_m - start_h * 60 - start_m) % (24 * 60)
    return Decimal(minutes * len(parse_days(days))) / 60


def schedules_by_endpoint(template: Mapping[str, Any]) -> dict[str, tuple[int, dict[str, str]]]:
    """Scheduled endpoints of a template: logical id -> (subnets, hours as the schedule's
    ``Hours`` property: ``time_zone``, ``days``, ``start``, ``stop``)."""
    found: dict[str, tuple[int, dict[str, str]]] = {}
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") != SCHEDULE_TYPE:
            continue
        props = resource.get("Properties") or {}
        endpoint = props.get("EndpointId")
        if isinstance(endpoint, Mapping) and isinstance(endpoint.get("Ref"), str):
            endpoint = endpoint["Ref"]
        found[str(endpoint)] = (len(props.get("Subnets") or []), dict(props.get("Hours") or {}))
    return found


def scheduled_line(endpoint: str, associations: int, hours: Mapping[str, str]) -> str:
    """One report line of a scheduled endpoint (``hours`` as ``schedules_by_endpoint``)."""
    return MonthlyCost.scheduled(
        associations,
        time_zone=hours["time_zone"],
        days=hours["days"],
        start=hours["start"],
        stop=hours["stop"],
    ).line(endpoint)
