"""``cvpn config``: the edges of the options, the URL lifetime, and of writing the file.

Moto S3 holds the configs; the FakeAws CloudFormation and STS stubs have only what a test
queues, so a command that reaches AWS when it should have stopped at a usage error fails.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_cvpn.cli import config as config_files
from constructs_cvpn.cli.clients import S3_CONFIG
from constructs_cvpn.cli.errors import CvpnError, UsageError
from tests.certs import make_ca, make_client
from tests.cli.conftest import (
    ACCOUNT,
    BUCKET,
    CONFIG_KEY,
    ENDPOINT_ID,
    REGION,
    STACK,
    USER_PREFIX,
    FakeAws,
    _client,
)

ALICE = b"client\n<cert>\nALICE\n</cert>\n<key>\nALICE KEY\n</key>\n"
SHARED = b"client\n<ca>\nCA\n</ca>\n"
NOT_UTF8 = b"client\n<ca>\n\xff\xfe\n</ca>\n"
TOP_LEVEL_KEY = "team.ovpn"
LATIN1_KEY = "latin1/client.ovpn"
ENOENT = os.strerror(errno.ENOENT)
"""The C library's text for a missing file or folder ("No such file or directory")."""


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[Any]:
    with mock_aws():
        client: Any = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        client.put_object(Bucket=BUCKET, Key=f"{USER_PREFIX}alice.ovpn", Body=ALICE)
        client.put_object(Bucket=BUCKET, Key=CONFIG_KEY, Body=SHARED)
        client.put_object(Bucket=BUCKET, Key=TOP_LEVEL_KEY, Body=SHARED)
        client.put_object(Bucket=BUCKET, Key=LATIN1_KEY, Body=NOT_UTF8)
        yield client


@pytest.fixture
def s3(aws: FakeAws, moto_s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    monkeypatch.chdir(tmp_path)
    aws.s3_client = moto_s3
    return aws


# --stack finds the file itself: any direct location option with it is a usage error


@pytest.mark.parametrize(
    "extra",
    [
        ["--bucket", BUCKET],
        ["--object-key", CONFIG_KEY],
        ["--user-prefix", USER_PREFIX, "--user", "alice"],
    ],
)
@pytest.mark.parametrize("command", ["get", "url"])
def test_stack_with_any_direct_location_option_is_a_usage_error(
    s3: FakeAws, tmp_path: Path, command: str, extra: list[str]
) -> None:
    result = s3.run("config", command, "--stack", STACK, *extra)

    assert result.exit_code == 2, result.output
    assert s3.calls == []  # refused before any AWS client is made
    assert result.stderr.startswith("cvpn: error: --stack finds the file itself")
    assert list(tmp_path.iterdir()) == []


# --expires: 1 to 3600 seconds (README: "at most 3600 s"; the option's help: "at most 3600")


@pytest.mark.parametrize("expires", ["1", "3600"])
def test_url_accepts_the_shortest_and_the_longest_lifetime(s3: FakeAws, expires: str) -> None:
    s3.expect_stack()

    result = s3.run("config", "url", "--stack", STACK, "--expires", expires)

    assert result.exit_code == 0, result.output
    query = parse_qs(urlsplit(result.stdout.strip()).query)
    assert query["X-Amz-Expires"] == [expires]


def test_presign_refuses_a_zero_lifetime_before_any_s3_call() -> None:
    client = _client("s3")
    location = config_files.ConfigLocation(BUCKET, CONFIG_KEY, None, ACCOUNT)
    with Stubber(client) as stub:  # nothing queued: any S3 call would fail differently
        with pytest.raises(UsageError, match="--expires must be between 1 and 3600 seconds"):
            config_files.presign(client, location, 0)
        stub.assert_no_pending_responses()


# The default output file of --object-key: the object's own name


def test_object_key_without_folder_is_written_under_its_own_name(
    s3: FakeAws, tmp_path: Path
) -> None:
    s3.expect_caller(ACCOUNT)

    result = s3.run("config", "get", "--bucket", BUCKET, "--object-key", TOP_LEVEL_KEY)

    assert result.exit_code == 0, result.output
    assert (tmp_path / TOP_LEVEL_KEY).read_bytes() == SHARED
    assert [p.name for p in tmp_path.iterdir()] == [TOP_LEVEL_KEY]


# What the user is told when a local file cannot be read or written


def test_missing_certificate_file_names_the_os_reason(s3: FakeAws, tmp_path: Path) -> None:
    key = tmp_path / "client.key"
    key.write_text("unused")

    result = s3.run("config", "get", "-s", STACK, "--cert", "nope.crt", "--key", str(key))

    assert result.exit_code == 2
    assert result.stderr == f"cvpn: error: cannot read the certificate nope.crt: {ENOENT}\n"
    assert s3.calls == []


def test_output_in_a_missing_folder_names_the_os_reason(s3: FakeAws, tmp_path: Path) -> None:
    s3.expect_stack()
    target = Path("no-such-folder") / "vpn.ovpn"

    result = s3.run("config", "get", "--stack", STACK, "-o", str(target))

    assert result.exit_code == 1
    assert result.stderr == f"cvpn: error: cannot write {target}: {ENOENT}\n"
    assert list(tmp_path.iterdir()) == []


def test_config_that_is_not_utf8_is_refused_when_adding_cert_and_key(
    s3: FakeAws, tmp_path: Path
) -> None:
    client = make_client(make_ca())
    cert = tmp_path / "client.crt"
    key = tmp_path / "client.key"
    cert.write_text(client.cert_pem)
    key.write_text(client.key_pem)
    s3.expect_stack(
        [
            {"OutputKey": "VpnEndpointId1A2B3C40", "OutputValue": ENDPOINT_ID},
            {"OutputKey": "VpnConfigBucketName1A2B3C41", "OutputValue": BUCKET},
            {"OutputKey": "VpnConfigKey1A2B3C42", "OutputValue": LATIN1_KEY},
        ]
    )

    result = s3.run("config", "get", "--stack", STACK, "--cert", str(cert), "--key", str(key))

    assert result.exit_code == 1
    assert result.stderr == (
        f"cvpn: error: s3://{BUCKET}/{LATIN1_KEY} is not a text .ovpn file (not UTF-8)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client.crt", "client.key"]


# Clean-up after a failed write reports the write's error, even if the file is already gone


def test_failed_replace_reports_its_own_error_when_the_temporary_file_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "vpn.ovpn"
    target.write_bytes(b"old")

    def replace(source: str, destination: Path) -> None:
        Path(source).unlink()  # e.g. a temp-file cleaner got there first
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", replace)

    with pytest.raises(CvpnError) as raised:
        config_files.write_private(target, b"new", force=True)

    assert raised.value.message == f"cannot write {target}: {os.strerror(errno.EACCES)}"
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["vpn.ovpn"]


def test_failed_write_reports_its_own_error_when_the_partial_file_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "vpn.ovpn"

    def fsync(fd: int) -> None:
        target.unlink()  # removed by someone else while being written
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)

    with pytest.raises(CvpnError) as raised:
        config_files.write_private(target, b"data", force=False)

    assert raised.value.message == f"cannot write {target}: {os.strerror(errno.ENOSPC)}"
    assert list(tmp_path.iterdir()) == []


def test_config_without_a_subcommand_shows_its_commands(s3: FakeAws) -> None:
    result = s3.run("config")

    assert "Usage: cvpn config [OPTIONS] COMMAND" in result.stdout
    assert "get" in result.stdout and "url" in result.stdout
    assert "Missing command" not in result.output
    assert s3.calls == []
