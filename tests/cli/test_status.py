"""``cvpn status``: tables, JSON shape, endpoint resolution and multi-VPN stacks."""

from __future__ import annotations

import json

from constructs_cvpn.cli.status import _authentication
from tests.cli.conftest import (
    CERT_ARN,
    ENDPOINT_ID,
    REGION,
    STACK,
    FakeAws,
    connection,
    endpoint,
    target_network,
    vpn_outputs,
)

EP = {"ClientVpnEndpointId": ENDPOINT_ID}


def expect_status_calls(aws: FakeAws, endpoint_id: str = ENDPOINT_ID) -> None:
    """Queue every EC2 response ``cvpn status`` needs (target networks over two pages)."""
    ep = {"ClientVpnEndpointId": endpoint_id}
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [endpoint(endpoint_id=endpoint_id)]},
        {"ClientVpnEndpointIds": [endpoint_id]},
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_target_networks",
        {
            "ClientVpnTargetNetworks": [target_network("cvpn-assoc-1", "subnet-0a", "associated")],
            "NextToken": "page2",
        },
        ep,
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_target_networks",
        {"ClientVpnTargetNetworks": [target_network("cvpn-assoc-2", "subnet-0b", "associating")]},
        {**ep, "NextToken": "page2"},
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_authorization_rules",
        {
            "AuthorizationRules": [
                {
                    "ClientVpnEndpointId": endpoint_id,
                    "DestinationCidr": "10.0.0.0/16",
                    "GroupId": "",
                    "AccessAll": True,
                    "Description": "whole VPC",
                    "Status": {"Code": "active"},
                },
                {
                    "ClientVpnEndpointId": endpoint_id,
                    "DestinationCidr": "10.0.8.0/24",
                    "GroupId": "admins",
                    "AccessAll": False,
                    "Description": "databases",
                    "Status": {"Code": "authorizing"},
                },
            ]
        },
        ep,
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_routes",
        {
            "Routes": [
                {
                    "ClientVpnEndpointId": endpoint_id,
                    "DestinationCidr": "10.0.0.0/16",
                    "TargetSubnet": "subnet-0a",
                    "Type": "Nat",
                    "Origin": "associate",
                    "Description": "Default Route",
                    "Status": {"Code": "active"},
                }
            ]
        },
        ep,
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_connections",
        {
            "Connections": [
                connection("cvpn-connection-1", "alice", "active"),
                connection("cvpn-connection-2", "bob", "active"),
                connection("cvpn-connection-3", "carol", "terminated"),
            ]
        },
        ep,
    )


