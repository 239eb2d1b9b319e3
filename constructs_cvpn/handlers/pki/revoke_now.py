"""Revoke or rotate one user now, without a deploy: ``RequestType`` ``Revoke`` / ``Rotate``.

``cvpn revoke`` / ``cvpn rotate`` invoke the users function directly (``lambda:Invoke``,
RequestResponse; ``vpn.grant_revoke(principal)`` allows it). The event::

    {"RequestType": "Revoke" | "Rotate", "User": "alice", "Reason": "lost laptop",
     "RequestedBy": "<the caller's ARN, as the CLI read it from STS>"}

Nothing else is taken from the event: where the state, the files, the ledger and the
endpoint are comes from the function's own configuration (``CVPN_PINNED``, written by the
template: see ``handlers/pinned.py``, issue 18), and ``User`` must be a user the state
records (a current user, or one revoked earlier). ``RequestedBy`` is what the caller *says*:
the function cannot verify who invoked it; CloudTrail's ``Invoke`` record (data events) is
the truth. It is recorded, with the time and the reason, in the state (``revoked``, shown by
``cvpn status``) and in the function's log. ``Reason`` is required, ``RequestedBy`` is not
(``"unknown"`` when missing); both are kept as printable characters only, at most 256 each
(longer text is cut).

A revoke, under the state's lease (one run at a time, as for a deploy):

1. every certificate the user holds (current and still-valid older ones) goes into the CA's
   ledger (saved before the state forgets the user), and the user leaves the state's
   ``users`` with a ``revoked`` note, ``blocked``;
2. the ledger is imported as the endpoint's CRL (which resets every connection, Client VPN
   admin guide), then the user's remaining sessions are terminated by connection id
   (``CommonName`` or ``Username`` equal to the user);
3. every version of the user's ``.ovpn`` is deleted (the name is a ``pending_deletes`` of
   the state from step 1 until then, so a run that dies before it leaves the deletion to the
   next run).

A rotate does the same, leaves the user unblocked, and then runs the ordinary users run with
the user added back: a new key, certificate and file (``cvpn config get --user``). If that
run fails (a function error), the revocation stands and the user is unblocked but has no
certificate: ``cvpn rotate`` again, or the next deploy, issues it (a renewal does not: it
works on the users the state holds).

Durability: the serials stay in the ledger until they expire, so every later CRL import
(deploy, renewal, rollback, a replaced endpoint) carries them. While a revoked user is still
listed in the app, every deploy, rollback and renewal skips them (:func:`apply_revocations`):
no certificate is issued until ``cvpn rotate`` or until the name is removed from the list
(which drops the note; adding the name back later issues a new certificate).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import pinned
from . import certs, clock, store
from .aws import client
from .clock import Deadline
from .issuing import load_ca
from .lease import Lease
from .ledger import Ledger, ledger_key
from .props import PropertyError
from .rendering import user_key
from .revoking import import_crl, revoke_user
from .state import RevokedUser, UsersState

if TYPE_CHECKING:
    from .users import UsersProps

__all__ = ["OPERATIONS", "apply_revocations", "handle"]

LOG = logging.getLogger(__name__)
OPERATIONS = ("Revoke", "Rotate")
MAX_TEXT = 256
_LIVE = ("pending-authorize", "active")


def _text(event: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = event.get(name)
    if value is None or value == "":
        if required:
            raise PropertyError(f"{name} is required")
        return "unknown"
    if not isinstance(value, str):
        raise PropertyError(f"{name} must be a string")
    cleaned = "".join(c for c in value if c.isprintable())[:MAX_TEXT]
    return cleaned or "unknown"


def configured_properties() -> dict[str, Any]:
    """The users resource's properties from the function's configuration (not the event):
    what a ``Renew`` would run with (:meth:`..pinned.Pinned.admit`).

    Raises:
        PropertyError: the function has no pinned configuration, or is not a users function.
    """
    configuration = pinned.load()
    if not configuration.active:
        raise PropertyError(
            "Revoke and Rotate read where the users live from the function's pinned "
            f"configuration ({pinned.ENV}), which this function does not have: deploy the "
            "construct's current version"
        )
    props = dict(configuration.admit({"RequestType": "Renew"})["ResourceProperties"])
    if props.get("Kind") != "Users":
        raise PropertyError("Revoke and Rotate are operations of the users function only")
    return props


def handle(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Run a ``Revoke`` or ``Rotate`` event; return what was done (no key material).

    A request this function will not act on (unknown user, unsafe name, no configuration)
    comes back as ``{"Refused": reason}`` rather than as a function error: an operator's
    typo must not fire the ``HandlerErrors`` alarm. Failures of AWS calls raise.
    """
    operation = event.get("RequestType")
    try:
        if operation not in OPERATIONS:
            raise PropertyError(f"RequestType must be one of {', '.join(OPERATIONS)}")
        return run(
            configured_properties(),
            user=certs.check_user_name(event.get("User")),
            reason=_text(event, "Reason", required=True),
            requested_by=_text(event, "RequestedBy", required=False),
            rotate=operation == "Rotate",
            context=context,
        )
    except (PropertyError, certs.InvalidUserNameError) as err:
        LOG.warning("refused %s: %s", operation, err)
        return {"Refused": str(err)}


