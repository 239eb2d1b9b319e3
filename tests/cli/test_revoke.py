"""``cvpn revoke`` / ``cvpn rotate``: the one Lambda invocation they make, and what they print.

The function's side is tested in tests/lifecycle/test_revoke_now.py; here the Lambda client
is stubbed (botocore Stubber checks the Invoke request against the service model) and the
payload the CLI sends is asserted exactly: the operation, the user, the reason and the
caller's ARN from STS, nothing else.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from tests.cli.conftest import ACCOUNT, REGION, STACK, FakeAws, _client, vpn_outputs

FUNCTION = "VpnStack-VpnUsersHandlerFunction-AbC123"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/oncall/dana"


@dataclass
class LambdaAws(FakeAws):
    lambda_client: Any = field(default_factory=lambda: _client("lambda"))
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.lambda_stub = Stubber(self.lambda_client)
        self.lambda_stub.activate()
        self.lambda_client.meta.events.register(
            "provide-client-params.lambda.Invoke",
            lambda params, **_: self.sent.append(json.loads(params["Payload"])),
        )

    def lambda_(self) -> Any:
        return self.lambda_client


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaAws]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    fake = LambdaAws()
    yield fake
    for stub in (fake.cfn_stub, fake.sts_stub, fake.lambda_stub):
        stub.assert_no_pending_responses()


def outputs_with_function() -> list[dict[str, str]]:
    return [*vpn_outputs(), {"OutputKey": "VpnUsersFunctionName1A2B3C44", "OutputValue": FUNCTION}]


def expect_invoke(aws: LambdaAws, result: dict[str, Any], *, error: bool = False) -> None:
    aws.expect_stack(outputs_with_function())
    aws.sts_stub.add_response(
        "get_caller_identity", {"Account": ACCOUNT, "UserId": "AROA:dana", "Arn": CALLER}, {}
    )
    body = json.dumps(result).encode()
    response: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
    }
    if error:
        response["FunctionError"] = "Unhandled"
    aws.lambda_stub.add_response(
        "invoke",
        response,
        {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": ANY},
    )


REVOKED = {
    "User": "alice",
    "Action": "revoke",
    "RevokedSerials": ["0a1b", "0c2d"],
    "CrlImported": True,
    "SessionsEnded": 1,
    "FileVersionsDeleted": 2,
    "At": "2026-12-06T02:00:00+00:00",
}


def test_revoke_sends_one_narrow_event_and_reports(aws: LambdaAws) -> None:
    expect_invoke(aws, REVOKED)

    result = aws.run("revoke", "--stack", STACK, "--user", "alice", "--reason", "lost laptop")

    assert result.exit_code == 0, result.output
    assert aws.sent == [
        {
            "RequestType": "Revoke",
            "User": "alice",
            "Reason": "lost laptop",
            "RequestedBy": CALLER,
        }
    ]
    assert "Revoked alice on cvpn-endpoint-0123456789abcdef0: certificates 0a1b, 0c2d" in (
        result.stdout
    )
    assert "1 session(s) ended; 2 file version(s) deleted." in result.stdout
    assert "stays blocked while listed" in result.stdout


def test_rotate_reports_the_new_certificate(aws: LambdaAws) -> None:
    expect_invoke(aws, {**REVOKED, "Action": "rotate", "NewSerial": "0e3f", "ConfigKey": "k"})

    result = aws.run(
        "rotate", "--stack", STACK, "--user", "alice", "--reason", "new laptop", "--json"
    )

    assert result.exit_code == 0, result.output
    assert aws.sent[0]["RequestType"] == "Rotate"
    assert json.loads(result.stdout)["NewSerial"] == "0e3f"


def test_a_function_error_is_a_failure_with_its_message(aws: LambdaAws) -> None:
    expect_invoke(
        aws,
        {"errorMessage": "'mallory' is not a user of this VPN", "errorType": "PropertyError"},
        error=True,
    )

    result = aws.run("revoke", "--stack", STACK, "--user", "mallory", "--reason", "x")

    assert result.exit_code != 0
    assert "revoke of 'mallory' failed: 'mallory' is not a user of this VPN" in result.output


def test_a_refusal_is_a_failure_with_its_reason(aws: LambdaAws) -> None:
    expect_invoke(aws, {"Refused": "'mallory' is not a user of this VPN"})

    result = aws.run("revoke", "--stack", STACK, "--user", "mallory", "--reason", "x")

    assert result.exit_code == 1
    assert "revoke of 'mallory' refused: 'mallory' is not a user of this VPN" in result.output


def test_a_stack_without_the_users_function_is_refused_before_any_invoke(aws: LambdaAws) -> None:
    aws.expect_stack(vpn_outputs())  # no UsersFunctionName output (given certificates)
    aws.sts_stub.add_response(
        "get_caller_identity", {"Account": ACCOUNT, "UserId": "AROA:dana", "Arn": CALLER}, {}
    )

    result = aws.run("revoke", "--stack", STACK, "--user", "alice", "--reason", "x")

    assert result.exit_code != 0
    assert "no UsersFunctionName output" in result.output
    assert aws.sent == []


def test_an_unsafe_user_name_is_refused_before_any_aws_call(aws: LambdaAws) -> None:
    result = aws.run("revoke", "--stack", STACK, "--user", "../state", "--reason", "x")

    assert result.exit_code != 0
    assert aws.sent == []