def summary(output: str, label: str) -> str:
    """The value cell of the summary table row named ``label``."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 4 and cells[1] == label:
            return cells[2]
    raise AssertionError(f"no summary row {label!r} in:\n{output}")


def line_with(output: str, label: str) -> str:
    """The single output line that contains ``label``."""
    lines = [line for line in output.splitlines() if label in line]
    assert len(lines) == 1, f"{label!r} on {len(lines)} lines:\n{output}"
    return lines[0]


def test_status_by_endpoint_id_prints_tables(aws: FakeAws) -> None:
    expect_status_calls(aws)

    result = aws.run("status", "--endpoint-id", ENDPOINT_ID)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Client VPN endpoint {ENDPOINT_ID}" in out
    assert summary(out, "State") == "available"
    assert summary(out, "DNS name") == f"*.{ENDPOINT_ID}.prod.clientvpn.{REGION}.amazonaws.com"
    assert summary(out, "Client CIDR") == "10.100.0.0/22"
    assert summary(out, "Authentication") == "mutual (certificate)"
    assert summary(out, "Split tunnel") == "yes"
    assert summary(out, "Port / protocol") == "443/udp"
    assert summary(out, "VPC") == "vpc-0aaa"
    assert summary(out, "Active connections") == "2"
    first = line_with(out, "cvpn-assoc-1")
    assert "subnet-0a" in first
    assert "associated" in first
    assert "associating" in line_with(out, "cvpn-assoc-2")
    assert "all users" in line_with(out, "whole VPC")
    databases = line_with(out, "databases")
    assert "10.0.8.0/24" in databases
    assert "admins" in databases
    assert "authorizing" in databases
    route = line_with(out, "Default Route")
    assert "10.0.0.0/16" in route
    assert "subnet-0a" in route
    assert result.stderr == ""
    assert aws.calls == [(None, None)]


def test_status_json_shape(aws: FakeAws) -> None:
    expect_status_calls(aws)

    result = aws.run("status", "-e", ENDPOINT_ID, "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "endpoint_id": ENDPOINT_ID,
        "description": "team vpn",
        "state": "available",
        "state_message": "",
        "dns_name": f"*.{ENDPOINT_ID}.prod.clientvpn.{REGION}.amazonaws.com",
        "client_cidr": "10.100.0.0/22",
        "authentication": [{"type": "certificate-authentication", "detail": ""}],
        "split_tunnel": True,
        "port": 443,
        "transport_protocol": "udp",
        "vpc_id": "vpc-0aaa",
        "server_certificate_arn": f"{CERT_ARN}/server",
        "dns_servers": ["10.0.0.2"],
        "target_networks": [
            {
                "association_id": "cvpn-assoc-1",
                "subnet_id": "subnet-0a",
                "vpc_id": "vpc-0aaa",
                "state": "associated",
                "message": "",
            },
            {
                "association_id": "cvpn-assoc-2",
                "subnet_id": "subnet-0b",
                "vpc_id": "vpc-0aaa",
                "state": "associating",
                "message": "",
            },
        ],
        "authorization_rules": [
            {
                "destination_cidr": "10.0.0.0/16",
                "group_id": None,
                "access_all": True,
                "description": "whole VPC",
                "state": "active",
            },
            {
                "destination_cidr": "10.0.8.0/24",
                "group_id": "admins",
                "access_all": False,
                "description": "databases",
                "state": "authorizing",
            },
        ],
        "routes": [
            {
                "destination_cidr": "10.0.0.0/16",
                "target_subnet": "subnet-0a",
                "type": "Nat",
                "origin": "associate",
                "description": "Default Route",
                "state": "active",
            }
        ],
        "active_connections": 2,
    }


def test_status_by_stack_uses_endpoint_from_outputs_and_passes_profile_region(
    aws: FakeAws,
) -> None:
    # Given certificates (no UserConfigPrefix): no certificate section (test_status_pki).
    aws.expect_stack(vpn_outputs(users=False))
    expect_status_calls(aws)

    result = aws.run(
        "status", "--stack", STACK, "--json", "--profile", "work", "--region", "us-east-2"
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["endpoint_id"] == ENDPOINT_ID
    assert aws.calls == [("work", "us-east-2")]


def test_multi_vpn_stack_requires_vpn_and_lists_choices(aws: FakeAws) -> None:
    aws.expect_stack(
        vpn_outputs("Office", "cvpn-endpoint-0000000000000000a")
        + vpn_outputs("Lab", "cvpn-endpoint-0000000000000000b", hash_seed="9F8E7D6")
    )

    result = aws.run("status", "--stack", STACK)

    assert result.exit_code == 2
    assert result.stderr == (
        f"cvpn: error: stack '{STACK}' holds 2 Client VPNs; choose one with --vpn: Lab, Office\n"
    )
    assert result.stdout == ""


def test_multi_vpn_stack_with_vpn_selects_that_endpoint(aws: FakeAws) -> None:
    lab = "cvpn-endpoint-0000000000000000b"
    aws.expect_stack(
        vpn_outputs("Office", "cvpn-endpoint-0000000000000000a", users=False)
        + vpn_outputs("Lab", lab, hash_seed="9F8E7D6", users=False)
    )
    expect_status_calls(aws, lab)

    result = aws.run("status", "--stack", STACK, "--vpn", "Lab", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["endpoint_id"] == lab


def test_unknown_vpn_is_not_found(aws: FakeAws) -> None:
    aws.expect_stack(vpn_outputs("Office") + vpn_outputs("Lab", hash_seed="9F8E7D6"))

    result = aws.run("status", "--stack", STACK, "--vpn", "Home")

    assert result.exit_code == 3
    assert "has no Client VPN 'Home'; choose one of: Lab, Office" in result.stderr


def test_stack_and_endpoint_id_are_exclusive(aws: FakeAws) -> None:
    result = aws.run("status", "--stack", STACK, "--endpoint-id", ENDPOINT_ID)

    assert result.exit_code == 2
    assert result.stderr == "cvpn: error: use either --stack or --endpoint-id, not both\n"


def test_one_of_stack_or_endpoint_id_is_required(aws: FakeAws) -> None:
    result = aws.run("status")

    assert result.exit_code == 2
    assert "--stack NAME or --endpoint-id" in result.stderr


def test_each_authentication_type_shows_its_own_identifier() -> None:
    """AD shows the directory id, SAML the provider ARN, mutual nothing (the CA is elsewhere)."""
    saml = "arn:aws:iam::111111111111:saml-provider/okta"
    endpoint_options = {
        "AuthenticationOptions": [
            {
                "Type": "directory-service-authentication",
                "ActiveDirectory": {"DirectoryId": "d-1234567890"},
            },
            {
                "Type": "federated-authentication",
                "FederatedAuthentication": {"SamlProviderArn": saml},
            },
            {
                "Type": "certificate-authentication",
                "MutualAuthentication": {"ClientRootCertificateChain": "arn:aws:acm:ca"},
            },
        ]
    }
    assert _authentication(endpoint_options) == [  # type: ignore[arg-type]
        {"type": "directory-service-authentication", "detail": "d-1234567890"},
        {"type": "federated-authentication", "detail": saml},
        {"type": "certificate-authentication", "detail": ""},
    ]
