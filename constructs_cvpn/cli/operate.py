"""The operator's commands: ``cvpn report``, ``cvpn revoke`` and ``cvpn rotate`` (issue 21).

Registered on the app by :func:`register_operations` (called from ``create_app``), with the
same injectable client factory and wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from constructs_cvpn.cli import config as config_files
from constructs_cvpn.cli.app import (
    EndpointId,
    Json,
    Profile,
    Region,
    RequiredStack,
    Stack,
    Vpn,
    resolve_endpoint,
)
from constructs_cvpn.cli.clients import ClientFactory
from constructs_cvpn.cli.discovery import discover
from constructs_cvpn.cli.errors import EXIT_CODES_HELP, error_boundary
from constructs_cvpn.cli.render import print_json
from constructs_cvpn.cli.report import collect_report, parse_since, print_report
from constructs_cvpn.cli.revoke import caller_arn, invoke
from constructs_cvpn.cli.text import plain

Reason = Annotated[
    str, typer.Option("--reason", help="Why (recorded in the state and the function's log).")
]
RequiredUser = Annotated[str, typer.Option("--user", "-u", help="The user (certificate CN).")]


def register_operations(
    app: typer.Typer, client_factory: ClientFactory, now: Callable[[], datetime]
) -> None:
    """Add ``report``, ``revoke`` and ``rotate`` to ``app``."""

    @app.command(epilog=EXIT_CODES_HELP)
    def report(
        stack: Stack = None,
        endpoint_id: EndpointId = None,
        vpn: Vpn = None,
        since: Annotated[
            str, typer.Option(help="How far back: a number and m, h or d (e.g. 24h, 7d).")
        ] = "7d",
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Usage from the connection log: sessions, bytes, failures, peak, per day.

        Sessions and bytes per user, failed authentications by user and reason, the peak of
        concurrent connections and a chart of connections per day (UTC).
        """
        with error_boundary("report usage"):
            span = parse_since(since)
            clients = client_factory(profile, region)
            endpoint = resolve_endpoint(clients, stack, endpoint_id, vpn)
            group, usage = collect_report(clients.ec2(), clients.logs(), endpoint, span, now())
            if as_json:
                print_json({"endpoint_id": endpoint, "log_group": group, **usage.to_json()})
            else:
                print_report(Console(), endpoint, group, usage)

    def revoke_or_rotate(
        operation: str,
        *,
        stack: str,
        vpn: str | None,
        user: str,
        reason: str,
        as_json: bool,
        profile: str | None,
        region: str | None,
    ) -> None:
        config_files.check_user(user)
        clients = client_factory(profile, region)
        outputs = discover(clients.cloudformation(), stack, vpn)
        result = invoke(
            clients.lambda_(),
            outputs,
            operation=operation,
            user=user,
            reason=reason,
            requested_by=caller_arn(clients.sts()),
        )
        if as_json:
            print_json(result)
            return
        serials = ", ".join(result.get("RevokedSerials", [])) or "none left to revoke"
        typer.echo(
            plain(
                f"Revoked {user} on {outputs.endpoint_id}: certificates {serials}; CRL "
                f"{'imported' if result.get('CrlImported') else 'already in force'}; "
                f"{result.get('SessionsEnded', 0)} session(s) ended; "
                f"{result.get('FileVersionsDeleted', 0)} file version(s) deleted."
            )
        )
        if operation == "Rotate":
            typer.echo(
                plain(
                    f"Issued {user} a new certificate ({result.get('NewSerial')}): "
                    f"cvpn config get --stack {stack} --user {user}"
                )
            )
        else:
            typer.echo(
                plain(
                    f"{user} stays blocked while listed in the app: 'cvpn rotate' issues a "
                    "new certificate; removing the name ends the block."
                )
            )

    @app.command(epilog=EXIT_CODES_HELP)
    def revoke(
        stack: RequiredStack,
        user: RequiredUser,
        reason: Reason,
        vpn: Vpn = None,
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Revoke a user's certificates now, without a deploy.

        The CRL is imported, their sessions ended, every version of their file deleted;
        they stay blocked while listed in the app. Needs vpn.grant_revoke(you).
        """
        with error_boundary(f"revoke {user}"):
            revoke_or_rotate(
                "Revoke",
                stack=stack,
                vpn=vpn,
                user=user,
                reason=reason,
                as_json=as_json,
                profile=profile,
                region=region,
            )

    @app.command(epilog=EXIT_CODES_HELP)
    def rotate(
        stack: RequiredStack,
        user: RequiredUser,
        reason: Reason,
        vpn: Vpn = None,
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Revoke a user's certificates and issue a new certificate and file at once.

        As revoke, then a new key, certificate and .ovpn (get it with cvpn config get
        --user). Needs vpn.grant_revoke(you).
        """
        with error_boundary(f"rotate {user}"):
            revoke_or_rotate(
                "Rotate",
                stack=stack,
                vpn=vpn,
                user=user,
                reason=reason,
                as_json=as_json,
                profile=profile,
                region=region,
            )