def run(
    props: Mapping[str, Any],
    *,
    user: str,
    reason: str,
    requested_by: str,
    rotate: bool,
    context: object = None,
) -> dict[str, Any]:
    """Revoke (and with ``rotate``, re-issue) ``user``; see the module docstring."""
    from .users import UsersProps

    action = "rotate" if rotate else "revoke"
    p = UsersProps.parse({**props, "Users": []})
    lease = Lease(p.bucket, p.state_key, p.kms_key_arn, Deadline(context))
    state = lease.acquire(create=False)
    if state is None:
        raise PropertyError("this VPN has no users state yet: there is nobody to revoke")
    try:
        if user not in state.users and user not in state.revoked:
            raise PropertyError(f"{user!r} is not a user of this VPN")
        p = dataclasses.replace(
            p,
            endpoint_id=state.endpoint_id or p.endpoint_id,
            remote_label=state.remote_label,
            block_ipv6_leak=state.block_ipv6_leak,
        )
        result = _revoke(p, lease, state, user, action, reason, requested_by)
        lease.save(state, release=True)
    except BaseException:
        lease.release_saved()
        raise
    if rotate:
        result.update(_reissue(props, state, user, context))
    return result


def _revoke(
    p: UsersProps,
    lease: Lease,
    state: UsersState,
    user: str,
    action: str,
    reason: str,
    requested_by: str,
) -> dict[str, Any]:
    now = clock.now()
    lkey = ledger_key(p.prefix, p.ca_secret_arn)
    ledger = Ledger.load(p.bucket, lkey, p.ca_secret_arn)
    record = state.users.get(user)
    if record is not None:
        serials = [record.serial, *(held.serial for held in record.previous)]
        revoke_user(ledger, state, user, record, now)
        ledger.check_size()
        if ledger.changed:
            ledger.save(p.bucket, lkey, p.kms_key_arn)  # before the state forgets the user
        del state.users[user]
    else:  # revoked before: make sure it is all in force, and record this request too
        serials = list(state.revoked[user].serials)
    state.revoked[user] = RevokedUser(
        action=action,
        at=now.isoformat(),
        requested_by=requested_by,
        reason=reason,
        serials=serials,
        blocked=action == "revoke",
    )
    # Until its versions are gone, the user's file (the key) is a pending delete: a run that
    # dies before step 3 leaves it to the next run (deploy, rollback or renewal).
    state.pending_deletes = sorted({*state.pending_deletes, user})
    LOG.warning(
        "%s of user %s (serials %s) requested by %s (as the caller says; CloudTrail records "
        "who invoked): %s",
        action,
        user,
        ", ".join(serials),
        requested_by,
        reason,
    )
    lease.save(state)
    imported = False
    if state.crl_dirty or (state.crl_endpoint != p.endpoint_id and ledger.entries):
        import_crl(p, ledger, load_ca(p.ca_secret_arn), now)
        state.crl_dirty, state.crl_endpoint, imported = False, p.endpoint_id, True
        lease.save(state)  # an import resets every connection: never repeat one
    ended = _end_sessions(p.endpoint_id, user)
    deleted = store.delete_all_versions(p.bucket, user_key(p.prefix, user))
    state.pending_deletes = [name for name in state.pending_deletes if name != user]
    LOG.info(
        "%s %s: CRL imported %s, %d sessions ended, %d file versions deleted",
        action,
        user,
        imported,
        ended,
        deleted,
    )
    return {
        "User": user,
        "Action": action,
        "RevokedSerials": serials,
        "CrlImported": imported,
        "SessionsEnded": ended,
        "FileVersionsDeleted": deleted,
        "At": now.isoformat(),
    }


def _end_sessions(endpoint_id: str, user: str) -> int:
    """Terminate the user's live connections, by connection id; return how many."""
    ec2 = client("ec2")
    ids: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = ec2.describe_client_vpn_connections(ClientVpnEndpointId=endpoint_id, **token)
        ids.extend(
            connection["ConnectionId"]
            for connection in page.get("Connections", [])
            if connection.get("Status", {}).get("Code") in _LIVE
            and user in (connection.get("CommonName"), connection.get("Username"))
        )
        if not page.get("NextToken"):
            break
        token = {"NextToken": page["NextToken"]}
    for connection_id in ids:
        ec2.terminate_client_vpn_connections(
            ClientVpnEndpointId=endpoint_id, ConnectionId=connection_id
        )
    return len(ids)


def _reissue(
    props: Mapping[str, Any], state: UsersState, user: str, context: object
) -> dict[str, Any]:
    """The ordinary users run, with ``user`` added back (unblocked): a new certificate."""
    from .users import create_or_update

    again = {
        **props,
        # Every name the state knows: the blocked ones stay blocked (and keep their notes).
        "Users": sorted({*state.users, *state.revoked, user}),
        "EndpointId": state.endpoint_id or props.get("EndpointId", ""),
        "RemoteRandomLabel": state.remote_label,
        "BlockIpv6Leak": "true" if state.block_ipv6_leak else "false",
    }
    create_or_update(again, None, request="Update", context=context)
    found = store.read(str(props["Bucket"]), str(props["StateKey"]))
    after = UsersState.from_json(found.body) if found else UsersState()
    issued = after.users.get(user)
    return {
        "NewSerial": issued.serial if issued else "",
        "ConfigKey": user_key(str(props.get("Prefix", "")), user),
    }


def apply_revocations(p: UsersProps, state: UsersState, request: str) -> UsersProps:
    """What a deploy, rollback or renewal does with revoked users (module docstring).

    A blocked user still listed is skipped (never issued a certificate); the note of a
    user no longer listed is dropped (not on a ``Renew``, which lists no one).
    """
    if request != "Renew":
        for name in [n for n in state.revoked if n not in p.users]:
            del state.revoked[name]
    blocked = {name for name, note in state.revoked.items() if note.blocked}
    kept = [name for name in p.users if name not in blocked]
    if len(kept) != len(p.users):
        LOG.info("revoked users stay blocked: %s", ", ".join(sorted(blocked & set(p.users))))
    return dataclasses.replace(p, users=kept)
