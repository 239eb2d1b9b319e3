"""Every S3 read of the CLI names the bucket's expected owner (``ExpectedBucketOwner``).

The bucket name comes from a stack output. If it named a bucket in another account (an output
edited, a bucket deleted and its name taken), the CLI would otherwise download that account's
file. The owner is the account in the stack's ARN, or the caller's account from STS.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_cvpn.cli.clients import S3_CONFIG
from constructs_cvpn.cli.discovery import stack_account
from tests.cli.conftest import (
    ACCOUNT,
    BUCKET,
    CONFIG_KEY,
    REGION,
    STACK,
    STACK_ID,
    USER_PREFIX,
    FakeAws,
)

OTHER = "210987654321"


@pytest.fixture
def recorded(
    aws: FakeAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, str | None]]]:
    """Moto S3 with both configs; yields (operation, x-amz-expected-bucket-owner) per request."""
    monkeypatch.chdir(tmp_path)
    seen: list[tuple[str, str | None]] = []

    def record(request: Any, **_: Any) -> None:
        operation = {"GET": "GetObject", "HEAD": "HeadObject"}.get(request.method, request.method)
        owner = request.headers.get("x-amz-expected-bucket-owner")
        seen.append((operation, owner.decode() if isinstance(owner, bytes) else owner))

    with mock_aws():
        client = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        client.put_object(Bucket=BUCKET, Key=CONFIG_KEY, Body=b"shared")
        client.put_object(Bucket=BUCKET, Key=f"{USER_PREFIX}alice.ovpn", Body=b"alice")
        client.meta.events.register("before-send.s3", record)
        aws.s3_client = client
        yield seen


def _owners(seen: list[tuple[str, str | None]]) -> list[str | None]:
    assert seen, "no S3 request was made"
    return [owner for _, owner in seen]


@pytest.mark.parametrize("user", [None, "alice"])
def test_config_get_sends_the_stack_account(
    aws: FakeAws, recorded: list[tuple[str, str | None]], user: str | None
) -> None:
    aws.expect_stack()

    result = aws.run("config", "get", "--stack", STACK, *(["--user", user] if user else []))

    assert result.exit_code == 0, result.output
    assert _owners(recorded) == [ACCOUNT] * len(recorded)


def test_config_url_checks_the_owner_before_signing(
    aws: FakeAws, recorded: list[tuple[str, str | None]]
) -> None:
    aws.expect_stack()

    result = aws.run("config", "url", "--stack", STACK, "--user", "alice")

    assert result.exit_code == 0, result.output
    assert recorded == [("HeadObject", ACCOUNT)]
    # The URL itself cannot carry the check: a signed header the downloader would have to send.
    query = parse_qs(urlsplit(result.stdout.strip()).query)
    assert query["X-Amz-SignedHeaders"] == ["host"]


def test_owner_comes_from_sts_when_the_stack_has_no_arn(
    aws: FakeAws, recorded: list[tuple[str, str | None]]
) -> None:
    aws.expect_stack(stack_id=None)
    aws.expect_caller(ACCOUNT)

    result = aws.run("config", "get", "--stack", STACK)

    assert result.exit_code == 0, result.output
    assert _owners(recorded) == [ACCOUNT]


def test_stack_arn_wins_over_sts(aws: FakeAws, recorded: list[tuple[str, str | None]]) -> None:
    aws.expect_stack()  # with its ARN: no STS call is queued, so none may be made

    result = aws.run("config", "url", "--stack", STACK)

    assert result.exit_code == 0, result.output
    assert _owners(recorded) == [ACCOUNT]


@pytest.mark.parametrize("command", ["get", "url"])
def test_a_bucket_owned_by_another_account_is_refused(
    aws: FakeAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """S3 answers 403 when ExpectedBucketOwner is not the owner: nothing is written."""
    monkeypatch.chdir(tmp_path)
    aws.s3_client = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
    stub = Stubber(aws.s3_client)
    stub.add_client_error(
        "get_object" if command == "get" else "head_object",
        service_error_code="AccessDenied",
        service_message="Access Denied",
        http_status_code=403,
        expected_params={"Bucket": BUCKET, "Key": CONFIG_KEY, "ExpectedBucketOwner": OTHER},
    )
    stub.activate()
    aws.expect_stack(stack_id=STACK_ID.replace(ACCOUNT, OTHER))

    result = aws.run("config", command, "--stack", STACK)

    assert result.exit_code == 1
    assert f"not owned by account {OTHER}" in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []
    stub.assert_no_pending_responses()


def test_sts_failure_is_one_line(aws: FakeAws, recorded: list[tuple[str, str | None]]) -> None:
    aws.expect_stack(stack_id=None)
    aws.sts_stub.add_client_error(
        "get_caller_identity", service_error_code="ExpiredToken", service_message="expired"
    )

    result = aws.run("config", "get", "--stack", STACK)

    assert result.exit_code == 1
    assert "sts:GetCallerIdentity" in result.stderr
    assert recorded == []


@pytest.mark.parametrize(
    ("stack_id", "account"),
    [
        (STACK_ID, ACCOUNT),
        (f"arn:aws-cn:cloudformation:cn-north-1:{OTHER}:stack/S/x", OTHER),
        ("arn:aws:cloudformation:eu-west-1:12345:stack/S/x", None),
        ("not-an-arn", None),
        (None, None),
    ],
)
def test_stack_account(stack_id: str | None, account: str | None) -> None:
    assert stack_account(stack_id) == account
