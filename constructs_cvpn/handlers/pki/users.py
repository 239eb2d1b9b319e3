"""``Kind=Users``: per-user client certificates, ``.ovpn`` files and the CRL.

Runs after the Client VPN endpoint and its associations exist. Properties (CloudFormation
strings):

- ``EndpointId`` (required): the Client VPN endpoint id (``cvpn-endpoint-...``).
- ``Users`` (required, may be empty): user names, each matching
  :data:`.certs.USER_NAME_PATTERN`; duplicates are ignored; at most :data:`MAX_USERS`.
- ``Bucket`` (required), ``Prefix`` (default ``""``): each user's file is
  ``<Prefix>users/<name>.ovpn``, written with SSE-KMS under ``KmsKeyArn``.
- ``KmsKeyArn`` (required): KMS key for the ``.ovpn`` and state objects.
- ``CaSecretArn`` (required): the ``Kind=Authority`` resource's PhysicalResourceId.
- ``StateKey`` (required): S3 key of the state JSON (no private keys; see :mod:`.state`).
- ``RemoteRandomLabel`` (optional): DNS label put in front of the endpoint host name.
- ``ClientValidityDays`` (default 825, 1-3650), ``RenewBeforeDays`` (default 30, 0-3650),
  ``CrlValidityDays`` (default 3650, 1-36500).

What a Create/Update does: export the client configuration once; issue a key and
certificate only for users who are new, whose certificate expires within
``RenewBeforeDays``, whose file was left half-written by a failed run, or whose ``.ovpn``
was built from a different configuration (endpoint replaced, ``RemoteRandomLabel``
changed, new CA); the replaced certificate's serial is revoked. Removed users' serials are
revoked and their ``.ovpn`` deleted. Whenever anything was revoked, the full CRL (every
serial ever revoked) is signed and imported into the endpoint. Other users' objects are not
touched, so their certificates and files stay byte-identical.

Order and retries: the state (with new users marked ``pending`` and removed users in
``pending_deletes``, ``crl_dirty`` set) is saved before any ``.ovpn`` is written; a retry
after any failure re-issues the pending users (revoking the half-issued serial), re-imports
the CRL and finishes the deletions.

IAM: ``s3:GetObject``/``PutObject``/``DeleteObject`` on ``<Prefix>*`` and the state key, plus
``s3:ListBucket`` on the bucket (else a missing state object is a 403, which is refused
rather than taken for "no state"), ``kms:Decrypt``/``GenerateDataKey`` on ``KmsKeyArn``,
``secretsmanager:GetSecretValue`` on ``CaSecretArn``, ``ec2:ExportClientVpnClientConfiguration``
and ``ec2:ImportClientVpnClientCertificateRevocationList`` on the endpoint.

PhysicalResourceId: ``cvpn-users:<Bucket>/<StateKey>``. Data: ``Users``, ``Issued``,
``Removed``, ``RevokedTotal`` (counts) and ``StateSha256``, far below the 4 KiB response
limit whatever the number of users. Delete removes every ``.ovpn`` the state lists and the
state object (the endpoint is deleted with it, so no CRL is imported).

Cost: one RSA 2048 key per issued user (about 50 ms on one full vCPU); size the Lambda
memory so that ``MAX_USERS`` new users fit in its timeout.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..ovpn import add_inline_credentials, randomize_remote_host
from . import certs
from .aws import client
from .props import PropertyError, get_int, get_str, get_str_list
from .state import CaBundle, RevokedRecord, UserRecord, UsersState

__all__ = ["MAX_USERS", "UsersProps", "create_or_update", "delete", "physical_id", "user_key"]

LOG = logging.getLogger(__name__)
MAX_USERS = 2000
"""Upper bound on ``Users`` (Lambda time: keys are generated one after the other)."""
_S3_THREADS = 16


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
    client_days: int
    renew_before: int
    crl_days: int

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
            client_days=get_int(
                props, "ClientValidityDays", certs.CLIENT_VALIDITY_DAYS, low=1, high=3650
            ),
            renew_before=get_int(props, "RenewBeforeDays", 30, low=0, high=3650),
            crl_days=get_int(props, "CrlValidityDays", certs.CRL_VALIDITY_DAYS, low=1, high=36500),
        )


def physical_id(props: UsersProps) -> str:
    return f"cvpn-users:{props.bucket}/{props.state_key}"


def user_key(prefix: str, name: str) -> str:
    """S3 key of a user's ``.ovpn``: ``<prefix>users/<name>.ovpn``."""
    return f"{prefix}users/{name}.ovpn"


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _load_state(bucket: str, key: str) -> UsersState | None:
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        code = _code(err)
        if code in ("NoSuchKey", "404"):
            return None
        if code in ("AccessDenied", "403"):
            # Without s3:ListBucket S3 answers a missing object with 403, not 404. Never
            # treat that as "no state": the revocation list would be lost.
            raise RuntimeError(
                f"cannot read the users state s3://{bucket}/{key}: AccessDenied. The handler "
                "needs s3:GetObject on it and s3:ListBucket on the bucket (so that a missing "
                "state object reads as NoSuchKey)"
            ) from None
        raise
    return UsersState.from_json(body)


def _put(p: UsersProps, key: str, body: str, content_type: str) -> None:
    client("s3").put_object(
        Bucket=p.bucket,
        Key=key,
        Body=body.encode(),
        ContentType=content_type,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=p.kms_key_arn,
    )


def _save_state(p: UsersProps, state: UsersState) -> None:
    _put(p, p.state_key, state.to_json(), "application/json")


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
    return config


