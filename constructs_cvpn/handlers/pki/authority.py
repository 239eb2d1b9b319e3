"""``Kind=Authority``: the CA, the server certificate and its ACM import.

Runs before the Client VPN endpoint exists. Properties (CloudFormation strings):

- ``CaSecretPrefix`` (required): the CA secret is ``<CaSecretPrefix>-<16 hex digits>``,
  the digits derived from the Create request's id: unknown before the stack is created, so
  nobody can create the secret first. A Create never adopts a secret it did not create: an
  existing secret of that name must carry this request's marker tag and be encrypted with
  ``KmsKeyArn`` (a secret without ``KmsKeyId`` is not ours).
- ``KmsKeyArn`` (required): customer-managed KMS key encrypting that secret.
- ``ServerName``: server certificate CN and DNS SAN; must contain a dot. Default
  ``server.<CaSecretPrefix as a DNS label>.cvpn.internal``.
- ``CaValidityDays`` (default 3650, 1-36500), ``ServerValidityDays`` (default 825,
  1-3650), ``RenewBeforeDays`` (default 30, 0-3650): the server certificate is re-issued
  and re-imported under the same ACM ARN when it expires within ``RenewBeforeDays`` or
  ``ServerName`` changed, on an Update or on the scheduled ``Renew``. The CA is never
  rotated.
- ``MetricDimension`` (optional): the ``Vpn`` dimension of the ``DaysToExpiry`` metric
  (the lower of the server certificate's and the CA's days left).
- ``ReaderRoleArns`` (required, a list): the roles that may read and write the secret's
  value (the two PKI handler roles). Right after creating the secret the handler attaches a
  resource policy denying ``GetSecretValue``, ``PutSecretValue`` and ``UpdateSecret`` to every
  other principal, and :data:`ADMIN_ACTIONS` to every principal but ``GuardAdminArns``.
- ``GuardAdminArns`` (a list; default: ``ReaderRoleArns``): who may delete the secret or
  change its resource policy (the CA handler role and the break-glass principal).

On Delete, an ACM certificate still in use (the endpoint releases it a while after its
deletion) is retried for :data:`IN_USE_WAIT_SECONDS`, then left in place with a warning.
A certificate carrying this CA's tag is re-used, re-imported over or deleted only if its
certificate (``acm:GetCertificate``) was issued by this CA: a tag anyone can set is no proof.

On Delete the secret is scheduled for deletion with a 30-day recovery window. A stack
deployed again gets a new CA (a new request id, a new secret): certificates of the old CA,
revoked or not, do not verify against the new endpoint.

PhysicalResourceId: the secret ARN (pass it as ``CaSecretArn`` to ``Kind=Users``).
Data: ``ServerCertificateArn`` and ``ClientRootCertificateArn``. They are the same ARN:
client and server certificates come from the same CA, so AWS accepts the server certificate
as the client root chain (AWS Client VPN admin guide, "Mutual authentication"), and the CA
private key never goes to ACM.

Idempotency: a retry of the same Create finds the secret it created (same request id,
marker tag); the server certificate and key are saved in the secret before the ACM import;
the imported certificate is tagged ``constructs-cvpn:ca-secret = <secret name>`` and its ARN
saved in the secret, so a retry after any failure re-uses the certificate (one whose serial
matches) instead of importing a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from . import certs, clock
from .aws import client
from .guard import admins as _admins
from .guard import guard as _guard
from .metrics import emit_days_to_expiry
from .props import PropertyError, get_int, get_str, get_str_list
from .state import CaBundle

__all__ = ["TAG_KEY", "create_or_update", "delete"]

LOG = logging.getLogger(__name__)
TAG_KEY = "constructs-cvpn:ca-secret"
"""Tag put on the imported ACM certificate; its value is the secret name."""
RECOVERY_WINDOW_DAYS = 30
"""Recovery window of the CA secret's deletion."""
IN_USE_WAIT_SECONDS = 240
"""How long Delete retries an ACM certificate that is still in use."""


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _norm_serial(serial: str) -> str:
    return serial.replace(":", "").lower().lstrip("0")


REQUEST_TAG = "constructs-cvpn:ca-request"
"""Tag on the CA secret: a hash of the Create request that made it."""


def _request_marker(request_id: str) -> str:
    return hashlib.sha256(request_id.encode()).hexdigest()[:16]


