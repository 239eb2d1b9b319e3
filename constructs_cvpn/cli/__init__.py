"""``cvpn``: a command line for AWS Client VPN endpoints deployed with constructs-cvpn.

Commands::

    cvpn status      (--stack NAME [--vpn PREFIX] | --endpoint-id ID) [--json]
    cvpn config get  --stack NAME [--user NAME | --cert FILE --key FILE] [-o FILE] [--force]
    cvpn config get  --bucket B (--object-key K | --user-prefix P --user NAME) [-o FILE]
    cvpn config url  (--stack NAME [--user NAME] | --bucket B ...) [--expires SECONDS] [--json]
    cvpn connections (--stack NAME | --endpoint-id ID) [--all] [--disconnect USER] [--json]
    cvpn wait        (--stack NAME | --endpoint-id ID) [--timeout S] [--interval S]
    cvpn wake        --stack NAME [--vpn PREFIX] [--for 2h] [--json]

Every command takes ``--profile`` and ``--region`` (default: ``AWS_REGION``, else
``AWS_DEFAULT_REGION``, else the profile's region).

Exit codes:

- 0: success
- 1: AWS error (no credentials, no region, access denied, throttled after retries, ...)
- 2: usage error (bad or conflicting options; typer's own usage errors too)
- 3: not found (stack, endpoint, VPN in the stack, or the shared/user config object)
- 4: timeout (``cvpn wait``)
- 5: refused (the output file exists and ``--force`` was not given)
- 130: interrupted (Ctrl-C)

The command needs the ``cli`` extra (typer and rich); without it, ``cvpn`` prints the line
that installs the extra from where this copy of constructs-cvpn came from, and exits with 1:
the URL, wheel or directory pip recorded (PEP 610 ``direct_url.json``), or, installed from a
package index, this version pinned (``constructs-cvpn[cli]==0.1.0``, from that index). It
never names a bare project name on a public index, which someone else could publish.

Errors are printed to stderr as one line, ``cvpn: error: <message>``, never as a traceback
(set ``CVPN_DEBUG=1`` to see the traceback of an unexpected error).
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from constructs_cvpn.cli.app import create_app

__all__ = ["CLI_MODULES", "create_app", "install_spec", "main", "missing_extra_hint"]

CLI_MODULES = frozenset({"typer", "rich", "click", "boto3", "botocore", "cryptography"})
"""Top-level modules the command needs beyond the construct (typer and rich from the extra)."""


def missing_extra_hint(err: ModuleNotFoundError) -> str | None:
    """The one-line install hint if ``err`` is a missing CLI dependency, else None."""
    top = (err.name or "").partition(".")[0]
    if top not in CLI_MODULES:
        return None
    return (
        f"cvpn: error: the cvpn command needs the 'cli' extra (missing module: {top}); "
        f"install it with: pip install {install_spec()}"
    )


def install_spec() -> str:
    """pip's arguments for the ``cli`` extra, from the source this copy was installed from."""
    try:
        dist = metadata.distribution("constructs-cvpn")
    except metadata.PackageNotFoundError:  # run from a checkout, not installed
        root = Path(__file__).resolve().parents[2]
        return f"-e '{root}[cli]'"
    raw = dist.read_text("direct_url.json")
    if not raw:  # from a package index: the same version from that index
        return f"'constructs-cvpn[cli]=={dist.version}'"
    info = json.loads(raw)
    url = str(info["url"])
    if info.get("dir_info", {}).get("editable"):
        return f"-e '{unquote(urlparse(url).path)}[cli]'"
    vcs = info.get("vcs_info")
    if vcs:
        url = f"{vcs['vcs']}+{url}@{vcs.get('commit_id') or vcs.get('requested_revision')}"
    return f"'constructs-cvpn[cli] @ {url}'"


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
