"""Props that would do nothing, refused: the user believes they apply.

``check_props_take_effect`` runs beside ``check_props``: with given certificates and the
export off no file is written, with given certificates nothing is generated, and a log
stream belongs to a log group you bring. It also holds the defaults of the props it checks.
"""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

from .errors import ClientVpnConfigError

#: Defaults of the props below (``ClientVpn``'s signature uses them).
DEFAULT_CONFIG_PREFIX = "client-config"
DEFAULT_CA_VALIDITY_DAYS = 3650
DEFAULT_CERTIFICATE_VALIDITY_DAYS = 825


def check_props_take_effect(
    scope: Construct,
    *,
    generated_pki: bool,
    config_export: bool,
    remote_random_label: bool,
    config_version: str | None,
    config_bucket: object | None,
    config_prefix: str,
    client_credentials_secret: object | None,
    ca_validity_days: int,
    server_certificate_validity_days: int,
    client_certificate_validity_days: int,
    log_group: logs.ILogGroup | None,
    log_stream: logs.ILogStream | None,
) -> None:
    """Refuse a prop that would be silently ignored: the user believes it applies.

    With given certificates and ``config_export=False`` no file is written, so the props
    that shape the files do nothing; with given certificates nothing is generated, so the
    validity props do nothing (a value other than the default is refused). A ``log_stream``
    must be a stream of the ``log_group`` you bring: the group this construct creates is
    new, and Client VPN refuses a stream of another group at deploy.
    """
    path = scope.node.path
    if not generated_pki and not config_export:
        ignored = {
            "remote_random_label": remote_random_label,
            "config_version": config_version is not None,
            "config_bucket": config_bucket is not None,
            "config_prefix": config_prefix != DEFAULT_CONFIG_PREFIX,
            "client_credentials_secret": client_credentials_secret is not None,
        }
        for prop, given in ignored.items():
            if given:
                raise ClientVpnConfigError(
                    path,
                    prop,
                    "shapes the exported configuration file, but config_export=False "
                    "(with your own certificates) writes none; drop it or turn the export on",
                )
    if not generated_pki:
        defaults = {
            "ca_validity_days": (ca_validity_days, DEFAULT_CA_VALIDITY_DAYS),
            "server_certificate_validity_days": (
                server_certificate_validity_days,
                DEFAULT_CERTIFICATE_VALIDITY_DAYS,
            ),
            "client_certificate_validity_days": (
                client_certificate_validity_days,
                DEFAULT_CERTIFICATE_VALIDITY_DAYS,
            ),
        }
        for prop, (value, default) in defaults.items():
            if value != default:
                raise ClientVpnConfigError(
                    path,
                    prop,
                    "sets the lifetime of a generated certificate, but server_certificate_arn "
                    "is given, so nothing is generated; drop it (your certificates' lifetimes "
                    "are set where you issue them) or omit the certificate ARNs",
                )
    if log_stream is not None and log_group is None:
        raise ClientVpnConfigError(
            path,
            "log_stream",
            "must be a stream of the log_group you bring; with the log group this construct "
            "creates, leave it out (Client VPN writes to a stream of its own)",
        )
