"""``Kind=Users``: per-user client certificates, ``.ovpn`` files and the CRL.

Runs after the Client VPN endpoint and its associations exist, on every deploy that changes
its properties, and on a schedule (``RequestType=Renew``) so that certificates are renewed
without a deploy. Properties (CloudFormation strings):

- ``EndpointId`` (required): the Client VPN endpoint id (``cvpn-endpoint-...``).
- ``Users`` (required, may be empty): user names, each matching
  :data:`.certs.USER_NAME_PATTERN`; duplicates are ignored; at most :data:`MAX_USERS`.
- ``Bucket`` (required), ``Prefix`` (default ``""``): each user's file is
  ``<Prefix>users/<name>.ovpn``, written with SSE-KMS under ``KmsKeyArn``. The prefix does
  not contain the endpoint id, so a replaced endpoint keeps every key and physical id.
- ``KmsKeyArn`` (required), ``CaSecretArn`` (required: the ``Kind=Authority`` resource's
  physical id), ``StateKey`` (required: the state JSON, see :mod:`.state`).
- ``RemoteRandomLabel`` (optional): DNS label put in front of the endpoint host name.
- ``BlockIpv6Leak`` (optional, ``true``/``false``, default false): append the IPv6 leak
  block (:data:`..ovpn.IPV6_LEAK_BLOCK`) to every file: IPv4-only full-tunnel endpoints.
- ``ClientValidityDays`` (default 825, 1-3650), ``RenewBeforeDays`` (default 30, 0-3650).
- ``MetricDimension`` (optional): value of the ``Vpn`` dimension of the ``DaysToExpiry``
  metric. Any other property (``Triggers``) only makes CloudFormation send an Update.

What a run does, for each user (the current export decides what a file must contain):

- new user: a new key and certificate, a new file;
- certificate expiring within ``RenewBeforeDays``: renewed (new key and certificate, new
  file); the old certificate is *not* revoked (no CRL import, no disconnects) but remembered
  as still held, so removing the user later revokes it too;
- configuration changed (port, protocol, endpoint replaced, label, ...): the file is
  re-rendered around the certificate and key it already holds: no new key, no revocation;
- removed user: every certificate they hold is revoked and every version of their file
  deleted;
- unchanged user: nothing (their file stays byte-identical).

Client certificate lifetimes are shortened by up to :data:`RENEWAL_SPREAD_DAYS` days,
derived from the name, so users created together are not all renewed on the same day.

Revocations go into the CA's ledger (:mod:`.ledger`), imported in full into the endpoint
when it gained serials or when the endpoint is new. Importing a CRL resets every client
connection, so nothing else imports one.

Consistency across CloudFormation's sequences:

- A lease in the state object (conditional writes: S3 ``If-Match`` / ``If-None-Match``)
  lets one run at a time work; an overlapping run of the same request (Lambda retries)
  waits for it, then finds nothing to do.
- The ledger is saved before the state forgets a user, and the state (new certificates
  marked ``pending``) before any file is written. A later run reads a pending user's file:
  if it holds the pending serial it was written; otherwise the key never left the Lambda
  and a new certificate is issued without revoking anything.
- A failed Create deletes every object (and version) it wrote, since the rollback Delete
  of a failed Create is answered without calling the handler (``handlers.cloudformation``).
- Work stops while :data:`.clock.MARGIN_SECONDS` of the Lambda's time remain, with
  progress saved, so the handler can still answer CloudFormation.
- A changed ``Bucket``/``Prefix`` is refused: the old files hold keys and the handler may
  not touch the old location.

PhysicalResourceId: ``cvpn-users:<Bucket>/<StateKey>``. Data: counts and ``StateSha256``,
far below the 4 KiB response limit whatever the number of users. Delete removes every
version of every ``.ovpn`` and of the state object; the ledger stays with the CA.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..ovpn import add_inline_credentials, block_ipv6_leak, inline_block, randomize_remote_host
from . import certs, clock, store
from .aws import client
from .clock import Deadline, DeadlineReached
from .ledger import Ledger, ledger_key
from .limits import MAX_USERS
from .metrics import emit_days_to_expiry
from .props import PropertyError, get_bool, get_int, get_str, get_str_list
from .state import CaBundle, HeldCertificate, UserRecord, UsersState

__all__ = [
    "MAX_USERS",
    "RENEWAL_SPREAD_DAYS",
    "UsersProps",
    "create_or_update",
    "delete",
    "physical_id",
    "user_key",
]

LOG = logging.getLogger(__name__)
RENEWAL_SPREAD_DAYS = 30
"""Client certificates are shortened by 0 to this many days (at most a tenth of their
lifetime), by name, to spread renewals."""
LEASE_SECONDS = 180
"""How long a lease lasts unless its run renews it (every :data:`HEARTBEAT_SECONDS` while it
works): a run that died without releasing it blocks the next one for at most this long."""
HEARTBEAT_SECONDS = 60
POLL_SECONDS = 5.0
_S3_THREADS = 16
_WRITE_BATCH = 200
_OVPN = "application/x-openvpn-profile"


@dataclass(frozen=True)
class UsersProps:
    endpoint_id: str
    users: list[str]
    bucket: str
    prefix: str
    kms_key_arn: str
    ca_secret_arn: str
    state_key: str
    remote_label: str
    block_ipv6_leak: bool
    client_days: int
    renew_before: int
    metric_dimension: str

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> UsersProps:
        names = get_str_list(props, "Users")
        unique = list(dict.fromkeys(certs.check_user_name(n) for n in names))
        if len(unique) > MAX_USERS:
            raise PropertyError(f"property Users has {len(unique)} names; at most {MAX_USERS}")
        return cls(
            endpoint_id=get_str(props, "EndpointId"),
            users=unique,
            bucket=get_str(props, "Bucket"),
            prefix=get_str(props, "Prefix", ""),
            kms_key_arn=get_str(props, "KmsKeyArn"),
            ca_secret_arn=get_str(props, "CaSecretArn"),
            state_key=get_str(props, "StateKey"),
            remote_label=get_str(props, "RemoteRandomLabel", ""),
            block_ipv6_leak=get_bool(props, "BlockIpv6Leak", False),
            client_days=get_int(
                props, "ClientValidityDays", certs.CLIENT_VALIDITY_DAYS, low=1, high=3650
            ),
            renew_before=get_int(props, "RenewBeforeDays", 30, low=0, high=3650),
            metric_dimension=get_str(props, "MetricDimension", ""),
        )


def physical_id(props: UsersProps) -> str:
    return f"cvpn-users:{props.bucket}/{props.state_key}"


def user_key(prefix: str, name: str) -> str:
    """S3 key of a user's ``.ovpn``: ``<prefix>users/<name>.ovpn``."""
    return f"{prefix}users/{name}.ovpn"


