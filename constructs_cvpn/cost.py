"""What a Client VPN's associations cost per month at list price.

Client VPN bills two meters (AWS price list usage types ``ClientVPN-EndpointHours`` and
``ClientVPN-ConnectionHours``): every hour each target network association (one per subnet or,
with a transit gateway, one per AZ) exists, and every hour each client is connected. The
associations are the fixed part: this module states it for a synthesized template.

The prices are US East (N. Virginia) list prices from https://aws.amazon.com/vpn/pricing/, as
read on ``PRICE_DATE``; other regions cost more (e.g. Asia Pacific (Tokyo): $0.15 per
association-hour). Taxes, data transfer and the connection hours are not included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
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


def association_hours_per_month(associations: int) -> int:
    """Association-hours billed in a month for ``associations`` kept all month."""
    return associations * HOURS_PER_MONTH


def association_cost_per_month(associations: int) -> Decimal:
    """Their list price in USD (``ASSOCIATION_HOUR_USD`` per association-hour)."""
    return association_hours_per_month(associations) * ASSOCIATION_HOUR_USD


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
    hours = association_hours_per_month(associations)
    cost = association_cost_per_month(associations)
    return (
        f"{endpoint}: {associations} association{'s' if associations != 1 else ''} x "
        f"{HOURS_PER_MONTH} h = {hours:,} association-hours/month = ${cost:,.2f}/month"
    )


def price_note() -> str:
    """Which price the report uses, where from and when."""
    return (
        f"at ${ASSOCIATION_HOUR_USD} per association-hour ({PRICE_REGION} list price, "
        f"{PRICE_SOURCE}, read {PRICE_DATE}); plus ${CONNECTION_HOUR_USD} per connection-hour "
        "for each connected client, not included"
    )


# -- off-hours schedule (``ClientVpn(schedule=OfficeHours(...))``) ----------------------

SCHEDULE_TYPE = "Custom::ClientVpnSchedule"
HOURS_PER_WEEK = 168


def scheduled_hours_per_week(days: str, start: str, stop: str) -> Decimal:
    """Hours a week the schedule keeps the associations: (stop - start) on each of ``days``.

    A stop before the start runs past midnight. Daylight saving time shifts the hours with
    the wall clock; the two changeover weeks of a year are an hour longer or shorter.
    """
    (start_h, start_m), (stop_h, stop_m) = parse_time(start), parse_time(stop)
    minutes = (stop_h * 60 + stop_m - start_h * 60 - start_m) % (24 * 60)
    return Decimal(minutes * len(parse_days(days))) / 60


def scheduled_association_hours_per_month(associations: int, hours_per_week: Decimal) -> Decimal:
    """Association-hours in a month (``HOURS_PER_MONTH``) at ``hours_per_week``."""
    return associations * hours_per_week * HOURS_PER_MONTH / HOURS_PER_WEEK


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
    """One report line: the scheduled association-hours beside 24/7, and the saving."""
    weekly = scheduled_hours_per_week(hours["days"], hours["start"], hours["stop"])
    monthly = scheduled_association_hours_per_month(associations, weekly)
    always = association_hours_per_month(associations)
    fewer = (1 - weekly / HOURS_PER_WEEK) * 100
    return (
        f"{endpoint}: {associations} association{'s' if associations != 1 else ''} "
        f"scheduled {hours['days']} {hours['start']}-{hours['stop']} {hours['time_zone']}: "
        f"{weekly:g} of {HOURS_PER_WEEK} h a week = {monthly:,.0f} association-hours/month = "
        f"${monthly * ASSOCIATION_HOUR_USD:,.2f}/month (24/7: {always:,} = "
        f"${association_cost_per_month(associations):,.2f}; {fewer:.0f} % fewer)"
    )
