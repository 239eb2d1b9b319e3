"""Export an AWS Client VPN client configuration and write a ready-to-import .ovpn to S3.

Custom-resource handler (Lambda handler string ``handlers.export_config.index.handler``,
which answers CloudFormation itself, see :mod:`..cloudformation`): :func:`on_event` returns
``{"PhysicalResourceId": ..., "Data": {...}}`` and raises on failure, which is reported as
FAILED with the exception message.

ResourceProperties (CloudFormation passes strings):

``EndpointId`` (required)
    Client VPN endpoint id, ``cvpn-endpoint-<hex>``.
``Bucket`` (required), ``Key`` (required)
    Where to write the .ovpn, e.g. ``client-config/cvpn-endpoint-0123/client.ovpn``.
``KmsKeyArn`` (required)
    KMS key for SSE-KMS on ``PutObject``.
``CredentialsSecretArn`` (optional)
    Secrets Manager secret with a client certificate and key for mutual authentication.
    Its SecretString (AWSCURRENT version) must be JSON::

        {"certificate": "<PEM certificate, optionally followed by its chain>",
         "private_key": "<PEM private key, unencrypted>"}

    When given, ``<cert>`` and ``<key>`` blocks are inserted right after ``</ca>``.
``RemoteRandomLabel`` (optional, ``"true"``/``"false"``, default ``"false"``)
    When true, a random label of 12 hex characters is put in front of the host of every
    ``remote`` line (for clients that ignore ``remote-random-hostname``). The label is new
    on every export.
``BlockIpv6Leak`` (optional, ``"true"``/``"false"``, default ``"false"``)
    When true, the IPv6 leak block (:data:`..ovpn.IPV6_LEAK_BLOCK`) is appended: for
    endpoints whose tunnel carries IPv4 only, in full-tunnel mode.

Any other property (``ConfigVersion``, ``ServerCertificateArn``, ``Port``,
``TransportProtocol``, ``SecretVersion``, ...) only triggers a re-export and is ignored.

Create/Update export the configuration, edit it as above and put it to S3 with SSE-KMS;
``Data`` holds only ``Bucket``, ``Key``, ``VersionId`` (empty when the bucket is not
versioned) and ``Sha256`` (hex digest of the bytes written). After a write, every older
version of the object is deleted: the file may hold a client key, and a replaced file must
leave no copy behind. The PhysicalResourceId is ``s3://<bucket>/<key>``; the key does not
contain the endpoint id, so a replaced endpoint re-renders the same object. Delete removes
every version of the object named by the PhysicalResourceId (a missing object or bucket is
success); of any other id (CloudFormation generated it: the Create never answered), every
version of the object that ``Bucket``/``Key`` (pinned) name, if CloudFormation shows the
resource ``DELETE_IN_PROGRESS`` under that id. A failed Create removes every version of the
object itself: its rollback Delete is answered without calling the handler.

IAM: ``s3:PutObject``, ``s3:DeleteObject``, ``s3:DeleteObjectVersion`` on the object,
``s3:ListBucketVersions`` on the bucket (``s3:prefix`` = the key).

The configuration text and the key never appear in ``Data``, logs or exception messages;
logs name only endpoint id, bucket, key and sha256.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from .. import pinned
from ..cloudformation import answering
from ..log_levels import set_levels
from ..ovpn import (
    CredentialsError,
    OvpnFormatError,
    add_inline_credentials,
    block_ipv6_leak,
    randomize_remote_host,
    validate_credentials,
)
from . import aws
from .aws import (
    EndpointNotFoundError,
    ExportConfigError,
    InvalidPropertiesError,
    SecretError,
)

__all__ = ["CONTENT_TYPE", "handler", "on_event"]

LOG = logging.getLogger(__name__)
set_levels(__package__)  # handlers/log_levels.py

CONTENT_TYPE = "application/x-openvpn-profile"
S3_URI = "s3://"
RANDOM_LABEL_BYTES = 6  # 12 hex characters
_ENDPOINT_ID = re.compile(r"^cvpn-endpoint-[0-9a-f]{8,32}$")
_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})


def on_event(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Handle a Create, Update or Delete request; raise on failure.

    Where the file goes and which key encrypts it come from the function's configuration
    (:mod:`..pinned`): an event naming another ``Bucket``, ``Key``, ``KmsKeyArn`` or
    credentials secret is refused before any call.
    """
    try:
        event = pinned.load().admit(event, aws.describe_stack_resource, aws.stack_status)
    except pinned.RefusedEvent as err:
        LOG.error("%s", err)
        raise
    request_type = event.get("RequestType")
    if request_type == "Create":
        props = event.get("ResourceProperties") or {}
        written: list[str] = []
        try:
            return _export(props, written)
        except BaseException:
            _discard(props, written)
            raise
    if request_type == "Update":
        props = event.get("ResourceProperties") or {}
        _refuse_move(props, event.get("OldResourceProperties") or {})
        return _export(props)
    if request_type == "Delete":
        physical_id = str(event.get("PhysicalResourceId", ""))
        at = pinned.load().pinned
        if (
            at
            and physical_id.startswith(S3_URI)
            and physical_id != f"{S3_URI}{at.get('Bucket')}/{at.get('Key')}"
        ):
            raise pinned.RefusedEvent(f"refused: {physical_id} is not this function's object")
        location = _parse_s3_uri(physical_id)
        if location is None and pinned.load().deleting_current(
            physical_id, aws.describe_stack_resource
        ):
            # An id CloudFormation generated: the Create that never answered may have written
            # the object (DESIGN.md "Day two"; cloudformation-coverage-roadmap issue 1814).
            location = _location(event.get("ResourceProperties") or {})
        return _delete(physical_id, location)
    raise InvalidPropertiesError(f"unsupported RequestType {request_type!r}")


