"""Which ACM certificates the ``Kind=Authority`` handler takes for its CA's own.

A certificate is this CA's only if the CA's key signed it (RFC 5280 path validation checks
the signature, not only that the issuer name equals the CA's subject). A tag anyone can set
and a name anyone can choose are no proof: a certificate of *another* CA whose subject
name equals ours, carrying our tag (and even our server certificate's serial), must be
neither deleted nor adopted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from constructs_cvpn.handlers.pki import index

from .conftest import REGION, authority_props, read_bundle, secret_name

ACM_TAG = "constructs-cvpn:ca-secret"  # the contract's tag key


def _acm() -> Any:
    return boto3.client("acm", region_name=REGION)


def _acm_arns() -> set[str]:
    return {c["CertificateArn"] for c in _acm().list_certificates()["CertificateSummaryList"]}


def _acm_serial(arn: str) -> int:
    pem = _acm().get_certificate(CertificateArn=arn)["Certificate"]
    return x509.load_pem_x509_certificate(pem.encode()).serial_number


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _impostor(serial: int | None = None) -> str:
    """Import a server certificate of another CA whose subject name equals our CA's, tagged
    as ours; return its ARN."""
    ours = x509.load_pem_x509_certificate(read_bundle().ca_cert_pem.encode())
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_ca = (
        x509.CertificateBuilder()
        .subject_name(ours.subject)  # the same name, another key
        .issuer_name(ours.subject)
        .public_key(other_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(other_key, hashes.SHA256())
    )
    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = "server.impostor.cvpn.internal"
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ours.subject)
        .public_key(server_key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(other_key, hashes.SHA256())
    )
    assert server.issuer == ours.subject  # by name, it is ours
    return str(
        _acm().import_certificate(
            Certificate=server.public_bytes(serialization.Encoding.PEM),
            PrivateKey=_pem(server_key),
            CertificateChain=other_ca.public_bytes(serialization.Encoding.PEM),
            Tags=[{"Key": ACM_TAG, "Value": secret_name()}],
        )["CertificateArn"]
    )


def _event(request: str, kms_key: str, pid: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"RequestType": request, "ResourceProperties": authority_props(kms_key)}
    if pid is not None:
        event["PhysicalResourceId"] = pid
    return event


def test_delete_leaves_a_same_name_certificate_of_another_ca(ca_secret: str, kms_key: str) -> None:
    ours = read_bundle().server_certificate_arn
    impostor = _impostor()
    index.on_event(_event("Delete", kms_key, ca_secret))
    assert _acm_arns() == {impostor}
    assert ours not in _acm_arns()


def test_a_same_name_certificate_with_our_serial_is_not_adopted(
    ca_secret: str, kms_key: str
) -> None:
    """Our ACM certificate deleted outside: the Update finds by tag a certificate with our
    serial and our CA's name, signed by another key. It must import its own instead."""
    bundle = read_bundle()
    serial = x509.load_pem_x509_certificate(bundle.server_cert_pem.encode()).serial_number
    _acm().delete_certificate(CertificateArn=bundle.server_certificate_arn)
    impostor = _impostor(serial)
    out = index.on_event(_event("Update", kms_key, ca_secret))
    arn = out["Data"]["ServerCertificateArn"]
    assert arn != impostor
    assert _acm_serial(arn) == serial
    pem = _acm().get_certificate(CertificateArn=arn)["Certificate"]
    ca = x509.load_pem_x509_certificate(bundle.ca_cert_pem.encode())
    x509.load_pem_x509_certificate(pem.encode()).verify_directly_issued_by(ca)
    assert _acm_arns() == {arn, impostor}
