"""``list_connections`` edge cases: the default filter, mixed states on one page, end times.

Oracles: the ``list_connections`` docstring (connections that ended recently are left out
unless ``include_ended`` is true), the ``_as_int`` docstring (byte counters become integers
only when they are numbers), and the EC2 service model in botocore (``ClientVpnConnection``:
``ConnectionEndTime``, ``IngressBytes`` and ``EgressBytes`` are strings; the status codes
are ``active``, ``failed-to-terminate``, ``terminating`` and ``terminated``). AWS is stubbed
with botocore's Stubber through the ``aws`` fixture.
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_cvpn.cli.connections import list_connections
from tests.cli.conftest import ENDPOINT_ID, FakeAws, connection

EP = {"ClientVpnEndpointId": ENDPOINT_ID}
END_TIME = "2025-01-01 11:30:00"


def expect_page(aws: FakeAws, connections: list[dict[str, Any]]) -> None:
    """Queue one (last) page of DescribeClientVpnConnections."""
    aws.ec2_stub.add_response("describe_client_vpn_connections", {"Connections": connections}, EP)


def ended(conn_id: str, user: str, state: str = "terminated") -> dict[str, Any]:
    """A connection that ended at :data:`END_TIME`."""
    return {**connection(conn_id, user, state), "ConnectionEndTime": END_TIME}


def test_default_leaves_out_ended_connections(aws: FakeAws) -> None:
    """Without ``include_ended`` the caller gets active connections only."""
    expect_page(aws, [connection("c-1", "alice", "active"), ended("c-2", "bob")])

    rows = list_connections(aws.ec2(), ENDPOINT_ID)

    assert [row["connection_id"] for row in rows] == ["c-1"]


def test_an_ended_connection_does_not_hide_later_ones_on_the_same_page(aws: FakeAws) -> None:
    """Skipping an ended connection moves on to the next one, not to the next page."""
    expect_page(
        aws,
        [
            ended("c-1", "alice"),
            connection("c-2", "bob", "active"),
            ended("c-3", "carol", "terminating"),
            connection("c-4", "dave", "active"),
        ],
    )

    rows = list_connections(aws.ec2(), ENDPOINT_ID, include_ended=False)

    assert [(row["connection_id"], row["state"]) for row in rows] == [
        ("c-2", "active"),
        ("c-4", "active"),
    ]


def test_ended_connection_reports_its_end_time(aws: FakeAws) -> None:
    """``ended`` carries AWS's ConnectionEndTime; an active connection has none."""
    expect_page(aws, [ended("c-1", "alice"), connection("c-2", "bob", "active")])

    rows = list_connections(aws.ec2(), ENDPOINT_ID, include_ended=True)

    assert [(row["connection_id"], row["ended"]) for row in rows] == [
        ("c-1", END_TIME),
        ("c-2", None),
    ]


@pytest.mark.parametrize("counter", ["", "n/a", "12.5"])
def test_byte_counters_that_are_not_numbers_become_none(aws: FakeAws, counter: str) -> None:
    """A non-numeric counter string is reported as unknown (None), not an error."""
    expect_page(
        aws,
        [{**connection("c-1", "alice", "active"), "IngressBytes": counter, "EgressBytes": "42"}],
    )

    rows = list_connections(aws.ec2(), ENDPOINT_ID)

    assert len(rows) == 1
    assert rows[0]["ingress_bytes"] is None
    assert rows[0]["egress_bytes"] == 42


def test_a_connection_that_failed_to_terminate_is_still_listed(aws: FakeAws) -> None:
    """``failed-to-terminate``: the disconnect failed, the client may still be connected
    (an operator checking a revoked user must see it); only terminating and terminated
    connections have ended."""
    expect_page(
        aws,
        [
            connection("c-1", "alice", "failed-to-terminate"),
            ended("c-2", "bob", "terminating"),
            ended("c-3", "carol"),
        ],
    )

    rows = list_connections(aws.ec2(), ENDPOINT_ID)

    assert [(row["connection_id"], row["state"]) for row in rows] == [
        ("c-1", "failed-to-terminate")
    ]