def _refuse_move(props: Mapping[str, Any], old: Mapping[str, Any]) -> None:
    """Refuse a new Bucket/Key unless the object is already there (a rollback's target).

    CloudFormation would delete the old object afterwards under the new role policy, which
    names only the new object: the Delete would be denied and the old file, which may hold
    a client key, would stay.
    """
    new_at = (props.get("Bucket"), props.get("Key"))
    old_at = (old.get("Bucket"), old.get("Key"))
    if not all(isinstance(v, str) and v for v in (*new_at, *old_at)) or new_at == old_at:
        return
    bucket, key = str(new_at[0]), str(new_at[1])
    try:
        listed = aws.s3_client().list_object_versions(Bucket=bucket, Prefix=key)
    except ClientError as err:
        aws.raise_readable(err, "s3:ListBucketVersions", f"s3://{bucket}/{key}")
    if any(v.get("Key") == key for v in listed.get("Versions", [])):
        return  # going back to where this resource wrote before
    raise InvalidPropertiesError(
        f"the configuration cannot move from s3://{old_at[0]}/{old_at[1]} to "
        f"s3://{bucket}/{key}: the old file may hold a client key that this handler may no "
        "longer delete. Set config_export=False and deploy (the old file is deleted), then "
        "change config_bucket or config_prefix and turn the export back on"
    )


def _discard(props: Mapping[str, Any], written: list[str]) -> None:
    """After a failed Create: remove the version it wrote, then every other version.

    A failed Create's rollback Delete is answered without calling the handler
    (``handlers.cloudformation``), so nothing else would remove the object (it may hold a
    key). The version written is deleted by id first, so that even a failing version
    listing leaves no key behind.
    """
    location = _location(props)
    if location is None:
        return
    bucket, key = location
    try:
        for version in written:
            aws.s3_client().delete_object(Bucket=bucket, Key=key, VersionId=version)
        _delete_versions(bucket, key, keep=None)
    except Exception:
        LOG.exception("failed Create: could not remove every version of s3://%s/%s", bucket, key)


