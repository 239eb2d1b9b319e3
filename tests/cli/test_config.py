"""``cvpn config get`` / ``cvpn config url`` against a moto S3 bucket."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_cvpn.cli.clients import S3_CONFIG
from constructs_cvpn.cli.config import write_private
from constructs_cvpn.cli.errors import RefusedError
from tests.cli.conftest import (
    ACCOUNT,
    BUCKET,
    CONFIG_KEY,
    ENDPOINT_ID,
    REGION,
    STACK,
    USER_PREFIX,
    FakeAws,
    vpn_outputs,
)

SHARED = b"client\ndev tun\nproto udp\nremote vpn.example 443\n<ca>\nCA\n</ca>\nreneg-sec 0\n"
ALICE = b"client\r\n<cert>\nALICE CERT\n</cert>\n<key>\nALICE KEY \xe2\x9c\x93\n</key>\n"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[object]:
    """Moto S3 (started once per module) holding the shared config and alice's config."""
    with mock_aws():
        client = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        client.put_object(Bucket=BUCKET, Key=CONFIG_KEY, Body=SHARED)
        client.put_object(Bucket=BUCKET, Key=f"{USER_PREFIX}alice.ovpn", Body=ALICE)
        yield client


@pytest.fixture
def s3(aws: FakeAws, moto_s3: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    """``aws`` with the moto S3 client installed; the working directory is ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    aws.s3_client = moto_s3
    return aws


def mode(path: Path) -> int:
    """Permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def test_get_shared_config_writes_exact_bytes_mode_0600(s3: FakeAws, tmp_path: Path) -> None:
    s3.expect_stack()

    result = s3.run("config", "get", "--stack", STACK)

    assert result.exit_code == 0, result.output
    written = tmp_path / f"{ENDPOINT_ID}.ovpn"
    assert written.read_bytes() == SHARED
    assert mode(written) == 0o600
    assert result.stdout == (
        f"Wrote {ENDPOINT_ID}.ovpn ({len(SHARED)} bytes, mode 0600) "
        f"from s3://{BUCKET}/{CONFIG_KEY}.\n"
    )


def test_get_user_config_defaults_to_user_file(s3: FakeAws, tmp_path: Path) -> None:
    s3.expect_stack()

    result = s3.run("config", "get", "--stack", STACK, "--user", "alice")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "alice.ovpn").read_bytes() == ALICE
    assert mode(tmp_path / "alice.ovpn") == 0o600


def test_get_mode_is_0600_even_with_permissive_umask(s3: FakeAws, tmp_path: Path) -> None:
    s3.expect_stack()
    previous = os.umask(0)
    try:
        result = s3.run("config", "get", "-s", STACK, "-u", "alice", "-o", "out/alice-vpn.ovpn")
    finally:
        os.umask(previous)

    assert result.exit_code == 1
    assert "cannot write out/alice-vpn.ovpn" in result.stderr
    (tmp_path / "out").mkdir()
    s3.expect_stack()
    previous = os.umask(0)
    try:
        result = s3.run("config", "get", "-s", STACK, "-u", "alice", "-o", "out/alice-vpn.ovpn")
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "alice-vpn.ovpn").read_bytes() == ALICE
    assert mode(tmp_path / "out" / "alice-vpn.ovpn") == 0o600


def test_get_refuses_to_overwrite_without_force(s3: FakeAws, tmp_path: Path) -> None:
    existing = tmp_path / "alice.ovpn"
    existing.write_bytes(b"old config")
    existing.chmod(0o644)
    s3.expect_stack()

    result = s3.run("config", "get", "--stack", STACK, "--user", "alice")

    assert result.exit_code == 5
    assert result.stderr == (
        "cvpn: error: alice.ovpn already exists; pass --force to overwrite it\n"
    )
    assert existing.read_bytes() == b"old config"
    assert mode(existing) == 0o644


def test_get_force_overwrites_and_tightens_mode(s3: FakeAws, tmp_path: Path) -> None:
    existing = tmp_path / "alice.ovpn"
    existing.write_bytes(b"old config")
    existing.chmod(0o644)
    s3.expect_stack()

    result = s3.run("config", "get", "--stack", STACK, "--user", "alice", "--force")

    assert result.exit_code == 0, result.output
    assert existing.read_bytes() == ALICE
    assert mode(existing) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.ovpn"]


def test_write_private_refuses_file_created_after_the_check(tmp_path: Path) -> None:
    target = tmp_path / "late.ovpn"
    target.write_bytes(b"appeared meanwhile")

    with pytest.raises(RefusedError, match="already exists"):
        write_private(target, b"new", force=False)

    assert target.read_bytes() == b"appeared meanwhile"


