"""Attaching the endpoint to a transit gateway instead of a VPC: ``ClientVpn(transit_gateway=)``.

Facts (EC2 API reference, CreateClientVpnEndpoint, AssociateClientVpnTargetNetwork,
CreateClientVpnRoute; admin guide "Transit Gateway integration with Client VPN",
https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/cvpn-tgw.html):

- "You cannot specify both TransitGatewayConfiguration and VpcId/SecurityGroupIds", and "You
  cannot mix VPC subnet associations and Transit Gateway associations in a single Client VPN
  endpoint": no VPC, no security groups, no subnets.
- Associations are by Availability Zone, given by name or by id, never both ("You cannot
  specify both AvailabilityZone and AvailabilityZoneId").
- Routes have no target subnet ("For Transit Gateway-based endpoints, this parameter is not
  required").
- The client source address is kept ("Source network address translation (SNAT) is not
  applied"): destinations see the client CIDR, not the endpoint's interfaces.
- Outside this construct: the transit gateway needs an IPv4 or IPv6 CIDR block, and route
  propagation enabled for the Client VPN attachment (Transit Gateway guide,
  tgw-client-vpn-attachments.html).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Token

_TGW_ID = re.compile(r"^tgw-(?:[0-9a-f]{8}|[0-9a-f]{17})\Z")
#: e.g. use1-az1, euw1-az3, usw2-lax1-az1 (a Local Zone).
_AZ_ID = re.compile(r"^[a-z]+[0-9]+-(?:[a-z0-9]+-)*az[0-9]+\Z")
#: e.g. eu-west-1a, us-east-1-bos-1a (a Local Zone).
_AZ_NAME = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]+(?:-[a-z0-9]+)*[a-z]\Z")


@dataclass(frozen=True)
class TransitGatewayAttachment:
    """Attach the endpoint to a transit gateway, associated in the given Availability Zones.

    Attributes:
        transit_gateway_id: the transit gateway, ``tgw-`` and 8 or 17 hex digits, or a
            token such as ``CfnTransitGateway.ref``. It must be in the endpoint's account
            and region, or shared with the account (cross-account attachments are
            supported by Transit Gateway). *Replaces* (``TransitGatewayConfiguration`` is
            create-only).
        availability_zones: AZ names (``eu-west-1a``) of the endpoint's region: one target
            network association each, keyed by the AZ (adding or removing an AZ leaves the
            other associations in place). Each association is billed per hour. Give these or
            ``availability_zone_ids``, not both.
        availability_zone_ids: AZ ids (``euw1-az1``), the same in every account, for
            transit gateways shared across accounts (AZ names map to different zones in
            different accounts).
    """

    transit_gateway_id: str
    availability_zones: Sequence[str] = ()
    availability_zone_ids: Sequence[str] = ()

    @property
    def by_id(self) -> bool:
        """True when the zones are given by id (``availability_zone_ids``)."""
        return bool(self.availability_zone_ids)

    @property
    def zones(self) -> list[str]:
        """The zones as given: names, or ids."""
        return list(self.availability_zone_ids or self.availability_zones)


def check(attachment: TransitGatewayAttachment, region: str | None) -> None:
    """The transit gateway id, and one list of zones: known values well formed, no repeats.

    ``region`` is the stack's region when known: AZ names must be in it.
    """
    tgw = attachment.transit_gateway_id
    if _known(tgw) and not _TGW_ID.match(tgw):
        raise ValueError(
            f"transit_gateway_id {tgw!r} is not a transit gateway id (tgw- and 8 or 17 hex "
            "digits, e.g. tgw-0123456789abcdef0)"
        )
    names, ids = list(attachment.availability_zones), list(attachment.availability_zone_ids)
    if names and ids:
        raise ValueError(
            "gives both availability_zones and availability_zone_ids; Client VPN takes one "
            "kind (the API refuses both): keep the names, or the ids for a shared transit gateway"
        )
    if not names and not ids:
        raise ValueError(
            "names no Availability Zone; give availability_zones (e.g. ['eu-west-1a', "
            "'eu-west-1b']) or availability_zone_ids: clients can only connect through an "
            "associated zone"
        )
    seen: set[str] = set()
    for zone in ids or names:
        if not _known(zone):
            continue
        if zone in seen:
            raise ValueError(f"lists {zone!r} twice; each zone is associated once")
        seen.add(zone)
        if ids and not _AZ_ID.match(zone):
            raise ValueError(f"{zone!r} is not an Availability Zone id (e.g. use1-az1)")
        if names and not _AZ_NAME.match(zone):
            raise ValueError(f"{zone!r} is not an Availability Zone name (e.g. eu-west-1a)")
        if names and region and _known(region) and not zone.startswith(region):
            raise ValueError(
                f"{zone!r} is not in the stack's region {region}; the endpoint and its "
                "associations are in one region"
            )


def _known(value: str) -> bool:
    return not Token.is_unresolved(value)