def _revoke(state: UsersState, name: str, serial: str, now: dt.datetime) -> None:
    if not any(r.serial == serial for r in state.revoked):
        state.revoked.append(RevokedRecord(serial=serial, revoked_at=now.isoformat(), user=name))
    state.crl_dirty = True


def _import_crl(p: UsersProps, state: UsersState, ca: certs.Issued, now: dt.datetime) -> None:
    state.crl_number += 1
    crl = certs.build_crl(
        ca,
        [(int(r.serial, 16), dt.datetime.fromisoformat(r.revoked_at)) for r in state.revoked],
        crl_number=state.crl_number,
        validity_days=p.crl_days,
        now=now,
    )
    client("ec2").import_client_vpn_client_certificate_revocation_list(
        ClientVpnEndpointId=p.endpoint_id, CertificateRevocationList=certs.crl_to_pem(crl)
    )
    state.crl_dirty = False
    LOG.info("imported CRL #%d with %d revoked serials", state.crl_number, len(state.revoked))


def _base_state(p: UsersProps, old: UsersProps | None, now: dt.datetime) -> UsersState:
    state = _load_state(p.bucket, p.state_key)
    if state is not None:
        return state
    if old is not None and (old.bucket, old.state_key) != (p.bucket, p.state_key):
        previous = _load_state(old.bucket, old.state_key)
        if previous is not None:
            # Moved state: carry the revocations over and revoke every old certificate
            # (the old files are deleted with the old location; their keys are unknown here).
            for name, rec in previous.users.items():
                _revoke(previous, name, rec.serial, now)
            previous.users = {}
            previous.pending_deletes = []
            LOG.info(
                "state moved: revoked %d certificates of the old location", len(previous.revoked)
            )
            return previous
    return UsersState()


def create_or_update(
    props: Mapping[str, Any], old_props: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """Reconcile users with ``props``; return ``(physical id, Data)``."""
    p = UsersProps.parse(props)
    old = None
    if old_props:
        try:
            old = UsersProps.parse(old_props)
        except ValueError:
            old = None
    now = dt.datetime.now(dt.UTC)
    state = _base_state(p, old, now)
    ca = _load_ca(p.ca_secret_arn)
    config = _export_config(p)
    config_sha = hashlib.sha256(config.encode()).hexdigest()

    wanted = set(p.users)
    removed = sorted(set(state.users) - wanted)
    for name in removed:
        gone = state.users.pop(name)
        _revoke(state, name, gone.serial, now)
        state.pending_deletes.append(name)

    to_issue: list[str] = []
    for name in p.users:
        rec = state.users.get(name)
        if rec is None:
            to_issue.append(name)
            continue
        stale = (
            rec.pending
            or rec.config_sha256 != config_sha
            or certs.needs_reissue(
                certs.cert_from_pem(rec.cert_pem), renew_before_days=p.renew_before, now=now
            )
        )
        if stale:
            _revoke(state, name, rec.serial, now)
            to_issue.append(name)

    issued: dict[str, certs.Issued] = {}
    for name in to_issue:
        new = certs.issue_client_cert(ca, name, validity_days=p.client_days, now=now)
        issued[name] = new
        state.users[name] = UserRecord(
            serial=certs.serial_hex(new.cert.serial_number),
            cert_pem=certs.cert_to_pem(new.cert),
            not_after=new.cert.not_valid_after_utc.isoformat(),
            config_sha256=config_sha,
            pending=True,
        )
    state.pending_deletes = sorted(set(state.pending_deletes) - wanted)
    if issued or removed:
        _save_state(p, state)  # before writing files: a retry knows what is half-done

    def write(name: str) -> None:
        new = issued[name]
        body = add_inline_credentials(config, state.users[name].cert_pem, certs.key_to_pem(new.key))
        _put(p, user_key(p.prefix, name), body, "application/x-openvpn-profile")

    with ThreadPoolExecutor(_S3_THREADS) as pool:
        list(pool.map(write, sorted(issued)))
    for name in issued:
        state.users[name].pending = False

    if state.crl_dirty:
        _import_crl(p, state, ca, now)

    deletes = sorted(state.pending_deletes)
    _delete_objects(p.bucket, [user_key(p.prefix, n) for n in deletes])
    state.pending_deletes = []
    _save_state(p, state)
    LOG.info(
        "users: %d total, %d issued, %d removed, %d revoked in all",
        len(state.users),
        len(issued),
        len(removed),
        len(state.revoked),
    )
    data = {
        "Users": len(state.users),
        "Issued": len(issued),
        "Removed": len(removed),
        "RevokedTotal": len({r.serial for r in state.revoked}),
        "StateSha256": state.sha256(),
    }
    return physical_id(p), data


def _delete_objects(bucket: str, keys: list[str]) -> None:
    s3 = client("s3")
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        if not chunk:
            continue
        out = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
        )
        errors = out.get("Errors", [])
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"could not delete {len(errors)} objects, e.g. {first.get('Key')}: "
                f"{first.get('Code')}"
            )


def delete(props: Mapping[str, Any]) -> None:
    """Delete every ``.ovpn`` the state lists and the state object."""
    bucket = get_str(props, "Bucket")
    prefix = get_str(props, "Prefix", "")
    state_key = get_str(props, "StateKey")
    state = _load_state(bucket, state_key)
    if state is None:
        LOG.info("no users state at %s: nothing to delete", state_key)
        return
    names = sorted(set(state.users) | set(state.pending_deletes))
    _delete_objects(bucket, [user_key(prefix, n) for n in names])
    _delete_objects(bucket, [state_key])
    LOG.info("deleted %d user configurations and the state", len(names))
