"""Every expected failure ends in one line on stderr and the documented exit code."""

from __future__ import annotations

from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from typer.testing import CliRunner

from constructs_cvpn.cli import create_app
from constructs_cvpn.cli.clients import SessionClients
from tests.cli.conftest import ENDPOINT_ID, REGION, STACK, WIDE, FakeAws, stack_response

NO_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_DEFAULT_PROFILE": None,
    "AWS_REGION": None,
    "AWS_DEFAULT_REGION": None,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
    "AWS_WEB_IDENTITY_TOKEN_FILE": None,
    **WIDE,
}


def run_real(*args: str, **env: str) -> Any:
    """Run cvpn with the real boto3 client factory in an environment without AWS set-up."""
    return CliRunner().invoke(create_app(), list(args), env={**NO_AWS_ENV, **env})


def assert_one_line_error(result: Any, exit_code: int, message: str) -> None:
    """Exactly ``cvpn: error: <message>`` on stderr, the exit code, no traceback, no stdout."""
    assert result.exit_code == exit_code, result.output
    assert result.stderr == f"cvpn: error: {message}\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_no_credentials() -> None:
    result = run_real("status", "--endpoint-id", ENDPOINT_ID, "--region", REGION)

    assert_one_line_error(
        result,
        1,
        "no AWS credentials found: configure a profile (`aws configure` or `aws sso login`) "
        "and pass --profile, or set AWS_PROFILE / AWS_ACCESS_KEY_ID",
    )


def test_no_region() -> None:
    result = run_real(
        "status", "--endpoint-id", ENDPOINT_ID, AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="b"
    )

    assert_one_line_error(
        result,
        1,
        "no AWS region configured: pass --region, set AWS_REGION, "
        "or set `region` in your AWS profile",
    )


def test_unknown_profile() -> None:
    result = run_real("connections", "-e", ENDPOINT_ID, "--profile", "nope")

    assert_one_line_error(result, 1, "AWS profile not found: nope")


def test_clients_use_standard_retries_with_five_retries() -> None:
    clients = SessionClients(None, REGION)
    for client in (clients.ec2(), clients.s3(), clients.cloudformation()):
        # botocore's max_attempts counts retries: 1 attempt + 5 retries = 6 in total.
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert clients.s3().meta.config.signature_version == "s3v4"


def test_stack_not_found(aws: FakeAws) -> None:
    aws.cfn_stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id Nope does not exist",
        expected_params={"StackName": "Nope"},
    )

    result = aws.run("status", "--stack", "Nope")

    assert_one_line_error(result, 3, "stack 'Nope' not found in this account/region")


def test_stack_without_vpn_outputs(aws: FakeAws) -> None:
    aws.cfn_stub.add_response(
        "describe_stacks",
        stack_response([{"OutputKey": "BucketName", "OutputValue": "b"}], "CREATE_IN_PROGRESS"),
        {"StackName": STACK},
    )

    result = aws.run("wait", "--stack", STACK)

    assert_one_line_error(
        result,
        3,
        f"stack '{STACK}' (CREATE_IN_PROGRESS) has no ClientVpn outputs "
        "(no '...EndpointId...' output)",
    )


