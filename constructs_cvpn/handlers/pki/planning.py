"""Planning a users run: what to do for each user, from the state, the files and the time.

:func:`plan` decides, per user: issue (new, renewed, re-keyed, or revoked while wanted),
re-render around the certificate and key the file holds, or nothing; removed users'
certificates go into the ledger and their names into ``pending_deletes``.

A removal is one transition a rollback undoes: whatever a failed run saved (the ledger
first), a wanted user whose current certificate is in the ledger is issued a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import certs, expiry, store
from .ledger import Ledger
from .rendering import Held, read_file
from .revoking import revoke_user
from .state import HeldCertificate, UsersState

if TYPE_CHECKING:
    from .users import UsersProps

__all__ = ["Plan", "plan", "still_valid"]


@dataclass
class Plan:
    issue: list[str]
    rerender: dict[str, Held]
    removed: list[str]
    renewed: set[str]
    """Users whose current certificate is renewed: it stays valid, so it is kept as held."""


def still_valid(held: list[HeldCertificate], now: dt.datetime) -> list[HeldCertificate]:
    """The certificates of ``held`` still valid at ``now``: through their notAfter,
    inclusive (RFC 5280, 4.1.2.5), as the ledger keeps its entries."""
    return [h for h in held if dt.datetime.fromisoformat(h.not_after) >= now]


def plan(
    p: UsersProps,
    state: UsersState,
    ledger: Ledger,
    ca: certs.Issued,
    config_sha: str,
    now: dt.datetime,
) -> Plan:
    """Decide, per user, what to do; record removals in the ledger and the state."""
    wanted = set(p.users)
    removed = sorted(set(state.users) - wanted)
    for name in removed:
        revoke_user(ledger, state, name, state.users.pop(name), now)
        state.pending_deletes.append(name)
    state.pending_deletes = sorted(set(state.pending_deletes) - wanted)

    existing = [n for n in p.users if n in state.users]
    # Only files that may change are read: a half-written run's, and those to re-render.
    to_read = [
        n for n in existing if state.users[n].pending or state.users[n].config_sha256 != config_sha
    ]
    files = store.parallel(lambda n: read_file(p, n), to_read)
    issue = [n for n in p.users if n not in state.users]
    rerender: dict[str, Held] = {}
    renewed: set[str] = set()
    for name in existing:
        rec = state.users[name]
        rec.previous = still_valid(rec.previous, now)
        current = certs.cert_from_pem(rec.cert_pem)
        held: Held | None = files.get(name)
        delivered = name not in files or (
            held is not None and held.cert.serial_number == current.serial_number
        )
        if not certs.issued_by(current, ca):
            issue.append(name)  # a new CA: the old one is no longer trusted, nothing to revoke
        elif rec.serial in ledger.entries:
            # Revoked while wanted: a removal rolled back (the ledger was saved, then the run
            # failed or CloudFormation rolled back). The certificate is dead at the next CRL
            # import: issue a new one (nothing more to revoke).
            issue.append(name)
        elif rec.pending and not delivered:
            issue.append(name)  # the key never left the Lambda: nothing to revoke
        elif not delivered:
            # The file is gone or holds something else: its key may be anywhere.
            revoke_user(ledger, state, name, rec, now)
            rec.previous = []
            issue.append(name)
        elif expiry.renewal_due(current, ca.cert, renew_before_days=p.renew_before, now=now):
            renewed.add(name)
            issue.append(name)
        else:
            rec.pending = False
            if held is not None and rec.config_sha256 != config_sha:
                rerender[name] = held
    return Plan(issue=issue, rerender=rerender, removed=removed, renewed=renewed)