def test_get_missing_user_config_is_not_found(s3: FakeAws, tmp_path: Path) -> None:
    s3.expect_stack()

    result = s3.run("config", "get", "--stack", STACK, "--user", "bob")

    assert result.exit_code == 3
    assert result.stderr == (
        f"cvpn: error: no config for user 'bob' at s3://{BUCKET}/{USER_PREFIX}bob.ovpn\n"
    )
    assert not (tmp_path / "bob.ovpn").exists()


def test_get_user_without_user_prefix_output_is_clear_error(s3: FakeAws) -> None:
    s3.expect_stack(vpn_outputs(users=False))

    result = s3.run("config", "get", "--stack", STACK, "--user", "alice")

    assert result.exit_code == 2
    assert "has no per-user configs (no UserConfigPrefix output)" in result.stderr


@pytest.mark.parametrize("command", ["get", "url"])
@pytest.mark.parametrize("user", ["../alice", "a/b", "a\\b", "alice..", "..", "a/../b", "/etc"])
def test_path_like_user_names_are_refused_before_any_aws_call(
    s3: FakeAws, tmp_path: Path, command: str, user: str
) -> None:
    result = s3.run("config", command, "--stack", STACK, "--user", user)

    assert result.exit_code == 2
    assert s3.calls == []  # no client made, so no AWS call (the stubs have no response queued)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"cvpn: error: invalid user name {user!r}: no path")
    assert list(tmp_path.iterdir()) == []


def test_config_needs_stack(s3: FakeAws) -> None:
    missing = s3.run("config", "get")
    endpoint_only = s3.run("config", "get", "--endpoint-id", ENDPOINT_ID)

    assert missing.exit_code == 2
    assert "say where the file is: --stack NAME" in missing.output
    assert endpoint_only.exit_code == 2
    assert "No such option: --endpoint-id" in endpoint_only.output


def test_url_is_presigned_for_bucket_and_key(s3: FakeAws) -> None:
    s3.expect_stack()

    result = s3.run("config", "url", "--stack", STACK, "--user", "alice")

    assert result.exit_code == 0, result.output
    url = urlsplit(result.stdout.strip())
    query = parse_qs(url.query)
    assert url.scheme == "https"
    assert url.hostname is not None
    assert url.hostname.startswith(f"{BUCKET}.s3.")
    assert url.path == f"/{USER_PREFIX}alice.ovpn"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Credential"][0].endswith(f"/{REGION}/s3/aws4_request")
    assert "X-Amz-Signature" in query


def test_url_json_with_custom_expiry(s3: FakeAws) -> None:
    s3.expect_stack()
    before = dt.datetime.now(dt.UTC)
    result = s3.run("config", "url", "--stack", STACK, "--expires", "60", "--json")
    after = dt.datetime.now(dt.UTC)

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"url", "bucket", "key", "user", "expires_in", "expires_at"}
    assert (data["bucket"], data["key"], data["user"]) == (BUCKET, CONFIG_KEY, None)
    assert data["expires_in"] == 60
    assert parse_qs(urlsplit(data["url"]).query)["X-Amz-Expires"] == ["60"]
    assert urlsplit(data["url"]).path == f"/{CONFIG_KEY}"
    expires_at = dt.datetime.fromisoformat(data["expires_at"])
    # 60 s from when the URL was signed (between before and after); whole seconds.
    second = dt.timedelta(seconds=1)
    assert before + 60 * second - second <= expires_at <= after + 60 * second + second


def test_url_expiry_above_one_hour_is_usage_error(s3: FakeAws) -> None:
    result = s3.run("config", "url", "--stack", STACK, "--expires", "3601")

    assert result.exit_code == 2
    assert "Invalid value for '--expires'" in result.output
    assert "less than or equal to 3600" in result.output


def test_url_for_missing_user_config_is_not_found(s3: FakeAws) -> None:
    s3.expect_stack()

    result = s3.run("config", "url", "--stack", STACK, "--user", "bob")

    assert result.exit_code == 3
    assert f"no config for user 'bob' at s3://{BUCKET}/{USER_PREFIX}bob.ovpn" in result.stderr
    assert result.stdout == ""


def test_get_access_denied(aws: FakeAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    aws.s3_client = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
    stub = Stubber(aws.s3_client)
    stub.add_client_error(
        "get_object",
        service_error_code="AccessDenied",
        service_message="User is not authorized to perform kms:Decrypt",
        http_status_code=403,
        expected_params={"Bucket": BUCKET, "Key": CONFIG_KEY, "ExpectedBucketOwner": ACCOUNT},
    )
    stub.activate()
    aws.expect_stack()

    result = aws.run("config", "get", "--stack", STACK)

    assert result.exit_code == 1
    assert result.stderr == (
        f"cvpn: error: access denied while trying to download s3://{BUCKET}/{CONFIG_KEY}: "
        f"either you may not read it, or the bucket is not owned by account {ACCOUNT} "
        "(the stack's account); S3 said: User is not authorized to perform kms:Decrypt\n"
    )
    assert list(tmp_path.iterdir()) == []
    stub.assert_no_pending_responses()
