"""``cvpn wait`` with a fake clock and sleep: success, timeout, and dead ends."""

from __future__ import annotations

from constructs_cvpn.cli.wait import Readiness, wait_until_ready
from tests.cli.conftest import ENDPOINT_ID, STACK, FakeAws, endpoint, target_network

EP = {"ClientVpnEndpointId": ENDPOINT_ID}


def expect_poll(aws: FakeAws, state: str, *association_states: str) -> None:
    """Queue one poll: the endpoint in ``state`` and one association per given state."""
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [endpoint(state)]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_target_networks",
        {
            "ClientVpnTargetNetworks": [
                target_network(f"cvpn-assoc-{i}", f"subnet-{i}", code)
                for i, code in enumerate(association_states, start=1)
            ]
        },
        EP,
    )


def test_wait_until_available_and_associated(aws: FakeAws) -> None:
    expect_poll(aws, "pending-associate", "associating", "associating")
    expect_poll(aws, "available", "associated", "associating")
    expect_poll(aws, "available", "associated", "associated")

    result = aws.run("wait", "--endpoint-id", ENDPOINT_ID, "--interval", "20")

    assert result.exit_code == 0, result.output
    assert aws.sleeps == [20, 20]
    assert result.stdout == f"{ENDPOINT_ID} is ready: endpoint available, 2/2 associated.\n"


def test_wait_already_ready_does_not_sleep(aws: FakeAws) -> None:
    aws.expect_stack()
    expect_poll(aws, "available", "associated")

    result = aws.run("wait", "--stack", STACK)

    assert result.exit_code == 0, result.output
    assert aws.sleeps == []


def test_wait_times_out_with_exit_4(aws: FakeAws) -> None:
    for _ in range(4):
        expect_poll(aws, "pending-associate", "associating")

    result = aws.run("wait", "-e", ENDPOINT_ID, "--timeout", "25", "--interval", "10")

    assert result.exit_code == 4
    assert aws.sleeps == [10, 10, 5]
    assert result.stderr.endswith(
        f"cvpn: error: timed out after 25 s waiting for {ENDPOINT_ID}: "
        "endpoint pending-associate, 0/1 associated\n"
    )
    assert "Traceback" not in result.output


def test_wait_fails_fast_on_failed_association(aws: FakeAws) -> None:
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [endpoint("pending-associate")]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )
    failed = target_network("cvpn-assoc-1", "subnet-1", "association-failed")
    failed["Status"]["Message"] = "subnet has too few free addresses"
    aws.ec2_stub.add_response(
        "describe_client_vpn_target_networks", {"ClientVpnTargetNetworks": [failed]}, EP
    )

    result = aws.run("wait", "-e", ENDPOINT_ID)

    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"cvpn: error: association cvpn-assoc-1 of {ENDPOINT_ID} is association-failed: "
        "subnet has too few free addresses\n"
    )
    assert aws.sleeps == []


def test_wait_for_deleted_endpoint_fails(aws: FakeAws) -> None:
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [endpoint("deleting")]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )

    result = aws.run("wait", "-e", ENDPOINT_ID)

    assert result.exit_code == 1
    assert "is deleting; it will never become available" in result.stderr


def test_every_poll_is_reported_to_the_progress_callback(aws: FakeAws) -> None:
    """The terminal's progress line shows each poll; a wait without a callback also works."""
    expect_poll(aws, "pending-associate", "associating")
    expect_poll(aws, "available", "associated")
    seen: list[Readiness] = []
    done = wait_until_ready(
        aws.ec2(),
        ENDPOINT_ID,
        timeout=60,
        interval=5,
        sleep=aws.sleep,
        clock=aws.clock,
        on_update=seen.append,
    )
    assert [r.summary() for r in seen] == [
        "endpoint pending-associate, 0/1 associated",
        "endpoint available, 1/1 associated",
    ]
    assert seen[-1] == done

    expect_poll(aws, "available", "associated")
    quiet = wait_until_ready(
        aws.ec2(), ENDPOINT_ID, timeout=60, interval=5, sleep=aws.sleep, clock=aws.clock
    )
    assert quiet.ready


def test_wait_by_default_checks_every_15_seconds_for_30_minutes(aws: FakeAws) -> None:
    """The README: "checks every 15 seconds and gives up after 30 minutes (exit code 4)"."""
    for _ in range(30 * 60 // 15 + 1):
        expect_poll(aws, "pending-associate", "associating")

    result = aws.run("wait", "-e", ENDPOINT_ID)

    assert result.exit_code == 4
    assert aws.sleeps == [15] * (30 * 60 // 15)
    assert f"timed out after {30 * 60} s" in result.stderr
