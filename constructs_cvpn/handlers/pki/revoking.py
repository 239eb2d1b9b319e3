"""Revoking users' certificates: the ledger, the CRL import and the removed users' files.

A revoked serial goes into the CA's ledger (:mod:`.ledger`) first; the state then marks the
CRL dirty. :func:`import_crl` imports the whole ledger as one CRL into the endpoint (an
import resets every client connection, so nothing else imports one).
:func:`delete_removed` deletes every version of the removed users' files (each holds a
private key).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from . import certs, store
from .aws import client
from .clock import Deadline
from .lease import Lease
from .ledger import Ledger, ledger_key
from .rendering import user_key
from .state import HeldCertificate, UserRecord, UsersState

if TYPE_CHECKING:
    from .users import UsersProps

__all__ = ["WRITE_BATCH", "delete_removed", "import_crl", "revoke_user"]

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


def import_crl(p: UsersProps, ledger: Ledger, ca: certs.Issued, now: dt.datetime) -> None:
    """Import the ledger as the endpoint's CRL (with the next CRL number)."""
    ledger.crl_number += 1
    ledger.save(p.bucket, ledger_key(p.prefix, p.ca_secret_arn), p.kms_key_arn)
    crl = certs.build_crl(ca, ledger.crl_entries(), crl_number=ledger.crl_number, now=now)
    client("ec2").import_client_vpn_client_certificate_revocation_list(
        ClientVpnEndpointId=p.endpoint_id, CertificateRevocationList=certs.crl_to_pem(crl)
    )
    LOG.info("imported CRL #%d with %d revoked serials", ledger.crl_number, len(ledger.entries))


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
        store.parallel(lambda n: store.delete_all_versions(p.bucket, user_key(p.prefix, n)), batch)
        state.pending_deletes = sorted(set(state.pending_deletes) - set(batch))
        lease.beat(state)
