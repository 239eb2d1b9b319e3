"""Issuing users' certificates and writing their files: one run of ``Kind=Users``.

:func:`reconcile` loads the CA and the ledger, exports the endpoint's configuration, plans
(:mod:`.planning`), issues the new certificates, saves the state (new certificates marked
``pending``) before writing any file, writes the files, imports the CRL if the endpoint's
CRL lacks a serial of the ledger (:mod:`.revoking`), deletes the removed users' files and, on every
run, the noncurrent versions of the kept users' files (one listing of ``<Prefix>users/``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import TYPE_CHECKING, Any

from . import certs, clock, expiry, store
from .aws import client
from .clock import Deadline, DeadlineReached
from .lease import Lease
from .ledger import Ledger, ledger_key
from .metrics import emit_days_to_expiry
from .planning import plan
from .rendering import OVPN_CONTENT_TYPE, export_config, render, user_key
from .revoking import WRITE_BATCH, delete_removed, sync_crl
from .state import CaBundle, HeldCertificate, UserRecord, UsersState

if TYPE_CHECKING:
    from .users import UsersProps

__all__ = ["RENEWAL_SPREAD_DAYS", "load_ca", "reconcile", "validity_days"]

LOG = logging.getLogger(__name__)
RENEWAL_SPREAD_DAYS = 30
"""Client certificates are shortened by 0 to this many days (at most a tenth of their
lifetime), by name, to spread renewals."""


def validity_days(name: str, client_days: int) -> int:
    """``client_days`` shortened by a per-name offset of 0..min(30, client_days // 10)."""
    spread = min(RENEWAL_SPREAD_DAYS, client_days // 10)
    if spread == 0:
        return client_days
    offset = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % (spread + 1)
    return client_days - offset


def load_ca(secret_arn: str) -> certs.Issued:
    value = client("secretsmanager").get_secret_value(SecretId=secret_arn)
    bundle = CaBundle.from_json(str(value.get("SecretString", "")))
    return certs.Issued(
        key=certs.key_from_pem(bundle.ca_key_pem), cert=certs.cert_from_pem(bundle.ca_cert_pem)
    )


def reconcile(
    p: UsersProps, lease: Lease, state: UsersState, deadline: Deadline, written: set[str]
) -> dict[str, Any]:
    now = clock.now()
    ca = load_ca(p.ca_secret_arn)
    expiry.check_ca_alive(ca.cert, now)
    lkey = ledger_key(p.prefix, p.ca_secret_arn)
    ledger = Ledger.load(p.bucket, lkey, p.ca_secret_arn)
    if ledger.etag is None and state.crl_endpoint and state.ca_secret_arn == p.ca_secret_arn:
        raise RuntimeError(
            f"the revocation ledger s3://{p.bucket}/{lkey} is missing although a CRL was "
            "imported before: restore it (e.g. from a noncurrent version); refusing to "
            "continue, as revoked certificates would verify again"
        )
    config = export_config(p)
    # A config_version bump re-renders every file (restoring one deleted by hand).
    versioned = config + (f"\n# config_version {p.config_version}" if p.config_version else "")
    config_sha = hashlib.sha256(versioned.encode()).hexdigest()

    todo = plan(p, state, ledger, ca, config_sha, now)
    ledger.prune(now)
    ledger.check_size()
    if ledger.changed:
        ledger.save(p.bucket, lkey, p.kms_key_arn)  # before any save of the state
    state.ca_secret_arn = p.ca_secret_arn
    issued: dict[str, tuple[UserRecord, str]] = {}
    for name in todo.issue:
        if deadline.near():
            break
        lease.beat(state)
        new = certs.issue_client_cert(
            ca, name, validity_days=validity_days(name, p.client_days), now=now
        )
        old = state.users.get(name)
        previous = old.previous if old is not None else []
        if old is not None and name in todo.renewed:
            previous = [*previous, HeldCertificate(old.serial, old.not_after)]
        record = UserRecord(
            serial=certs.serial_hex(new.cert.serial_number),
            cert_pem=certs.cert_to_pem(new.cert),
            not_after=new.cert.not_valid_after_utc.isoformat(),
            config_sha256=config_sha,
            pending=True,
            previous=previous,
        )
        state.users[name] = record
        issued[name] = (record, certs.key_to_pem(new.key))
    lease.save(state)  # before any file: a later run knows what is half-done

    bodies = {n: render(config, rec.cert_pem, key) for n, (rec, key) in issued.items()}
    bodies.update(
        {n: render(config, certs.cert_to_pem(h.cert), h.key_pem) for n, h in todo.rerender.items()}
    )

    def put(name: str) -> bool:
        if deadline.near():
            return False
        key = user_key(p.prefix, name)
        written.add(key)
        store.write(
            p.bucket,
            key,
            bodies[name].encode(),
            kms_key_arn=p.kms_key_arn,
            content_type=OVPN_CONTENT_TYPE,
        )
        return True

    done: dict[str, bool] = {}
    names = sorted(bodies)
    for start in range(0, len(names), WRITE_BATCH):
        done.update(store.parallel(put, names[start : start + WRITE_BATCH]))
        lease.beat(state)
    for name, ok in done.items():
        if ok:
            state.users[name].pending = False
            state.users[name].config_sha256 = config_sha
    missing = len(todo.issue) - len(issued) + sum(1 for ok in done.values() if not ok)
    if missing:
        lease.save(state, release=True)
        raise DeadlineReached(
            f"stopped with {missing} user files still to write before the Lambda's time ran "
            "out; CloudFormation rolls the change back: add fewer users per deploy"
        )

    state.endpoint_id = p.endpoint_id
    state.remote_label = p.remote_label
    state.block_ipv6_leak = p.block_ipv6_leak
    if ledger.entries and sync_crl(p, ledger, ca, now):
        state.crl_endpoint = p.endpoint_id
        lease.save(state)
    state.crl_dirty = False

    delete_removed(p, lease, state, deadline)
    # Every run, not only the one that wrote a file: a run failed or killed after a write
    # leaves the old version (the previous key, with a certificate not revoked) for the next.
    kept = {user_key(p.prefix, n) for n in state.users}
    store.purge_noncurrent_under(p.bucket, f"{p.prefix}users/", kept, deadline.near)
    lease.save(state, release=True)

    days = [
        (dt.datetime.fromisoformat(r.not_after) - now).total_seconds() / 86400
        for r in state.users.values()
    ]
    if days:
        emit_days_to_expiry(p.metric_dimension, min(days))
    rendered = len(todo.rerender)
    LOG.info(
        "users: %d total, %d issued (%d renewals), %d re-rendered, %d removed, %d in the ledger",
        len(state.users),
        len(issued),
        len(todo.renewed),
        rendered,
        len(todo.removed),
        len(ledger.entries),
    )
    return {
        "Users": len(state.users),
        "Issued": len(issued),
        "Renewed": len(todo.renewed),
        "Rerendered": rendered,
        "Removed": len(todo.removed),
        "RevokedTotal": len(ledger.entries),
        "StateSha256": state.sha256(),
    }
