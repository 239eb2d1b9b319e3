"""``cvpn``: a command line for AWS Client VPN endpoints deployed with constructs-cvpn.

Commands::

    cvpn status      (--stack NAME [--vpn PREFIX] | --endpoint-id ID) [--json]
    cvpn config get  --stack NAME [--user NAME | --cert FILE --key FILE] [-o FILE] [--force]
    cvpn config url  --stack NAME [--user NAME] [--expires SECONDS] [--json]
    cvpn connections (--stack NAME | --endpoint-id ID) [--all] [--disconnect USER] [--json]
    cvpn wait        (--stack NAME | --endpoint-id ID) [--timeout S] [--interval S]
    cvpn wake        --stack NAME [--vpn PREFIX] [--for 2h] [--json]

Every command takes ``--profile`` and ``--region`` (default: the usual AWS environment
variables and config files).

Exit codes:

- 0: success
- 1: AWS error (no credentials, no region, access denied, throttled after retries, ...)
- 2: usage error (bad or conflicting options; typer's own usage errors too)
- 3: not found (stack, endpoint, VPN in the stack, or the shared/user config object)
- 4: timeout (``cvpn wait``)
- 5: refused (the output file exists and ``--force`` was not given)
- 130: interrupted (Ctrl-C)

The command needs the ``cli`` extra (``pip install "constructs-cvpn[cli]"``: typer and rich);
without it, ``cvpn`` prints that install line and exits with 1.

Errors are printed to stderr as one line, ``cvpn: error: <message>``, never as a traceback
(set ``CVPN_DEBUG=1`` to see the traceback of an unexpected error).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from constructs_cvpn.cli.app import create_app

__all__ = ["CLI_MODULES", "create_app", "main", "missing_extra_hint"]

CLI_MODULES = frozenset({"typer", "rich", "click", "boto3", "botocore", "cryptography"})
"""Top-level modules the command needs beyond the construct (typer and rich from the extra)."""


def missing_extra_hint(err: ModuleNotFoundError) -> str | None:
    """The one-line install hint if ``err`` is a missing CLI dependency, else None."""
    top = (err.name or "").partition(".")[0]
    if top not in CLI_MODULES:
        return None
    return (
        f"cvpn: error: the cvpn command needs the 'cli' extra (missing module: {top}); "
        "install it with: pip install 'constructs-cvpn[cli]'"
    )


def main() -> None:
    """Entry point of the ``cvpn`` console script (a one-line hint if the extra is missing)."""
    try:
        from constructs_cvpn.cli.app import main as run
    except ModuleNotFoundError as err:
        hint = missing_extra_hint(err)
        if hint is None:
            raise
        print(hint, file=sys.stderr)
        raise SystemExit(1) from None
    run()


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from constructs_cvpn.cli.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
