"""The typer application behind the ``cvpn`` command.

:func:`create_app` builds the app around injectable dependencies (the AWS client factory,
``sleep`` and the clock) so tests can run every command without AWS and without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from constructs_cvpn.cli import wake as wake_cli
from constructs_cvpn.cli.certificates import collect_certificates, print_certificates
from constructs_cvpn.cli.clients import ClientFactory, Clients, default_client_factory
from constructs_cvpn.cli.connections import disconnect, list_connections
from constructs_cvpn.cli.discovery import discover
from constructs_cvpn.cli.errors import (
    EXIT_CODES_HELP,
    CvpnError,
    UsageError,
    error_boundary,
)
from constructs_cvpn.cli.render import print_connections, print_json, print_status
from constructs_cvpn.cli.status import collect_status
from constructs_cvpn.cli.text import plain
from constructs_cvpn.cli.wait import Clock, Readiness, Sleep, wait_until_ready

Profile = Annotated[
    str | None,
    typer.Option(help="AWS profile to use (default: AWS_PROFILE, else the default profile)."),
]
Region = Annotated[
    str | None,
    typer.Option(help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION, else the profile's)."),
]
Stack = Annotated[
    str | None,
    typer.Option("--stack", "-s", help="CloudFormation stack that holds the ClientVpn."),
]
RequiredStack = Annotated[
    str,
    typer.Option("--stack", "-s", help="CloudFormation stack that holds the ClientVpn."),
]
EndpointId = Annotated[
    str | None,
    typer.Option("--endpoint-id", "-e", help="Client VPN endpoint id (instead of --stack)."),
]
Vpn = Annotated[
    str | None,
    typer.Option(
        help="Which ClientVpn of the stack (the prefix of its output keys, e.g. 'Vpn'); "
        "needed when the stack holds several."
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

HELP = (
    "Inspect and use AWS Client VPN endpoints deployed with constructs-cvpn: status, "
    "client configs, connections, usage reports, revoking a user now, and waiting for a "
    "fresh endpoint. Uses your normal AWS profile and region (--profile / --region, or the "
    "usual environment and config files)."
)


def resolve_endpoint(
    clients: Clients, stack: str | None, endpoint_id: str | None, vpn: str | None
) -> str:
    """Return the endpoint id from ``--endpoint-id``, or from the stack's outputs."""
    if stack is not None and endpoint_id is not None:
        raise UsageError("use either --stack or --endpoint-id, not both")
    if endpoint_id is not None:
        if vpn is not None:
            raise UsageError(
                "--vpn selects a VPN within --stack; it cannot be used with --endpoint-id"
            )
        return endpoint_id
    if stack is None:
        raise UsageError("say which endpoint: --stack NAME or --endpoint-id cvpn-endpoint-...")
    return discover(clients.cloudformation(), stack, vpn).endpoint_id


