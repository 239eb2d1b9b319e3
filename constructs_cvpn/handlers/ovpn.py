"""Pure text helpers for OpenVPN client configurations exported by AWS Client VPN.

Shared by the config-export and PKI handlers. No AWS calls here; the only third-party
import is ``cryptography`` (bundled into the Lambda asset).

Every function keeps the configuration text byte-for-byte as AWS returned it, except for
the one edit it documents. Error messages never contain key or certificate material.
"""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

__all__ = [
    "IPV6_LEAK_BLOCK",
    "CredentialsError",
    "OvpnFormatError",
    "add_inline_credentials",
    "block_ipv6_leak",
    "inline_block",
    "randomize_remote_host",
    "validate_credentials",
]


class OvpnFormatError(ValueError):
    """The configuration text does not have the shape AWS Client VPN exports."""


class CredentialsError(ValueError):
    """A client certificate or private key is unusable (not PEM, or they do not match).

    The message says what is wrong, never what the material contains.
    """


# `</ca>` alone on its line (surrounding blanks allowed) with its line ending, if any.
_CA_END = re.compile(r"^[ \t]*</ca>[ \t]*(\r?\n|\Z)", re.MULTILINE)
# Inline <cert>/<key> blocks or `cert`/`key` file directives already present.
_HAS_CREDENTIALS = re.compile(r"^[ \t]*(?:<(?:cert|key)>|(?:cert|key)[ \t])", re.MULTILINE)
# `remote <host> [<port> [<proto>]]`; `remote-random-hostname` etc. do not match
# because `remote` must be followed by blanks.
_REMOTE = re.compile(r"^([ \t]*remote[ \t]+)(\S+)(?=[ \t\r]|$)", re.MULTILINE)
# An `ifconfig-ipv6` or `route-ipv6` directive at the start of a line.
_IPV6_DIRECTIVE = re.compile(r"^[ \t]*(?:ifconfig-ipv6|route-ipv6)[ \t]", re.MULTILINE)
# A DNS label: 1-63 letters, digits or hyphens, not starting or ending with a hyphen.
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# One PEM block: BEGIN line, base64 body, END line with the same type.
_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----",
)


def _pem_blocks(text: str, what: str) -> list[str]:
    """Return the PEM block types in ``text``; raise if anything else is in it.

    Only PEM blocks and whitespace are accepted, so nothing from the secret can escape
    the inline ``<cert>``/``<key>`` block (for example a ``</cert>`` or a directive).
    """
    stripped = text.strip()
    if not stripped:
        raise CredentialsError(f"the {what} is empty")
    types: list[str] = []
    pos = 0
    for match in _PEM_BLOCK.finditer(stripped):
        if stripped[pos : match.start()].strip():
            raise CredentialsError(f"the {what} contains text outside PEM blocks")
        types.append(match.group(1))
        pos = match.end()
    if not types:
        raise CredentialsError(f"the {what} is not in PEM format")
    if stripped[pos:].strip():
        raise CredentialsError(f"the {what} contains text outside PEM blocks")
    return types


def _check_pem_shapes(cert_pem: str, key_pem: str) -> None:
    cert_types = _pem_blocks(cert_pem, "certificate")
    if any(t != "CERTIFICATE" for t in cert_types):
        raise CredentialsError("the certificate must contain only CERTIFICATE PEM blocks")
    key_types = _pem_blocks(key_pem, "private key")
    if len(key_types) != 1 or not key_types[0].endswith("PRIVATE KEY"):
        raise CredentialsError("the private key must be exactly one PEM PRIVATE KEY block")
    if key_types[0] == "ENCRYPTED PRIVATE KEY":
        raise CredentialsError("the private key is encrypted; store it without a passphrase")


