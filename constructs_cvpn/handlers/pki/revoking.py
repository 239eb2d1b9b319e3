"""Revoking users' certificates: the ledger, the CRL import and the removed users' files.

A revoked serial goes into the CA's ledger (:mod:`.ledger`) first; the state then marks the
CRL dirty. :func:`sync_crl` reads the endpoint's CRL and imports the whole ledger as one CRL
only if the endpoint's lacks one of its serials (an import resets every client connection).
:func:`delete_removed` deletes every version of the removed users' files (each holds a
private key).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from cryptography import x509

from . import certs, store
from .aws import client
from .clock import Deadline
from .lease import Lease
from .ledger import MAX_CRL_ENTRIES, Ledger, LedgerFullError, ledger_key
from .rendering import user_key
from .state import HeldCertificate, UserRecord, UsersState

if TYPE_CHECKING:
    from .users import UsersProps

__all__ = [
    "WRITE_BATCH",
    "delete_removed",
    "endpoint_crl",
    "import_crl",
    "revoke_user",
    "sync_crl",
]

LOG = logging.getLogger(__name__)
WRITE_BATCH = 200
"""Users' files written or deleted per batch (the lease is renewed between batches)."""


def revoke_user(
    ledger: Ledger, state: UsersState, name: str, rec: UserRecord, now: dt.datetime
) -> None:
    """Put every certificate ``rec`` holds (current and previous) in the ledger."""
    held = [HeldCertificate(rec.serial, rec.not_after), *rec.previous]
    for cert in held:
        ledger.revoke(cert.serial, not_after=cert.not_after, user=name, now=now)
    # Even when already listed: a failed run may have saved the ledger and not the state.
    state.crl_dirty = True


def endpoint_crl(endpoint_id: str) -> dict[int, dt.datetime]:
    """The endpoint's current CRL: ``{serial: revocation date}`` (empty when it has none).

    ``ExportClientVpnClientCertificateRevocationList`` (EC2 API reference) returns the CRL
    in force as PEM.
    """
    out = client("ec2").export_client_vpn_client_certificate_revocation_list(
        ClientVpnEndpointId=endpoint_id
    )
    pem = str(out.get("CertificateRevocationList") or "")
    if not pem.strip():
        return {}
    crl = x509.load_pem_x509_crl(pem.encode())
    return {r.serial_number: r.revocation_date_utc for r in crl}


def sync_crl(p: UsersProps, ledger: Ledger, ca: certs.Issued, now: dt.datetime) -> bool:
    """Import a CRL only if the endpoint's lacks a serial of the ledger; return whether.

    An import resets every connection of the endpoint, so none is made when the endpoint
    already revokes everything (e.g. a rolled-back endpoint replacement, a repeated run).
    The new CRL keeps every serial the endpoint's current CRL holds unless the ledger knows
    it expired: nothing revoked there verifies again.
    """
    held = endpoint_crl(p.endpoint_id)
    wanted = {int(s, 16) for s in ledger.entries}
    if wanted <= held.keys():
        return False
    expired = {int(s, 16) for s in ledger.expired}
    kept = [(s, d) for s, d in held.items() if s not in wanted and s not in expired]
    import_crl(p, ledger, ca, now, extra=kept)
    return True


def import_crl(
    p: UsersProps,
    ledger: Ledger,
    ca: certs.Issued,
    now: dt.datetime,
    *,
    extra: list[tuple[int, dt.datetime]] | None = None,
) -> None:
    """Import the ledger (and ``extra`` entries) as the endpoint's CRL (next CRL number)."""
    entries = sorted([*ledger.crl_entries(), *(extra or [])])
    if len(entries) > MAX_CRL_ENTRIES:
        raise LedgerFullError(
            f"the CRL would list {len(entries)} certificates; Client VPN takes at most "
            f"{MAX_CRL_ENTRIES} (of them {len(extra or [])} are in the endpoint's CRL but not "
            "in this CA's ledger)"
        )
    ledger.crl_number += 1
    ledger.expired.clear()  # the new CRL no longer lists them
    ledger.save(p.bucket, ledger_key(p.prefix, p.ca_secret_arn), p.kms_key_arn)
    crl = certs.build_crl(ca, entries, crl_number=ledger.crl_number, now=now)
    client("ec2").import_client_vpn_client_certificate_revocation_list(
        ClientVpnEndpointId=p.endpoint_id, CertificateRevocationList=certs.crl_to_pem(crl)
    )
    LOG.info("imported CRL #%d with %d revoked serials", ledger.crl_number, len(entries))


def delete_removed(p: UsersProps, lease: Lease, state: UsersState, deadline: Deadline) -> None:
    """Delete every version of the removed users' files (their certificates are revoked).

    Near the deadline the rest is left in ``pending_deletes`` for the next run (at the
    latest the scheduled renewal, within 12 hours), rather than failing a change whose
    revocations are already in force.
    """
    names = sorted(state.pending_deletes)
    for start in range(0, len(names), WRITE_BATCH):
        if deadline.near():
            LOG.warning("%d removed users' files are left for the next run", len(names) - start)
            return
        batch = names[start : start + WRITE_BATCH]
        done = store.parallel(lambda n: _delete_file(p, n), batch)
        state.pending_deletes = sorted(set(state.pending_deletes) - {n for n in batch if done[n]})
        lease.beat(state)


def _delete_file(p: UsersProps, name: str) -> bool:
    """Delete every version of a removed user's file; False (left for the next run) if S3
    refused: the revocation is in force already, a throttled delete must not fail the
    change (its rollback would re-issue the user)."""
    try:
        store.delete_all_versions(p.bucket, user_key(p.prefix, name))
    except Exception as err:
        LOG.warning("could not delete %s's file yet (%s): left for the next run", name, err)
        return False
    return True
