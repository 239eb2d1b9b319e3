"""The revocation ledger: every revoked serial of one CA that has not expired yet.

It lives with the CA, not with an endpoint or a Users resource: one JSON object per CA at
``<Prefix>revocations/<ca id>.json`` (``ca id``: the first 16 hex digits of the SHA-256 of
the CA secret ARN). Deleting the Users resource leaves it in place, and a replaced endpoint
gets it imported in full, so nothing revoked can verify again while the CA exists. A new
CA (a new stack) starts a new ledger; certificates of the old CA do not verify against it.

Entries whose certificate has expired are dropped: an expired certificate is refused
anyway, so the CRL stays as long as the number of revoked, still-valid certificates, far
below Client VPN's limit of :data:`MAX_CRL_ENTRIES` (admin guide, quotas: "certificate
revocation list entries: 20,000", not adjustable). The ledger holds no private keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from . import store

__all__ = ["MAX_CRL_ENTRIES", "Ledger", "LedgerFullError", "Revocation", "ledger_key"]

MAX_CRL_ENTRIES = 20_000
"""Client VPN refuses a CRL with more entries (quota, not adjustable)."""
_VERSION = 1


class LedgerFullError(RuntimeError):
    """More unexpired revoked certificates than a Client VPN CRL may list."""


@dataclass(frozen=True)
class Revocation:
    serial: str
    """Lowercase hex, as :func:`.certs.serial_hex` writes it."""
    not_after: str
    """ISO time the certificate expires: the entry is dropped after it."""
    revoked_at: str
    user: str


def ledger_key(prefix: str, ca_secret_arn: str) -> str:
    """``<prefix>revocations/<ca id>.json``."""
    ca_id = hashlib.sha256(ca_secret_arn.encode()).hexdigest()[:16]
    return f"{prefix}revocations/{ca_id}.json"


@dataclass
class Ledger:
    ca_secret_arn: str
    entries: dict[str, Revocation] = field(default_factory=dict)
    crl_number: int = 0
    etag: str | None = None
    """ETag of the stored object (None: not stored yet)."""
    changed: bool = False
    expired: set[str] = field(default_factory=set)
    """Serials pruned since the last CRL import: an endpoint's CRL may still list them, and
    the next CRL may drop them."""

    def revoke(self, serial: str, *, not_after: str, user: str, now: dt.datetime) -> bool:
        """Add ``serial``; return True if it was not listed yet."""
        if serial in self.entries:
            return False
        self.entries[serial] = Revocation(serial, not_after, now.isoformat(), user)
        self.changed = True
        return True

    def prune(self, now: dt.datetime) -> int:
        """Drop entries whose certificate has expired; return how many."""
        expired = [
            s for s, e in self.entries.items() if dt.datetime.fromisoformat(e.not_after) < now
        ]
        for serial in expired:
            del self.entries[serial]
        self.expired.update(expired)
        self.changed = self.changed or bool(expired)
        return len(expired)

    def check_size(self) -> None:
        if len(self.entries) > MAX_CRL_ENTRIES:
            raise LedgerFullError(
                f"{len(self.entries)} revoked certificates have not expired yet; a Client VPN "
                f"CRL may list at most {MAX_CRL_ENTRIES}. Wait for some to expire, or lower "
                "client_certificate_validity_days"
            )

    def crl_entries(self) -> list[tuple[int, dt.datetime]]:
        return sorted(
            (int(e.serial, 16), dt.datetime.fromisoformat(e.revoked_at))
            for e in self.entries.values()
        )

    def to_json(self) -> bytes:
        data = {
            "version": _VERSION,
            "ca_secret_arn": self.ca_secret_arn,
            "crl_number": self.crl_number,
            "entries": [asdict(e) for _, e in sorted(self.entries.items())],
        }
        if self.expired:  # absent when empty: older ledgers keep their bytes
            data["expired"] = sorted(self.expired)
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def load(cls, bucket: str, key: str, ca_secret_arn: str) -> Ledger:
        """The stored ledger, or an empty one if there is none."""
        found = store.read(bucket, key)
        if found is None:
            return cls(ca_secret_arn=ca_secret_arn)
        try:
            data: dict[str, Any] = json.loads(found.body)
            entries = {e["serial"]: Revocation(**e) for e in data.get("entries", [])}
            number = int(data.get("crl_number", 0))
            owner = str(data.get("ca_secret_arn", ""))
            expired = {str(e) for e in data.get("expired", [])}
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"malformed revocation ledger {key}: {type(err).__name__}") from None
        if owner != ca_secret_arn:
            raise ValueError(f"revocation ledger {key} belongs to another CA")
        return cls(
            ca_secret_arn=ca_secret_arn,
            entries=entries,
            crl_number=number,
            etag=found.etag,
            expired=expired,
        )

    def save(self, bucket: str, key: str, kms_key_arn: str) -> None:
        """Write the ledger, conditional on the version read (or on its absence)."""
        written = store.write(
            bucket,
            key,
            self.to_json(),
            kms_key_arn=kms_key_arn,
            content_type="application/json",
            if_match=self.etag,
            if_none_match=self.etag is None,
        )
        self.etag = written.etag
        self.changed = False
