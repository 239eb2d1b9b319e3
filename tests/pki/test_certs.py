"""The generated certificates satisfy AWS Client VPN / ACM rules (RSA 2048, SHA-256, EKUs...)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from constructs_cvpn.handlers.pki import certs


@pytest.fixture(scope="module")
def ca() -> certs.Issued:
    return certs.create_ca("Test CA")


def _cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def _verify_signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    public = issuer.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert cert.signature_hash_algorithm is not None
    public.verify(
        cert.signature,
        cert.tbs_certificate_bytes,
        padding.PKCS1v15(),
        cert.signature_hash_algorithm,
    )


def test_ca_is_rsa2048_sha256_with_ca_constraints(ca: certs.Issued) -> None:
    cert = ca.cert
    assert isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert ca.key.key_size == 2048
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is True
    assert bc.value.path_length == 0  # it signs leaves only, never another CA (RFC 5280 4.2.1.9)
    ku_ext = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku_ext.critical  # RFC 5280 4.2.1.3: a CA's key usage SHOULD be critical
    # exactly keyCertSign and cRLSign (RFC 5280 4.2.1.3), nothing a leaf would use
    assert ku_ext.value == x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key())
    assert cert.issuer == cert.subject
    _verify_signed_by(cert, cert)
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 3650


def test_server_cert_has_domain_cn_and_san_and_server_auth(ca: certs.Issued) -> None:
    name = certs.default_server_name("cvpn/test/CA")
    assert name == "server.cvpn-test-ca.cvpn.internal"
    issued = certs.issue_server_cert(ca, name, validity_days=90)
    cert = issued.cert
    assert issued.key.key_size == 2048
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert _cn(cert) == name
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [name]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    ku_ext = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku_ext.critical
    ku = ku_ext.value
    assert ku.digital_signature and ku.key_encipherment and not ku.key_cert_sign
    bc_ext = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc_ext.critical  # RFC 5280 4.2.1.9 (critical in every certificate this PKI makes)
    bc = bc_ext.value
    assert bc.ca is False
    assert not cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).critical
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert (
        aki.key_identifier == x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key()).digest
    )
    assert cert.issuer == ca.cert.subject
    _verify_signed_by(cert, ca.cert)
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 90


def test_server_name_without_domain_is_rejected(ca: certs.Issued) -> None:
    with pytest.raises(ValueError, match="domain"):
        certs.issue_server_cert(ca, "server")


def test_client_cert_cn_is_user_and_client_auth(ca: certs.Issued) -> None:
    issued = certs.issue_client_cert(ca, "alice.smith")
    cert = issued.cert
    assert _cn(cert) == "alice.smith"
    assert issued.key.key_size == 2048
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    _verify_signed_by(cert, ca.cert)
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 825


def test_leaf_validity_is_capped_at_ca_expiry() -> None:
    short_ca = certs.create_ca(validity_days=10)
    issued = certs.issue_client_cert(short_ca, "bob", validity_days=825)
    assert issued.cert.not_valid_after_utc == short_ca.cert.not_valid_after_utc


@pytest.mark.parametrize("name", ["alice", "a", "Bob_2", "x.y-z", "A" * 64])
def test_valid_user_names(name: str) -> None:
    assert certs.check_user_name(name) == name


@pytest.mark.parametrize(
    "name", ["", ".hidden", "..", "a/b", "a b", "-x", "A" * 65, "é", "a\n", None, 3]
)
def test_invalid_user_names(name: object) -> None:
    with pytest.raises(certs.InvalidUserNameError, match="invalid user name"):
        certs.check_user_name(name)


def test_crl_lists_revoked_serials_signed_by_ca(ca: certs.Issued) -> None:
    a = certs.issue_client_cert(ca, "a").cert
    b = certs.issue_client_cert(ca, "b").cert
    when = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    crl = certs.build_crl(
        ca, [(a.serial_number, when), (a.serial_number, when)], crl_number=7, validity_days=30
    )
    assert crl.is_signature_valid(ca.key.public_key())
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA256)
    assert crl.issuer == ca.cert.subject
    assert crl.get_revoked_certificate_by_serial_number(a.serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(b.serial_number) is None
    assert len(crl) == 1
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
    assert crl.next_update_utc is not None and crl.last_update_utc is not None
    assert (crl.next_update_utc - crl.last_update_utc).days == 30
    pem = certs.crl_to_pem(crl)
    assert pem.startswith("-----BEGIN X509 CRL-----")
    assert x509.load_pem_x509_crl(pem.encode()).fingerprint(hashes.SHA256()) == crl.fingerprint(
        hashes.SHA256()
    )


def test_needs_reissue_threshold(ca: certs.Issued) -> None:
    cert = certs.issue_client_cert(ca, "c", validity_days=40).cert
    assert not certs.needs_reissue(cert, renew_before_days=30)
    assert certs.needs_reissue(cert, renew_before_days=41)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=15)
    assert certs.needs_reissue(cert, renew_before_days=30, now=later)


def test_issued_by_own_ca_only(ca: certs.Issued) -> None:
    mine = certs.issue_client_cert(ca, "alice").cert
    assert certs.issued_by(mine, ca)
    other = certs.create_ca("Other CA")
    assert not certs.issued_by(mine, other)
    assert not certs.issued_by(certs.issue_client_cert(other, "alice").cert, ca)
    # Same subject name, other key: the signature decides, not the name.
    twin = certs.create_ca("Test CA")
    assert twin.cert.subject == ca.cert.subject
    assert not certs.issued_by(mine, twin)
    assert not certs.issued_by(certs.issue_client_cert(twin, "alice").cert, ca)


def test_pem_round_trip(ca: certs.Issued) -> None:
    pem = certs.key_to_pem(ca.key)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert certs.key_from_pem(pem).private_numbers() == ca.key.private_numbers()
    assert certs.cert_from_pem(certs.cert_to_pem(ca.cert)) == ca.cert
    with pytest.raises(ValueError, match="not an unencrypted PEM private key") as info:
        certs.key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert "AAAA" not in str(info.value)
    assert certs.serial_hex(255) == "ff"


def test_key_from_pem_without_the_check_loads_a_valid_key(ca: certs.Issued) -> None:
    pem = certs.key_to_pem(ca.key)
    loaded = certs.key_from_pem(pem, check=False)
    assert loaded.private_numbers() == ca.key.private_numbers()
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        certs.key_from_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", check=False
        )


def test_key_from_pem_checks_the_key_by_default(ca: certs.Issued) -> None:
    # An inconsistent key (d that does not invert e): refused by OpenSSL's check, and by the
    # cheap check of its numbers without it.
    numbers = ca.key.private_numbers()
    bad = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d + 2,
        dmp1=numbers.dmp1,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    pem = bad.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        certs.key_from_pem(pem)
    with pytest.raises(ValueError, match="numbers disagree"):
        certs.key_from_pem(pem, check=False)
    good = ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert certs.key_from_pem(good, check=False).private_numbers() == numbers
