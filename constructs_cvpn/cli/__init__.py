"""``cvpn``: a command line for AWS Client VPN endpoints deployed with constructs-cvpn.

Commands::

    cvpn status      (--stack NAME [--vpn PREFIX] | --endpoint-id ID) [--json]
    cvpn config get  --stack NAME [--user NAME] [-o FILE] [--force]
    cvpn config url  --stack NAME [--user NAME] [--expires SECONDS] [--json]
    cvpn connections (--stack NAME | --endpoint-id ID) [--all] [--disconnect USER] [--json]
    cvpn wait        (--stack NAME | --endpoint-id ID) [--timeout S] [--interval S]

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

Errors are printed to stderr as one line, ``cvpn: error: <message>``, never as a traceback
(set ``CVPN_DEBUG=1`` to see the traceback of an unexpected error).
"""

from constructs_cvpn.cli.app import create_app, main

__all__ = ["create_app", "main"]
