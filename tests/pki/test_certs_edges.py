"""The edges of the X.509 functions: names, lifetimes, the clock skew, the key checks, the CRL.

Oracles: RFC 1035 (a DNS label is at most 63 characters of letters, digits and hyphens, not
starting or ending with a hyphen), RFC 5280 (the CRL's Authority Key Identifier, serials),
the RSA relations (d e = 1 mod lcm(p-1, q-1), dP = d mod (p-1), dQ = d mod (q-1),
qInv q = 1 mod p: RFC 8017 3.2) and the module's documented contract (5 minutes of skew,
validity of at least a day).
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from constructs_cvpn.handlers.pki import certs

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def ca() -> certs.Issued:
    return certs.create_ca("Edge CA", now=NOW)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Prod VPN", "server.prod-vpn.cvpn.internal"),
        ("--a__b--", "server.a-b.cvpn.internal"),
        ("///", "server.vpn.cvpn.internal"),  # nothing left: the fallback
        ("", "server.vpn.cvpn.internal"),
        ("x" * 100, "server." + "x" * 63 + ".cvpn.internal"),  # RFC 1035: 63 at most
        ("y" * 62 + "/z", "server." + "y" * 62 + ".cvpn.internal"),  # no hyphen left at the cut
    ],
)
def test_default_server_name_is_one_dns_label(label: str, expected: str) -> None:
    name = certs.default_server_name(label)
    assert name == expected
    label_part = name.split(".")[1]
    assert 1 <= len(label_part) <= 63
    assert not label_part.startswith("-") and not label_part.endswith("-")


def test_a_server_name_of_dots_only_is_no_domain(ca: certs.Issued) -> None:
    for name in ("server.", ".server", "..server.."):
        with pytest.raises(ValueError, match="domain"):
            certs.issue_server_cert(ca, name, now=NOW)
    assert certs.issue_server_cert(ca, "a.b", validity_days=1, now=NOW).cert is not None


def test_validity_is_at_least_one_day(ca: certs.Issued) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        certs.create_ca(validity_days=0)
    with pytest.raises(ValueError, match="at least 1"):
        certs.issue_client_cert(ca, "alice", validity_days=0, now=NOW)
    with pytest.raises(ValueError, match="at least 1"):
        certs.issue_server_cert(ca, "server.vpn.cvpn.internal", validity_days=0, now=NOW)
    one = certs.issue_client_cert(ca, "alice", validity_days=1, now=NOW).cert
    assert one.not_valid_after_utc - one.not_valid_before_utc == dt.timedelta(days=1)
    short = certs.create_ca(validity_days=1, now=NOW).cert
    assert short.not_valid_after_utc - short.not_valid_before_utc == dt.timedelta(days=1)


def test_every_certificate_starts_five_minutes_before_now(ca: certs.Issued) -> None:
    skewed = NOW - dt.timedelta(minutes=5)
    assert ca.cert.not_valid_before_utc == skewed
    leaf = certs.issue_client_cert(ca, "bob", validity_days=30, now=NOW).cert
    assert leaf.not_valid_before_utc == skewed
    assert leaf.not_valid_after_utc == skewed + dt.timedelta(days=30)
    crl = certs.build_crl(ca, [], crl_number=1, validity_days=10, now=NOW)
    assert crl.last_update_utc == skewed
    assert crl.next_update_utc == skewed + dt.timedelta(days=10)


def test_a_given_key_is_the_one_certified(ca: certs.Issued) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = certs.issue_client_cert(ca, "carol", key=key, now=NOW)
    assert issued.key is key
    public = issued.cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == key.public_key().public_numbers()


def test_serials_are_positive_and_fit_20_octets(ca: certs.Issued) -> None:
    serials = [ca.cert.serial_number]
    serials += [certs.issue_client_cert(ca, "dave", now=NOW).cert.serial_number for _ in range(3)]
    for serial in serials:
        assert 0 < serial < 2**159
    assert len(set(serials)) == len(serials)


def test_the_crl_names_its_issuer_key_and_keeps_every_distinct_serial(ca: certs.Issued) -> None:
    when = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    crl = certs.build_crl(ca, [(5, when), (5, when), (9, when), (5, when), (7, when)], crl_number=3)
    assert sorted(r.serial_number for r in crl) == [5, 7, 9]
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    nine = crl.get_revoked_certificate_by_serial_number(9)
    assert nine is not None and nine.revocation_date_utc == when
    empty = certs.build_crl(ca, [], crl_number=4)
    assert len(empty) == 0 and empty.is_signature_valid(ca.key.public_key())


def test_needs_reissue_at_the_exact_boundary(ca: certs.Issued) -> None:
    cert = certs.issue_client_cert(ca, "erin", validity_days=40, now=NOW).cert
    end = cert.not_valid_after_utc
    at = end - dt.timedelta(days=30)
    assert certs.needs_reissue(cert, renew_before_days=30, now=at)  # "within 30 days"
    assert not certs.needs_reissue(cert, renew_before_days=30, now=at - dt.timedelta(seconds=1))
    assert certs.needs_reissue(cert, renew_before_days=0, now=end + dt.timedelta(seconds=1))


def test_a_key_of_another_algorithm_is_refused() -> None:
    pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    for check in (True, False):
        with pytest.raises(ValueError, match="not an RSA key"):
            certs.key_from_pem(pem, check=check)


@pytest.mark.parametrize("field", ["d", "dmp1", "dmq1", "iqmp"])
def test_each_altered_private_number_is_refused_without_the_slow_check(
    ca: certs.Issued, field: str
) -> None:
    numbers = ca.key.private_numbers()
    values = {
        "p": numbers.p,
        "q": numbers.q,
        "d": numbers.d,
        "dmp1": numbers.dmp1,
        "dmq1": numbers.dmq1,
        "iqmp": numbers.iqmp,
    }
    values[field] += 2
    bad = rsa.RSAPrivateNumbers(**values, public_numbers=numbers.public_numbers).private_key(
        unsafe_skip_rsa_key_validation=True
    )
    with pytest.raises(ValueError, match="numbers disagree"):
        certs.key_from_pem(_pem(bad), check=False)


def _der_int(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 128:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def _pkcs1_pem(*numbers: int) -> str:
    """An RSAPrivateKey (RFC 8017 A.1.2) written by hand: cryptography refuses to build these."""
    body = b"".join(_der_int(n) for n in (0, *numbers))  # version 0, then n, e, d, p, q, ...
    der = b"\x30" + _der_length(len(body)) + body
    lines = base64.encodebytes(der).decode()
    return f"-----BEGIN RSA PRIVATE KEY-----\n{lines}-----END RSA PRIVATE KEY-----\n"


def test_a_hand_written_key_whose_numbers_agree_loads(ca: certs.Issued) -> None:
    k = ca.key.private_numbers()
    numbers = (k.public_numbers.n, k.public_numbers.e, k.d, k.p, k.q, k.dmp1, k.dmq1, k.iqmp)
    loaded = certs.key_from_pem(_pkcs1_pem(*numbers), check=False)
    assert loaded.private_numbers() == k


@pytest.mark.parametrize("case", ["p altered", "q altered", "p = 1, q = n", "q = 1, p = n"])
def test_primes_that_do_not_make_the_modulus_are_refused_without_the_slow_check(
    ca: certs.Issued, case: str
) -> None:
    k = ca.key.private_numbers()
    n, e, d = k.public_numbers.n, k.public_numbers.e, k.d
    numbers = {
        "p altered": (n, e, d, k.p + 2, k.q, k.dmp1, k.dmq1, k.iqmp),
        "q altered": (n, e, d, k.p, k.q + 2, k.dmp1, k.dmq1, k.iqmp),
        "p = 1, q = n": (n, e, d, 1, n, 0, d % (n - 1), 0),
        "q = 1, p = n": (n, e, d, n, 1, d % (n - 1), 0, 0),
    }[case]
    with pytest.raises(ValueError, match="numbers disagree"):
        certs.key_from_pem(_pkcs1_pem(*numbers), check=False)


LEAF_USAGE = x509.KeyUsage(  # the module's contract: digitalSignature + keyEncipherment only
    digital_signature=True,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,  # RFC 5280 4.2.1.3: only a CA signs certificates and CRLs
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def test_extension_criticality_follows_rfc_5280(ca: certs.Issued) -> None:
    server = certs.issue_server_cert(ca, "server.vpn.cvpn.internal", now=NOW).cert
    client = certs.issue_client_cert(ca, "frank", now=NOW).cert
    crl = certs.build_crl(ca, [(3, NOW)], crl_number=2, now=NOW)

    def critical(holder: x509.Certificate | x509.CertificateRevocationList, kind: type) -> bool:
        return holder.extensions.get_extension_for_class(kind).critical

    assert critical(ca.cert, x509.BasicConstraints)  # 4.2.1.9: MUST be critical in a CA
    for cert in (ca.cert, server, client):
        assert not critical(cert, x509.SubjectKeyIdentifier)  # 4.2.1.2: MUST be non-critical
    for cert in (server, client):
        assert not critical(cert, x509.AuthorityKeyIdentifier)  # 4.2.1.1: MUST be non-critical
        assert cert.extensions.get_extension_for_class(x509.KeyUsage).value == LEAF_USAGE
    assert not critical(server, x509.SubjectAlternativeName)  # 4.2.1.6: the subject is set
    assert not critical(crl, x509.CRLNumber)  # 5.2.3: a non-critical CRL extension
    assert not critical(crl, x509.AuthorityKeyIdentifier)


def test_the_documented_default_lifetimes(ca: certs.Issued) -> None:
    day = dt.timedelta(days=1)
    server = certs.issue_server_cert(ca, "server.vpn.cvpn.internal", now=NOW).cert
    assert server.not_valid_after_utc - server.not_valid_before_utc == 825 * day
    crl = certs.build_crl(ca, [], crl_number=1, now=NOW)
    assert crl.next_update_utc is not None and crl.last_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == 3650 * day  # 10 years