def _location(props: Mapping[str, Any]) -> tuple[str, str] | None:
    """The ``(Bucket, Key)`` the properties name, if both are non-empty strings."""
    bucket, key = props.get("Bucket"), props.get("Key")
    if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
        return None
    return bucket, key


def _required(props: Mapping[str, Any], name: str) -> str:
    value = props.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidPropertiesError(f"ResourceProperties.{name} is required (non-empty string)")
    return value.strip()


def _flag(props: Mapping[str, Any], name: str) -> bool:
    value = props.get(name)
    if value is None or value is False or value == "":
        return False
    if value is True:
        return True
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise InvalidPropertiesError(f"ResourceProperties.{name} must be 'true' or 'false'")


def _export(props: Mapping[str, Any], written: list[str] | None = None) -> dict[str, Any]:
    endpoint_id = _required(props, "EndpointId")
    if not _ENDPOINT_ID.match(endpoint_id):
        raise InvalidPropertiesError(
            f"ResourceProperties.EndpointId {endpoint_id!r} is not a Client VPN endpoint id "
            "(cvpn-endpoint-<hex>)"
        )
    bucket = _required(props, "Bucket")
    key = _required(props, "Key")
    if key.startswith("/") or key.endswith("/"):
        raise InvalidPropertiesError(
            f"ResourceProperties.Key {key!r} must not start or end with '/'"
        )
    kms_key = _required(props, "KmsKeyArn")
    secret_arn = props.get("CredentialsSecretArn") or None
    random_label = _flag(props, "RemoteRandomLabel")
    leak_block = _flag(props, "BlockIpv6Leak")

    LOG.info("exporting client configuration of %s", endpoint_id)
    config = _export_configuration(endpoint_id)
    if secret_arn is not None:
        cert_pem, key_pem = _read_credentials(str(secret_arn))
        config = _edit(add_inline_credentials, endpoint_id, config, cert_pem, key_pem)
    if random_label:
        label = secrets.token_hex(RANDOM_LABEL_BYTES)
        config = _edit(randomize_remote_host, endpoint_id, config, label)
    if leak_block:
        config = _edit(block_ipv6_leak, endpoint_id, config)

    body = config.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    version_id = _put(bucket, key, kms_key, body)
    if written is not None:
        written.append(version_id or "null")
    purged = _delete_versions(bucket, key, keep=version_id or "null")
    LOG.info(
        "wrote s3://%s/%s for %s sha256=%s (%d older versions deleted)",
        bucket,
        key,
        endpoint_id,
        digest,
        purged,
    )
    return {
        "PhysicalResourceId": f"{S3_URI}{bucket}/{key}",
        "Data": {"Bucket": bucket, "Key": key, "VersionId": version_id, "Sha256": digest},
    }


def _edit(fn: Callable[..., str], endpoint_id: str, config: str, *args: str) -> str:
    try:
        result: str = fn(config, *args)
    except OvpnFormatError as err:
        raise ExportConfigError(
            f"the configuration exported for {endpoint_id} cannot be edited: {err}"
        ) from None
    return result


def _export_configuration(endpoint_id: str) -> str:
    action = "ec2:ExportClientVpnClientConfiguration"
    try:
        response = aws.ec2_client().export_client_vpn_client_configuration(
            ClientVpnEndpointId=endpoint_id
        )
    except ClientError as err:
        if aws.error_code(err) == "InvalidClientVpnEndpointId.NotFound":
            raise EndpointNotFoundError(
                f"Client VPN endpoint {endpoint_id} not found in this account and region"
            ) from None
        aws.raise_readable(err, action, endpoint_id)
    config = response.get("ClientConfiguration", "")
    if not config.strip():
        raise ExportConfigError(f"{action} returned an empty configuration for {endpoint_id}")
    return config