def _create_bundle(
    prefix: str, request_id: str, kms_key_arn: str, ca_validity_days: int
) -> tuple[CaBundle, str, str, bool]:
    """Create the CA and its secret (or find this request's own).

    Returns:
        bundle, secret ARN, secret name, and whether this run created the secret.
    """
    if not request_id:
        raise PropertyError("a Create request needs a RequestId")
    marker = _request_marker(request_id)
    name = f"{prefix}-{marker}"
    sm = client("secretsmanager")
    ca = certs.create_ca(f"constructs-cvpn CA {name}"[:64], validity_days=ca_validity_days)
    bundle = CaBundle(ca_key_pem=certs.key_to_pem(ca.key), ca_cert_pem=certs.cert_to_pem(ca.cert))
    try:
        created = sm.create_secret(
            Name=name,
            KmsKeyId=kms_key_arn,
            SecretString=bundle.to_json(),
            Description="constructs-cvpn: Client VPN CA and server key (do not edit)",
            Tags=[
                {"Key": "constructs-cvpn:kind", "Value": "certificate-authority"},
                {"Key": REQUEST_TAG, "Value": marker},
            ],
        )
        LOG.info("created CA secret %s", created["ARN"])
        return bundle, str(created["ARN"]), name, True
    except ClientError as err:
        if _code(err) != "ResourceExistsException":
            raise
    described = sm.describe_secret(SecretId=name)
    tags = {t.get("Key"): t.get("Value") for t in described.get("Tags", [])}
    if tags.get(REQUEST_TAG) != marker or described.get("KmsKeyId") != kms_key_arn:
        raise RuntimeError(
            f"refusing to use the existing secret {name}: this handler did not create it "
            "(its marker tag or KMS key is not ours)"
        )
    arn = str(described["ARN"])
    value = sm.get_secret_value(SecretId=arn)  # a run of the same request made it
    return CaBundle.from_json(str(value.get("SecretString", ""))), arn, name, False


def _load_bundle(secret_arn: str, kms_key_arn: str) -> tuple[CaBundle, str]:
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


def _save(bundle: CaBundle, secret_arn: str) -> None:
    client("secretsmanager").put_secret_value(SecretId=secret_arn, SecretString=bundle.to_json())


def _tagged_certificates(name: str) -> list[str]:
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


def _issued_by_ca(arn: str, ca: x509.Certificate) -> bool:
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


def _acm_serial(arn: str) -> str | None:
    """Serial of the certificate in ACM (normalized), or None if it does not exist."""
    try:
        cert = client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as err:
        if _code(err) == "ResourceNotFoundException":
            return None
        raise
    return _norm_serial(str(cert.get("Serial", "")))


def _import(bundle: CaBundle, name: str, arn: str | None) -> str:
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


def create_or_update(
    props: Mapping[str, Any],
    *,
    physical_id: str | None,
    request_id: str = "",
    renew: bool = False,
) -> tuple[str, dict[str, str]]:
    """Create (``physical_id`` None), update or renew the authority.

    A Renew of a secret scheduled for deletion (the stack was deleted) does nothing. A
    failed Create deletes the secret it made (without recovery: it holds a CA key nobody
    uses) and the certificate it imported, since the rollback Delete of a failed Create is
    answered without calling the handler (see ``handlers.cloudformation``).

    Returns:
        ``(secret ARN, Data)``.
    """
    prefix = get_str(props, "CaSecretPrefix")
    kms_key_arn = get_str(props, "KmsKeyArn")
    server_name = get_str(props, "ServerName", certs.default_server_name(prefix))
    ca_days = get_int(props, "CaValidityDays", certs.CA_VALIDITY_DAYS, low=1, high=36500)
    server_days = get_int(props, "ServerValidityDays", certs.SERVER_VALIDITY_DAYS, low=1, high=3650)
    get_int(props, "RenewBeforeDays", 30, low=0, high=3650)  # refuse a bad value before any call
    now = clock.now()

    if physical_id is None:
        readers = get_str_list(props, "ReaderRoleArns")
        if not readers:
            raise PropertyError("property ReaderRoleArns must name at least one role")
        bundle, secret_arn, name, created = _create_bundle(prefix, request_id, kms_key_arn, ca_days)
        try:
            # again for a run of the same request: idempotent
            _guard(secret_arn, readers, _admins(props, readers))
            return _reconcile(bundle, secret_arn, name, props, server_name, server_days, now)
        except BaseException:
            if created:  # never delete what an overlapping run of this request made
                _discard(secret_arn, name, certs.cert_from_pem(bundle.ca_cert_pem))
            raise
    secret_arn = physical_id
    if renew and _deleted(secret_arn):
        LOG.info("CA secret deleted or scheduled for deletion: nothing to renew")
        return secret_arn, {}
    if not secret_arn.startswith("arn:") or ":secretsmanager:" not in secret_arn:
        raise PropertyError(f"physical id {secret_arn!r} is not a Secrets Manager secret ARN")
    readers = get_str_list(props, "ReaderRoleArns") if "ReaderRoleArns" in props else []
    if readers:
        # First: the roles may have changed (a new role would be denied the read below);
        # it also heals a tampered policy.
        _guard(secret_arn, readers, _admins(props, readers))
    bundle, name = _load_bundle(secret_arn, kms_key_arn)
    return _reconcile(bundle, secret_arn, name, props, server_name, server_days, now)


def _deleted(secret_arn: str) -> bool:
    """True if the secret is gone or scheduled for deletion."""
    try:
        described = client("secretsmanager").describe_secret(SecretId=secret_arn)
    except ClientError as err:
        if _code(err) == "ResourceNotFoundException":
            return True
        raise
    return bool(described.get("DeletedDate"))


