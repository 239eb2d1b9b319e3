"""The server certificate in ACM: import, find by tag, check the issuer, delete.

A certificate carrying this CA's tag (:data:`TAG_KEY` = the secret name) is re-used,
re-imported over or deleted only if this CA issued it: a tag anyone can set is no proof.
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
    "TAG_KEY",
    "acm_serial",
    "code",
    "delete_certificate",
    "import_certificate",
    "issued_by_ca",
    "norm_serial",
    "tagged_certificates",
]

LOG = logging.getLogger(__name__)
TAG_KEY = "constructs-cvpn:ca-secret"
"""Tag put on the imported ACM certificate; its value is the secret name."""


def code(err: ClientError) -> str:
    """The AWS error code of ``err``."""
    return str(err.response.get("Error", {}).get("Code", ""))


def norm_serial(serial: str) -> str:
    """A serial as lower-case hex without colons or leading zeros (ACM's and ours agree)."""
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
                if code(err) == "ResourceNotFoundException":
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
        if code(err) in ("ResourceNotFoundException", "RequestInProgressException"):
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
        if code(err) == "ResourceNotFoundException":
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
        raise RuntimeError(f"ACM ImportCertificate failed: {code(err)}") from None


def delete_certificate(arn: str, wait_seconds: int) -> None:
    acm = client("acm")
    deadline = time.monotonic() + wait_seconds
    delay = 5.0
    while True:
        try:
            acm.delete_certificate(CertificateArn=arn)
            LOG.info("deleted ACM certificate %s", arn)
            return
        except ClientError as err:
            found = code(err)
            if found == "ResourceNotFoundException":
                LOG.info("ACM certificate %s already deleted", arn)
                return
            if found != "ResourceInUseException":
                raise
            if time.monotonic() + delay > deadline:
                LOG.warning(
                    "leaving ACM certificate %s in place: it is still in use (associated with "
                    "a Client VPN endpoint or another resource); delete it by hand once free",
                    arn,
                )
                return
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
