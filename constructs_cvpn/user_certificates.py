"""``UserCertificates``: the per-user certificates custom resource of the generated PKI.

See ``pki.py`` for the whole PKI; this module holds the Users side: its handler's least
privileges, its pinned configuration (``handlers/pinned.py``) and its renewal schedule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import CustomResource, IStableListProducer, Lazy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .handler_function import HandlerFunction
from .lifetimes import RENEW_BEFORE_DAYS, check_lifetimes
from .pki import HANDLER, SERVICE_TIMEOUT, USERS_TIMEOUT, CertificateAuthority, renewal_schedule

__all__ = ["UserCertificates"]


@jsii.implements(IStableListProducer)
class _SortedNames:
    """Produces the user list at synthesis, so users added after construction count."""

    def __init__(self, names: set[str]) -> None:
        self._names = names

    def produce(self) -> list[str]:
        return sorted(self._names)


class UserCertificates(Construct):
    """Per-user certificates and ``.ovpn`` files, and the CRL of removed users.

    Attributes:
        prefix: user files are ``<prefix>users/<name>.ovpn``.
        role: the handler's role (the only writer under the prefix).
        function: the users function (``cvpn revoke`` / ``rotate`` invoke it).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        users: set[str],
        endpoint_id: str,
        endpoint_arn: str,
        authority: CertificateAuthority,
        bucket: s3.IBucket,
        prefix: str,
        encryption_key: kms.IKey,
        log_group_name: str,
        metric_dimension: str,
        remote_random_label: bool,
        block_ipv6_leak: bool,
        client_validity_days: int,
        renew_before_days: int = RENEW_BEFORE_DAYS,
        triggers: Mapping[str, str] | None = None,
    ) -> None:
        """Create the users custom resource.

        Args:
            users: the user names; read at synthesis, so names added later count.
            prefix: key prefix ending in ``/``, independent of the endpoint id (an endpoint
                replacement re-renders the files in place); the state object is
                ``<prefix>state.json``. The handler may read and write only under it.
            log_group_name: the handler's log group.
            metric_dimension: the value of the ``Vpn`` dimension of ``DaysToExpiry``.
            remote_random_label: put a fixed random-looking label in front of the remote
                host (fixed, so users' files stay byte-identical across updates).
            block_ipv6_leak: append AWS's IPv6 leak block to every file (IPv4-only full
                tunnel; see ``handlers.ovpn.IPV6_LEAK_BLOCK``). Sent only when True.
            client_validity_days: client certificate lifetime in days.
            renew_before_days: the scheduled renewal (and any update) re-issues
                certificates expiring within this many days. Default: 30.
            triggers: values whose change alters a client's file (certificate ARNs,
                authentication, port, protocol, ``config_version``); sent as the
                ``Triggers`` property so that each such change reaches the handler as an
                Update, which re-renders the files (keeping each user's key).

        Raises:
            ClientVpnConfigError: a client lifetime within the renewal window, or one the
                authority's CA does not outlive plus the window (:mod:`.lifetimes`).
        """
        super().__init__(scope, id)
        check_lifetimes(
            scope.node.path,
            ca_days=authority.ca_validity_days,
            signed={"client_certificate_validity_days": client_validity_days},
            renew_before=renew_before_days,
        )
        self.prefix = prefix
        handler = HandlerFunction(
            self,
            "Handler",
            handler=HANDLER,
            description="Client VPN user certificates, configs and revocation list",
            encryption_key=encryption_key,
            log_group_name=log_group_name,
            service_timeout=SERVICE_TIMEOUT,
            timeout=USERS_TIMEOUT,
            memory_size=1769,  # one full vCPU: RSA key generation is CPU-bound
        )
        self.role = handler.role
        self.function = handler.function
        handler.allow(
            [
                "ec2:ExportClientVpnClientConfiguration",
                "ec2:ImportClientVpnClientCertificateRevocationList",
                # the endpoint's CRL: imported only when it lacks a revoked serial
                "ec2:ExportClientVpnClientCertificateRevocationList",
                # cvpn revoke / rotate end the user's sessions (handlers/pki/revoke_now.py)
                "ec2:DescribeClientVpnConnections",
                "ec2:TerminateClientVpnConnections",
            ],
            [endpoint_arn],
        )
        handler.allow(
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            [bucket.arn_for_objects(f"{prefix}*")],
            wildcard_reason="Only this VPN's prefix: one .ovpn per user, the state object and "
            "the revocation ledger; older versions are deleted so no old key stays behind.",
        )
        handler.allow(
            ["s3:ListBucket", "s3:ListBucketVersions"],
            [bucket.bucket_arn],
            # Without ListBucket S3 answers a missing state object with 403 instead of 404;
            # ListBucketVersions finds the older versions of a file to delete.
            conditions={"StringLike": {"s3:prefix": f"{prefix}*"}},
        )
        handler.allow(["secretsmanager:GetSecretValue"], [authority.ca_secret_arn])
        authority.add_reader(handler.role)
        # The users' files, the state and the ledger: written (GenerateDataKey) and read
        # back to re-render (Decrypt).
        handler.allow(["kms:Decrypt", "kms:GenerateDataKey"], [encryption_key.key_arn])
        properties: dict[str, Any] = {
            "Kind": "Users",
            "EndpointId": endpoint_id,
            "Users": Lazy.list(_SortedNames(users)),
            "Bucket": bucket.bucket_name,
            "Prefix": prefix,
            "StateKey": f"{prefix}state.json",
            "KmsKeyArn": encryption_key.key_arn,
            "CaSecretArn": authority.ca_secret_arn,
            **({"RemoteRandomLabel": _label_for(self.node.path)} if remote_random_label else {}),
            **({"BlockIpv6Leak": "true"} if block_ipv6_leak else {}),
            "ClientValidityDays": str(client_validity_days),
            "RenewBeforeDays": str(renew_before_days),
            "MetricDimension": metric_dimension,
            "Triggers": dict(triggers or {}),
        }
        pinned = ("Kind", "Bucket", "Prefix", "StateKey", "KmsKeyArn", "CaSecretArn")
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=handler.service_token,
            resource_type="Custom::ClientVpnUsers",
            service_timeout=SERVICE_TIMEOUT,
            properties=properties,
        )
        handler.pin(
            self.resource,
            pinned={k: properties[k] for k in pinned},
            # A Renew works on the users the state records, never on a list from an event.
            settings={
                **{k: v for k, v in properties.items() if k not in ("Users", "Triggers")},
                "Users": [],
            },
            bucket_owner=bucket.env.account,
        )
        self.renewal = renewal_schedule(self, handler.function, self.resource, "user certificates")


def _label_for(path: str) -> str:
    """A 12-hex-character DNS label derived from the construct path."""
    return hashlib.sha256(path.encode()).hexdigest()[:12]