def _discard(secret_arn: str, name: str, ca: x509.Certificate) -> None:
    """After a failed Create: delete the new secret and any certificate imported for it."""
    try:
        for arn in _tagged_certificates(name):
            if _issued_by_ca(arn, ca):
                _delete_certificate(arn, 0)
        client("secretsmanager").delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)
        LOG.info("failed Create: deleted the CA secret and its certificate")
    except Exception:
        LOG.exception("failed Create: could not delete the CA secret %s", secret_arn)


def _reconcile(
    bundle: CaBundle,
    secret_arn: str,
    name: str,
    props: Mapping[str, Any],
    server_name: str,
    server_days: int,
    now: dt.datetime,
) -> tuple[str, dict[str, str]]:
    """Re-issue and import the server certificate as needed; report days to expiry."""
    renew_before = get_int(props, "RenewBeforeDays", 30, low=0, high=3650)
    ca = certs.Issued(
        key=certs.key_from_pem(bundle.ca_key_pem), cert=certs.cert_from_pem(bundle.ca_cert_pem)
    )

    reissue = not bundle.server_cert_pem
    if not reissue:
        current = certs.cert_from_pem(bundle.server_cert_pem)
        cn = current.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        reissue = (
            certs.needs_reissue(current, renew_before_days=renew_before, now=now)
            or not cn
            or cn[0].value != server_name
        )
    if reissue:
        server = certs.issue_server_cert(ca, server_name, validity_days=server_days, now=now)
        bundle.server_key_pem = certs.key_to_pem(server.key)
        bundle.server_cert_pem = certs.cert_to_pem(server.cert)
        _save(bundle, secret_arn)  # before the import: a retry re-imports the same cert
        LOG.info("issued server certificate %s", server_name)

    server_cert = certs.cert_from_pem(bundle.server_cert_pem)
    want_serial = _norm_serial(certs.serial_hex(server_cert.serial_number))
    arn = bundle.server_certificate_arn
    if arn and _acm_serial(arn) is None:
        LOG.warning("ACM certificate %s is gone; importing again", arn)
        arn = ""
    if not arn:
        # A retry after an import whose ARN was not saved: only a certificate with our
        # server certificate's serial is ours; never fall back to any other.
        arn = next(
            (
                a
                for a in _tagged_certificates(name)
                if _acm_serial(a) == want_serial and _issued_by_ca(a, ca.cert)
            ),
            "",
        )
    if not arn or _acm_serial(arn) != want_serial:
        arn = _import(bundle, name, arn or None)
        LOG.info("imported server certificate into ACM: %s", arn)
    if arn != bundle.server_certificate_arn:
        bundle.server_certificate_arn = arn
        _save(bundle, secret_arn)
    left = min(server_cert.not_valid_after_utc, ca.cert.not_valid_after_utc) - now
    emit_days_to_expiry(get_str(props, "MetricDimension", ""), left.total_seconds() / 86400)
    return secret_arn, {"ServerCertificateArn": arn, "ClientRootCertificateArn": arn}


def _delete_certificate(arn: str, wait_seconds: int) -> None:
    acm = client("acm")
    deadline = time.monotonic() + wait_seconds
    delay = 5.0
    while True:
        try:
            acm.delete_certificate(CertificateArn=arn)
            LOG.info("deleted ACM certificate %s", arn)
            return
        except ClientError as err:
            code = _code(err)
            if code == "ResourceNotFoundException":
                LOG.info("ACM certificate %s already deleted", arn)
                return
            if code != "ResourceInUseException":
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


def delete(physical_id: str, props: Mapping[str, Any]) -> None:
    """Delete this CA's ACM certificate(s) and schedule the secret's deletion."""
    window = RECOVERY_WINDOW_DAYS
    if not physical_id.startswith("arn:") or ":secretsmanager:" not in physical_id:
        LOG.info("physical id %s is not a secret ARN: nothing was created", physical_id)
        return
    sm = client("secretsmanager")
    arns: set[str] = set()
    name = physical_id.split(":secret:", 1)[-1][:-7]  # Secrets Manager appends -XXXXXX
    try:
        value = sm.get_secret_value(SecretId=physical_id)
    except ClientError as err:
        if _code(err) not in ("ResourceNotFoundException", "InvalidRequestException"):
            raise
        LOG.info(
            "CA secret already deleted or scheduled for deletion: no certificate is "
            "deleted, as none can be proven to be this CA's"
        )
    else:
        bundle = CaBundle.from_json(str(value.get("SecretString", "")))
        ca = certs.cert_from_pem(bundle.ca_cert_pem)
        if bundle.server_certificate_arn:
            arns.add(bundle.server_certificate_arn)
        arns.update(a for a in _tagged_certificates(name) if _issued_by_ca(a, ca))
    for arn in sorted(arns):
        _delete_certificate(arn, IN_USE_WAIT_SECONDS)
    try:
        sm.delete_secret(SecretId=physical_id, RecoveryWindowInDays=window)
        LOG.info("scheduled deletion of CA secret in %d days", window)
    except ClientError as err:
        if _code(err) not in ("ResourceNotFoundException", "InvalidRequestException"):
            raise
