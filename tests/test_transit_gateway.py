"""The transit gateway attachment's own checks (ids, zones); the construct's are elsewhere."""

from __future__ import annotations

import pytest
from aws_cdk import Token

from constructs_cvpn.transit_gateway import TransitGatewayAttachment, check

TGW = "tgw-0123456789abcdef0"


@pytest.mark.parametrize(
    "attachment",
    [
        TransitGatewayAttachment(TGW, availability_zones=["eu-west-1a", "eu-west-1b"]),
        TransitGatewayAttachment("tgw-01234567", availability_zone_ids=["euw1-az1", "euw1-az3"]),
        TransitGatewayAttachment(TGW, availability_zones=["eu-west-1-lhr-1a"]),
        TransitGatewayAttachment(TGW, availability_zone_ids=["usw2-lax1-az1"]),
    ],
    ids=["names", "ids-short-tgw", "local-zone-name", "local-zone-id"],
)
def test_valid(attachment: TransitGatewayAttachment) -> None:
    check(attachment, "eu-west-1" if attachment.availability_zones else None)


@pytest.mark.parametrize(
    ("attachment", "region", "message"),
    [
        (TransitGatewayAttachment("vpc-0123", ["eu-west-1a"]), None, "not a transit gateway id"),
        (
            TransitGatewayAttachment(TGW, ["eu-west-1a"], ["euw1-az1"]),
            None,
            "both availability_zones and availability_zone_ids",
        ),
        (TransitGatewayAttachment(TGW), None, "names no Availability Zone"),
        (TransitGatewayAttachment(TGW, ["eu-west-1a", "eu-west-1a"]), None, "twice"),
        (TransitGatewayAttachment(TGW, ["euw1-az1"]), None, "not an Availability Zone name"),
        (
            TransitGatewayAttachment(TGW, availability_zone_ids=["eu-west-1a"]),
            None,
            "not an Availability Zone id",
        ),
        (TransitGatewayAttachment(TGW, ["us-east-1a"]), "eu-west-1", "not in the stack's region"),
    ],
    ids=["tgw-id", "names-and-ids", "no-zone", "repeat", "id-as-name", "name-as-id", "region"],
)
def test_invalid(attachment: TransitGatewayAttachment, region: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check(attachment, region)


def test_tokens_are_not_checked() -> None:
    token = Token.as_string({"Ref": "Zone"})
    check(TransitGatewayAttachment(token, [token]), "eu-west-1")
