"""``cvpn status``: collect an endpoint's state, networks, rules, routes and connection count.

:func:`collect_status` returns a JSON-ready dictionary; ``--json`` prints it as is and the
table view (``render.print_status``) reads the same dictionary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from constructs_cvpn.cli.endpoint import (
    describe_endpoint,
    describe_target_networks,
    translate,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import ClientVpnEndpointTypeDef

AUTH_LABELS = {
    "certificate-authentication": "mutual (certificate)",
    "directory-service-authentication": "Active Directory",
    "federated-authentication": "SAML (federated)",
}
"""Readable names for the endpoint's authentication types."""


def _authentication(endpoint: ClientVpnEndpointTypeDef) -> list[dict[str, str]]:
    """Return the endpoint's authentication options as ``{"type": ..., "detail": ...}``."""
    result: list[dict[str, str]] = []
    for option in endpoint.get("AuthenticationOptions", []):
        kind = option.get("Type", "unknown")
        if kind == "directory-service-authentication":
            detail = option.get("ActiveDirectory", {}).get("DirectoryId", "")
        elif kind == "federated-authentication":
            detail = option.get("FederatedAuthentication", {}).get("SamlProviderArn", "")
        else:
            detail = ""
        result.append({"type": kind, "detail": detail})
    return result


def count_active_connections(ec2: EC2Client, endpoint_id: str) -> int:
    """Count the endpoint's connections whose status is ``active`` (all pages)."""
    active = 0
    try:
        paginator = ec2.get_paginator("describe_client_vpn_connections")
        for page in paginator.paginate(ClientVpnEndpointId=endpoint_id):
            active += sum(
                1
                for connection in page.get("Connections", [])
                if connection.get("Status", {}).get("Code") == "active"
            )
    except ClientError as err:
        raise translate(err, endpoint_id, f"list connections of {endpoint_id}") from None
    return active


def collect_status(ec2: EC2Client, endpoint_id: str) -> dict[str, Any]:
    """Describe the endpoint and everything attached to it, as a JSON-ready dictionary."""
    endpoint = describe_endpoint(ec2, endpoint_id)
    networks = describe_target_networks(ec2, endpoint_id)
    rules: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    try:
        for page in ec2.get_paginator("describe_client_vpn_authorization_rules").paginate(
            ClientVpnEndpointId=endpoint_id
        ):
            for rule in page.get("AuthorizationRules", []):
                rules.append(
                    {
                        "destination_cidr": rule.get("DestinationCidr"),
                        "group_id": rule.get("GroupId") or None,
                        "access_all": rule.get("AccessAll", False),
                        "description": rule.get("Description", ""),
                        "state": rule.get("Status", {}).get("Code", "unknown"),
                    }
                )
        for route_page in ec2.get_paginator("describe_client_vpn_routes").paginate(
            ClientVpnEndpointId=endpoint_id
        ):
            for route in route_page.get("Routes", []):
                routes.append(
                    {
                        "destination_cidr": route.get("DestinationCidr"),
                        "target_subnet": route.get("TargetSubnet"),
                        "type": route.get("Type"),
                        "origin": route.get("Origin"),
                        "description": route.get("Description", ""),
                        "state": route.get("Status", {}).get("Code", "unknown"),
                    }
                )
    except ClientError as err:
        raise translate(err, endpoint_id, f"describe rules and routes of {endpoint_id}") from None
    status = endpoint.get("Status", {})
    return {
        "endpoint_id": endpoint.get("ClientVpnEndpointId", endpoint_id),
        "description": endpoint.get("Description", ""),
        "state": status.get("Code", "unknown"),
        "state_message": status.get("Message", ""),
        "dns_name": endpoint.get("DnsName"),
        "client_cidr": endpoint.get("ClientCidrBlock"),
        "authentication": _authentication(endpoint),
        "split_tunnel": endpoint.get("SplitTunnel", False),
        "port": endpoint.get("VpnPort"),
        "transport_protocol": endpoint.get("TransportProtocol"),
        "vpc_id": endpoint.get("VpcId"),
        "server_certificate_arn": endpoint.get("ServerCertificateArn"),
        "dns_servers": list(endpoint.get("DnsServers", [])),
        "target_networks": [
            {
                "association_id": network.get("AssociationId"),
                "subnet_id": network.get("TargetNetworkId"),
                "vpc_id": network.get("VpcId"),
                "state": network.get("Status", {}).get("Code", "unknown"),
                "message": network.get("Status", {}).get("Message", ""),
            }
            for network in networks
        ],
        "authorization_rules": rules,
        "routes": routes,
        "active_connections": count_active_connections(ec2, endpoint_id),
    }