def _read_credentials(secret_arn: str) -> tuple[str, str]:
    """Return (certificate PEM, private key PEM) from the secret, validated."""
    try:
        response = aws.secrets_client().get_secret_value(SecretId=secret_arn)
    except ClientError as err:
        if aws.error_code(err) == "ResourceNotFoundException":
            raise SecretError(
                f"credentials secret {secret_arn} not found (or it has no AWSCURRENT version)"
            ) from None
        aws.raise_readable(err, "secretsmanager:GetSecretValue", secret_arn)
    text = response.get("SecretString")
    if text is None:
        raise SecretError(f"credentials secret {secret_arn} has no SecretString (binary secret)")
    expected = 'expected JSON {"certificate": "<PEM>", "private_key": "<PEM>"}'
    try:
        data = json.loads(text)
    except ValueError:
        raise SecretError(f"credentials secret {secret_arn} is not JSON; {expected}") from None
    if not isinstance(data, dict):
        raise SecretError(f"credentials secret {secret_arn} is not a JSON object; {expected}")
    missing = [f for f in ("certificate", "private_key") if not isinstance(data.get(f), str)]
    if missing:
        raise SecretError(
            f"credentials secret {secret_arn} lacks string field(s) {', '.join(missing)}; "
            f"{expected}"
        )
    cert_pem, key_pem = data["certificate"], data["private_key"]
    try:
        validate_credentials(cert_pem, key_pem)
    except CredentialsError as err:
        raise SecretError(f"credentials secret {secret_arn} is malformed: {err}") from None
    return cert_pem, key_pem


def _put(bucket: str, key: str, kms_key: str, body: bytes) -> str:
    try:
        response = aws.s3_client().put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=CONTENT_TYPE,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=kms_key,
            BucketKeyEnabled=False,  # the read grant is conditioned on the object's ARN
        )
    except ClientError as err:
        aws.raise_readable(err, "s3:PutObject (and kms:GenerateDataKey)", f"s3://{bucket}/{key}")
    return response.get("VersionId") or ""


def _parse_s3_uri(physical_id: str) -> tuple[str, str] | None:
    if not physical_id.startswith(S3_URI):
        return None
    bucket, sep, key = physical_id[len(S3_URI) :].partition("/")
    if not bucket or not sep or not key:
        return None
    return bucket, key


def _delete_versions(bucket: str, key: str, *, keep: str | None) -> int:
    """Delete every version and delete marker of ``key`` except ``keep``; return how many."""
    s3 = aws.s3_client()
    found: list[str] = []
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                version = str(item.get("VersionId") or "null")
                if item.get("Key") == key and version != keep:
                    found.append(version)
        for start in range(0, len(found), 1000):
            chunk = found[start : start + 1000]
            out = s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": key, "VersionId": v} for v in chunk], "Quiet": True},
            )
            if out.get("Errors"):
                raise ExportConfigError(
                    f"could not delete {len(out['Errors'])} old versions of s3://{bucket}/{key}: "
                    f"{out['Errors'][0].get('Code')}"
                )
    except ClientError as err:
        if aws.error_code(err) in _MISSING_OBJECT_CODES:
            return 0
        aws.raise_readable(
            err, "s3:ListBucketVersions / s3:DeleteObjectVersion", f"s3://{bucket}/{key}"
        )
    return len(found)


def _delete(physical_id: str, location: tuple[str, str] | None) -> dict[str, Any]:
    if location is None:
        LOG.info("nothing to delete: no object was written by this resource")
        return {"PhysicalResourceId": physical_id, "Data": {}}
    bucket, key = location
    deleted = _delete_versions(bucket, key, keep=None)
    LOG.info("deleted s3://%s/%s (%d versions)", bucket, key, deleted)
    return {"PhysicalResourceId": physical_id, "Data": {}}


#: The Lambda entry point: runs :func:`on_event` and answers CloudFormation.
handler = answering(on_event)
