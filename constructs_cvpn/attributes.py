"""What a ``ClientVpn`` offers besides its methods: the endpoint's attributes.

``ClientVpnAttributes`` is the base of ``ClientVpn``: the ``IClientVpnEndpoint`` and
``IResource`` members the CDK's APIs read (``endpoint_id``, ``connections``,
``target_networks_associated``, ``env``, ...), ``ITaggable``'s ``tags``, and what the rooms
built (associations, bucket, generated CA, alarm). ``ClientVpn``'s constructor sets the
fields declared here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy, Stack, TagManager
from aws_cdk import aws_ec2 as ec2
from aws_cdk.interfaces import ResourceEnvironment
from aws_cdk.interfaces.aws_ec2 import ClientVpnEndpointReference
from constructs import Construct, IDependable

from .errors import ClientVpnConfigError

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_s3 as s3

    from .client_configs import ClientConfigs
    from .network import NetworkAccess
    from .pki import CertificateAuthority
    from .user_certificates import UserCertificates


class ClientVpnAttributes(Construct):
    """The attributes of a ``ClientVpn`` (see there)."""

    #: The L2 endpoint.
    endpoint: ec2.ClientVpnEndpoint
    vpn_id: str
    log_group: logs.ILogGroup
    _vpc: ec2.IVpc | None
    _cidr: str | None
    _tags: TagManager
    _network: NetworkAccess
    _configs: ClientConfigs

    @property
    def tags(self) -> TagManager:
        """The endpoint's tags (``tags`` and what ``Tags.of(...)`` adds): its TagSpecifications.

        Client VPN takes tags only at creation: a tag added, changed or removed here
        replaces the endpoint.
        """
        return self._tags

    @property
    def stack(self) -> Stack:
        """The stack the endpoint is in (``IResource``)."""
        return Stack.of(self)

    @property
    def env(self) -> ResourceEnvironment:
        """The endpoint's account and region (``IResource``)."""
        return self.endpoint.env

    @property
    def client_vpn_endpoint_ref(self) -> ClientVpnEndpointReference:
        """A reference to the endpoint, for CDK APIs that take one."""
        return self.endpoint.client_vpn_endpoint_ref

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Apply ``policy`` to the endpoint (``IResource``). The key, log group and buckets
        keep their own (retained)."""
        self.endpoint.apply_removal_policy(policy)

    @property
    def endpoint_id(self) -> str:
        """The endpoint id (``cvpn-endpoint-...``)."""
        return self.endpoint.endpoint_id

    @property
    def endpoint_arn(self) -> str:
        """The endpoint ARN, for IAM policies scoped to this endpoint."""
        return Stack.of(self).format_arn(
            service="ec2", resource="client-vpn-endpoint", resource_name=self.endpoint_id
        )

    @property
    def connections(self) -> ec2.Connections:
        """For security group rules: ``db.connections.allow_from(vpn, ec2.Port.tcp(5432))``.

        The endpoint's security group; for a transit gateway endpoint, which has none and
        keeps the clients' addresses ("SNAT is not applied", admin guide cvpn-tgw.html),
        the client CIDR (the IPv4 clients only: IPv6 client addresses are Amazon's, not
        known at synth).
        """
        if self._vpc is None:
            if self._cidr is None:
                raise ClientVpnConfigError(
                    self.node.path,
                    "connections",
                    "a transit gateway endpoint with IPv6-only traffic keeps the clients' "
                    "IPv6 addresses, which Amazon assigns and synth cannot name: allow them "
                    "in the target's security group yourself",
                )
            return ec2.Connections(peer=ec2.Peer.ipv4(self._cidr))
        return self.endpoint.connections

    @property
    def target_networks_associated(self) -> IDependable:
        """Depend on this to wait until every target network association exists.

        With a ``schedule``: the reconciler's custom resource, done when the endpoint
        matches the phase of the deploy: in office hours every subnet associated (routes
        follow), off hours the desired set stored and nothing associated until the wake.
        """
        return self._network.associated

    @property
    def associated_subnets(self) -> list[ec2.ISubnet]:
        """The target networks, one subnet per AZ."""
        return self._network.associated_subnets

    @property
    def associations(self) -> dict[str, ec2.CfnClientVpnTargetNetworkAssociation]:
        """The target network associations, by subnet path (by AZ name or id for a transit
        gateway endpoint)."""
        return self._network.associations

    @property
    def config_bucket(self) -> s3.IBucket | None:
        """The bucket holding the client configurations (``None`` with the export off and
        given certificates)."""
        return self._configs.config_bucket

    @property
    def config_object_key(self) -> str | None:
        """The shared ``.ovpn``'s object key (export with given certificates only)."""
        return self._configs.config_object_key

    @property
    def certificate_authority(self) -> CertificateAuthority | None:
        """The generated CA (``None`` with given certificates)."""
        return self._configs.certificate_authority

    @property
    def user_certificates(self) -> UserCertificates | None:
        """The per-user certificates resource (generated PKI only)."""
        return self._configs.user_certificates

    @property
    def expiry_alarm(self) -> cloudwatch.Alarm | None:
        """Alarm on the days left before a generated certificate expires (``None`` without
        the generated PKI). It has no action: add yours with
        ``vpn.expiry_alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))``."""
        return self._configs.expiry_alarm

    @property
    def ca_expiry_alarm(self) -> cloudwatch.Alarm | None:
        """Alarm 180 days before the generated CA expires (``None`` without the generated
        PKI): the CA cannot be rolled over in place (README, "The CA's end of life"). No
        action: add yours as for :attr:`expiry_alarm`."""
        return self._configs.ca_expiry_alarm
