"""``cvpn config``: locate, download and privately write a ``.ovpn`` file, or presign its URL.

The shared config is at the stack's ``ConfigKey`` output; a user's config is at
``<UserConfigPrefix><user>.ovpn`` (only when the construct generates per-user certificates).
A ``.ovpn`` for mutual authentication holds a private key, so files are created with mode
0600 from the start (``O_CREAT | O_EXCL``), never written world-readable and then chmod-ed.

Every S3 read names the bucket's expected owner (``ExpectedBucketOwner``: the account that
holds the stack, or the caller's account): if the bucket named by the stack output belongs to
someone else, S3 refuses the request instead of returning their file. A presigned URL cannot
carry that check (it would be a signed header the downloader must send), so ``config url``
checks the object with HeadObject and the owner before it signs.

``config get --cert F --key F`` inlines a local client certificate and key into the shared
config (for mutual authentication with one certificate per person, where the exported config
holds none): the pair is read and checked before any AWS call, the blocks are added after
``</ca>`` in memory, and only the local file is written. Nothing is ever uploaded.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from constructs_cvpn.cli.errors import (
    CvpnError,
    NotFoundError,
    RefusedError,
    UsageError,
    error_code,
    error_message,
    from_client_error,
)
from constructs_cvpn.handlers.ovpn import (
    CredentialsError,
    OvpnFormatError,
    add_inline_credentials,
    validate_credentials,
)
from constructs_cvpn.validation import user_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

    from constructs_cvpn.cli.discovery import VpnOutputs

DEFAULT_URL_EXPIRY = 300
"""Default lifetime of a presigned URL, in seconds."""
MAX_URL_EXPIRY = 3600
"""Longest lifetime ``cvpn config url`` allows, in seconds."""
FILE_MODE = 0o600
"""Mode of every written ``.ovpn`` file: owner read/write only."""

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})
_WRONG_OWNER_CODES = frozenset({"AccessDenied", "403", "Forbidden"})
_ACCOUNT = re.compile(r"^\d{12}$")


def check_user(user: str | None) -> None:
    """Refuse a ``--user`` that could name another file, or that no ``ClientVpn`` has
    (before any AWS call).

    A path separator or ``..`` would change the S3 key and the default output file name;
    beyond that, the construct's own rule (``validation.user_name``) says which names exist.
    """
    if user is None:
        return
    if "/" in user or "\\" in user or ".." in user:
        raise UsageError(
            f"invalid user name {user!r}: no path separators ('/', '\\') or '..' allowed"
        )
    try:
        user_name(user)
    except ValueError as err:
        raise UsageError(f"invalid user name {user!r}: {err}") from None


def bucket_owner(outputs: VpnOutputs | None, sts: Callable[[], STSClient]) -> str:
    """The account expected to own the config bucket: the stack's, else the caller's (for
    a location given with ``--bucket``, always the caller's: a grant reaches only buckets
    of the grantee's account)."""
    if outputs is not None and outputs.account:
        return outputs.account
    try:
        account = sts().get_caller_identity()["Account"]
    except ClientError as err:
        raise from_client_error(err, "find your AWS account (sts:GetCallerIdentity)") from None
    if not _ACCOUNT.match(account):
        raise CvpnError(f"STS returned an invalid account id {account!r}")
    return account


@dataclass(frozen=True)
class ConfigLocation:
    """Where one ``.ovpn`` lives in S3, for whom, and which account owns the bucket."""

    bucket: str
    key: str
    user: str | None
    owner: str

    @property
    def uri(self) -> str:
        """The ``s3://bucket/key`` form, for messages."""
        return f"s3://{self.bucket}/{self.key}"

    @property
    def subject(self) -> str:
        """Whose config this is, for messages."""
        return f"user '{self.user}'" if self.user else "the shared config"


def locate(outputs: VpnOutputs, user: str | None, owner: str) -> ConfigLocation:
    """Return the S3 location of the shared config, or of ``user``'s config."""
    check_user(user)
    if outputs.config_bucket is None:
        raise NotFoundError(
            f"stack '{outputs.stack}' has no ConfigBucketName output for VPN '{outputs.label}'"
        )
    if user is None:
        if outputs.config_key is None and outputs.user_config_prefix is not None:
            raise UsageError(
                f"VPN '{outputs.label}' in stack '{outputs.stack}' has one .ovpn per user "
                "(generated certificates) and no shared one: pass --user NAME"
            )
        if outputs.config_key is None:
            raise NotFoundError(
                f"stack '{outputs.stack}' has no ConfigKey output for VPN '{outputs.label}'"
            )
        return ConfigLocation(outputs.config_bucket, outputs.config_key, None, owner)
    if outputs.user_config_prefix is None:
        raise UsageError(
            f"VPN '{outputs.label}' in stack '{outputs.stack}' has no per-user configs "
            "(no UserConfigPrefix output); omit --user to get the shared config"
        )
    key = f"{outputs.user_config_prefix}{user}.ovpn"
    return ConfigLocation(outputs.config_bucket, key, user, owner)


def direct(
    bucket: str, key: str | None, user_prefix: str | None, user: str | None, owner: str
) -> ConfigLocation:
    """The location given on the command line: ``--object-key``, or ``--user-prefix`` + ``--user``
    (no CloudFormation read: what a grant of one file, or of one's own file, allows)."""
    if key is not None:
        return ConfigLocation(bucket, key, user, owner)
    assert user_prefix is not None and user is not None  # checked by check_direct
    return ConfigLocation(bucket, f"{user_prefix}{user}.ovpn", user, owner)


def check_direct(
    stack: str | None,
    bucket: str | None,
    key: str | None,
    user_prefix: str | None,
    user: str | None,
) -> bool:
    """True for a location given directly; a usage error unless the options name one file.

    ``--stack`` (and ``--user``), or ``--bucket`` with ``--object-key``, or ``--bucket`` with
    ``--user-prefix`` and ``--user``.
    """
    how = (
        "say where the file is: --stack NAME [--user NAME], or --bucket BUCKET with "
        "--object-key KEY, or --bucket BUCKET --user-prefix PREFIX --user NAME (PREFIX: the "
        "stack's UserConfigPrefix output)"
    )
    direct_given = bucket is not None or key is not None or user_prefix is not None
    if stack is not None and direct_given:
        raise UsageError(f"--stack finds the file itself; {how}")
    if stack is not None:
        return False
    if bucket is None or (key is None) == (user_prefix is None):
        raise UsageError(how)
    if key is not None and user is not None:
        raise UsageError(f"--object-key names the file, --user too; {how}")
    if user_prefix is not None and user is None:
        raise UsageError(f"--user-prefix needs --user; {how}")
    return True


def _translate(err: ClientError, location: ConfigLocation, action: str) -> CvpnError:
    """Map S3 errors: a missing object or bucket is "not found", the rest is generic."""
    if error_code(err) in _NOT_FOUND_CODES:
        return NotFoundError(f"no config for {location.subject} at {location.uri}")
    if error_code(err) in _WRONG_OWNER_CODES:
        return CvpnError(
            f"access denied while trying to {action} {location.uri}: either you may not read "
            f"it, or the bucket is not owned by account {location.owner} (the stack's account); "
            f"S3 said: {error_message(err)}"
        )
    return from_client_error(err, f"{action} {location.uri}")


def download(s3: S3Client, location: ConfigLocation) -> bytes:
    """Return the config object's bytes."""
    try:
        response = s3.get_object(
            Bucket=location.bucket, Key=location.key, ExpectedBucketOwner=location.owner
        )
        return response["Body"].read()
    except ClientError as err:
        raise _translate(err, location, "download") from None


def presign(s3: S3Client, location: ConfigLocation, expires: int) -> str:
    """Check that the object exists, then return a presigned GET URL valid ``expires`` s."""
    if not 1 <= expires <= MAX_URL_EXPIRY:
        raise UsageError(f"--expires must be between 1 and {MAX_URL_EXPIRY} seconds")
    try:
        s3.head_object(Bucket=location.bucket, Key=location.key, ExpectedBucketOwner=location.owner)
    except ClientError as err:
        raise _translate(err, location, "read") from None
    return s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": location.bucket, "Key": location.key},
        ExpiresIn=expires,
    )


