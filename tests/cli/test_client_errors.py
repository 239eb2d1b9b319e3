"""AWS errors met by ``report``, ``wake``, ``revoke`` and ``status`` name what was being done.

``errors.py``: every failure the user can meet becomes a :class:`CvpnError` with a one-line
message and an exit code. Each function below translates the ``ClientError`` of its own AWS
call, so the message names the call's object (the log group, the function, the endpoint), and
an endpoint that does not exist is "not found" (exit 3), not a generic AWS error (exit 1).
The errors are botocore Stubber client errors; no request leaves the process.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from constructs_cvpn.cli.discovery import VpnOutputs
from constructs_cvpn.cli.errors import CvpnError, ExitCode, NotFoundError
from constructs_cvpn.cli.report import read_records
from constructs_cvpn.cli.revoke import caller_arn, invoke
from constructs_cvpn.cli.status import collect_status, count_active_connections
from constructs_cvpn.cli.wake import wake
from tests.cli.conftest import ENDPOINT_ID, _client, endpoint, target_network
from tests.cli.test_report import GROUP, NOW, SINCE
from tests.cli.test_wake import SCHEDULE

EP = {"ClientVpnEndpointId": ENDPOINT_ID}


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = _client(service)
    stub = Stubber(client)
    stub.activate()
    return client, stub


def test_an_unreadable_connection_log_names_the_log_group() -> None:
    logs, stub = stubbed("logs")
    stub.add_client_error(
        "filter_log_events", "AccessDeniedException", "not authorized: logs:FilterLogEvents"
    )
    with pytest.raises(CvpnError) as caught:
        list(read_records(logs, GROUP, SINCE, NOW))
    assert caught.value.exit_code == ExitCode.ERROR
    assert caught.value.message == (
        f"access denied while trying to read the connection log {GROUP}: "
        "not authorized: logs:FilterLogEvents"
    )


def test_a_wake_the_caller_may_not_invoke_names_the_schedule_function() -> None:
    lambda_client, stub = stubbed("lambda")
    stub.add_client_error("invoke", "AccessDeniedException", "no lambda:InvokeFunction")
    with pytest.raises(CvpnError) as caught:
        wake(lambda_client, SCHEDULE, 2.0)
    assert caught.value.exit_code == ExitCode.ERROR
    assert caught.value.message == (
        "access denied while trying to invoke the schedule's function: no lambda:InvokeFunction"
    )


def test_expired_credentials_when_asking_who_the_caller_is() -> None:
    sts, stub = stubbed("sts")
    stub.add_client_error("get_caller_identity", "ExpiredToken", "The token has expired")
    with pytest.raises(CvpnError) as caught:
        caller_arn(sts)
    assert caught.value.exit_code == ExitCode.ERROR
    assert "AWS rejected the credentials (ExpiredToken)" in caught.value.message
    assert "find who you are (sts:GetCallerIdentity)" in caught.value.message


def test_a_users_function_that_is_gone_names_the_function() -> None:
    lambda_client, stub = stubbed("lambda")
    stub.add_client_error("invoke", "ResourceNotFoundException", "Function not found")
    outputs = VpnOutputs(
        stack="VpnStack",
        prefix="Vpn",
        endpoint_id=ENDPOINT_ID,
        users_function="VpnStack-VpnUsersHandlerFunction-AbC123",
    )
    with pytest.raises(CvpnError) as caught:
        invoke(
            lambda_client,
            outputs,
            operation="Revoke",
            user="alice",
            reason="x",
            requested_by="arn",
        )
    assert caught.value.message == (
        "AWS error ResourceNotFoundException while trying to invoke "
        "VpnStack-VpnUsersHandlerFunction-AbC123: Function not found"
    )


def test_counting_connections_of_an_endpoint_that_is_gone_is_not_found() -> None:
    ec2, stub = stubbed("ec2")
    stub.add_client_error(
        "describe_client_vpn_connections", "InvalidClientVpnEndpointId.NotFound", "gone"
    )
    with pytest.raises(NotFoundError) as caught:
        count_active_connections(ec2, ENDPOINT_ID)
    assert caught.value.exit_code == ExitCode.NOT_FOUND
    assert ENDPOINT_ID in caught.value.message


def test_counting_connections_without_permission_names_the_endpoint() -> None:
    ec2, stub = stubbed("ec2")
    stub.add_client_error("describe_client_vpn_connections", "UnauthorizedOperation", "denied")
    with pytest.raises(CvpnError) as caught:
        count_active_connections(ec2, ENDPOINT_ID)
    assert caught.value.message == (
        f"access denied while trying to list connections of {ENDPOINT_ID}: denied"
    )


def expect_endpoint_and_networks(stub: Stubber) -> None:
    stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [endpoint()]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )
    stub.add_response(
        "describe_client_vpn_target_networks",
        {"ClientVpnTargetNetworks": [target_network("cvpn-assoc-1", "subnet-0a", "associated")]},
        EP,
    )


@pytest.mark.parametrize("failing", ["rules", "routes"])
def test_rules_or_routes_of_an_endpoint_deleted_meanwhile_are_not_found(failing: str) -> None:
    """The endpoint was described, then deleted before its rules or routes were listed."""
    ec2, stub = stubbed("ec2")
    expect_endpoint_and_networks(stub)
    if failing == "routes":
        stub.add_response("describe_client_vpn_authorization_rules", {"AuthorizationRules": []}, EP)
        stub.add_client_error(
            "describe_client_vpn_routes", "InvalidClientVpnEndpointId.NotFound", "gone"
        )
    else:
        stub.add_client_error(
            "describe_client_vpn_authorization_rules",
            "InvalidClientVpnEndpointId.NotFound",
            "gone",
        )
    with pytest.raises(NotFoundError) as caught:
        collect_status(ec2, ENDPOINT_ID)
    assert caught.value.exit_code == ExitCode.NOT_FOUND
    stub.assert_no_pending_responses()


def test_rules_without_permission_name_the_endpoint() -> None:
    ec2, stub = stubbed("ec2")
    expect_endpoint_and_networks(stub)
    stub.add_client_error(
        "describe_client_vpn_authorization_rules", "UnauthorizedOperation", "denied"
    )
    with pytest.raises(CvpnError) as caught:
        collect_status(ec2, ENDPOINT_ID)
    assert caught.value.message == (
        f"access denied while trying to describe rules and routes of {ENDPOINT_ID}: denied"
    )
