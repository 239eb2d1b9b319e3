"""``cvpn config get`` and ``cvpn config url``: find one ``.ovpn`` and write it, or sign a URL.

Registered on the app by :func:`register_config_commands` (called from ``create_app``, with
its injectable client factory). The file is found from the stack's outputs (``--stack``),
or as given, for an engineer whose grant reads one file and nothing else: ``--bucket`` with
``--object-key``, or with ``--user-prefix`` and ``--user`` (no CloudFormation read). The
reading and writing itself: :mod:`constructs_cvpn.cli.config`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from constructs_cvpn.cli import config as config_files
from constructs_cvpn.cli.app import Json, Profile, Region, Stack, Vpn
from constructs_cvpn.cli.clients import ClientFactory, Clients
from constructs_cvpn.cli.discovery import discover
from constructs_cvpn.cli.errors import EXIT_CODES_HELP, error_boundary
from constructs_cvpn.cli.render import print_json
from constructs_cvpn.cli.text import plain

Bucket = Annotated[
    str | None,
    typer.Option(
        help="The config bucket (the stack's ConfigBucketName output), with --object-key or "
        "with --user-prefix and --user: no CloudFormation read needed."
    ),
]
ObjectKey = Annotated[
    str | None, typer.Option("--object-key", help="The object key of the .ovpn (with --bucket).")
]
UserPrefix = Annotated[
    str | None,
    typer.Option(
        "--user-prefix",
        help="The stack's UserConfigPrefix output (with --bucket and --user): the file is "
        "<prefix><user>.ovpn.",
    ),
]
User = Annotated[
    str | None,
    typer.Option("--user", "-u", help="User whose personal config to use (default: shared)."),
]


def register_config_commands(app: typer.Typer, client_factory: ClientFactory) -> None:
    """Add the ``config`` group (``get``, ``url``) to ``app``."""
    config_app = typer.Typer(
        help="Get a client .ovpn file, or a short-lived URL to it, from the stack's bucket.",
        epilog=EXIT_CODES_HELP,
        no_args_is_help=True,
    )
    app.add_typer(config_app, name="config")

    def config_location(
        profile: str | None,
        region: str | None,
        where: tuple[str | None, str | None, str | None, str | None],
        vpn: str | None,
        user: str | None,
    ) -> tuple[Clients, Path, config_files.ConfigLocation]:
        """Check the options (before any AWS call), then find the file: from the stack's
        outputs, or as given (``--bucket`` with ``--key`` or ``--user-prefix``); also the
        default output file name."""
        stack, bucket, key, user_prefix = where
        config_files.check_user(user)
        is_direct = config_files.check_direct(stack, bucket, key, user_prefix, user)
        clients = client_factory(profile, region)
        if is_direct:
            assert bucket is not None
            owner = config_files.bucket_owner(None, clients.sts)
            location = config_files.direct(bucket, key, user_prefix, user, owner)
            return clients, Path(location.key.rsplit("/", 1)[-1]), location
        assert stack is not None
        outputs = discover(clients.cloudformation(), stack, vpn)
        owner = config_files.bucket_owner(outputs, clients.sts)
        location = config_files.locate(outputs, user, owner)
        return clients, config_files.default_output(outputs, user), location

    @config_app.command("get", epilog=EXIT_CODES_HELP)
    def config_get(
        stack: Stack = None,
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
        bucket: Bucket = None,
        object_key: ObjectKey = None,
        user_prefix: UserPrefix = None,
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
            where = (stack, bucket, object_key, user_prefix)
            clients, default, location = config_location(profile, region, where, vpn, user)
            path = output or default
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
        stack: Stack = None,
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
        bucket: Bucket = None,
        object_key: ObjectKey = None,
        user_prefix: UserPrefix = None,
        as_json: Json = False,
        profile: Profile = None,
        region: Region = None,
    ) -> None:
        """Print a short-lived presigned HTTPS URL to the .ovpn file.

        The URL is signed with your credentials: it stops working when they expire,
        even before --expires, if they are temporary (SSO, assumed role).
        """
        with error_boundary("presign the client config URL"):
            where = (stack, bucket, object_key, user_prefix)
            clients, _, location = config_location(profile, region, where, vpn, user)
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
