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
when the endpoint's current CRL lacks one of its serials (:func:`.revoking.sync_crl`).
Importing a CRL resets every client connection, so nothing else imports one.

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

Where each part lives: :mod:`.planning` (what to do per user), :mod:`.issuing` (the run:
certificates and files), :mod:`.rendering` (the ``.ovpn`` text), :mod:`.revoking` (ledger,
CRL, removed files), :mod:`.lease` (one run at a time); this module reads the properties
and holds the entry points.

PhysicalResourceId: ``cvpn-users:<Bucket>/<StateKey>``. Data: counts and ``StateSha256``,
far below the 4 KiB response limit whatever the number of users. Delete removes every
version of every ``.ovpn`` and of the state object and leaves a tombstone (a late request
then does nothing); the ledger stays with the CA.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from . import certs, store
from .clock import Deadline
from .issuing import RENEWAL_SPREAD_DAYS, reconcile, validity_days
from .lease import Lease
from .limits import MAX_USERS
from .props import PropertyError, get_bool, get_int, get_str, get_str_list
from .rendering import user_key
from .revoke_now import apply_revocations
from .state import UsersState

__all__ = [
    "MAX_USERS",
    "RENEWAL_SPREAD_DAYS",
    "UsersProps",
    "create_or_update",
    "delete",
    "physical_id",
    "user_key",
    "validity_days",
]

LOG = logging.getLogger(__name__)


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
    config_version: str = ""
    """``Triggers.ConfigVersion``: a change re-renders every file."""

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
            config_version=_config_version(props),
        )


def _config_version(props: Mapping[str, Any]) -> str:
    triggers = props.get("Triggers")
    if not isinstance(triggers, Mapping):
        return ""
    return str(triggers.get("ConfigVersion") or "")


def physical_id(props: UsersProps) -> str:
    return f"cvpn-users:{props.bucket}/{props.state_key}"


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


def tombstone_key(state_key: str) -> str:
    """``tombstone-<name>`` next to the state (``<Prefix>tombstone-state.json``): written by
    Delete, so that a late request does nothing."""
    head, sep, tail = state_key.rpartition("/")
    return f"{head}{sep}tombstone-{tail}"


def _tombstone(p: UsersProps) -> str | None:
    """The Create request id the tombstone names ("" if unknown); None: no tombstone."""
    found = store.read(p.bucket, tombstone_key(p.state_key))
    if found is None:
        return None
    try:
        return str(json.loads(found.body).get("create_request", ""))
    except (ValueError, AttributeError):
        return ""


def create_or_update(
    props: Mapping[str, Any],
    old_props: Mapping[str, Any] | None = None,
    *,
    request: str = "Update",
    request_id: str = "",
    context: object = None,
) -> tuple[str, dict[str, Any]]:
    """Reconcile users with ``props``; return ``(physical id, Data)``.

    ``request`` is ``Create``, ``Update`` or ``Renew``; a failed ``Create`` removes every
    object it wrote. After a Delete (its tombstone, :func:`tombstone_key`) an Update, a
    Renew or a second delivery of the deleted resource's Create does nothing; another
    Create (a new resource at the same place) removes the tombstone and starts afresh.
    """
    p = UsersProps.parse(props)
    _refuse_move(p, old_props)
    deadline = Deadline(context)
    lease = Lease(p.bucket, p.state_key, p.kms_key_arn, deadline)
    # A Renew after the resource was deleted must not bring its users back.
    state = lease.acquire(create=request != "Renew")
    if state is None:
        LOG.info("no users state: nothing to renew (the resource was deleted)")
        return physical_id(p), {}
    deleted_create = _tombstone(p)
    if deleted_create is not None:
        if request == "Create" and deleted_create != request_id:
            store.delete_all_versions(p.bucket, tombstone_key(p.state_key))
        else:
            LOG.info("the resource was deleted: this late %s does nothing", request)
            if lease.existed:
                lease.save(state, release=True)
            else:
                store.delete_all_versions(p.bucket, p.state_key)
            return physical_id(p), {}
    if request == "Create" and not lease.existed:
        state.create_request = request_id
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
    p = apply_revocations(p, state, request)  # cvpn revoke: blocked users get nothing
    written: set[str] = set()
    try:
        data = reconcile(p, lease, state, deadline, written)
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
    """Delete every version of every ``.ovpn`` the state lists and of the state object,
    then write the tombstone. Works from the properties, whatever the physical id (a Delete
    CloudFormation sends with an id of its own after a cancelled Create included).

    A bucket that is already gone is success. The CA's ledger is kept.
    """
    bucket = get_str(props, "Bucket")
    prefix = get_str(props, "Prefix", "")
    state_key = get_str(props, "StateKey")
    kms_key_arn = get_str(props, "KmsKeyArn")
    lease = Lease(bucket, state_key, kms_key_arn, Deadline(context))
    try:
        state = lease.acquire(create=False)
    except ClientError as err:
        if store.code(err) == "NoSuchBucket":
            LOG.info("bucket %s is gone: nothing to delete", bucket)
            return
        raise
    if state is not None:
        names = sorted(set(state.users) | set(state.pending_deletes))
        store.parallel(lambda n: store.delete_all_versions(bucket, user_key(prefix, n)), names)
        store.delete_all_versions(bucket, state_key)
        LOG.info("deleted %d user configurations and the state", len(names))
    else:
        LOG.info("no users state at %s: nothing to delete", state_key)
    # A request delivered late (a Create still running or throttled, an Update) must find
    # that the resource is gone. The tombstone holds no key.
    body = json.dumps({"create_request": state.create_request if state else ""}).encode()
    key = tombstone_key(state_key)
    store.write(bucket, key, body, kms_key_arn=kms_key_arn, content_type="application/json")
    store.purge_older_versions(bucket, key)
