"""The CA's secret in Secrets Manager: creating it, guarding it, claiming the first import.

The secret (:class:`.state.CaBundle`) holds the CA key and certificate, the server key and
certificate and the ACM ARN. It is named ``<CaSecretPrefix>-<16 hex digits of the Create's
request id>`` and tagged with that marker and with the stack and logical id of the resource
(so that a Delete with an id CloudFormation generated finds it, :func:`orphans`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
import uuid

from botocore.exceptions import ClientError
from cryptography import x509

from . import acm, certs
from .aws import client
from .props import PropertyError
from .state import CaBundle

__all__ = [
    "IMPORT_WAIT_SECONDS",
    "REQUEST_TAG",
    "Owner",
    "claim_or_wait",
    "create_bundle",
    "load_bundle",
    "orphans",
    "request_marker",
    "save",
]

LOG = logging.getLogger(__name__)


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


REQUEST_TAG = "constructs-cvpn:ca-request"
"""Tag on the CA secret: a hash of the Create request that made it."""
STACK_TAG = "constructs-cvpn:stack"
RESOURCE_TAG = "constructs-cvpn:resource"
"""Tags on the CA secret: the stack id and logical id of the resource that made it, so that
a Delete with an id CloudFormation generated (a Create that never answered) finds it."""
IMPORT_WAIT_SECONDS = 120
"""How long a run waits for the ACM import another run of the same Create claimed."""


def request_marker(request_id: str) -> str:
    return hashlib.sha256(request_id.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Owner:
    """Who creates: the stack and logical id of the custom resource (secret tags)."""

    stack_id: str = ""
    logical_id: str = ""


def create_bundle(
    prefix: str,
    request_id: str,
    kms_key_arn: str,
    ca_validity_days: int,
    server: tuple[str, int],
    owner: Owner,
) -> tuple[CaBundle, str, str, bool]:
    """Create the CA, the server certificate and their secret (or find this request's own).

    The server certificate is in the secret from its creation on: two runs of one Create
    (at-least-once delivery) hold the same one, so at most one certificate is imported.

    Returns:
        bundle, secret ARN, secret name, and whether this run created the secret.
    """
    if not request_id:
        raise PropertyError("a Create request needs a RequestId")
    marker = request_marker(request_id)
    name = f"{prefix}-{marker}"
    sm = client("secretsmanager")
    ca = certs.create_ca(f"constructs-cvpn CA {name}"[:64], validity_days=ca_validity_days)
    issued = certs.issue_server_cert(ca, server[0], validity_days=server[1])
    bundle = CaBundle(
        ca_key_pem=certs.key_to_pem(ca.key),
        ca_cert_pem=certs.cert_to_pem(ca.cert),
        server_key_pem=certs.key_to_pem(issued.key),
        server_cert_pem=certs.cert_to_pem(issued.cert),
    )
    tags = [
        {"Key": "constructs-cvpn:kind", "Value": "certificate-authority"},
        {"Key": REQUEST_TAG, "Value": marker},
    ]
    tags += [
        {"Key": k, "Value": v}
        for k, v in ((STACK_TAG, owner.stack_id), (RESOURCE_TAG, owner.logical_id))
        if v
    ]
    try:
        created = sm.create_secret(
            Name=name,
            KmsKeyId=kms_key_arn,
            SecretString=bundle.to_json(),
            Description="constructs-cvpn: Client VPN CA and server key (do not edit)",
            Tags=tags,
        )
        LOG.info("created CA secret %s", created["ARN"])
        return bundle, str(created["ARN"]), name, True
    except ClientError as err:
        if _code(err) != "ResourceExistsException":
            raise
    described = sm.describe_secret(SecretId=name)
    found = {t.get("Key"): t.get("Value") for t in described.get("Tags", [])}
    if found.get(REQUEST_TAG) != marker or described.get("KmsKeyId") != kms_key_arn:
        raise RuntimeError(
            f"refusing to use the existing secret {name}: this handler did not create it "
            "(its marker tag or KMS key is not ours)"
        )
    arn = str(described["ARN"])
    value = sm.get_secret_value(SecretId=arn)  # a run of the same request made it
    return CaBundle.from_json(str(value.get("SecretString", ""))), arn, name, False


def load_bundle(secret_arn: str, kms_key_arn: str) -> tuple[CaBundle, str]:
    """The CA bundle of an existing resource (its physical id); return bundle and name."""
    sm = client("secretsmanager")
    described = sm.describe_secret(SecretId=secret_arn)
    if described.get("DeletedDate"):
        LOG.info("restoring CA secret %s scheduled for deletion", secret_arn)
        sm.restore_secret(SecretId=secret_arn)
    if described.get("KmsKeyId") != kms_key_arn:
        sm.update_secret(SecretId=secret_arn, KmsKeyId=kms_key_arn)
    value = sm.get_secret_value(SecretId=secret_arn)
    return CaBundle.from_json(str(value.get("SecretString", ""))), str(described["Name"])


def save(bundle: CaBundle, secret_arn: str) -> None:
    client("secretsmanager").put_secret_value(SecretId=secret_arn, SecretString=bundle.to_json())


def claim_or_wait(
    bundle: CaBundle, secret_arn: str, name: str, serial: str, ca: x509.Certificate
) -> str:
    """Claim the first import of this server certificate: "" if this run may import it,
    else the ARN the run that claimed it imported.

    The claim is a ``PutSecretValue`` whose ``ClientRequestToken`` is derived from the
    secret and the certificate's serial, with this run's own token in the value: Secrets
    Manager refuses a second version with the same token and other content
    (``ResourceExistsException``, PutSecretValue API reference), so exactly one run wins.
    """
    # One claim per certificate and predecessor: a certificate deleted outside gets a new one.
    seed = f"constructs-cvpn:import:{name}:{serial}:{bundle.server_certificate_arn}"
    token = str(uuid.uuid5(uuid.NAMESPACE_URL, seed))
    claim = dataclasses.replace(bundle, import_claim=secrets.token_hex(8))
    try:
        client("secretsmanager").put_secret_value(
            SecretId=secret_arn, ClientRequestToken=token, SecretString=claim.to_json()
        )
        return ""
    except ClientError as err:
        if _code(err) != "ResourceExistsException":
            raise
    LOG.info("another run of this request imports the server certificate: waiting for it")
    end = time.monotonic() + IMPORT_WAIT_SECONDS
    while True:
        for arn in acm.tagged_certificates(name):
            if acm.acm_serial(arn) == serial and acm.issued_by_ca(arn, ca):
                return arn
        if time.monotonic() >= end:
            raise RuntimeError(
                "another run of this Create claimed the server certificate's import and has "
                f"not finished it within {IMPORT_WAIT_SECONDS} s; deploy again"
            )
        time.sleep(5)


def orphans(prefix: str, owner: Owner) -> list[str]:
    """ARNs of live CA secrets this resource made (by name prefix and owner tags)."""
    if not (owner.stack_id and owner.logical_id):
        return []
    found: list[str] = []
    pages = client("secretsmanager").get_paginator("list_secrets")
    for page in pages.paginate(Filters=[{"Key": "name", "Values": [f"{prefix}-"]}]):
        for secret in page.get("SecretList", []):
            tags = {t.get("Key"): t.get("Value") for t in secret.get("Tags", [])}
            mine = tags.get(STACK_TAG) == owner.stack_id
            mine = mine and tags.get(RESOURCE_TAG) == owner.logical_id
            if mine and not secret.get("DeletedDate"):
                found.append(str(secret["ARN"]))
    return found