def test_endpoint_not_found_error(aws: FakeAws) -> None:
    aws.ec2_stub.add_client_error(
        "describe_client_vpn_endpoints",
        service_error_code="InvalidClientVpnEndpointId.NotFound",
        service_message=f"Endpoint {ENDPOINT_ID} does not exist",
        expected_params={"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )

    result = aws.run("status", "-e", ENDPOINT_ID)

    assert_one_line_error(
        result, 3, f"Client VPN endpoint '{ENDPOINT_ID}' not found in this account/region"
    )


def test_endpoint_not_found_empty_list(aws: FakeAws) -> None:
    aws.ec2_stub.add_response("describe_client_vpn_endpoints", {"ClientVpnEndpoints": []})

    result = aws.run("wait", "-e", ENDPOINT_ID)

    assert_one_line_error(
        result, 3, f"Client VPN endpoint '{ENDPOINT_ID}' not found in this account/region"
    )


def test_connections_on_missing_endpoint_is_not_found(aws: FakeAws) -> None:
    aws.ec2_stub.add_client_error(
        "terminate_client_vpn_connections",
        service_error_code="InvalidClientVpnEndpointId.NotFound",
        service_message="not found",
    )

    result = aws.run("connections", "-e", ENDPOINT_ID, "--disconnect", "alice")

    assert_one_line_error(
        result, 3, f"Client VPN endpoint '{ENDPOINT_ID}' not found in this account/region"
    )


def test_access_denied(aws: FakeAws) -> None:
    aws.ec2_stub.add_client_error(
        "describe_client_vpn_connections",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation.",
        http_status_code=403,
    )

    result = aws.run("connections", "-e", ENDPOINT_ID)

    assert_one_line_error(
        result,
        1,
        f"access denied while trying to list connections of {ENDPOINT_ID}: "
        "You are not authorized to perform this operation.",
    )


def test_cloudformation_access_denied(aws: FakeAws) -> None:
    aws.cfn_stub.add_client_error(
        "describe_stacks",
        service_error_code="AccessDenied",
        service_message="not authorized to perform: cloudformation:DescribeStacks",
        http_status_code=403,
    )

    result = aws.run("config", "url", "--stack", STACK)

    assert_one_line_error(
        result,
        1,
        f"access denied while trying to describe stack '{STACK}': "
        "not authorized to perform: cloudformation:DescribeStacks",
    )


def test_throttling_message(aws: FakeAws) -> None:
    aws.ec2_stub.add_client_error(
        "describe_client_vpn_endpoints",
        service_error_code="RequestLimitExceeded",
        service_message="Request limit exceeded.",
        http_status_code=503,
    )

    result = aws.run("status", "-e", ENDPOINT_ID)

    assert_one_line_error(
        result,
        1,
        f"AWS is throttling requests (RequestLimitExceeded) while trying to describe endpoint "
        f"{ENDPOINT_ID}, still throttled after 5 retries; try again in a minute",
    )


class _Raw:
    """Minimal raw body for a fake HTTP response."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        """Yield the body once."""
        yield self._body


def test_throttling_is_retried_then_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real client (no Stubber): every HTTP attempt is throttled; 1 + 5 retries, one line."""
    attempts: list[str] = []
    body = (
        b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
        b"<Message>Request limit exceeded.</Message></Error></Errors>"
        b"<RequestID>1</RequestID></Response>"
    )

    def throttled(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.url)
        return AWSResponse(request.url, 503, {}, _Raw(body))

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _seconds: None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    clients = SessionClients(None, REGION)
    ec2 = clients.ec2()
    ec2.meta.events.register("before-send.ec2", throttled)

    class Real:
        def ec2(self) -> Any:
            return ec2

    app = create_app(lambda _p, _r: Real())  # type: ignore[arg-type,return-value]
    result = CliRunner().invoke(
        app,
        ["status", "-e", ENDPOINT_ID],
        env=WIDE,
    )

    assert len(attempts) == 6
    assert result.exit_code == 1
    assert "still throttled after 5 retries" in result.stderr
    assert "Traceback" not in result.output


def test_unexpected_error_is_one_line_without_traceback(
    aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("constructs_cvpn.cli.app.collect_status", broken)
    monkeypatch.delenv("CVPN_DEBUG", raising=False)

    result = aws.run("status", "-e", ENDPOINT_ID)

    assert_one_line_error(
        result, 1, "unexpected RuntimeError: boom (set CVPN_DEBUG=1 for a traceback)"
    )


def test_debug_lets_unexpected_errors_propagate(
    aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("constructs_cvpn.cli.app.collect_status", broken)

    result = aws.run("status", "-e", ENDPOINT_ID, env={"CVPN_DEBUG": "1"})

    assert isinstance(result.exception, RuntimeError)


def test_tracebacks_never_show_local_variables(aws: FakeAws) -> None:
    """A local may hold a private key (``config --cert/--key``): even the traceback that
    ``CVPN_DEBUG=1`` lets through must not print local variables."""
    assert aws.app().pretty_exceptions_show_locals is False
