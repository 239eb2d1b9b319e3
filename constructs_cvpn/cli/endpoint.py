"""Describe one Client VPN endpoint by id, turning "no such endpoint" into a not-found error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from constructs_cvpn.cli.errors import NotFoundError, error_code, from_client_error

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import ClientVpnEndpointTypeDef, TargetNetworkTypeDef

NOT_FOUND_CODES = frozenset(
    {"InvalidClientVpnEndpointId.NotFound", "InvalidClientVpnEndpointId.Malformed"}
)


def not_found(endpoint_id: str) -> NotFoundError:
    """The error for an endpoint that does not exist (in this account and region)."""
    return NotFoundError(f"Client VPN endpoint '{endpoint_id}' not found in this account/region")


def translate(err: ClientError, endpoint_id: str, action: str) -> Exception:
    """Translate an EC2 error about ``endpoint_id`` (not found, or a generic AWS error)."""
    if error_code(err) in NOT_FOUND_CODES:
        return not_found(endpoint_id)
    return from_client_error(err, action)


def describe_endpoint(ec2: EC2Client, endpoint_id: str) -> ClientVpnEndpointTypeDef:
    """Return the endpoint's description; raise NotFoundError if it does not exist."""
    try:
        response = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])
    except ClientError as err:
        raise translate(err, endpoint_id, f"describe endpoint {endpoint_id}") from None
    for found in response.get("ClientVpnEndpoints", []):
        if found.get("ClientVpnEndpointId") == endpoint_id:
            return found
    raise not_found(endpoint_id)


def describe_target_networks(ec2: EC2Client, endpoint_id: str) -> list[TargetNetworkTypeDef]:
    """Return every target network association of the endpoint (all pages)."""
    networks: list[TargetNetworkTypeDef] = []
    try:
        paginator = ec2.get_paginator("describe_client_vpn_target_networks")
        for page in paginator.paginate(ClientVpnEndpointId=endpoint_id):
            networks.extend(page.get("ClientVpnTargetNetworks", []))
    except ClientError as err:
        raise translate(err, endpoint_id, f"list target networks of {endpoint_id}") from None
    return networks