@dataclass(frozen=True)
class LocalCredentials:
    """A client certificate (with its chain, if any) and its private key, read from files."""

    cert_path: Path
    key_path: Path
    cert_pem: str
    key_pem: str


def _read_pem(path: Path, what: str) -> str:
    """The text of a local PEM file (ASCII), or a one-line usage error."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read the {what} {path}: {err.strerror or err}") from None
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"the {what} {path} is not a PEM file (not ASCII text)") from None


def read_credentials(
    cert: Path | None, key: Path | None, user: str | None
) -> LocalCredentials | None:
    """Read and check ``--cert``/``--key`` (before any AWS call); None if neither is given.

    Both or neither; not with ``--user`` (a user's file already holds its certificate and
    key). The key must be unencrypted and must match the certificate's public key.
    """
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("--cert and --key go together: pass both, or neither")
    if user is not None:
        raise UsageError(
            "--cert/--key cannot be used with --user: a user's config already holds "
            "that user's certificate and key"
        )
    credentials = LocalCredentials(
        cert, key, _read_pem(cert, "certificate"), _read_pem(key, "private key")
    )
    try:
        validate_credentials(credentials.cert_pem, credentials.key_pem)
    except CredentialsError as err:
        raise UsageError(f"--cert {cert} / --key {key}: {err}") from None
    return credentials


def inline_credentials(
    data: bytes, credentials: LocalCredentials, location: ConfigLocation
) -> bytes:
    """``data`` with the local certificate and key inlined after ``</ca>`` (all else kept).

    Refuses a config that already holds a certificate or key (or has no single ``</ca>``).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CvpnError(f"{location.uri} is not a text .ovpn file (not UTF-8)") from None
    try:
        merged = add_inline_credentials(text, credentials.cert_pem, credentials.key_pem)
    except OvpnFormatError as err:
        hint = ""
        if "already contains" in str(err):
            hint = "; omit --cert/--key to use it as it is"
        raise UsageError(f"cannot add --cert/--key to {location.uri}: {err}{hint}") from None
    except CredentialsError as err:  # pragma: no cover - read_credentials checked the shape
        raise UsageError(f"--cert/--key: {err}") from None
    return merged.encode("utf-8")


