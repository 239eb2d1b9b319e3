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
deletion) is retried for :data:`.acm.IN_USE_WAIT_SECONDS`, then left in place holding a
throwaway certificate (:func:`.acm.scrub`): the server key leaves ACM. A Delete whose
physical id is not a secret ARN (a failed Create's marker, or an id CloudFormation generated
after a Create that never answered) removes the secrets this resource made, found by their
stack and logical id tags (:func:`.ca_secret.orphans`).
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
marker tag); the server certificate and key are in the secret from its creation on; the first
import is claimed in the secret (:func:`.ca_secret.claim_or_wait`: one run imports, another
waits for its ARN); the imported certificate is tagged ``constructs-cvpn:ca-secret = <secret
name>`` and its ARN saved in the secret, so a retry after any failure re-uses the certificate
(one whose serial matches) instead of importing a second one. Once the CA has expired every
run fails with :class:`.expiry.CaExpiredError` (README, "The CA's end of life").
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.x509.oid import NameOID

from . import acm, ca_secret, certs, clock, expiry
from .aws import client
from .guard import admins as _admins
from .guard import guard as _guard
from .metrics import CA_METRIC, emit_days_to_expiry
from .props import PropertyError, get_int, get_str, get_str_list
from .state import CaBundle

__all__ = ["create_or_update", "delete"]

LOG = logging.getLogger(__name__)
RECOVERY_WINDOW_DAYS = 30
"""Recovery window of the CA secret's deletion."""


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def create_or_update(
    props: Mapping[str, Any],
    *,
    physical_id: str | None,
    request_id: str = "",
    renew: bool = False,
    stack_id: str = "",
    logical_id: str = "",
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
        bundle, secret_arn, name, created = ca_secret.create_bundle(
            prefix,
            request_id,
            kms_key_arn,
            ca_days,
            (server_name, server_days),
            ca_secret.Owner(stack_id, logical_id),
        )
        try:
            _guard(
                secret_arn, readers, _admins(props, readers)
            )  # again for a run of the same request: idempotent
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
    bundle, name = ca_secret.load_bundle(secret_arn, kms_key_arn)
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
        for arn in acm.tagged_certificates(name):
            if acm.issued_by_ca(arn, ca):
                acm.delete_certificate(arn, 0)
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

    expiry.check_ca_alive(ca.cert, now)
    reissue = not bundle.server_cert_pem
    if not reissue:
        current = certs.cert_from_pem(bundle.server_cert_pem)
        cn = current.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        reissue = (
            expiry.renewal_due(current, ca.cert, renew_before_days=renew_before, now=now)
            or not cn
            or cn[0].value != server_name
        )
    if reissue:
        server = certs.issue_server_cert(ca, server_name, validity_days=server_days, now=now)
        bundle.server_key_pem = certs.key_to_pem(server.key)
        bundle.server_cert_pem = certs.cert_to_pem(server.cert)
        ca_secret.save(bundle, secret_arn)  # before the import: a retry re-imports the same cert
        LOG.info("issued server certificate %s", server_name)

    server_cert = certs.cert_from_pem(bundle.server_cert_pem)
    want_serial = acm.norm_serial(certs.serial_hex(server_cert.serial_number))
    arn = bundle.server_certificate_arn
    if arn and acm.acm_serial(arn) is None:
        LOG.warning("ACM certificate %s is gone; importing again", arn)
        arn = ""
    if not arn:
        # A retry after an import whose ARN was not saved: only a certificate with our
        # server certificate's serial is ours; never fall back to any other.
        arn = next(
            (
                a
                for a in acm.tagged_certificates(name)
                if acm.acm_serial(a) == want_serial and acm.issued_by_ca(a, ca.cert)
            ),
            "",
        )
        if not arn:
            arn = ca_secret.claim_or_wait(bundle, secret_arn, name, want_serial, ca.cert)
    if not arn or acm.acm_serial(arn) != want_serial:
        arn = acm.import_certificate(bundle, name, arn or None)
        LOG.info("imported server certificate into ACM: %s", arn)
    if arn != bundle.server_certificate_arn:
        bundle.server_certificate_arn = arn
        ca_secret.save(bundle, secret_arn)
    left = min(server_cert.not_valid_after_utc, ca.cert.not_valid_after_utc) - now
    dimension = get_str(props, "MetricDimension", "")
    emit_days_to_expiry(dimension, left.total_seconds() / 86400)
    ca_left = ca.cert.not_valid_after_utc - now
    emit_days_to_expiry(dimension, ca_left.total_seconds() / 86400, CA_METRIC)
    return secret_arn, {"ServerCertificateArn": arn, "ClientRootCertificateArn": arn}


def delete(
    physical_id: str, props: Mapping[str, Any], *, stack_id: str = "", logical_id: str = ""
) -> None:
    """Delete this CA's ACM certificate(s) and schedule the secret's deletion.

    A physical id that is not a secret ARN (CloudFormation generated it: the Create never
    answered) deletes what this resource made all the same, found by its tags. A certificate
    an earlier run already deleted does not stop the secret's deletion
    (:func:`.acm.delete_certificate`).
    """
    window = RECOVERY_WINDOW_DAYS
    if not physical_id.startswith("arn:") or ":secretsmanager:" not in physical_id:
        prefix = get_str(props, "CaSecretPrefix", "")
        orphans = ca_secret.orphans(prefix, ca_secret.Owner(stack_id, logical_id)) if prefix else []
        LOG.info(
            "physical id %s is not a secret ARN: %d secrets to remove", physical_id, len(orphans)
        )
        for arn in orphans:
            delete(arn, props)
        return
    sm = client("secretsmanager")
    arns: set[str] = set()
    server_name = ""
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
        arns.update(a for a in acm.tagged_certificates(name) if acm.issued_by_ca(a, ca))
        cn = certs.cert_from_pem(bundle.server_cert_pem).subject if bundle.server_cert_pem else None
        server_name = str(cn.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value) if cn else ""
    for arn in sorted(arns):
        if not acm.delete_certificate(arn, acm.IN_USE_WAIT_SECONDS) and server_name:
            acm.scrub(arn, server_name)
    try:
        sm.delete_secret(SecretId=physical_id, RecoveryWindowInDays=window)
        LOG.info("scheduled deletion of CA secret in %d days", window)
    except ClientError as err:
        if _code(err) not in ("ResourceNotFoundException", "InvalidRequestException"):
            raise
