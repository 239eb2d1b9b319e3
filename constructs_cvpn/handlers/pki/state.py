"""Persistent data of the PKI custom resources.

Two documents:

- :class:`CaBundle`: the Secrets Manager secret of ``Kind=Authority``: the CA key and
  certificate, the server certificate and key (needed to re-import it into ACM on retry)
  and the ACM certificate ARN once imported.
- :class:`UsersState`: the S3 state object of ``Kind=Users``: for each user the serial,
  certificate PEM, expiry and the hash of the configuration their ``.ovpn`` was built from;
  every revoked serial ever; the last CRL number. It holds NO private keys: a user's key
  exists only inside that user's ``.ovpn`` object (SSE-KMS).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["STATE_VERSION", "CaBundle", "RevokedRecord", "UserRecord", "UsersState"]

STATE_VERSION = 1


@dataclass
class CaBundle:
    """Content of the CA secret (JSON). Holds private keys: never log it."""

    ca_key_pem: str
    ca_cert_pem: str
    server_key_pem: str = ""
    server_cert_pem: str = ""
    server_certificate_arn: str = ""
    version: int = STATE_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CaBundle:
        """Parse the secret string.

        Raises:
            ValueError: not a CA bundle (the message never echoes the content).
        """
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError
            return cls(
                ca_key_pem=str(data["ca_key_pem"]),
                ca_cert_pem=str(data["ca_cert_pem"]),
                server_key_pem=str(data.get("server_key_pem", "")),
                server_cert_pem=str(data.get("server_cert_pem", "")),
                server_certificate_arn=str(data.get("server_certificate_arn", "")),
                version=int(data.get("version", STATE_VERSION)),
            )
        except (ValueError, TypeError, KeyError):
            raise ValueError("the CA secret does not hold a constructs-cvpn CA bundle") from None


@dataclass
class UserRecord:
    """One user's issued certificate (no private key)."""

    serial: str
    cert_pem: str
    not_after: str
    config_sha256: str
    pending: bool = False
    """True between issuing the certificate and writing the user's .ovpn; a retry finding
    ``pending`` revokes this serial and issues a new one."""


@dataclass
class RevokedRecord:
    """A revoked serial, kept forever so the CRL always lists it."""

    serial: str
    revoked_at: str
    user: str


@dataclass
class UsersState:
    """The users' state document (JSON in S3)."""

    users: dict[str, UserRecord] = field(default_factory=dict)
    revoked: list[RevokedRecord] = field(default_factory=list)
    crl_number: int = 0
    crl_dirty: bool = False
    """True when ``revoked`` changed since the last successful CRL import."""
    pending_deletes: list[str] = field(default_factory=list)
    """Users whose .ovpn object is still to be deleted."""
    version: int = STATE_VERSION

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, compact): the same state gives the same bytes."""
        data = {
            "version": self.version,
            "crl_number": self.crl_number,
            "crl_dirty": self.crl_dirty,
            "pending_deletes": sorted(set(self.pending_deletes)),
            "revoked": [asdict(r) for r in self.revoked],
            "users": {name: asdict(rec) for name, rec in sorted(self.users.items())},
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str | bytes) -> UsersState:
        """Parse a state document.

        Raises:
            ValueError: malformed or from a newer version.
        """
        try:
            data: dict[str, Any] = json.loads(text)
            version = int(data.get("version", STATE_VERSION))
            if version > STATE_VERSION:
                raise ValueError(f"state version {version} is newer than {STATE_VERSION}")
            return cls(
                users={name: UserRecord(**rec) for name, rec in data.get("users", {}).items()},
                revoked=[RevokedRecord(**r) for r in data.get("revoked", [])],
                crl_number=int(data.get("crl_number", 0)),
                crl_dirty=bool(data.get("crl_dirty", False)),
                pending_deletes=[str(u) for u in data.get("pending_deletes", [])],
                version=version,
            )
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as err:
            raise ValueError(f"malformed users state: {type(err).__name__}") from None
