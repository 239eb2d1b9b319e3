"""Exit codes, the CLI's error types, and the translation of AWS errors into one-line messages.

Every failure the user can cause or meet (no credentials, no region, a missing stack,
endpoint or user config, access denied, throttling) becomes a :class:`CvpnError` carrying a
one-line message and an exit code; :func:`error_boundary` prints it to stderr and exits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

import typer
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from constructs_cvpn.cli.clients import MAX_RETRIES
from constructs_cvpn.cli.text import plain


class ExitCode(IntEnum):
    """Process exit codes of ``cvpn`` (also listed in ``cvpn --help``)."""

    OK = 0
    """Success."""
    ERROR = 1
    """AWS error (credentials, region, access denied, throttling, ...) or other failure."""
    USAGE = 2
    """Invalid command line (typer's own usage errors use this code too)."""
    NOT_FOUND = 3
    """Stack, endpoint, VPN in the stack, or the (user) config object does not exist."""
    TIMEOUT = 4
    """``cvpn wait`` gave up before the endpoint was ready."""
    REFUSED = 5
    """The output file exists and ``--force`` was not given."""
    INTERRUPTED = 130
    """Interrupted with Ctrl-C."""


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 AWS error (credentials, region, access denied, throttling); "
    "2 usage error; 3 not found (stack, endpoint, VPN, user config); "
    "4 timeout (wait); 5 refused (output file exists, use --force); 130 interrupted (Ctrl-C)."
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "EC2ThrottledException",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "Forbidden",
        "403",
    }
)
BAD_CREDENTIALS_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


class CvpnError(Exception):
    """An expected failure: a one-line message for stderr and the exit code to use."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CvpnError):
    """The command line cannot be acted on (conflicting or missing options)."""

    exit_code = ExitCode.USAGE


class NotFoundError(CvpnError):
    """A stack, endpoint, VPN or config object does not exist."""

    exit_code = ExitCode.NOT_FOUND


class WaitTimeoutError(CvpnError):
    """``cvpn wait`` ran out of time."""

    exit_code = ExitCode.TIMEOUT


class RefusedError(CvpnError):
    """An action was refused to protect existing data (file exists without --force)."""

    exit_code = ExitCode.REFUSED


def error_code(err: ClientError) -> str:
    """Return the AWS error code of ``err`` (``""`` when the response has none)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    """Return the AWS error message of ``err``, falling back to the code."""
    error = err.response.get("Error", {})
    return str(error.get("Message") or error.get("Code") or "no message")


def from_client_error(err: ClientError, action: str) -> CvpnError:
    """Translate a generic AWS ``ClientError`` raised while doing ``action`` into a CvpnError."""
    code = error_code(err)
    message = error_message(err)
    if code in THROTTLING_CODES:
        return CvpnError(
            f"AWS is throttling requests ({code}) while trying to {action}, "
            f"still throttled after {MAX_RETRIES} retries; try again in a minute"
        )
    if code in ACCESS_DENIED_CODES:
        return CvpnError(f"access denied while trying to {action}: {message}")
    if code in BAD_CREDENTIALS_CODES:
        return CvpnError(
            f"AWS rejected the credentials ({code}) while trying to {action}: {message}; "
            "refresh them (e.g. `aws sso login`) or pick another --profile"
        )
    return CvpnError(f"AWS error {code or 'unknown'} while trying to {action}: {message}")


def from_botocore_error(err: BotoCoreError) -> CvpnError:
    """Translate a botocore (client-side) error into a CvpnError with a helpful message."""
    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return CvpnError(
            "no AWS credentials found: configure a profile (`aws configure` or "
            "`aws sso login`) and pass --profile, or set AWS_PROFILE / AWS_ACCESS_KEY_ID"
        )
    if isinstance(err, NoRegionError):
        return CvpnError(
            "no AWS region configured: pass --region, set AWS_REGION, "
            "or set `region` in your AWS profile"
        )
    if isinstance(err, ProfileNotFound):
        return CvpnError(f"AWS profile not found: {err.kwargs.get('profile', err)}")
    if isinstance(err, EndpointConnectionError):
        return CvpnError(f"cannot reach AWS: {err}")
    return CvpnError(f"AWS client error: {err}")


def _fail(message: str, exit_code: int) -> typer.Exit:
    """Print ``cvpn: error: <message>`` on one line to stderr and build the exit."""
    one_line = " ".join(plain(message).split())
    typer.echo(f"cvpn: error: {one_line}", err=True)
    return typer.Exit(exit_code)


@contextmanager
def error_boundary(action: str) -> Iterator[None]:
    """Turn every expected failure inside the block into a one-line error and an exit code.

    ``action`` names what the command does, for AWS errors not already translated
    by the command itself. Unexpected exceptions also end in one line (exit 1), unless
    ``CVPN_DEBUG`` is set, in which case they propagate with their traceback.
    """
    try:
        yield
    except typer.Exit:
        raise
    except CvpnError as err:
        raise _fail(err.message, err.exit_code) from None
    except ClientError as err:
        translated = from_client_error(err, action)
        raise _fail(translated.message, translated.exit_code) from None
    except BotoCoreError as err:
        translated = from_botocore_error(err)
        raise _fail(translated.message, translated.exit_code) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", ExitCode.INTERRUPTED) from None
    except Exception as err:
        if os.environ.get("CVPN_DEBUG"):
            raise
        raise _fail(
            f"unexpected {type(err).__name__}: {err} (set CVPN_DEBUG=1 for a traceback)",
            ExitCode.ERROR,
        ) from None
