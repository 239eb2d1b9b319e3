"""``ovpn`` PEM shape checks: a single stray character outside the PEM blocks is refused.

Oracle: the ``_pem_blocks``/``add_inline_credentials`` docstrings ("Only PEM blocks and
whitespace are accepted, so nothing from the secret can escape the inline block"; raises
CredentialsError when ``cert_pem`` or ``key_pem`` is not PEM) and RFC 7468 (a PEM file is
encapsulation boundaries around base64 text, with only whitespace between blocks).
"""

from __future__ import annotations

import pytest

from constructs_cvpn.handlers.ovpn import CredentialsError, add_inline_credentials

CERT = "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nREVG\n-----END PRIVATE KEY-----\n"
CONFIG = (
    "client\n"
    "remote cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com 443\n"
    "<ca>\n"
    "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n"
    "</ca>\n"
)


@pytest.mark.parametrize("stray", ["x", "<", "#"])
def test_one_character_before_the_certificate_is_refused(stray: str) -> None:
    with pytest.raises(CredentialsError, match="certificate contains text outside PEM blocks"):
        add_inline_credentials(CONFIG, stray + CERT, KEY)


@pytest.mark.parametrize("stray", ["x", "<", "#"])
def test_one_character_before_the_key_is_refused(stray: str) -> None:
    with pytest.raises(CredentialsError, match="private key contains text outside PEM blocks"):
        add_inline_credentials(CONFIG, CERT, stray + KEY)


def test_one_character_before_a_chain_certificate_is_refused() -> None:
    """Only whitespace may separate the blocks of a chain."""
    with pytest.raises(CredentialsError, match="outside PEM blocks"):
        add_inline_credentials(CONFIG, CERT + "x" + CERT, KEY)


def test_clean_pem_is_accepted() -> None:
    """Control: the same texts without the stray character are inserted."""
    result = add_inline_credentials(CONFIG, CERT, KEY)
    assert f"<cert>\n{CERT}</cert>\n<key>\n{KEY}</key>\n" in result