def default_output(outputs: VpnOutputs, user: str | None) -> Path:
    """Default file name: ``<user>.ovpn``, or ``<endpoint-id>.ovpn`` for the shared config."""
    return Path(f"{user or outputs.endpoint_id}.ovpn")


def refuse_if_exists(path: Path) -> None:
    """Raise RefusedError if ``path`` exists (or is a dangling symlink)."""
    if os.path.lexists(path):
        raise RefusedError(f"{path} already exists; pass --force to overwrite it")


def write_private(path: Path, data: bytes, *, force: bool) -> None:
    """Write ``data`` to ``path`` with mode 0600; never readable by others at any moment.

    Without ``force`` the file is created with ``O_CREAT | O_EXCL`` (an existing file, even
    one appearing after the check, is refused). With ``force`` the data goes to a private
    temporary file in the same directory, which then atomically replaces ``path``.
    """
    try:
        _write_private(path, data, force=force)
    except OSError as err:
        raise CvpnError(f"cannot write {path}: {err.strerror or err}") from None


def _write_private(path: Path, data: bytes, *, force: bool) -> None:
    """Implementation of :func:`write_private` (OS errors propagate)."""
    if not force:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            raise RefusedError(f"{path} already exists; pass --force to overwrite it") from None
        _write_all(fd, path, data)
        return
    directory = path.parent if str(path.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    _write_all(fd, Path(temporary), data)
    try:
        os.replace(temporary, path)
    except BaseException:  # Ctrl-C too: never leave a second copy of a private key behind
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_all(fd: int, path: Path, data: bytes) -> None:
    """Write ``data`` to the open descriptor, force mode 0600, sync, close.

    The data is on disk before the file is renamed over an old one (without the sync, a
    crash after the rename can leave the name pointing at an empty file). The file is
    removed on any error.
    """
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
