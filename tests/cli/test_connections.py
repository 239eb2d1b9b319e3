"""``cvpn connections``: paginated listing, JSON, and disconnecting a user."""

from __future__ import annotations

import json

from tests.cli.conftest import ENDPOINT_ID, FakeAws, connection

EP = {"ClientVpnEndpointId": ENDPOINT_ID}


def expect_two_pages(aws: FakeAws) -> None:
    """Queue two pages of DescribeClientVpnConnections (2 active, 1 terminated)."""
    aws.ec2_stub.add_response(
        "describe_client_vpn_connections",
        {
            "Connections": [
                connection("cvpn-connection-1", "alice", "active", "10.100.0.5"),
                connection("cvpn-connection-2", "bob", "terminated", "10.100.0.6"),
            ],
            "NextToken": "next",
        },
        EP,
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_connections",
        {"Connections": [connection("cvpn-connection-3", "carol", "active", "10.100.0.7")]},
        {**EP, "NextToken": "next"},
    )


def test_lists_active_connections_from_all_pages(aws: FakeAws) -> None:
    expect_two_pages(aws)

    result = aws.run("connections", "--endpoint-id", ENDPOINT_ID)

    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "cvpn-connection-" in line]
    assert len(rows) == 2
    cells = [cell.strip() for cell in rows[0].split("│")[1:-1]]
    assert cells == [
        "cvpn-connection-1",
        "alice",
        "alice.vpn.example.com",
        "10.100.0.5",
        "2025-01-01 10:00:00",
        "1234/5678",
        "active",
    ]
    assert "carol" in rows[1]
    assert "bob" not in result.stdout


def test_all_includes_ended_connections(aws: FakeAws) -> None:
    expect_two_pages(aws)

    result = aws.run("connections", "-e", ENDPOINT_ID, "--all")

    assert result.exit_code == 0, result.output
    bob = [line for line in result.stdout.splitlines() if "cvpn-connection-2" in line]
    assert len(bob) == 1
    assert "terminated" in bob[0]


def test_connections_json(aws: FakeAws) -> None:
    expect_two_pages(aws)

    result = aws.run("connections", "-e", ENDPOINT_ID, "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["endpoint_id"] == ENDPOINT_ID
    assert [c["connection_id"] for c in data["connections"]] == [
        "cvpn-connection-1",
        "cvpn-connection-3",
    ]
    assert data["connections"][0] == {
        "connection_id": "cvpn-connection-1",
        "username": "alice",
        "common_name": "alice.vpn.example.com",
        "client_ip": "10.100.0.5",
        "established": "2025-01-01 10:00:00",
        "ended": None,
        "ingress_bytes": 1234,
        "egress_bytes": 5678,
        "state": "active",
    }


def test_no_connections(aws: FakeAws) -> None:
    aws.ec2_stub.add_response("describe_client_vpn_connections", {"Connections": []}, EP)

    result = aws.run("connections", "-e", ENDPOINT_ID)

    assert result.exit_code == 0
    assert result.stdout == f"No client connections on {ENDPOINT_ID}.\n"


def terminate_response(*states: tuple[str, str]) -> dict[str, object]:
    """A TerminateClientVpnConnections response for alice with (previous, current) states."""
    return {
        "ClientVpnEndpointId": ENDPOINT_ID,
        "Username": "alice",
        "ConnectionStatuses": [
            {
                "ConnectionId": f"cvpn-connection-{i}",
                "PreviousStatus": {"Code": previous},
                "CurrentStatus": {"Code": current},
            }
            for i, (previous, current) in enumerate(states, start=1)
        ],
    }


def test_disconnect_terminates_user_and_reports_count(aws: FakeAws) -> None:
    aws.ec2_stub.add_response(
        "terminate_client_vpn_connections",
        terminate_response(("active", "terminating"), ("active", "terminating")),
        {**EP, "Username": "alice"},
    )

    result = aws.run("connections", "-e", ENDPOINT_ID, "--disconnect", "alice")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Disconnected 2 connection(s) of 'alice' from {ENDPOINT_ID}.\n"


def test_disconnect_json(aws: FakeAws) -> None:
    aws.ec2_stub.add_response(
        "terminate_client_vpn_connections",
        terminate_response(("active", "terminating"), ("terminated", "terminated")),
        {**EP, "Username": "alice"},
    )

    result = aws.run("connections", "-e", ENDPOINT_ID, "--disconnect", "alice", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["terminated"] == 1
    assert data["failed"] == 0
    assert data["username"] == "alice"
    assert data["connections"][0] == {
        "connection_id": "cvpn-connection-1",
        "previous_state": "active",
        "state": "terminating",
    }


def test_disconnect_failure_exits_1(aws: FakeAws) -> None:
    aws.ec2_stub.add_response(
        "terminate_client_vpn_connections",
        terminate_response(("active", "failed-to-terminate")),
        {**EP, "Username": "alice"},
    )

    result = aws.run("connections", "-e", ENDPOINT_ID, "--disconnect", "alice")

    assert result.exit_code == 1
    assert "Disconnected 0 connection(s)" in result.stdout
    assert result.stderr == "cvpn: error: 1 connection(s) of 'alice' could not be terminated\n"
