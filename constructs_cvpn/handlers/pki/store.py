"""S3 objects of the PKI handlers: conditional writes and removal of every version.

- :func:`read` returns an object's bytes and ETag (``None`` when it does not exist).
- :func:`write` puts an object with SSE-KMS. With ``if_match`` (an ETag) or
  ``if_none_match=True`` the write is conditional (S3 conditional writes): a concurrent
  writer makes it fail with :class:`ConflictError` instead of silently overwriting.
- :func:`purge_older_versions`, :func:`purge_noncurrent_under` (many keys under one prefix:
  one paginated listing) and :func:`delete_all_versions` remove noncurrent versions,
  so a replaced or removed ``.ovpn`` (which holds a private key) leaves no copy behind in a
  versioned bucket. They need ``s3:ListBucketVersions`` (with an ``s3:prefix`` condition)
  and ``s3:DeleteObjectVersion``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import client

__all__ = [
    "ConflictError",
    "Object",
    "delete_all_versions",
    "parallel",
    "purge_noncurrent_under",
    "purge_older_versions",
    "read",
    "write",
]

S3_THREADS = 16
"""How many S3 calls :func:`parallel` makes at once."""
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_CONFLICT = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


class ConflictError(RuntimeError):
    """A conditional write lost against another writer."""


@dataclass(frozen=True)
class Object:
    body: bytes
    etag: str


def code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def read(bucket: str, key: str) -> Object | None:
    """The object, or None if it does not exist.

    Raises:
        RuntimeError: AccessDenied (without ``s3:ListBucket`` S3 answers a missing object
            with 403; never take that for "missing").
    """
    try:
        out = client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if code(err) in _MISSING:
            return None
        if code(err) in ("AccessDenied", "403"):
            raise RuntimeError(
                f"cannot read s3://{bucket}/{key}: AccessDenied. The handler needs "
                "s3:GetObject on it, kms:Decrypt on its key and s3:ListBucket on the bucket "
                "(so that a missing object reads as NoSuchKey)"
            ) from None
        raise
    return Object(body=out["Body"].read(), etag=str(out.get("ETag", "")))


def write(
    bucket: str,
    key: str,
    body: bytes,
    *,
    kms_key_arn: str,
    content_type: str,
    if_match: str | None = None,
    if_none_match: bool = False,
) -> Object:
    """Put ``body`` with SSE-KMS; return the new object's ETag (and body).

    Raises:
        ConflictError: the condition failed (another writer got there first).
    """
    kwargs: dict[str, str] = {}
    if if_match is not None:
        kwargs["IfMatch"] = if_match
    elif if_none_match:
        kwargs["IfNoneMatch"] = "*"
    try:
        out = client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=kms_key_arn,
            # No bucket key: the encryption context is then the object's ARN, which the
            # construct's one-file read grants are conditioned on.
            BucketKeyEnabled=False,
            **kwargs,
        )
    except ClientError as err:
        if code(err) in _CONFLICT or (if_match is not None and code(err) in _MISSING):
            raise ConflictError(
                f"s3://{bucket}/{key} was changed by another run of this resource"
            ) from None
        raise
    return Object(body=body, etag=str(out.get("ETag", "")))


def parallel(fn: Callable[[str], Any], names: Iterable[str]) -> dict[str, Any]:
    """``{name: fn(name)}``, with up to :data:`S3_THREADS` calls at once."""
    names = list(names)
    with ThreadPoolExecutor(S3_THREADS) as pool:
        return dict(zip(names, pool.map(fn, names), strict=True))


def _versions(bucket: str, key: str) -> list[tuple[str, bool]]:
    """``(version id, is latest)`` of every version and delete marker of exactly ``key``."""
    found: list[tuple[str, bool]] = []
    paginator = client("s3").get_paginator("list_object_versions")
    try:
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if item.get("Key") == key:
                    found.append((str(item.get("VersionId") or "null"), bool(item.get("IsLatest"))))
    except ClientError as err:
        if code(err) == "NoSuchBucket":
            return []
        raise
    return found


DELETE_BATCH = 1000
"""Keys per DeleteObjects request: S3's maximum
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html)."""


def _delete_versions(bucket: str, key: str, version_ids: list[str]) -> None:
    _delete_pairs(bucket, [(key, v) for v in version_ids])


def _delete_pairs(bucket: str, pairs: list[tuple[str, str]]) -> None:
    """Delete ``(key, version id)`` pairs, :data:`DELETE_BATCH` per request."""
    s3 = client("s3")
    for start in range(0, len(pairs), DELETE_BATCH):
        chunk = pairs[start : start + DELETE_BATCH]
        out = s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": k, "VersionId": v} for k, v in chunk], "Quiet": True},
        )
        errors = out.get("Errors", [])
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"could not delete {len(errors)} versions under s3://{bucket}/"
                f"{first.get('Key')}: {first.get('Code')}"
            )


def purge_noncurrent_under(
    bucket: str, prefix: str, keys: set[str], stop: Callable[[], bool]
) -> int:
    """Delete every noncurrent version (and delete marker) of the ``keys`` under ``prefix``
    with one paginated ListObjectVersions, DeleteObjects in batches of :data:`DELETE_BATCH`;
    return how many. Stops (the rest left for a later call) once ``stop()`` is true.

    Needs no record of which run wrote a newer version: whichever run comes next removes
    what an earlier, failed or killed run left behind.
    """
    found: list[tuple[str, str]] = []
    paginator = client("s3").get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            key = str(item.get("Key"))
            if key in keys and not item.get("IsLatest"):
                found.append((key, str(item.get("VersionId") or "null")))
        if stop():
            break
    deleted = 0
    for start in range(0, len(found), DELETE_BATCH):
        if stop():
            break
        _delete_pairs(bucket, found[start : start + DELETE_BATCH])
        deleted += len(found[start : start + DELETE_BATCH])
    return deleted


def purge_older_versions(bucket: str, key: str) -> int:
    """Delete every noncurrent version of ``key``; return how many."""
    old = [v for v, latest in _versions(bucket, key) if not latest]
    if old:
        _delete_versions(bucket, key, old)
    return len(old)


def delete_all_versions(bucket: str, key: str) -> int:
    """Delete ``key`` with every version and delete marker; a missing bucket is success."""
    versions = [v for v, _ in _versions(bucket, key)]
    if versions:
        _delete_versions(bucket, key, versions)
    return len(versions)
