"""How clients get their configuration: the bucket, the export or the generated PKI, grants.

``ClientConfigs`` builds, in the ``ClientVpn``'s scope, either the shared-config export
(``ConfigExport``, with given certificates) or the generated PKI (``CertificateAuthority``
before the endpoint, ``UserCertificates`` after it, and the expiry alarm), the bucket both
write to, the outputs that find the files, and the grants that read exactly one file.
The PKI and export modules (and the Lambda and custom-resource parts of aws-cdk-lib they
need) are imported only when used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, Names, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IDependable

from . import validation
from .errors import ClientVpnConfigError, checked
from .grants import grant_read_object
from .handlers.pki.limits import MAX_USERS

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_secretsmanager as secretsmanager

    from .bucket_guard import ConfigBucketGuard
    from .pki import CertificateAuthority
    from .user_certificates import UserCertificates


_IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(root|role/.+|user/.+)$")
_PORT_NUMBERS = {ec2.VpnPort.HTTPS: "443", ec2.VpnPort.OPENVPN: "1194"}


def config_triggers(
    *,
    server_certificate_arn: str,
    client_certificate_arn: str | None,
    authentication: str,
    port: ec2.VpnPort,
    transport_protocol: ec2.TransportProtocol | None,
    config_version: str | None,
) -> dict[str, str]:
    """The endpoint settings whose change re-writes every client configuration file."""
    return {
        "ServerCertificateArn": server_certificate_arn,
        "ClientCertificateArn": client_certificate_arn or "",
        "Authentication": authentication,
        "Port": _PORT_NUMBERS[port],
        "TransportProtocol": (transport_protocol or ec2.TransportProtocol.UDP).name.lower(),
        "ConfigVersion": config_version or "",
    }


class ClientConfigs:
    """The client configuration side of one ``ClientVpn`` (see the module docstring)."""

    def __init__(
        self,
        vpn: Construct,
        *,
        vpn_id: str,
        config_base: str,
        encryption_key: kms.IKey,
        log_group_base: str,
        break_glass_arn: str | None = None,
    ) -> None:
        self._vpn = vpn
        self._vpn_id = vpn_id
        self._config_base = config_base
        self._key = encryption_key
        self._log_group_base = log_group_base
        self._users: set[str] = set()
        self.certificate_authority: CertificateAuthority | None = None
        self.config_bucket: s3.IBucket | None = None
        self.config_object_key: str | None = None
        self.user_certificates: UserCertificates | None = None
        self.expiry_alarm: cloudwatch.Alarm | None = None
        self.ca_expiry_alarm: cloudwatch.Alarm | None = None
        self.bucket_guard: ConfigBucketGuard | None = None
        #: Who may always repair the bucket and secret policies (default: the account root).
        self.break_glass_arn = break_glass_arn or (
            f"arn:{Stack.of(vpn).partition}:iam::{Stack.of(vpn).account}:root"
        )
        if not Token.is_unresolved(self.break_glass_arn) and not _IAM_PRINCIPAL.match(
            self.break_glass_arn
        ):
            raise ClientVpnConfigError(
                vpn.node.path,
                "break_glass_arn",
                f"{self.break_glass_arn!r} is not an IAM principal ARN: use "
                "arn:<partition>:iam::<account>:root, :role/<name> or :user/<name>",
            )

    # -- what it builds ---------------------------------------------------------------

    def new_certificate_authority(
        self, *, ca_validity_days: int, server_validity_days: int
    ) -> CertificateAuthority:
        """The generated CA and server certificate (before the endpoint, which needs them)."""
        from .pki import CertificateAuthority

        self.certificate_authority = CertificateAuthority(
            self._vpn,
            "CertificateAuthority",
            secret_prefix=f"client-vpn/{Names.unique_resource_name(self._vpn, max_length=200)}/ca",
            encryption_key=self._key,
            log_group_name=f"{self._log_group_base}/certificate-authority",
            metric_dimension=self._vpn_id,
            ca_validity_days=ca_validity_days,
            server_validity_days=server_validity_days,
            break_glass_arn=self.break_glass_arn,
        )
        return self.certificate_authority

    def publish(
        self,
        *,
        endpoint_id: str,
        endpoint_arn: str,
        associated: IDependable,
        config_export: bool,
        config_bucket: s3.IBucket | None,
        client_credentials_secret: secretsmanager.ISecret | None,
        remote_random_label: bool,
        block_ipv6_leak: bool,
        users: Sequence[str],
        client_validity_days: int,
        triggers: Mapping[str, str],
    ) -> None:
        """The bucket, then the users' files (generated PKI) or the shared file (export).

        Both custom resources wait for ``associated``: Client VPN exports a configuration
        only for an endpoint with a target network.
        """
        if not config_export and self.certificate_authority is None:
            return
        from .bucket_guard import ConfigBucketGuard
        from .config_export import config_bucket as new_config_bucket

        bucket = config_bucket or new_config_bucket(self._vpn, self._key)
        self.config_bucket = bucket
        self.bucket_guard = guard = ConfigBucketGuard(
            self._vpn,
            bucket,
            prefix=self._config_base,
            key_arn=self._key.key_arn,
            break_glass_arn=self.break_glass_arn,
            vpn_id=self._vpn_id,
        )
        CfnOutput(
            self._vpn,
            "ConfigBucketName",
            value=bucket.bucket_name,
            description="Bucket holding the client configurations",
        )
        if self.certificate_authority is not None:
            writer = self._issue_user_certificates(
                endpoint_id=endpoint_id,
                endpoint_arn=endpoint_arn,
                bucket=bucket,
                associated=associated,
                remote_random_label=remote_random_label,
                block_ipv6_leak=block_ipv6_leak,
                validity_days=client_validity_days,
                triggers=triggers,
            )
            for name in users:
                self.add_user(name)
            from .expiry_alarm import new_ca_expiry_alarm, new_expiry_alarm

            self.expiry_alarm = new_expiry_alarm(self._vpn, self._vpn_id)
            self.ca_expiry_alarm = new_ca_expiry_alarm(self._vpn, self._vpn_id)
        else:
            writer = self._export_config(
                endpoint_id=endpoint_id,
                endpoint_arn=endpoint_arn,
                bucket=bucket,
                associated=associated,
                secret=client_credentials_secret,
                triggers=triggers,
                remote_random_label=remote_random_label,
                block_ipv6_leak=block_ipv6_leak,
            )
        guard.allow_writer(writer)
        from .bundling import warn_if_not_deployable

        warn_if_not_deployable(self._vpn)

    # -- users and grants -------------------------------------------------------------

    def add_user(self, name: str) -> None:
        """See ``ClientVpn.add_user``."""
        path = self._vpn.node.path
        if self.user_certificates is None:
            raise ClientVpnConfigError(
                path,
                "users",
                "per-user certificates come from the generated PKI; omit "
                "server_certificate_arn to use it",
            )
        checked(path, "users", validation.user_name, name)  # the CLI's rule too
        if name in self._users:
            raise ClientVpnConfigError(path, "users", f"duplicate user {name!r}")
        if len(self._users) >= MAX_USERS:
            raise ClientVpnConfigError(
                path,
                "users",
                f"adding {name!r} would make {len(self._users) + 1} users; one endpoint "
                f"takes at most {MAX_USERS} (what the users function issues within its "
                "timeout): split the users across two ClientVpn constructs",
            )
        self._users.add(name)

    @property
    def user_names(self) -> list[str]:
        """The users given so far (generated PKI), sorted."""
        return sorted(self._users)

    def user_config_key(self, name: str) -> str:
        """See ``ClientVpn.user_config_key``."""
        if self.user_certificates is None:
            raise ClientVpnConfigError(
                self._vpn.node.path,
                "users",
                f"there are no per-user files (so none for {name!r}): they come from the "
                "generated PKI; with your own certificates everyone gets the shared file: "
                "use grant_read_config(grantee)",
            )
        if name not in self._users:
            raise ClientVpnConfigError(self._vpn.node.path, "users", f"no user {name!r}")
        return f"{self.user_certificates.prefix}users/{name}.ovpn"

    def grant_read_config(self, grantee: iam.IGrantable) -> iam.Grant:
        """See ``ClientVpn.grant_read_config``."""
        if self.user_certificates is not None:
            raise ClientVpnConfigError(
                self._vpn.node.path,
                "users",
                "with the generated PKI there is no shared configuration: each user has a "
                "file of their own; use grant_read_user_config(name, grantee)",
            )
        if self.config_bucket is None or self.config_object_key is None:
            raise ClientVpnConfigError(
                self._vpn.node.path, "config_export", "is off, so there is no config to read"
            )
        return self._grant_read(self.config_object_key, grantee)

    def grant_read_user_config(self, name: str, grantee: iam.IGrantable) -> iam.Grant:
        """See ``ClientVpn.grant_read_user_config``."""
        return self._grant_read(self.user_config_key(name), grantee)

    def grant_read_own_user_config(self, grantee: iam.IGrantable, principal_tag: str) -> iam.Grant:
        """See ``ClientVpn.grant_read_own_user_config``."""
        path = self._vpn.node.path
        checked(path, "principal_tag", validation.principal_tag_key, principal_tag)
        if self.user_certificates is None:
            raise ClientVpnConfigError(
                path,
                "users",
                "there are no per-user files: they come from the generated PKI; with your "
                "own certificates everyone gets the shared file: use grant_read_config(grantee)",
            )
        own = f"${{aws:PrincipalTag/{principal_tag}}}"  # an IAM policy variable
        return self._grant_read(f"{self.user_certificates.prefix}users/{own}.ovpn", grantee)

    # -- internals --------------------------------------------------------------------

    def allow_reader(self, grantee: iam.IGrantable) -> None:
        """See ``ConfigBucketGuard.allow_grantee``; grants call this."""
        assert self.bucket_guard is not None
        self.bucket_guard.allow_grantee(grantee)

    def _grant_read(self, object_key: str, grantee: iam.IGrantable) -> iam.Grant:
        assert self.config_bucket is not None
        self.allow_reader(grantee)
        return grant_read_object(
            bucket=self.config_bucket,
            object_key=object_key,
            key=self._key,
            region=Stack.of(self._vpn).region,
            grantee=grantee,
            policy_id=f"ReadClientVpnConfig{self._vpn_id}",
            vpn_path=self._vpn.node.path,
        )

    def _export_config(
        self,
        *,
        endpoint_id: str,
        endpoint_arn: str,
        bucket: s3.IBucket,
        associated: IDependable,
        secret: secretsmanager.ISecret | None,
        triggers: Mapping[str, str],
        remote_random_label: bool,
        block_ipv6_leak: bool,
    ) -> str:
        """The shared export, the outputs that find the file; returns the handler role."""
        from .config_export import ConfigExport

        self.config_object_key = f"{self._config_base}client.ovpn"
        export = ConfigExport(
            self._vpn,
            "ConfigExport",
            endpoint_id=endpoint_id,
            endpoint_arn=endpoint_arn,
            bucket=bucket,
            encryption_key=self._key,
            object_key=self.config_object_key,
            log_group_name=f"{self._log_group_base}/config-export",
            credentials_secret=secret,
            remote_random_label=remote_random_label,
            block_ipv6_leak=block_ipv6_leak,
            triggers=triggers,
        )
        export.resource.node.add_dependency(associated)
        uri = f"s3://{bucket.bucket_name}/{self.config_object_key}"
        CfnOutput(
            self._vpn,
            "ConfigKey",
            value=self.config_object_key,
            description="Object key of the client configuration (.ovpn)",
        )
        CfnOutput(self._vpn, "ConfigS3Uri", value=uri, description="The client configuration")
        CfnOutput(
            self._vpn,
            "ConfigDownloadCommand",
            value=f"aws s3 cp {uri} ./client.ovpn",
            description="Download the client configuration",
        )
        return export.role.role_arn

    def _issue_user_certificates(
        self,
        *,
        endpoint_id: str,
        endpoint_arn: str,
        bucket: s3.IBucket,
        associated: IDependable,
        remote_random_label: bool,
        block_ipv6_leak: bool,
        validity_days: int,
        triggers: Mapping[str, str],
    ) -> str:
        """The per-user certificates resource and its output; returns the handler role."""
        from .user_certificates import UserCertificates

        assert self.certificate_authority is not None
        self.user_certificates = UserCertificates(
            self._vpn,
            "Users",
            users=self._users,
            endpoint_id=endpoint_id,
            endpoint_arn=endpoint_arn,
            authority=self.certificate_authority,
            bucket=bucket,
            prefix=self._config_base,
            encryption_key=self._key,
            log_group_name=f"{self._log_group_base}/users",
            metric_dimension=self._vpn_id,
            remote_random_label=remote_random_label,
            block_ipv6_leak=block_ipv6_leak,
            client_validity_days=validity_days,
            triggers=triggers,
        )
        self.user_certificates.resource.node.add_dependency(associated)
        CfnOutput(
            self._vpn,
            "UserConfigPrefix",
            value=f"{self._config_base}users/",
            description="User configurations are <prefix><user>.ovpn in the bucket",
        )
        CfnOutput(
            self._vpn,
            "UsersFunctionName",
            value=self.user_certificates.function.function_name,
            description="The users function: cvpn revoke / rotate invoke it",
        )
        return self.user_certificates.role.role_arn
