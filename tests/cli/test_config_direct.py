"""``cvpn config`` for the engineer who only has a grant (issue 20): no CloudFormation read.

``--bucket B --user-prefix P --user NAME`` (P: the stack's ``UserConfigPrefix`` output, which
the README and the grant's documentation hand to each engineer) or ``--bucket B --object-key K``
locate the file without ``cloudformation:DescribeStacks``. The FakeAws CloudFormation stub
has no response queued: any DescribeStacks call would fail the run. Also: the message for a
generated-PKI stack without ``--user``, and the user-name rule shared with the construct.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from constructs_cvpn.cli.clients import S3_CONFIG
from constructs_cvpn.handlers.pki.limits import USER_NAME_PATTERN
from tests.cli.conftest import ACCOUNT, BUCKET, CONFIG_KEY, REGION, STACK, USER_PREFIX, FakeAws

ALICE = b"client\n<cert>\nALICE\n</cert>\n<key>\nALICE KEY\n</key>\n"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        client.put_object(Bucket=BUCKET, Key=f"{USER_PREFIX}alice.ovpn", Body=ALICE)
        yield client


@pytest.fixture
def s3(aws: FakeAws, moto_s3: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    monkeypatch.chdir(tmp_path)
    aws.s3_client = moto_s3
    return aws


def test_user_prefix_and_user_need_no_stack(s3: FakeAws, tmp_path: Path) -> None:
    s3.expect_caller(ACCOUNT)  # the bucket's expected owner: the caller's own account

    result = s3.run(
        "config", "get", "--bucket", BUCKET, "--user-prefix", USER_PREFIX, "--user", "alice"
    )

    assert result.exit_code == 0, result.output
    assert (tmp_path / "alice.ovpn").read_bytes() == ALICE
    assert f"from s3://{BUCKET}/{USER_PREFIX}alice.ovpn" in result.stdout


def test_a_key_needs_no_stack(s3: FakeAws, tmp_path: Path) -> None:
    s3.expect_caller(ACCOUNT)
    key = f"{USER_PREFIX}alice.ovpn"

    result = s3.run("config", "get", "--bucket", BUCKET, "--object-key", key, "-o", "mine.ovpn")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine.ovpn").read_bytes() == ALICE


def test_url_with_user_prefix_needs_no_stack(s3: FakeAws) -> None:
    s3.expect_caller(ACCOUNT)

    result = s3.run(
        "config", "url", "--bucket", BUCKET, "--user-prefix", USER_PREFIX, "--user", "alice"
    )

    assert result.exit_code == 0, result.output
    assert f"/{USER_PREFIX}alice.ovpn?" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--stack", STACK, "--bucket", BUCKET, "--object-key", CONFIG_KEY],
        ["--bucket", BUCKET],
        ["--bucket", BUCKET, "--user-prefix", USER_PREFIX],
        ["--bucket", BUCKET, "--object-key", CONFIG_KEY, "--user", "alice"],
        ["--user-prefix", USER_PREFIX, "--user", "alice"],
        [],
    ],
)
def test_locations_that_do_not_say_one_file_are_usage_errors(s3: FakeAws, args: list[str]) -> None:
    result = s3.run("config", "get", *args)

    assert result.exit_code == 2, result.output
    assert s3.calls == []
    assert result.stderr.startswith("cvpn: error: ")
    assert "--stack" in result.stderr and "--bucket" in result.stderr


def test_generated_pki_stack_without_user_says_pass_user(s3: FakeAws) -> None:
    """A generated-PKI stack has UserConfigPrefix and no ConfigKey output."""
    outputs = [
        {"OutputKey": "VpnEndpointId1A2B3C40", "OutputValue": "cvpn-endpoint-0123456789abcdef0"},
        {"OutputKey": "VpnConfigBucketName1A2B3C41", "OutputValue": BUCKET},
        {"OutputKey": "VpnUserConfigPrefix1A2B3C43", "OutputValue": USER_PREFIX},
    ]
    s3.expect_stack(outputs)

    result = s3.run("config", "get", "--stack", STACK)

    assert result.exit_code == 2
    assert "one .ovpn per user" in result.stderr
    assert "pass --user NAME" in result.stderr


@pytest.mark.parametrize("user", ["alice@example.com", "a+b", "x=y", "-alice", "a" * 65])
def test_names_the_construct_refuses_are_refused_before_any_aws_call(
    s3: FakeAws, user: str
) -> None:
    assert USER_NAME_PATTERN.match(user) is None  # the construct's rule refuses it too

    result = s3.run("config", "get", "--stack", STACK, "--user", user)

    assert result.exit_code == 2
    assert s3.calls == []
    assert result.stderr == (
        f"cvpn: error: invalid user name {user!r}: {user!r} is not a safe user name; use 1 to "
        "64 letters, digits, '.', '_' or '-', starting with a letter or digit\n"
    )


def test_the_user_name_rule_loads_without_the_cdk() -> None:
    """The CLI reads the construct's rule (validation.user_name) without starting jsii."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from constructs_cvpn.cli import config\n"
        "config.check_user('alice')\n"
        "print(sorted(m for m in ('aws_cdk', 'jsii', 'constructs') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "[]\n"