def validity_days(name: str, client_days: int) -> int:
    """``client_days`` shortened by a per-name offset of 0..min(30, client_days // 10)."""
    spread = min(RENEWAL_SPREAD_DAYS, client_days // 10)
    if spread == 0:
        return client_days
    offset = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % (spread + 1)
    return client_days - offset


# -- the lease -------------------------------------------------------------------------


class _Lease:
    """Exclusive use of the state object for one run (conditional writes on its ETag)."""

    def __init__(self, bucket: str, key: str, kms_key_arn: str, deadline: Deadline) -> None:
        self.bucket, self.key, self.kms_key_arn = bucket, key, kms_key_arn
        self.deadline = deadline
        self.token = secrets.token_hex(8)
        self.etag: str | None = None
        self.existed = False
        self._saved = b""
        self._saved_at = time.monotonic()

    def acquire(self, *, create: bool = True) -> UsersState | None:
        """Load the state and take the lease, waiting for another run to release it.

        With ``create=False`` a missing state is not created: None comes back.
        """
        while True:
            found = store.read(self.bucket, self.key)
            if found is None and not create:
                return None
            state = UsersState.from_json(found.body) if found else UsersState()
            now = clock.now()
            held = (
                state.lease_owner
                and state.lease_owner != self.token
                and dt.datetime.fromisoformat(state.lease_expires) > now
            )
            if held:
                if self.deadline.seconds_left() < POLL_SECONDS * 2:
                    raise RuntimeError(
                        "another run of this resource still holds the users state "
                        f"(until {state.lease_expires}); deploy again once it has finished"
                    )
                LOG.info("waiting for another run of this resource to finish")
                time.sleep(POLL_SECONDS)
                continue
            state.lease_owner = self.token
            state.lease_expires = (now + dt.timedelta(seconds=LEASE_SECONDS)).isoformat()
            try:
                self._write(state, if_match=found.etag if found else None)
            except store.ConflictError:
                continue  # someone else took it between our read and write
            self.existed = found is not None
            return state

    def save(self, state: UsersState, *, release: bool = False) -> None:
        if release:
            state.lease_owner = state.lease_expires = ""
        else:
            expires = clock.now() + dt.timedelta(seconds=LEASE_SECONDS)
            state.lease_expires = expires.isoformat()
        self._write(state, if_match=self.etag)

    def beat(self, state: UsersState) -> None:
        """Renew the lease (saving ``state``) if the last save is a while ago."""
        if time.monotonic() - self._saved_at >= HEARTBEAT_SECONDS:
            self.save(state)

    def release_saved(self) -> None:
        """Release the lease on the last *saved* state (after a failure: what was not saved
        must not be recorded, e.g. a removal whose revocation did not reach the ledger).

        Tried three times; if S3 still refuses, the lease expires by itself.
        """
        if self.etag is None:
            return
        for attempt in range(3):
            try:
                self.save(UsersState.from_json(self._saved), release=True)
                return
            except Exception:
                time.sleep(1 + attempt)
        LOG.warning("could not release the lease: it expires within %d s", LEASE_SECONDS)

    def _write(self, state: UsersState, *, if_match: str | None) -> None:
        body = state.to_json().encode()
        written = store.write(
            self.bucket,
            self.key,
            body,
            kms_key_arn=self.kms_key_arn,
            content_type="application/json",
            if_match=if_match,
            if_none_match=if_match is None,
        )
        self.etag, self._saved = written.etag, body
        self._saved_at = time.monotonic()


# -- AWS -------------------------------------------------------------------------------


def _load_ca(secret_arn: str) -> certs.Issued:
    value = client("secretsmanager").get_secret_value(SecretId=secret_arn)
    bundle = CaBundle.from_json(str(value.get("SecretString", "")))
    return certs.Issued(
        key=certs.key_from_pem(bundle.ca_key_pem), cert=certs.cert_from_pem(bundle.ca_cert_pem)
    )


def _export_config(p: UsersProps) -> str:
    out = client("ec2").export_client_vpn_client_configuration(ClientVpnEndpointId=p.endpoint_id)
    config = str(out["ClientConfiguration"])
    if p.remote_label:
        config = randomize_remote_host(config, p.remote_label)
    if p.block_ipv6_leak:
        config = block_ipv6_leak(config)
    return config


def _import_crl(p: UsersProps, ledger: Ledger, ca: certs.Issued, now: dt.datetime) -> None:
    ledger.crl_number += 1
    ledger.save(p.bucket, ledger_key(p.prefix, p.ca_secret_arn), p.kms_key_arn)
    crl = certs.build_crl(ca, ledger.crl_entries(), crl_number=ledger.crl_number, now=now)
    client("ec2").import_client_vpn_client_certificate_revocation_list(
        ClientVpnEndpointId=p.endpoint_id, CertificateRevocationList=certs.crl_to_pem(crl)
    )
    LOG.info("imported CRL #%d with %d revoked serials", ledger.crl_number, len(ledger.entries))


@dataclass(frozen=True)
class _Held:
    """What a user's current file holds (None when missing or unusable)."""

    cert: Any
    key_pem: str


def _read_file(p: UsersProps, name: str) -> _Held | None:
    found = store.read(p.bucket, user_key(p.prefix, name))
    if found is None:
        return None
    text = found.body.decode("utf-8", "replace")
    cert_pem, key_pem = inline_block(text, "cert"), inline_block(text, "key")
    if cert_pem is None or key_pem is None:
        return None
    try:
        cert = certs.cert_from_pem(cert_pem)
        key = certs.key_from_pem(key_pem, check=False)  # compared with the certificate below
    except ValueError:
        return None
    if key.public_key() != cert.public_key():
        return None
    return _Held(cert=cert, key_pem=key_pem)


def _parallel(fn: Callable[[str], Any], names: Iterable[str]) -> dict[str, Any]:
    names = list(names)
    with ThreadPoolExecutor(_S3_THREADS) as pool:
        return dict(zip(names, pool.map(fn, names), strict=True))


# -- the run ---------------------------------------------------------------------------


@dataclass
class _Plan:
    issue: list[str]
    rerender: dict[str, _Held]
    removed: list[str]
    renewed: set[str]
    """Users whose current certificate is renewed: it stays valid, so it is kept as held."""


def _revoke_user(
    ledger: Ledger, state: UsersState, name: str, rec: UserRecord, now: dt.datetime
) -> None:
    held = [HeldCertificate(rec.serial, rec.not_after), *rec.previous]
    for cert in held:
        ledger.revoke(cert.serial, not_after=cert.not_after, user=name, now=now)
    # Even when already listed: a failed run may have saved the ledger and not the state.
    state.crl_dirty = True


def _plan(
    p: UsersProps,
    state: UsersState,
    ledger: Ledger,
    ca: certs.Issued,
    config_sha: str,
    now: dt.datetime,
) -> _Plan:
    """Decide, per user, what to do; record removals in the ledger and the state."""
    wanted = set(p.users)
    removed = sorted(set(state.users) - wanted)
    for name in removed:
        _revoke_user(ledger, state, name, state.users.pop(name), now)
        state.pending_deletes.append(name)
    state.pending_deletes = sorted(set(state.pending_deletes) - wanted)

    existing = [n for n in p.users if n in state.users]
    # Only files that may change are read: a half-written run's, and those to re-render.
    to_read = [
        n for n in existing if state.users[n].pending or state.users[n].config_sha256 != config_sha
    ]
    files = _parallel(lambda n: _read_file(p, n), to_read)
    issue = [n for n in p.users if n not in state.users]
    rerender: dict[str, _Held] = {}
    renewed: set[str] = set()
    for name in existing:
        rec = state.users[name]
        rec.previous = [h for h in rec.previous if dt.datetime.fromisoformat(h.not_after) > now]
        current = certs.cert_from_pem(rec.cert_pem)
        held: _Held | None = files.get(name)
        delivered = name not in files or (
            held is not None and held.cert.serial_number == current.serial_number
        )
        if not certs.issued_by(current, ca):
            issue.append(name)  # a new CA: the old one is no longer trusted, nothing to revoke
        elif rec.pending and not delivered:
            issue.append(name)  # the key never left the Lambda: nothing to revoke
        elif not delivered:
            # The file is gone or holds something else: its key may be anywhere.
            _revoke_user(ledger, state, name, rec, now)
            rec.previous = []
            issue.append(name)
        elif certs.needs_reissue(current, renew_before_days=p.renew_before, now=now):
            renewed.add(name)
            issue.append(name)
        else:
            rec.pending = False
            if held is not None and rec.config_sha256 != config_sha:
                rerender[name] = held
    return _Plan(issue=issue, rerender=rerender, removed=removed, renewed=renewed)


def _reconcile(
    p: UsersProps, lease: _Lease, state: UsersState, deadline: Deadline, written: set[str]
) -> dict[str, Any]:
    now = clock.now()
    ca = _load_ca(p.ca_secret_arn)
    lkey = ledger_key(p.prefix, p.ca_secret_arn)
    ledger = Ledger.load(p.bucket, lkey, p.ca_secret_arn)
    if ledger.etag is None and state.crl_endpoint and state.ca_secret_arn == p.ca_secret_arn:
        raise RuntimeError(
            f"the revocation ledger s3://{p.bucket}/{lkey} is missing although a CRL was "
            "imported before: restore it (e.g. from a noncurrent version); refusing to "
            "continue, as revoked certificates would verify again"
        )
    config = _export_config(p)
    config_sha = hashlib.sha256(config.encode()).hexdigest()

    plan = _plan(p, state, ledger, ca, config_sha, now)
    ledger.prune(now)
    ledger.check_size()
    if ledger.changed:
        ledger.save(p.bucket, lkey, p.kms_key_arn)  # before any save of the state
    state.ca_secret_arn = p.ca_secret_arn
    issued: dict[str, tuple[UserRecord, str]] = {}
    for name in plan.issue:
        if deadline.near():
            break
        lease.beat(state)
        new = certs.issue_client_cert(
            ca, name, validity_days=validity_days(name, p.client_days), now=now
        )
        old = state.users.get(name)
        previous = old.previous if old is not None else []
        if old is not None and name in plan.renewed:
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

    bodies = {
        n: add_inline_credentials(config, rec.cert_pem, key) for n, (rec, key) in issued.items()
    }
    bodies.update(
        {
            n: add_inline_credentials(config, certs.cert_to_pem(h.cert), h.key_pem)
            for n, h in plan.rerender.items()
        }
    )

    def put(name: str) -> bool:
        if deadline.near():
            return False
        key = user_key(p.prefix, name)
        written.add(key)
        store.write(
            p.bucket, key, bodies[name].encode(), kms_key_arn=p.kms_key_arn, content_type=_OVPN
        )
        store.purge_older_versions(p.bucket, key)
        return True

    done: dict[str, bool] = {}
    names = sorted(bodies)
    for start in range(0, len(names), _WRITE_BATCH):
        done.update(_parallel(put, names[start : start + _WRITE_BATCH]))
        lease.beat(state)
    for name, ok in done.items():
        if ok:
            state.users[name].pending = False
            state.users[name].config_sha256 = config_sha
    missing = len(plan.issue) - len(issued) + sum(1 for ok in done.values() if not ok)
    if missing:
        lease.save(state, release=True)
        raise DeadlineReached(
            f"stopped with {missing} user files still to write before the Lambda's time ran "
            "out; CloudFormation rolls the change back: add fewer users per deploy"
        )

    state.endpoint_id = p.endpoint_id
    state.remote_label = p.remote_label
    state.block_ipv6_leak = p.block_ipv6_leak
    if state.crl_dirty or (state.crl_endpoint != p.endpoint_id and ledger.entries):
        _import_crl(p, ledger, ca, now)
        state.crl_dirty = False
        state.crl_endpoint = p.endpoint_id
        lease.save(state)  # an import resets every connection: never repeat one

    _delete_removed(p, lease, state, deadline)
    lease.save(state, release=True)

    days = [
        (dt.datetime.fromisoformat(r.not_after) - now).total_seconds() / 86400
        for r in state.users.values()
    ]
    if days:
        emit_days_to_expiry(p.metric_dimension, min(days))
    rendered = len(plan.rerender)
    LOG.info(
        "users: %d total, %d issued (%d renewals), %d re-rendered, %d removed, %d in the ledger",
        len(state.users),
        len(issued),
        len(plan.renewed),
        rendered,
        len(plan.removed),
        len(ledger.entries),
    )
    return {
        "Users": len(state.users),
        "Issued": len(issued),
        "Renewed": len(plan.renewed),
        "Rerendered": rendered,
        "Removed": len(plan.removed),
        "RevokedTotal": len(ledger.entries),
        "StateSha256": state.sha256(),
    }


def _delete_removed(p: UsersProps, lease: _Lease, state: UsersState, deadline: Deadline) -> None:
    """Delete every version of the removed users' files (their certificates are revoked).

    Near the deadline the rest is left in ``pending_deletes`` for the next run (at the
    latest the scheduled renewal, within 12 hours), rather than failing a change whose
    revocations are already in force.
    """
    names = sorted(state.pending_deletes)
    for start in range(0, len(names), _WRITE_BATCH):
        if deadline.near():
            LOG.warning("%d removed users' files are left for the next run", len(names) - start)
            return
        batch = names[start : start + _WRITE_BATCH]
        _parallel(lambda n: store.delete_all_versions(p.bucket, user_key(p.prefix, n)), batch)
        state.pending_deletes = sorted(set(state.pending_deletes) - set(batch))
        lease.beat(state)


def _refuse_move(p: UsersProps, old_props: Mapping[str, Any] | None) -> None:
    """Refuse a new Bucket/Prefix, unless it is this resource's own earlier location.

    A rollback of a refused move goes back to the original location, whose state names the
    same CA: that is allowed. Any other move would leave files holding keys behind.
    """
    if not old_props:
        return
    try:
        old = UsersProps.parse(old_props)
    except ValueError:
        return
    if (old.bucket, old.prefix, old.state_key) == (p.bucket, p.prefix, p.state_key):
        return
    found = store.read(p.bucket, p.state_key)
    if found is not None and UsersState.from_json(found.body).ca_secret_arn == p.ca_secret_arn:
        return
    raise PropertyError(
        f"the users' files cannot move from s3://{old.bucket}/{old.prefix} to "
        f"s3://{p.bucket}/{p.prefix}: the old files hold private keys this handler may no "
        "longer delete, and the CA's revocation ledger lives there. config_bucket and "
        "config_prefix cannot change while the generated PKI is in use; to move, destroy the "
        "stack and deploy it again (a new CA)"
    )


def create_or_update(
    props: Mapping[str, Any],
    old_props: Mapping[str, Any] | None = None,
    *,
    request: str = "Update",
    context: object = None,
) -> tuple[str, dict[str, Any]]:
    """Reconcile users with ``props``; return ``(physical id, Data)``.

    ``request`` is ``Create``, ``Update`` or ``Renew``; a failed ``Create`` removes every
    object it wrote.
    """
    p = UsersProps.parse(props)
    _refuse_move(p, old_props)
    deadline = Deadline(context)
    lease = _Lease(p.bucket, p.state_key, p.kms_key_arn, deadline)
    # A Renew after the resource was deleted must not bring its users back.
    state = lease.acquire(create=request != "Renew")
    if state is None:
        LOG.info("no users state: nothing to renew (the resource was deleted)")
        return physical_id(p), {}
    if request == "Renew":
        # A renewal never adds or removes users nor moves to another endpoint: it works on
        # what the last deploy left (a Renew's properties come from the function's pinned
        # configuration, which holds no user list).
        p = dataclasses.replace(p, users=sorted(state.users))
    if request == "Renew" and state.endpoint_id:
        p = dataclasses.replace(
            p,
            endpoint_id=state.endpoint_id,
            remote_label=state.remote_label,
            block_ipv6_leak=state.block_ipv6_leak,
        )
    written: set[str] = set()
    try:
        data = _reconcile(p, lease, state, deadline, written)
    except BaseException:
        if request == "Create" and not lease.existed:
            _discard(p, written)
        else:
            lease.release_saved()
        raise
    return physical_id(p), data


def _discard(p: UsersProps, written: set[str]) -> None:
    """After a failed Create: delete every version of what it wrote, and the state."""
    try:
        for key in sorted(written):
            store.delete_all_versions(p.bucket, key)
        store.delete_all_versions(p.bucket, p.state_key)
        LOG.info("failed Create: removed the %d files it had written", len(written))
    except Exception:
        LOG.exception("failed Create: could not remove every file it wrote")


def delete(props: Mapping[str, Any], context: object = None) -> None:
    """Delete every version of every ``.ovpn`` the state lists and of the state object.

    A bucket that is already gone is success. The CA's ledger is kept.
    """
    bucket = get_str(props, "Bucket")
    prefix = get_str(props, "Prefix", "")
    state_key = get_str(props, "StateKey")
    kms_key_arn = get_str(props, "KmsKeyArn")
    lease = _Lease(bucket, state_key, kms_key_arn, Deadline(context))
    try:
        state = lease.acquire(create=False)
    except ClientError as err:
        if store.code(err) == "NoSuchBucket":
            LOG.info("bucket %s is gone: nothing to delete", bucket)
            return
        raise
    if state is None:
        LOG.info("no users state at %s: nothing to delete", state_key)
        return
    names = sorted(set(state.users) | set(state.pending_deletes))
    _parallel(lambda n: store.delete_all_versions(bucket, user_key(prefix, n)), names)
    store.delete_all_versions(bucket, state_key)
    LOG.info("deleted %d user configurations and the state", len(names))