def validate_credentials(cert_pem: str, key_pem: str) -> None:
    """Check that ``cert_pem`` and ``key_pem`` are PEM and belong together.

    ``cert_pem`` holds the client certificate, optionally followed by its chain; the first
    certificate is the one checked. ``key_pem`` holds one unencrypted private key (PKCS#8
    or traditional RSA/EC PEM). The key matches when its public key equals the first
    certificate's public key. Validity dates are not checked.

    Raises:
        CredentialsError: with a message that names the problem but no key material.
    """
    _check_pem_shapes(cert_pem, key_pem)
    try:
        certs = x509.load_pem_x509_certificates(cert_pem.encode("ascii"))
    except ValueError:
        raise CredentialsError("the certificate is not a valid PEM X.509 certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CredentialsError("the private key is not a valid unencrypted PEM key") from None

    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certs[0].public_key().public_bytes(*spki):
        raise CredentialsError("the private key does not match the certificate's public key")


def _newline(config: str) -> str:
    return "\r\n" if "\r\n" in config else "\n"


def _inline_block(tag: str, pem: str, nl: str) -> str:
    body = nl.join(pem.strip().splitlines())
    return f"<{tag}>{nl}{body}{nl}</{tag}>"


def add_inline_credentials(config: str, cert_pem: str, key_pem: str) -> str:
    """Return ``config`` with ``<cert>`` and ``<key>`` blocks inserted right after ``</ca>``.

    The blocks are placed on new lines directly after the line holding ``</ca>`` (found by
    pattern, not by line number); all other text is kept byte-for-byte. The inserted lines
    use the config's own line ending (CRLF if the config has any, else LF). The PEM texts
    are checked for shape (PEM blocks only) but not cryptographically: call
    :func:`validate_credentials` for that.

    Raises:
        OvpnFormatError: no ``</ca>`` line, more than one, or credentials already present
            (inline ``<cert>``/``<key>`` or ``cert``/``key`` directives).
        CredentialsError: ``cert_pem`` or ``key_pem`` is not PEM.
    """
    ends = list(_CA_END.finditer(config))
    if not ends:
        raise OvpnFormatError("the client configuration has no </ca> line")
    if len(ends) > 1:
        raise OvpnFormatError("the client configuration has more than one </ca> line")
    if _HAS_CREDENTIALS.search(config):
        raise OvpnFormatError("the client configuration already contains a certificate or key")
    _check_pem_shapes(cert_pem, key_pem)
    nl = _newline(config)
    blocks = _inline_block("cert", cert_pem, nl) + nl + _inline_block("key", key_pem, nl)
    end = ends[0]
    at = end.end()
    if end.group(1):  # `</ca>` line ends with a newline: blocks start on the next line
        return config[:at] + blocks + nl + config[at:]
    return config + nl + blocks + nl  # `</ca>` is the last line, without a newline


def randomize_remote_host(config: str, label: str) -> str:
    """Put ``label.`` in front of the host of every ``remote <host> ...`` line.

    ``remote cvpn-endpoint-0123.prod.clientvpn.eu-west-1.amazonaws.com 443`` becomes
    ``remote abc123.cvpn-endpoint-0123.prod.clientvpn.eu-west-1.amazonaws.com 443``.
    A leading ``*.`` on the host (a wildcard) is replaced by ``label.``. Port, protocol
    and every other line are kept byte-for-byte.

    Raises:
        ValueError: ``label`` is not a DNS label (1-63 letters, digits, inner hyphens).
        OvpnFormatError: the config has no ``remote`` line.
    """
    if not _LABEL.match(label):
        raise ValueError("label must be a DNS label: 1-63 letters, digits or inner hyphens")

    def _prefix(match: re.Match[str]) -> str:
        host = match.group(2)
        host = host.removeprefix("*.")
        return f"{match.group(1)}{label}.{host}"

    result, count = _REMOTE.subn(_prefix, config)
    if count == 0:
        raise OvpnFormatError("the client configuration has no remote line")
    return result


#: The lines that keep IPv6 out of the physical interface on an IPv4-only full tunnel, as
#: the AWS Client VPN administrator guide gives them ("IPv6 considerations", the example
#: routing "all currently allocated IPv6 traffic" to the VPN): a unique-local address on the
#: tunnel device, and routes for global unicast (2000::/3) and unique-local (fc00::/7)
#: addresses through it, where the endpoint drops them. The AWS-provided client supports
#: both directives (AWS Client VPN user guide, "OpenVPN directives"); OpenVPN's own
#: ``block-ipv6``/``redirect-gateway ipv6`` are not on that list.
IPV6_LEAK_BLOCK = (
    "ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1",
    "route-ipv6 2000::/3",
    "route-ipv6 fc00::/7",
)


def block_ipv6_leak(config: str) -> str:
    """Return ``config`` with the :data:`IPV6_LEAK_BLOCK` lines appended.

    For an endpoint whose tunnel carries IPv4 only, in full-tunnel mode: without them a
    dual-stack client keeps reaching IPv6 destinations outside the tunnel, from its own
    address. Every other byte is kept; the lines use the config's own line ending.

    Raises:
        OvpnFormatError: the config already has ``ifconfig-ipv6`` or ``route-ipv6`` lines
            (an endpoint that carries IPv6 itself, or a file edited before).
    """
    if _IPV6_DIRECTIVE.search(config):
        raise OvpnFormatError("the client configuration already configures IPv6 routing")
    nl = _newline(config)
    lines = nl.join(IPV6_LEAK_BLOCK) + nl
    if config and not config.endswith("\n"):
        return config + nl + lines
    return config + lines


def inline_block(config: str, tag: str) -> str | None:
    """The PEM text inside the one ``<tag>...</tag>`` block of ``config`` (None if absent).

    Used to re-render a user's file around the certificate and key it already holds.
    """
    found = re.findall(rf"^[ \t]*<{tag}>[ \t]*\r?\n(.*?)^[ \t]*</{tag}>", config, re.M | re.S)
    if len(found) != 1:
        return None
    return "\n".join(line.rstrip("\r") for line in found[0].strip().splitlines()) + "\n"
