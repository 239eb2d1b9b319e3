"""The typer application behind the ``cvpn`` command.

:func:`create_app` builds the app around injectable dependencies (the AWS client factory,
``sleep`` and the clock) so tests can run every command without AWS and without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from constructs_cvpn.cli import config as config_files
from constructs_cvpn.cli import wake as wake_cli
from constructs_cvpn.cli.certificates import collect_certificates, print_certificates
from constructs_cvpn.cli.clients import ClientFactory, Clients, default_client_factory
from constructs_cvpn.cli.connections import disconnect, list_connections
from constructs_cvpn.cli.discovery import VpnOutputs, discover
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
User = Annotated[
    str | None,
    typer.Option("--user", "-u", help="User whose personal config to use (default: shared)."),
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
    config_app = typer.Typer(
        help="Get a client .ovpn file, or a short-lived URL to it, from the stack's bucket.",
        epilog=EXIT_CODES_HELP,
        no_args_is_help=True,
    )
    app.add_typer(config_app, name="config")

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

    def config_location(
        profile: str | None, region: str | None, stack: str, vpn: str | None, user: str | None
    ) -> tuple[Clients, VpnOutputs, config_files.ConfigLocation]:
        """Check ``--user`` (before any AWS call), discover the stack's VPN and its config."""
        config_files.check_user(user)
        clients = client_factory(profile, region)
        outputs = discover(clients.cloudformation(), stack, vpn)
        owner = config_files.bucket_owner(outputs, clients.sts)
        return clients, outputs, config_files.locate(outputs, user, owner)

    @config_app.command("get", epilog=EXIT_CODES_HELP)
    def config_get(
        stack: RequiredStack,
        user: User = None,
        output: Annotated[
            Path | None,
            typer.Option(
                "--output",
                "-o",
                help="File to write (default: <user>.ovpn, or <endpoint-id>.ovpn).",
                dir_okay=False,
            ),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Overwrite the output file if it exists.")
        ] = False,
        cert: Annotated[
            Path | None,
            typer.Option(
                "--cert",
                metavar="FILE",
                dir_okay=False,
                help="Your client certificate (PEM, chain allowed) to inline into the shared "
                "config, for mutual auth without a shared secret. Needs --key; not with --user.",
            ),
        ] = None,
        key: Annotated[
            Path | None,
            typer.Option(
                "--key",
                metavar="FILE",
                dir_okay=False,
                help="The unencrypted private key (PEM) of --cert. Only the local file gets "
                "it: nothing is uploaded.",
            ),
        ] = None,
        vpn: Vpn = None,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Download the .ovpn file and write it with mode 0600 (no overwrite without --force).

        With --cert and --key, your certificate and key are added to the shared config
        (after its </ca>) on this machine only; a pair that does not match is refused.
        """
        with error_boundary("download the client config"):
            config_files.check_user(user)
            credentials = config_files.read_credentials(cert, key, user)
            clients, outputs, location = config_location(profile, region, stack, vpn, user)
            path = output or config_files.default_output(outputs, user)
            if not force:
                config_files.refuse_if_exists(path)
            data = config_files.download(clients.s3(), location)
            source = location.uri
            if credentials is not None:
                data = config_files.inline_credentials(data, credentials, location)
                source += f", with --cert {credentials.cert_path} and --key {credentials.key_path}"
            config_files.write_private(path, data, force=force)
            typer.echo(plain(f"Wrote {path} ({len(data)} bytes, mode 0600) from {source}."))

    @config_app.command("url", epilog=EXIT_CODES_HELP)
    def config_url(
        stack: RequiredStack,
        user: User = None,
        expires: Annotated[
            int,
            typer.Option(
                min=1,
                max=config_files.MAX_URL_EXPIRY,
                help="Seconds the URL stays valid (at most 3600).",
            ),
        ] = config_files.DEFAULT_URL_EXPIRY,
        vpn: Vpn = None,
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Print a short-lived presigned HTTPS URL to the .ovpn file.

        The URL is signed with your credentials: it stops working when they expire,
        even before --expires, if they are temporary (SSO, assumed role).
        """
        with error_boundary("presign the client config URL"):
            clients, _, location = config_location(profile, region, stack, vpn, user)
            url = config_files.presign(clients.s3(), location, expires)
            if as_json:
                expires_at = datetime.now(UTC) + timedelta(seconds=expires)
                print_json(
                    {
                        "url": url,
                        "bucket": location.bucket,
                        "key": location.key,
                        "user": user,
                        "expires_in": expires,
                        "expires_at": expires_at.isoformat(timespec="seconds"),
                    }
                )
            else:
                typer.echo(plain(url))

    return app


def main() -> None:
    """Entry point of the ``cvpn`` console script."""
    create_app()()