def create_app(
    client_factory: ClientFactory = default_client_factory,
    *,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> typer.Typer:
    """Build the ``cvpn`` typer app around the given client factory, sleep and clocks
    (``now``: the wall clock of reports and status)."""
    app = typer.Typer(
        name="cvpn",
        help=HELP,
        epilog=EXIT_CODES_HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )

    @app.command(epilog=EXIT_CODES_HELP)
    def status(
        stack: Stack = None,
        endpoint_id: EndpointId = None,
        vpn: Vpn = None,
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Show the endpoint: state, DNS name, CIDR, auth, networks, rules, routes, connections.

        With --stack and the generated PKI, also the days to expiry of the CA, the server
        certificate and each user, when the certificate functions last ran, and the
        revocations made with cvpn revoke / rotate.
        """
        with error_boundary("show the endpoint status"):
            clients = client_factory(profile, region)
            outputs = None
            if stack is not None and endpoint_id is None:
                outputs = discover(clients.cloudformation(), stack, vpn)
            endpoint = (
                outputs.endpoint_id
                if outputs
                else resolve_endpoint(clients, stack, endpoint_id, vpn)
            )
            data = collect_status(clients.ec2(), endpoint)
            if outputs is not None and outputs.user_config_prefix and outputs.config_bucket:
                data["certificates"] = collect_certificates(
                    outputs=outputs,
                    server_certificate_arn=data["server_certificate_arn"],
                    s3=clients.s3,
                    acm=clients.acm,
                    cloudwatch=clients.cloudwatch,
                    owner=outputs.account,
                    now=now(),
                )
            if outputs is not None and outputs.schedule is not None:
                data["schedule"] = wake_cli.status_of(clients, outputs.schedule, now())
            if as_json:
                print_json(data)
            else:
                print_status(Console(), data)
                if "certificates" in data:
                    print_certificates(Console(), data["certificates"])
                wake_cli.print_schedule(data.get("schedule"))

    @app.command(name="wake", epilog=EXIT_CODES_HELP)
    def wake_command(
        stack: RequiredStack,
        for_: Annotated[
            str, typer.Option("--for", help="How long to stay awake: 2h, 90m, 1h30m.")
        ] = "2h",
        vpn: Vpn = None,
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Associate a scheduled VPN now, for a while (it sleeps again at the first check after)."""
        with error_boundary("wake the VPN"):
            result = wake_cli.wake_stack(client_factory(profile, region), stack, vpn, for_)
            if as_json:
                print_json(result)
            else:
                typer.echo(plain(wake_cli.wake_message(result)))

    @app.command(epilog=EXIT_CODES_HELP)
    def connections(
        stack: Stack = None,
        endpoint_id: EndpointId = None,
        vpn: Vpn = None,
        disconnect_user: Annotated[
            str | None,
            typer.Option(
                "--disconnect", metavar="USERNAME", help="Terminate this user's sessions."
            ),
        ] = None,
        include_ended: Annotated[
            bool, typer.Option("--all", help="Also list recently ended connections.")
        ] = False,
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """List the endpoint's client connections, or disconnect one user."""
        with error_boundary("manage client connections"):
            clients = client_factory(profile, region)
            endpoint = resolve_endpoint(clients, stack, endpoint_id, vpn)
            if disconnect_user is not None:
                result = disconnect(clients.ec2(), endpoint, disconnect_user)
                if as_json:
                    print_json(result)
                else:
                    typer.echo(
                        plain(
                            f"Disconnected {result['terminated']} connection(s) of "
                            f"'{disconnect_user}' from {endpoint}."
                        )
                    )
                if result["failed"]:
                    raise CvpnError(
                        f"{result['failed']} connection(s) of '{disconnect_user}' "
                        "could not be terminated"
                    )
                return
            rows = list_connections(clients.ec2(), endpoint, include_ended=include_ended)
            if as_json:
                print_json({"endpoint_id": endpoint, "connections": rows})
            else:
                print_connections(Console(), endpoint, rows)

    from constructs_cvpn.cli.operate import register_operations  # it imports this module

    register_operations(app, client_factory, now)

    @app.command(epilog=EXIT_CODES_HELP)
    def wait(
        stack: Stack = None,
        endpoint_id: EndpointId = None,
        vpn: Vpn = None,
        timeout: Annotated[
            float, typer.Option(min=0, help="Give up after this many seconds (exit code 4).")
        ] = 1800,
        interval: Annotated[float, typer.Option(min=1, help="Seconds between checks.")] = 15,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Wait until the endpoint is available and every subnet association is associated."""
        with error_boundary("wait for the endpoint"):
            clients = client_factory(profile, region)
            endpoint = resolve_endpoint(clients, stack, endpoint_id, vpn)
            console = Console(stderr=True)
            progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                get_time=clock,
                disable=not console.is_terminal,
            )
            with progress:
                task = progress.add_task(plain(f"Waiting for {endpoint}"), total=None)

                def update(readiness: Readiness) -> None:
                    progress.update(
                        task, description=plain(f"Waiting for {endpoint}: {readiness.summary()}")
                    )

                readiness = wait_until_ready(
                    clients.ec2(),
                    endpoint,
                    timeout=timeout,
                    interval=interval,
                    sleep=sleep,
                    clock=clock,
                    on_update=update,
                )
            typer.echo(plain(f"{endpoint} is ready: {readiness.summary()}."))

    from constructs_cvpn.cli.config_commands import register_config_commands  # imports this

    register_config_commands(app, client_factory)

    return app


def main() -> None:
    """Entry point of the ``cvpn`` console script."""
    create_app()()
