"""Persistent data of the PKI custom resources.

Two documents:

- :class:`CaBundle`: the Secrets Manager secret of ``Kind=Authority``: the CA key and
  certificate, the server certificate and key (needed to re-import it into ACM on retry)
  and the ACM certificate ARN once imported.
- :class:`UsersState`: the S3 state object of ``Kind=Users``: for each user the serial,
  certificate PEM, expiry and the hash of the configuration their ``.ovpn`` was built from,
  and the still-valid certificates the user held before a renewal; the endpoint the files
  and the CRL were last made for; the lease of the run that holds it. It holds NO private
  keys: a user's key exists only inside that user's ``.ovpn`` object (SSE-KMS). Revoked
  serials live in the CA's ledger (:mod:`.ledger`), not here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "STATE_VERSION",
    "CaBundle",
    "HeldCertificate",
    "RevokedUser",
    "UserRecord",
    "UsersState",
]

STATE_VERSION = 2
_CA_BUNDLE_VERSION = 1


@dataclass
class CaBundle:
    """Content of the CA secret (JSON). Holds private keys: never log it."""

    ca_key_pem: str
    ca_cert_pem: str
    server_key_pem: str = ""
    server_cert_pem: str = ""
    server_certificate_arn: str = ""
    version: int = _CA_BUNDLE_VERSION
    import_claim: str = ""
    """The run that claimed the first ACM import of the server certificate (a random token;
    see ``authority``): written with a ``ClientRequestToken`` per certificate, so that of
    two runs of one Create only one imports."""

    def to_json(self) -> str:
        data = asdict(self)
        if not self.import_claim:  # absent when empty: older secrets keep their bytes
            del data["import_claim"]
        return json.dumps(data, sort_keys=True)

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
                version=int(data.get("version", _CA_BUNDLE_VERSION)),
                import_claim=str(data.get("import_claim", "")),
            )
        except (ValueError, TypeError, KeyError):
            raise ValueError("the CA secret does not hold a constructs-cvpn CA bundle") from None


@dataclass
class HeldCertificate:
    """A certificate a user still holds (no key): revoked with them if they are removed."""

    serial: str
    not_after: str


@dataclass
class UserRecord:
    """One user's current certificate (no private key)."""

    serial: str
    cert_pem: str
    not_after: str
    config_sha256: str
    pending: bool = False
    """True between issuing the certificate and writing the user's .ovpn. A later run reads
    the file: if it holds this serial the write happened; if not, the key never left the
    Lambda and a new certificate is issued without revoking this one."""
    previous: list[HeldCertificate] = field(default_factory=list)
    """Certificates replaced by a renewal that have not expired yet: the user may still
    hold an older file with one of them."""


@dataclass
class RevokedUser:
    """A ``cvpn revoke`` / ``cvpn rotate`` of one user (see :mod:`.revoke_now`)."""

    action: str
    """``revoke`` or ``rotate``."""
    at: str
    requested_by: str
    """What the caller said it is (the CLI sends its STS identity): not verified by the
    handler; CloudTrail's Invoke record is the truth."""
    reason: str
    serials: list[str]
    blocked: bool
    """True after a revoke: no run issues this user a certificate while the name stays in
    the users list, until ``cvpn rotate`` or the name's removal."""


@dataclass
class UsersState:
    """The users' state document (JSON in S3)."""

    users: dict[str, UserRecord] = field(default_factory=dict)
    endpoint_id: str = ""
    """The endpoint the users' files were last rendered for."""
    ca_secret_arn: str = ""
    """The CA the users' certificates come from."""
    remote_label: str = ""
    """The remote label the users' files were last rendered with."""
    block_ipv6_leak: bool = False
    """Whether the users' files were last rendered with the IPv6 leak block."""
    crl_endpoint: str = ""
    """The endpoint the CA's ledger was last imported into."""
    crl_dirty: bool = False
    """True when the ledger gained serials since its last successful import."""
    pending_deletes: list[str] = field(default_factory=list)
    """Removed users whose .ovpn (every version) is still to be deleted."""
    revoked: dict[str, RevokedUser] = field(default_factory=dict)
    """The last ``cvpn revoke`` / ``rotate`` of each user still listed."""
    lease_owner: str = ""
    lease_expires: str = ""
    """The run holding the state (a random token) and until when; empty when free."""
    create_request: str = ""
    """The RequestId of the Create that made the resource (kept in its tombstone)."""
    version: int = STATE_VERSION

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, compact): the same state gives the same bytes."""
        data = {
            "version": self.version,
            "endpoint_id": self.endpoint_id,
            "ca_secret_arn": self.ca_secret_arn,
            "remote_label": self.remote_label,
            "crl_endpoint": self.crl_endpoint,
            "crl_dirty": self.crl_dirty,
            "pending_deletes": sorted(set(self.pending_deletes)),
            "lease_owner": self.lease_owner,
            "lease_expires": self.lease_expires,
            "users": {name: asdict(rec) for name, rec in sorted(self.users.items())},
        }
        if self.block_ipv6_leak:  # absent when off: older states keep their bytes
            data["block_ipv6_leak"] = True
        if self.create_request:
            data["create_request"] = self.create_request
        if self.revoked:  # absent when empty, likewise
            data["revoked"] = {n: asdict(r) for n, r in sorted(self.revoked.items())}
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str | bytes) -> UsersState:
        """Parse a state document (version 2).

        Raises:
            ValueError: malformed, or of another version. Version 1 (constructs-cvpn before
                the day-two layout) kept files under the endpoint id and cannot be upgraded
                in place: destroy and deploy the stack again.
        """
        try:
            data: dict[str, Any] = json.loads(text)
            version = int(data.get("version", STATE_VERSION))
            if version != STATE_VERSION:
                raise ValueError(
                    f"users state version {version}: this handler reads version "
                    f"{STATE_VERSION} only (a state from before the day-two layout cannot be "
                    "upgraded in place; destroy and deploy the stack again)"
                )
            users = {}
            for name, rec in data.get("users", {}).items():
                held = [HeldCertificate(**h) for h in rec.pop("previous", [])]
                users[name] = UserRecord(**rec, previous=held)
            return cls(
                users=users,
                endpoint_id=str(data.get("endpoint_id", "")),
                ca_secret_arn=str(data.get("ca_secret_arn", "")),
                remote_label=str(data.get("remote_label", "")),
                block_ipv6_leak=bool(data.get("block_ipv6_leak", False)),
                crl_endpoint=str(data.get("crl_endpoint", "")),
                crl_dirty=bool(data.get("crl_dirty", False)),
                pending_deletes=[str(u) for u in data.get("pending_deletes", [])],
                revoked={n: RevokedUser(**r) for n, r in data.get("revoked", {}).items()},
                lease_owner=str(data.get("lease_owner", "")),
                lease_expires=str(data.get("lease_expires", "")),
                create_request=str(data.get("create_request", "")),
            )
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as err:
            raise ValueError(f"malformed users state: {type(err).__name__}") from None
