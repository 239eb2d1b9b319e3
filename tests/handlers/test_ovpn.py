"""Tests for the pure .ovpn text helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from constructs_cvpn.handlers.ovpn import (
    CredentialsError,
    OvpnFormatError,
    add_inline_credentials,
    block_ipv6_leak,
    randomize_remote_host,
    validate_credentials,
)
from tests.certs import Issued, make_ca, make_client

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com"
FAKE_CERT = "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"
FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nREVG\n-----END PRIVATE KEY-----\n"
SMALL = (
    "client\n"
    "dev tun\n"
    "proto udp\n"
    f"remote {HOST} 443\n"
    "remote-random-hostname\n"
    "<ca>\n"
    "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n"
    "</ca>\n"
    "\n"
    "reneg-sec 0\n"
)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


@pytest.fixture(scope="module")
def client(ca: Issued) -> Issued:
    return make_client(ca)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- add_inline_credentials -------------------------------------------------------------


def test_inline_credentials_exact_text() -> None:
    result = add_inline_credentials(SMALL, FAKE_CERT, FAKE_KEY)
    assert result == (
        "client\n"
        "dev tun\n"
        "proto udp\n"
        f"remote {HOST} 443\n"
        "remote-random-hostname\n"
        "<ca>\n"
        "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n"
        "</ca>\n"
        "<cert>\n"
        "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"
        "</cert>\n"
        "<key>\n"
        "-----BEGIN PRIVATE KEY-----\nREVG\n-----END PRIVATE KEY-----\n"
        "</key>\n"
        "\n"
        "reneg-sec 0\n"
    )


def test_inline_credentials_real_fixture_keeps_everything_else(client: Issued) -> None:
    config = fixture("mutual.ovpn")
    result = add_inline_credentials(config, client.cert_pem, client.key_pem)
    head, tail = config.split("</ca>\n")
    block = f"<cert>\n{client.cert_pem}</cert>\n<key>\n{client.key_pem}</key>\n"
    assert result == f"{head}</ca>\n{block}{tail}"


def test_inline_credentials_found_by_pattern_not_line_number() -> None:
    config = "# a comment\n\n  verb 4\n" + SMALL.replace("</ca>\n", "  </ca>  \n")
    result = add_inline_credentials(config, FAKE_CERT, FAKE_KEY)
    assert "  </ca>  \n<cert>\n" in result
    assert result.startswith("# a comment\n\n  verb 4\nclient\n")
    assert result.endswith("</key>\n\nreneg-sec 0\n")


def test_inline_credentials_keeps_crlf() -> None:
    config = SMALL.replace("\n", "\r\n")
    result = add_inline_credentials(config, FAKE_CERT, FAKE_KEY)
    assert "\n" not in result.replace("\r\n", "")
    assert "</ca>\r\n<cert>\r\n-----BEGIN CERTIFICATE-----\r\nQUJD\r\n" in result
    assert result.endswith("</key>\r\n\r\nreneg-sec 0\r\n")


def test_inline_credentials_without_trailing_newline_in_pem() -> None:
    result = add_inline_credentials(SMALL, FAKE_CERT.rstrip(), "\n" + FAKE_KEY + "\n\n")
    assert result == add_inline_credentials(SMALL, FAKE_CERT, FAKE_KEY)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (SMALL.replace("</ca>\n", ""), "no </ca>"),
        (SMALL + "<ca>\nx\n</ca>\n", "more than one </ca>"),
        (SMALL + "<cert>\nx\n</cert>\n", "already contains"),
        (SMALL + "<key>\nx\n</key>\n", "already contains"),
        (SMALL + "cert client.crt\n", "already contains"),
        (SMALL + "key client.key\n", "already contains"),
    ],
)
def test_inline_credentials_rejects_bad_config(config: str, message: str) -> None:
    with pytest.raises(OvpnFormatError, match=message):
        add_inline_credentials(config, FAKE_CERT, FAKE_KEY)


@pytest.mark.parametrize(
    ("cert", "key", "message"),
    [
        ("", FAKE_KEY, "certificate is empty"),
        ("not a pem", FAKE_KEY, "certificate is not in PEM format"),
        (FAKE_CERT + "</cert>\nremote evil.example 443\n", FAKE_KEY, "outside PEM blocks"),
        ("remote evil.example 443\n" + FAKE_CERT, FAKE_KEY, "outside PEM blocks"),
        (FAKE_KEY, FAKE_KEY, "only CERTIFICATE PEM blocks"),
        (FAKE_CERT, FAKE_CERT, "exactly one PEM PRIVATE KEY"),
        (FAKE_CERT, FAKE_KEY + FAKE_KEY, "exactly one PEM PRIVATE KEY"),
        (FAKE_CERT, FAKE_KEY.replace(" PRIVATE", " ENCRYPTED PRIVATE"), "encrypted"),
    ],
)
def test_inline_credentials_rejects_non_pem(cert: str, key: str, message: str) -> None:
    with pytest.raises(CredentialsError, match=message) as info:
        add_inline_credentials(SMALL, cert, key)
    assert "REVG" not in str(info.value)
    assert "QUJD" not in str(info.value)


# --- randomize_remote_host --------------------------------------------------------------


def test_randomize_remote_host_exact_text() -> None:
    result = randomize_remote_host(SMALL, "abc123")
    assert result == SMALL.replace(f"remote {HOST} 443\n", f"remote abc123.{HOST} 443\n")


def test_randomize_every_remote_line_keeps_port_and_proto() -> None:
    config = f"remote {HOST} 443\nremote {HOST} 1194 tcp\nremote-random-hostname\n"
    assert randomize_remote_host(config, "a1") == (
        f"remote a1.{HOST} 443\nremote a1.{HOST} 1194 tcp\nremote-random-hostname\n"
    )


def test_randomize_replaces_wildcard_and_keeps_crlf() -> None:
    config = f"client\r\nremote *.{HOST} 443\r\nverb 3\r\n"
    assert (
        randomize_remote_host(config, "f00d") == f"client\r\nremote f00d.{HOST} 443\r\nverb 3\r\n"
    )


def test_randomize_fixture_changes_only_the_remote_line() -> None:
    config = fixture("saml.ovpn")
    result = randomize_remote_host(config, "0123456789ab")
    changed = [
        (a, b) for a, b in zip(config.splitlines(), result.splitlines(), strict=True) if a != b
    ]
    assert changed == [(f"remote {HOST} 443", f"remote 0123456789ab.{HOST} 443")]


@pytest.mark.parametrize("label", ["", "-a", "a-", "a.b", "a b", "x" * 64, "ü"])
def test_randomize_rejects_bad_label(label: str) -> None:
    with pytest.raises(ValueError, match="DNS label"):
        randomize_remote_host(SMALL, label)


def test_randomize_requires_a_remote_line() -> None:
    with pytest.raises(OvpnFormatError, match="no remote line"):
        randomize_remote_host("client\nremote-random-hostname\n", "abc")


# --- validate_credentials ---------------------------------------------------------------


def test_validate_matching_rsa(client: Issued) -> None:
    validate_credentials(client.cert_pem, client.key_pem)


def test_validate_cert_with_chain_and_traditional_key(ca: Issued, client: Issued) -> None:
    traditional = client.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert traditional.startswith("-----BEGIN RSA PRIVATE KEY-----")
    validate_credentials(client.cert_pem + ca.cert_pem, traditional)


def test_validate_mismatch(ca: Issued, client: Issued) -> None:
    other = make_client(ca, "other.vpn.example.com")
    with pytest.raises(CredentialsError, match="does not match") as info:
        validate_credentials(client.cert_pem, other.key_pem)
    assert "BEGIN" not in str(info.value)


def test_validate_mismatch_with_ec_key(client: Issued) -> None:
    ec_key = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(CredentialsError, match="does not match"):
        validate_credentials(client.cert_pem, ec_key)


def test_validate_encrypted_key(client: Issued) -> None:
    encrypted = client.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret-passphrase"),
    ).decode()
    with pytest.raises(CredentialsError, match="encrypted"):
        validate_credentials(client.cert_pem, encrypted)


def test_validate_garbage_inside_pem(client: Issued) -> None:
    with pytest.raises(CredentialsError, match=r"not a valid PEM X\.509 certificate") as info:
        validate_credentials(FAKE_CERT, client.key_pem)
    assert "QUJD" not in str(info.value)
    with pytest.raises(CredentialsError, match="not a valid unencrypted PEM key") as info:
        validate_credentials(client.cert_pem, FAKE_KEY)
    assert "REVG" not in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("swap", [True, False])
def test_validate_not_pem(client: Issued, swap: bool) -> None:
    cert, key = ("garbage", client.key_pem) if swap else (client.cert_pem, "garbage")
    with pytest.raises(CredentialsError, match="not in PEM format"):
        validate_credentials(cert, key)


def test_inline_credentials_when_ca_is_the_last_line() -> None:
    config = "client\n<ca>\nY2E=\n</ca>"
    assert add_inline_credentials(config, FAKE_CERT, FAKE_KEY) == (
        "client\n<ca>\nY2E=\n</ca>\n"
        "<cert>\n-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n</cert>\n"
        "<key>\n-----BEGIN PRIVATE KEY-----\nREVG\n-----END PRIVATE KEY-----\n</key>\n"
    )


def test_inline_credentials_ignores_ca_close_inside_a_line() -> None:
    config = "client\n# see </ca> below\n<ca>\nY2E=\n</ca>\nverb 3\n"
    result = add_inline_credentials(config, FAKE_CERT, FAKE_KEY)
    assert result.startswith("client\n# see </ca> below\n<ca>\nY2E=\n</ca>\n<cert>\n")
    assert result.endswith("</key>\nverb 3\n")


# --- IPv6 leak block -----------------------------------------------------------------------
# The oracle is the AWS Client VPN administrator guide, "IPv6 considerations": to keep a
# dual-stack client's IPv6 traffic off its physical interface on an IPv4-only endpoint, add
# `ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1`, `route-ipv6 2000::/3` and
# `route-ipv6 fc00::/7` ("all currently allocated IPv6 traffic") to the client file.
AWS_LEAK_LINES = (
    "ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1\nroute-ipv6 2000::/3\nroute-ipv6 fc00::/7\n"
)


def test_block_ipv6_leak_exact_text() -> None:
    assert block_ipv6_leak(SMALL) == SMALL + AWS_LEAK_LINES


def test_block_ipv6_leak_real_fixture_keeps_every_byte() -> None:
    config = (FIXTURES / "saml.ovpn").read_text()
    assert block_ipv6_leak(config) == config + AWS_LEAK_LINES


def test_block_ipv6_leak_keeps_crlf_and_ends_the_last_line() -> None:
    crlf = SMALL.replace("\n", "\r\n").removesuffix("\r\n")
    assert block_ipv6_leak(crlf) == crlf + "\r\n" + AWS_LEAK_LINES.replace("\n", "\r\n")


@pytest.mark.parametrize(
    "line", ["ifconfig-ipv6 fd00::2 fd00::1", "route-ipv6 ::/0", "  route-ipv6 2000::/3"]
)
def test_block_ipv6_leak_refuses_a_config_that_routes_ipv6(line: str) -> None:
    with pytest.raises(OvpnFormatError, match="already configures IPv6 routing"):
        block_ipv6_leak(SMALL + line + "\n")


def test_block_ipv6_leak_after_credentials_and_label() -> None:
    edited = randomize_remote_host(add_inline_credentials(SMALL, FAKE_CERT, FAKE_KEY), "abc123")
    result = block_ipv6_leak(edited)
    assert result.startswith(edited) and result.endswith(AWS_LEAK_LINES)
