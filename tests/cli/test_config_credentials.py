"""``cvpn config get --cert F --key F``: a local certificate and key inlined into the shared config.

Moto S3 holds the config as AWS exports it for mutual authentication without a shared
secret (a ``<ca>`` block, no ``<cert>``/``<key>``); the keys are real (``tests/certs.py``).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from moto import mock_aws

from constructs_cvpn.cli.clients import S3_CONFIG
from tests.certs import Issued, make_ca, make_client
from tests.cli.conftest import BUCKET, CONFIG_KEY, ENDPOINT_ID, REGION, STACK, FakeAws

CA_PEM_LINE = "MIIBcaFAKE"
SHARED = (
    "client\ndev tun\nproto udp\nremote cvpn-endpoint-0123.prod.clientvpn.eu-west-1"
    ".amazonaws.com 443\nremote-random-hostname\n<ca>\n-----BEGIN CERTIFICATE-----\n"
    f"{CA_PEM_LINE}\n-----END CERTIFICATE-----\n</ca>\n\nreneg-sec 0\nverb 3\n"
)
SHARED_CRLF = SHARED.replace("\n", "\r\n")
WITH_CERT = SHARED.replace("</ca>\n", "</ca>\n<cert>\nX\n</cert>\n")
KEYS = {
    CONFIG_KEY: SHARED,
    "crlf/client.ovpn": SHARED_CRLF,
    "withcert/client.ovpn": WITH_CERT,
}


def inline_block(text: str, tag: str) -> str:
    """The text between ``<tag>`` and ``</tag>`` (exactly one block), parsed here: the
    library's ``ovpn.inline_block`` is the reading half of ``add_inline_credentials`` (the code
    under test), so a mistake shared by both would pass."""
    (body,) = re.findall(rf"^<{tag}>\r?\n(.*?)^</{tag}>\r?$", text, re.DOTALL | re.MULTILINE)
    return str(body)


@pytest.fixture(scope="module")
def pair() -> tuple[Issued, Issued]:
    """A client certificate and key, and another client (a key that does not match)."""
    ca = make_ca()
    return make_client(ca, "alice.vpn.example.com"), make_client(ca, "bob.vpn.example.com")


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[Any]:
    """Moto S3 with the shared config (LF), a CRLF copy and one that already has a cert."""
    with mock_aws():
        client = boto3.client("s3", region_name=REGION, config=S3_CONFIG)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        for key, body in KEYS.items():
            client.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
        yield client


@pytest.fixture
def s3(aws: FakeAws, moto_s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    """``aws`` with moto S3; records every S3 operation name in ``aws.s3_operations``."""
    monkeypatch.chdir(tmp_path)
    operations: list[str] = []

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)

    moto_s3.meta.events.register("before-call.s3", record)
    aws.s3_client = moto_s3
    aws.s3_operations = operations  # type: ignore[attr-defined]
    yield aws  # type: ignore[misc]
    moto_s3.meta.events.unregister("before-call.s3", record)


def write_pem(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def files(tmp_path: Path, cert: Issued, key: Issued) -> tuple[str, str]:
    """``--cert``/``--key`` file names (in a subfolder, so the output folder stays clean)."""
    folder = tmp_path / "pki"
    folder.mkdir(exist_ok=True)
    return (
        str(write_pem(folder, "client.crt", cert.cert_pem)),
        str(write_pem(folder, "client.key", key.key_pem)),
    )


def outputs_for(key: str) -> list[dict[str, str]]:
    return [
        {"OutputKey": "VpnEndpointId1A2B3C40", "OutputValue": ENDPOINT_ID},
        {"OutputKey": "VpnConfigBucketName1A2B3C41", "OutputValue": BUCKET},
        {"OutputKey": "VpnConfigKey1A2B3C42", "OutputValue": key},
    ]


def test_cert_and_key_are_inlined_after_ca_and_nothing_is_uploaded(
    s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued]
) -> None:
    alice, _ = pair
    cert, key = files(tmp_path, alice, alice)
    s3.expect_stack()

    result = s3.run("config", "get", "--stack", STACK, "--cert", cert, "--key", key)

    assert result.exit_code == 0, result.output
    written = tmp_path / f"{ENDPOINT_ID}.ovpn"
    text = written.read_text()
    head, tail = SHARED.split("</ca>\n")
    assert text.startswith(head + "</ca>\n<cert>\n")
    assert text.endswith("</key>\n" + tail)
    assert inline_block(text, "cert") == alice.cert_pem
    assert inline_block(text, "key") == alice.key_pem
    loaded = serialization.load_pem_private_key(inline_block(text, "key").encode(), None)
    assert (
        loaded.public_key()
        == x509.load_pem_x509_certificate(
            alice.cert.public_bytes(serialization.Encoding.PEM)
        ).public_key()
    )
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert s3.s3_operations == ["GetObject"]  # type: ignore[attr-defined]
    stored = s3.s3().get_object(Bucket=BUCKET, Key=CONFIG_KEY)["Body"].read().decode()
    assert stored == SHARED
    assert result.stdout == (
        f"Wrote {ENDPOINT_ID}.ovpn ({len(text)} bytes, mode 0600) from s3://{BUCKET}/"
        f"{CONFIG_KEY}, with --cert {cert} and --key {key}.\n"
    )


def test_crlf_config_gets_crlf_blocks(
    s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued]
) -> None:
    alice, _ = pair
    cert, key = files(tmp_path, alice, alice)
    s3.expect_stack(outputs_for("crlf/client.ovpn"))

    result = s3.run("config", "get", "-s", STACK, "--cert", cert, "--key", key, "-o", "a.ovpn")

    assert result.exit_code == 0, result.output
    data = (tmp_path / "a.ovpn").read_bytes()
    assert b"</ca>\r\n<cert>\r\n-----BEGIN CERTIFICATE-----\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")
    assert data.endswith(b"</key>\r\n\r\nreneg-sec 0\r\nverb 3\r\n")


def test_mismatched_pair_is_refused_before_any_aws_call(
    s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued]
) -> None:
    alice, bob = pair
    cert, key = files(tmp_path, alice, bob)

    result = s3.run("config", "get", "--stack", STACK, "--cert", cert, "--key", key)

    assert result.exit_code == 2
    assert result.stderr == (
        f"cvpn: error: --cert {cert} / --key {key}: the private key does not match the "
        "certificate's public key\n"
    )
    assert s3.calls == []
    assert s3.s3_operations == []  # type: ignore[attr-defined]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pki"]


@pytest.mark.parametrize(
    ("cert_text", "key_text", "message"),
    [
        ("not a pem\n", None, "the certificate is not in PEM format"),
        (
            None,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "the private key is encrypted; store it without a passphrase",
        ),
        (None, "CERT", "the private key is not in PEM format"),
    ],
)
def test_unusable_files_are_refused_in_one_line(
    s3: FakeAws,
    tmp_path: Path,
    pair: tuple[Issued, Issued],
    cert_text: str | None,
    key_text: str | None,
    message: str,
) -> None:
    alice, _ = pair
    cert, key = files(tmp_path, alice, alice)
    if cert_text is not None:
        Path(cert).write_text(cert_text)
    if key_text is not None:
        Path(key).write_text(key_text)

    result = s3.run("config", "get", "--stack", STACK, "--cert", cert, "--key", key)

    assert result.exit_code == 2
    assert result.stderr == f"cvpn: error: --cert {cert} / --key {key}: {message}\n"
    assert "PRIVATE" not in result.stderr.replace("PRIVATE KEY-----", "")


def test_missing_and_binary_files_are_usage_errors(
    s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued]
) -> None:
    alice, _ = pair
    cert, key = files(tmp_path, alice, alice)
    Path(key).write_bytes(b"\xff\xfe")

    missing = s3.run("config", "get", "-s", STACK, "--cert", "nope.crt", "--key", key)
    binary = s3.run("config", "get", "-s", STACK, "--cert", cert, "--key", key)

    assert missing.exit_code == 2
    assert missing.stderr.startswith("cvpn: error: cannot read the certificate nope.crt: ")
    assert missing.stderr.count("\n") == 1
    assert binary.exit_code == 2
    assert (
        binary.stderr == f"cvpn: error: the private key {key} is not a PEM file (not ASCII text)\n"
    )
    assert s3.calls == []


@pytest.mark.parametrize("which", ["--cert", "--key"])
def test_cert_and_key_go_together(
    s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued], which: str
) -> None:
    cert, key = files(tmp_path, pair[0], pair[0])

    result = s3.run("config", "get", "--stack", STACK, which, cert if which == "--cert" else key)

    assert result.exit_code == 2
    assert result.stderr == "cvpn: error: --cert and --key go together: pass both, or neither\n"
    assert s3.calls == []


def test_not_allowed_with_user(s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued]) -> None:
    cert, key = files(tmp_path, pair[0], pair[0])

    result = s3.run("config", "get", "-s", STACK, "-u", "alice", "--cert", cert, "--key", key)

    assert result.exit_code == 2
    assert result.stderr == (
        "cvpn: error: --cert/--key cannot be used with --user: a user's config already holds "
        "that user's certificate and key\n"
    )
    assert s3.calls == []
    assert not (tmp_path / "alice.ovpn").exists()


def test_config_that_already_has_a_cert_is_refused(
    s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued]
) -> None:
    cert, key = files(tmp_path, pair[0], pair[0])
    s3.expect_stack(outputs_for("withcert/client.ovpn"))

    result = s3.run("config", "get", "-s", STACK, "--cert", cert, "--key", key)

    assert result.exit_code == 2
    assert result.stderr == (
        f"cvpn: error: cannot add --cert/--key to s3://{BUCKET}/withcert/client.ovpn: the client "
        "configuration already contains a certificate or key; omit --cert/--key to use it as "
        "it is\n"
    )
    assert not (tmp_path / f"{ENDPOINT_ID}.ovpn").exists()


def test_existing_output_is_refused_without_force_and_replaced_with_it(
    s3: FakeAws, tmp_path: Path, pair: tuple[Issued, Issued]
) -> None:
    alice, _ = pair
    cert, key = files(tmp_path, alice, alice)
    existing = tmp_path / "vpn.ovpn"
    existing.write_text("old")
    existing.chmod(0o644)
    s3.expect_stack()

    refused = s3.run("config", "get", "-s", STACK, "--cert", cert, "--key", key, "-o", "vpn.ovpn")

    assert refused.exit_code == 5
    assert existing.read_text() == "old"
    assert s3.s3_operations == []  # type: ignore[attr-defined]

    s3.expect_stack()
    forced = s3.run(
        "config", "get", "-s", STACK, "--cert", cert, "--key", key, "-o", "vpn.ovpn", "--force"
    )

    assert forced.exit_code == 0, forced.output
    assert inline_block(existing.read_text(), "key") == alice.key_pem
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pki", "vpn.ovpn"]


def test_help_documents_cert_and_key(s3: FakeAws) -> None:
    result = s3.run("config", "get", "--help")

    assert result.exit_code == 0
    assert "--cert" in result.stdout
    assert "nothing is uploaded" in result.stdout
