"""``describe_endpoint`` and ``describe_target_networks`` edge cases.

Oracles: the functions' docstrings (``describe_endpoint`` returns the description of the
endpoint asked for; both raise NotFoundError for an endpoint that does not exist), the EC2
API error code ``InvalidClientVpnEndpointId.NotFound`` (EC2 API reference, "Error codes"),
and the CLI's documented exit codes (3 not found, 1 AWS error). AWS is stubbed with
botocore's Stubber through the ``aws`` fixture.
"""

from __future__ import annotations

import pytest

from constructs_cvpn.cli.endpoint import describe_endpoint, describe_target_networks
from constructs_cvpn.cli.errors import CvpnError, ExitCode, NotFoundError
from tests.cli.conftest import ENDPOINT_ID, FakeAws, endpoint

OTHER_ID = "cvpn-endpoint-0fedcba9876543210"
EP = {"ClientVpnEndpointId": ENDPOINT_ID}


@pytest.mark.parametrize("order", ["asked for first", "asked for last"])
def test_describe_endpoint_returns_the_endpoint_asked_for(aws: FakeAws, order: str) -> None:
    """Whatever else the answer holds, the endpoint used is the one asked for, by its id."""
    answer = [endpoint("available"), endpoint("pending-associate", OTHER_ID)]
    if order == "asked for last":
        answer.reverse()
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": answer},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )

    found = describe_endpoint(aws.ec2(), ENDPOINT_ID)

    assert found["ClientVpnEndpointId"] == ENDPOINT_ID
    assert found["Status"] == {"Code": "available"}


def test_an_answer_without_the_endpoint_asked_for_is_not_found(aws: FakeAws) -> None:
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [endpoint("available", OTHER_ID)]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )

    with pytest.raises(NotFoundError):
        describe_endpoint(aws.ec2(), ENDPOINT_ID)


def test_target_networks_of_a_missing_endpoint_is_not_found(aws: FakeAws) -> None:
    aws.ec2_stub.add_client_error(
        "describe_client_vpn_target_networks",
        service_error_code="InvalidClientVpnEndpointId.NotFound",
        service_message=f"The Client VPN endpoint ID '{ENDPOINT_ID}' does not exist",
        expected_params=EP,
    )

    with pytest.raises(NotFoundError) as caught:
        describe_target_networks(aws.ec2(), ENDPOINT_ID)

    assert caught.value.exit_code == ExitCode.NOT_FOUND
    assert ENDPOINT_ID in str(caught.value)


def test_target_networks_other_aws_error_is_a_one_line_cvpn_error(aws: FakeAws) -> None:
    aws.ec2_stub.add_client_error(
        "describe_client_vpn_target_networks",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation.",
        expected_params=EP,
    )

    with pytest.raises(CvpnError) as caught:
        describe_target_networks(aws.ec2(), ENDPOINT_ID)

    assert not isinstance(caught.value, NotFoundError)
    assert caught.value.exit_code == ExitCode.ERROR
    assert "target networks" in str(caught.value)
    assert "\n" not in str(caught.value)
