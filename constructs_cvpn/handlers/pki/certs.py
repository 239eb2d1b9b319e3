"""Pure X.509 functions for AWS Client VPN mutual authentication (``cryptography`` only).

What AWS Client VPN and ACM require, and what every function here produces:

- RSA 2048-bit keys (Client VPN supports only 1024- and 2048-bit RSA), SHA-256 signatures.
- CA: ``BasicConstraints(ca=True)`` critical, ``KeyUsage`` keyCertSign + cRLSign (critical),
  Subject Key Identifier.
- Server certificate: ``CN`` and a DNS SAN with a domain (``server.<label>.cvpn.internal``;
  ACM/Client VPN reject a server certificate without a domain), ``ExtendedKeyUsage``
  serverAuth, ``KeyUsage`` digitalSignature + keyEncipherment, ``BasicConstraints(ca=False)``.
- Client certificate: ``CN`` = user name (Client VPN requires a CN), ``ExtendedKeyUsage``
  clientAuth, same ``KeyUsage`` and ``BasicConstraints`` as the server certificate.
- CRL: signed by the CA with SHA-256, carries a CRL number and the Authority Key Identifier
  (RFC 5280) and lists every serial passed in.

``not_valid_before`` is set 5 minutes in the past to tolerate clock skew. Serial numbers are
random 159-bit positive integers (RFC 5280 allows at most 20 octets).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .limits import USER_NAME_PATTERN

__all__ = [
    "CA_VALIDITY_DAYS",
    "CLIENT_VALIDITY_DAYS",
    "CRL_VALIDITY_DAYS",
    "KEY_SIZE",
    "SERVER_VALIDITY_DAYS",
    "USER_NAME_PATTERN",
    "InvalidUserNameError",
    "Issued",
    "build_crl",
    "cert_from_pem",
    "cert_to_pem",
    "check_user_name",
    "create_ca",
    "crl_to_pem",
    "default_server_name",
    "generate_key",
    "issue_client_cert",
    "issue_server_cert",
    "issued_by",
    "key_from_pem",
    "key_to_pem",
    "needs_reissue",
    "serial_hex",
]

KEY_SIZE = 2048
"""RSA key size in bits (Client VPN accepts 1024 and 2048 only)."""
CA_VALIDITY_DAYS = 3650
"""Default CA lifetime: 10 years."""
SERVER_VALIDITY_DAYS = 825
"""Default server certificate lifetime: 825 days."""
CLIENT_VALIDITY_DAYS = 825
"""Default client certificate lifetime: 825 days."""
CRL_VALIDITY_DAYS = 3650
"""Default CRL ``next_update`` distance: 10 years (re-signed whenever a user is removed)."""
_SKEW = dt.timedelta(minutes=5)


class InvalidUserNameError(ValueError):
    """A user name does not match :data:`USER_NAME_PATTERN`."""


@dataclass(frozen=True)
class Issued:
    """A freshly issued key pair and certificate."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def check_user_name(name: object) -> str:
    """Return ``name`` if it matches :data:`USER_NAME_PATTERN`, else raise.

    Raises:
        InvalidUserNameError: not a string, or not 1-64 characters of ``[A-Za-z0-9._-]``
            starting with a letter or digit.
    """
    if not isinstance(name, str) or not USER_NAME_PATTERN.match(name):
        shown = repr(name)[:80]
        raise InvalidUserNameError(
            f"invalid user name {shown}: use 1-64 characters of letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return name


def default_server_name(label: str) -> str:
    """Return ``server.<label>.cvpn.internal`` with ``label`` reduced to a DNS label.

    Characters other than ``[a-z0-9-]`` become ``-``; the label is cut to 63 characters and
    falls back to ``vpn`` when nothing is left.
    """
    cleaned = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")[:63].strip("-")
    return f"server.{cleaned or 'vpn'}.cvpn.internal"


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def generate_key() -> rsa.RSAPrivateKey:
    """Generate an RSA 2048-bit private key (public exponent 65537)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _leaf_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def create_ca(
    common_name: str = "constructs-cvpn CA",
    *,
    validity_days: int = CA_VALIDITY_DAYS,
    now: dt.datetime | None = None,
) -> Issued:
    """Create a self-signed CA (RSA 2048, SHA-256), valid ``validity_days`` (default 3650)."""
    if validity_days < 1:
        raise ValueError("validity_days must be at least 1")
    start = _now(now) - _SKEW
    key = generate_key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key=key, cert=cert)


def _issue(
    ca: Issued,
    common_name: str,
    eku: x509.ObjectIdentifier,
    *,
    dns_name: str | None,
    validity_days: int,
    now: dt.datetime | None,
    key: rsa.RSAPrivateKey | None,
) -> Issued:
    if validity_days < 1:
        raise ValueError("validity_days must be at least 1")
    start = _now(now) - _SKEW
    end = min(start + dt.timedelta(days=validity_days), ca.cert.not_valid_after_utc)
    key = key or generate_key()
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    )
    if dns_name is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False
        )
    return Issued(key=key, cert=builder.sign(ca.key, hashes.SHA256()))


def issue_server_cert(
    ca: Issued,
    server_name: str,
    *,
    validity_days: int = SERVER_VALIDITY_DAYS,
    now: dt.datetime | None = None,
) -> Issued:
    """Issue the endpoint's server certificate (default 825 days, capped at the CA's end).

    ``server_name`` must contain a dot (a domain); it becomes both the CN and the DNS SAN.

    Raises:
        ValueError: ``server_name`` has no domain.
    """
    if "." not in server_name.strip("."):
        raise ValueError("server_name must be a domain name such as server.vpn.cvpn.internal")
    return _issue(
        ca,
        server_name,
        ExtendedKeyUsageOID.SERVER_AUTH,
        dns_name=server_name,
        validity_days=validity_days,
        now=now,
        key=None,
    )


def issue_client_cert(
    ca: Issued,
    user: str,
    *,
    validity_days: int = CLIENT_VALIDITY_DAYS,
    now: dt.datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    """Issue a client certificate with CN = ``user`` (default 825 days, capped at the CA's end).

    A new RSA 2048 key is generated unless ``key`` is given.

    Raises:
        InvalidUserNameError: ``user`` is not a safe user name (see :func:`check_user_name`).
    """
    check_user_name(user)
    return _issue(
        ca,
        user,
        ExtendedKeyUsageOID.CLIENT_AUTH,
        dns_name=None,
        validity_days=validity_days,
        now=now,
        key=key,
    )


def build_crl(
    ca: Issued,
    revoked: Iterable[tuple[int, dt.datetime]],
    *,
    crl_number: int,
    validity_days: int = CRL_VALIDITY_DAYS,
    now: dt.datetime | None = None,
) -> x509.CertificateRevocationList:
    """Build a CRL signed by ``ca`` listing every ``(serial, revoked_at)`` in ``revoked``.

    ``crl_number`` must grow with every CRL issued (RFC 5280). ``next_update`` is
    ``validity_days`` (default 3650) after now. An empty ``revoked`` gives a valid empty CRL.
    """
    start = _now(now) - _SKEW
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(start)
        .next_update(start + dt.timedelta(days=validity_days))
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    )
    seen: set[int] = set()
    for serial, revoked_at in revoked:
        if serial in seen:
            continue
        seen.add(serial)
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(revoked_at)
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256())


def needs_reissue(
    cert: x509.Certificate, *, renew_before_days: int, now: dt.datetime | None = None
) -> bool:
    """True if ``cert`` expires within ``renew_before_days`` days from now (or already has)."""
    return cert.not_valid_after_utc - _now(now) <= dt.timedelta(days=renew_before_days)


def serial_hex(serial: int) -> str:
    """Serial number as lowercase hex (how the state stores it; JSON-safe for 159 bits)."""
    return format(serial, "x")


def key_to_pem(key: rsa.RSAPrivateKey) -> str:
    """Unencrypted PKCS#8 PEM (ACM requires an unencrypted key)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def key_from_pem(pem: str, *, check: bool = True) -> rsa.RSAPrivateKey:
    """Load an unencrypted RSA private key from PEM.

    ``check=False`` skips OpenSSL's RSA check (it tests p and q for primality: about as
    slow as generating a key) for keys this library wrote, whose public half the caller
    compares with their certificate; it still checks that the key's numbers agree
    (n = pq, de = 1 mod lcm(p-1, q-1), the CRT values), so an altered private part is
    refused either way.

    Raises:
        ValueError: not an unencrypted RSA PEM key, or (``check=False``) one whose numbers
            disagree (the message has no key material).
    """
    try:
        key = serialization.load_pem_private_key(
            pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=not check
        )
    except (ValueError, TypeError):
        raise ValueError("not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key")
    if not check and not _numbers_agree(key.private_numbers()):
        raise ValueError("the private key's numbers disagree (altered or corrupt)")
    return key


def _numbers_agree(n: rsa.RSAPrivateNumbers) -> bool:
    p, q, d = n.p, n.q, n.d
    if p < 2 or q < 2 or p * q != n.public_numbers.n:
        return False
    return (
        d * n.public_numbers.e % math.lcm(p - 1, q - 1) == 1
        and n.dmp1 == d % (p - 1)
        and n.dmq1 == d % (q - 1)
        and n.iqmp * q % p == 1
    )


def cert_to_pem(cert: x509.Certificate) -> str:
    """PEM text of ``cert``."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def cert_from_pem(pem: str) -> x509.Certificate:
    """Load one PEM certificate."""
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def crl_to_pem(crl: x509.CertificateRevocationList) -> str:
    """PEM text of ``crl`` (the format ``ImportClientVpnClientCertificateRevocationList`` takes)."""
    return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


def issued_by(cert: x509.Certificate, ca: Issued) -> bool:
    """True if ``cert`` was signed by ``ca`` (issuer name and signature both match)."""
    if cert.issuer != ca.cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
