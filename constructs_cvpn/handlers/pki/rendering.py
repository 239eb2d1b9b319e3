"""Rendering users' ``.ovpn`` files, and reading back what a stored file holds.

A user's file is the endpoint's exported configuration (``ExportClientVpnClientConfiguration``,
with the optional random remote label and IPv6 leak block) with the user's certificate and key
inlined (``<cert>``/``<key>``): :func:`render`. :func:`read_file` reads a stored file back
(certificate and key, checked to belong together) so that a run can tell whether a pending
write happened and re-render a file around the certificate and key it already holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..ovpn import add_inline_credentials, block_ipv6_leak, inline_block, randomize_remote_host
from . import certs, store
from .aws import client

if TYPE_CHECKING:
    from .users import UsersProps

__all__ = ["OVPN_CONTENT_TYPE", "Held", "export_config", "read_file", "render", "user_key"]

OVPN_CONTENT_TYPE = "application/x-openvpn-profile"


def user_key(prefix: str, name: str) -> str:
    """S3 key of a user's ``.ovpn``: ``<prefix>users/<name>.ovpn``."""
    return f"{prefix}users/{name}.ovpn"


def export_config(p: UsersProps) -> str:
    out = client("ec2").export_client_vpn_client_configuration(ClientVpnEndpointId=p.endpoint_id)
    config = str(out["ClientConfiguration"])
    if p.remote_label:
        config = randomize_remote_host(config, p.remote_label)
    if p.block_ipv6_leak:
        config = block_ipv6_leak(config)
    return config


@dataclass(frozen=True)
class Held:
    """What a user's current file holds (None when missing or unusable)."""

    cert: Any
    key_pem: str


def read_file(p: UsersProps, name: str) -> Held | None:
    found = store.read(p.bucket, user_key(p.prefix, name))
    if found is None:
        return None
    text = found.body.decode("utf-8", "replace")
    cert_pem, key_pem = inline_block(text, "cert"), inline_block(text, "key")
    if cert_pem is None or key_pem is None:
        return None
    try:
        cert = certs.cert_from_pem(cert_pem)
        key = certs.key_from_pem(key_pem, check=False)  # compared with the certificate below
    except ValueError:
        return None
    if key.public_key() != cert.public_key():
        return None
    return Held(cert=cert, key_pem=key_pem)


def render(config: str, cert_pem: str, key_pem: str) -> str:
    """The user's file: ``config`` with the certificate and key inlined."""
    return add_inline_credentials(config, cert_pem, key_pem)
