"""``handlers/pki/rendering.py`` ``read_file``: what a user's stored file still holds.

The contract (its docstring and the users handler's): a file is usable only with one
certificate and one key, both readable, the key the certificate's own; anything else counts
as no file (the user's certificate is then revoked and re-issued, tests/pki/test_users.py).
"""

from __future__ import annotations

import types
from typing import Any

import pytest

from constructs_cvpn.handlers.pki import rendering
from tests.certs import Issued, make_ca, make_client

PROPS: Any = types.SimpleNamespace(bucket="b", prefix="vpn/")
CONFIG = "client\ndev tun\n<ca>\nCA\n</ca>\n"


@pytest.fixture(scope="module")
def pair() -> tuple[Issued, Issued]:
    ca = make_ca()
    return make_client(ca, cn="alice"), make_client(ca, cn="bob")


def _stored(monkeypatch: pytest.MonkeyPatch, text: str | None) -> None:
    def read(bucket: str, key: str) -> Any:
        assert (bucket, key) == ("b", "vpn/users/alice.ovpn")
        return None if text is None else types.SimpleNamespace(body=text.encode())

    monkeypatch.setattr(rendering.store, "read", read)


def test_a_file_with_its_certificate_and_key_is_held(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[Issued, Issued]
) -> None:
    alice, _ = pair
    _stored(monkeypatch, rendering.render(CONFIG, alice.cert_pem, alice.key_pem))
    held = rendering.read_file(PROPS, "alice")
    assert held is not None
    assert held.cert == alice.cert and held.key_pem.strip() == alice.key_pem.strip()


@pytest.mark.parametrize("drop", ["cert", "key"])
def test_a_file_missing_a_block_is_no_file(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[Issued, Issued], drop: str
) -> None:
    alice, _ = pair
    text = rendering.render(CONFIG, alice.cert_pem, alice.key_pem)
    start, end = text.index(f"<{drop}>"), text.index(f"</{drop}>") + len(f"</{drop}>\n")
    _stored(monkeypatch, text[:start] + text[end:])
    assert rendering.read_file(PROPS, "alice") is None


def test_another_users_key_or_a_broken_one_is_no_file(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[Issued, Issued]
) -> None:
    alice, bob = pair
    _stored(monkeypatch, rendering.render(CONFIG, alice.cert_pem, bob.key_pem))
    assert rendering.read_file(PROPS, "alice") is None
    lines = alice.key_pem.splitlines()
    lines[5] = "A" * len(lines[5])  # an altered private part: still PEM, no longer the key
    _stored(monkeypatch, rendering.render(CONFIG, alice.cert_pem, "\n".join(lines) + "\n"))
    assert rendering.read_file(PROPS, "alice") is None


def test_no_file_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    _stored(monkeypatch, None)
    assert rendering.read_file(PROPS, "alice") is None
