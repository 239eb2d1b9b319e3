"""The CA's server certificate in ACM: finding, importing, re-importing and deleting it.

The imported certificate is tagged ``constructs-cvpn:ca-secret = <secret name>``
(:data:`TAG_KEY`). A tag anyone can set is no proof: a certificate is this CA's only if its
certificate (``acm:GetCertificate``) was issued by the CA (:func:`issued_by_ca`).

Re-import keeps the ARN (ACM user guide, "Reimport a certificate": the key type and size
cannot change, Key Usage and Extended Key Usage values cannot be removed, no tags on a
re-import). A certificate still in use after :data:`IN_USE_WAIT_SECONDS` is not left with
the server key: :func:`scrub` re-imports a throwaway certificate (same name, same key type
and usages, a fresh key of its own signed by a throwaway CA) over it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from . import certs
from .aws import client
from .state import CaBundle

__all__ = [
    "IN_USE_WAIT_SECONDS",
    "TAG_KEY",
    "acm_serial",
    "delete_certificate",
    "import_certificate",
    "issued_by_ca",
    "norm_serial",
    "scrub",
    "tagged_certificates",
]

LOG = logging.getLogger(__name__)
TAG_KEY = "constructs-cvpn:ca-secret"
"""Tag put on the imported ACM certificate; its value is the secret name."""
IN_USE_WAIT_SECONDS = 240
"""How long Delete retries an ACM certificate that is still in use."""


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def norm_serial(serial: str) -> str:
    return serial.replace(":", "").lower().lstrip("0")


def tagged_certificates(name: str) -> list[str]:
    """ARNs of ACM certificates tagged ``TAG_KEY=name``."""
    acm = client("acm")
    found: list[str] = []
    for page in acm.get_paginator("list_certificates").paginate():
        for summary in page.get("CertificateSummaryList", []):
            arn = summary["CertificateArn"]
            try:
                tags = acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
            except ClientError as err:
                if _code(err) == "ResourceNotFoundException":
                    continue
                raise
            if any(t.get("Key") == TAG_KEY and t.get("Value") == name for t in tags):
                found.append(arn)
    return found


def issued_by_ca(arn: str, ca: x509.Certificate) -> bool:
    """True if the ACM certificate ``arn`` was issued by the CA certificate ``ca``."""
    try:
        pem = client("acm").get_certificate(CertificateArn=arn)["Certificate"]
        cert = certs.cert_from_pem(str(pem))
    except ClientError as err:
        if _code(err) in ("ResourceNotFoundException", "RequestInProgressException"):
            return False
        raise
    except ValueError:
        return False
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def acm_serial(arn: str) -> str | None:
    """Serial of the certificate in ACM (normalized), or None if it does not exist."""
    try:
        cert = client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as err:
        if _code(err) == "ResourceNotFoundException":
            return None
        raise
    return norm_serial(str(cert.get("Serial", "")))


def import_certificate(bundle: CaBundle, name: str, arn: str | None) -> str:
    kwargs: dict[str, Any] = {
        "Certificate": bundle.server_cert_pem.encode(),
        "PrivateKey": bundle.server_key_pem.encode(),
        "CertificateChain": bundle.ca_cert_pem.encode(),
    }
    if arn:
        kwargs["CertificateArn"] = arn  # re-import keeps the ARN; tags not allowed here
    else:
        kwargs["Tags"] = [{"Key": TAG_KEY, "Value": name}]
    try:
        return str(client("acm").import_certificate(**kwargs)["CertificateArn"])
    except ClientError as err:
        # ACM error messages do not echo the key, but be safe and keep only the code.
        raise RuntimeError(f"ACM ImportCertificate failed: {_code(err)}") from None


def delete_certificate(arn: str, wait_seconds: int) -> bool:
    """Delete the certificate, retrying while in use for ``wait_seconds``; False if it is
    still in use then (see :func:`scrub`). True too if it is already gone.

    A certificate deleted by an earlier run (one that then failed or died before it scheduled
    the secret's deletion) answers ``AccessDeniedException``, not ``ResourceNotFoundException``:
    ``acm:DeleteCertificate`` is allowed only on a resource carrying this CA's tag
    (``aws:ResourceTag``), which a certificate that no longer exists cannot match. Such a
    denial counts as "gone" only once ``DescribeCertificate`` (allowed on every certificate
    of the account, whatever its tags) answers ``ResourceNotFoundException`` ("the specified
    certificate cannot be found in the caller's account or Region", ACM API Reference,
    DescribeCertificate); a denial on a certificate that exists is raised.
    """
    acm = client("acm")
    deadline = time.monotonic() + wait_seconds
    delay = 5.0
    while True:
        try:
            acm.delete_certificate(CertificateArn=arn)
            LOG.info("deleted ACM certificate %s", arn)
            return True
        except ClientError as err:
            code = _code(err)
            if code == "ResourceNotFoundException" or (
                code == "AccessDeniedException" and acm_serial(arn) is None
            ):
                LOG.info("ACM certificate %s already deleted", arn)
                return True
            if code != "ResourceInUseException":
                raise
            if time.monotonic() + delay > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def scrub(arn: str, server_name: str) -> None:
    """Re-import a throwaway certificate over ``arn`` (still in use, so not deletable): the
    server key leaves ACM. Same name, key type and usages (re-import rules); its own fresh
    key, signed by a throwaway CA whose key is dropped at once; valid one day."""
    throwaway = certs.create_ca("constructs-cvpn discarded certificate", validity_days=2)
    server = certs.issue_server_cert(throwaway, server_name, validity_days=1)
    bundle = CaBundle(
        ca_key_pem="",
        ca_cert_pem=certs.cert_to_pem(throwaway.cert),
        server_key_pem=certs.key_to_pem(server.key),
        server_cert_pem=certs.cert_to_pem(server.cert),
    )
    import_certificate(bundle, "", arn)
    LOG.warning(
        "ACM certificate %s is still in use: left in place holding a throwaway certificate "
        "(the server's private key is no longer in ACM); delete it once free",
        arn,
    )
