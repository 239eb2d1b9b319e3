"""``ClientVpn``: an AWS Client VPN endpoint with secure defaults.

Built on the L2 ``aws_ec2.ClientVpnEndpoint``; props that exist there keep their names.
What it adds: validation of Client VPN's value rules at synth time, a KMS-encrypted
connection log group, a security group of its own, one association per AZ (keyed by the
AZ, so reordering or adding subnets leaves the other associations alone), rules and
routes as data, and dependency chaining that keeps CloudFormation within Client VPN's
limit of concurrent changes per endpoint.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import jsii
from aws_cdk import (
    Acknowledgment,
    Annotations,
    ArnFormat,
    Aws,
    CfnOutput,
    CfnParameter,
    Duration,
    Fn,
    IAnyProducer,
    IResolveContext,
    IStableStringProducer,
    ITaggable,
    Lazy,
    Names,
    Reference,
    RemovalPolicy,
    Stack,
    TagManager,
    TagType,
    Token,
    Tokenization,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.interfaces import ResourceEnvironment
from aws_cdk.interfaces.aws_ec2 import ClientVpnEndpointReference
from constructs import Construct, DependencyGroup, IConstruct, IDependable

from . import validation
from .access import AuthorizationRule, Route
from .bundling import SKIP_CONTEXT_KEY, SKIP_ENV_VAR
from .bundling import _skip_requested as skip_requested
from .config_export import ConfigExport
from .config_export import config_bucket as new_config_bucket
from .errors import ClientVpnConfigError
from .handler_provider import HandlerProvider
from .keys import deny_grants_statement
from .pki import (
    MAX_USERS,
    METRIC_NAME,
    METRIC_NAMESPACE,
    USER_NAME,
    CertificateAuthority,
    UserCertificates,
)

T = TypeVar("T")

#: How many rule/route changes CloudFormation may run on one endpoint at once. Client VPN
#: allows 10 concurrent mutations per endpoint; target network associations are also
#: mutations and may run alongside authorization rules (one per AZ, at most 6 in any
#: region), so 4 lanes keep the total at 10 or below in the worst case.
MAX_CONCURRENT_MUTATIONS = 4

_PORT_NUMBERS = {ec2.VpnPort.HTTPS: "443", ec2.VpnPort.OPENVPN: "1194"}

#: The route every client needs for the internet in full-tunnel mode.
ANYWHERE = "0.0.0.0/0"

#: The expiry alarm fires when a certificate expires within this many days.
EXPIRY_ALARM_DAYS = 14

#: What ``ec2.Vpc.from_lookup`` returns before the CDK CLI has looked the VPC up (aws-cdk-lib's
#: ``DUMMY_VPC_PROPS``): the CLI runs the lookup only after a synthesis that succeeds.
LOOKUP_PLACEHOLDER_VPC_ID = "vpc-12345"
LOOKUP_PLACEHOLDER_CIDR = "1.2.3.4/5"


@jsii.implements(ec2.IClientVpnEndpoint, ITaggable)
class ClientVpn(Construct):
    """An AWS Client VPN endpoint, its logging, security group, associations, rules and routes.

    A ``ClientVpn`` is an ``ec2.IClientVpnEndpoint``, the L2 endpoint's interface, and so an
    ``ec2.IConnectable``: every CDK API that takes a connectable or an endpoint takes it, e.g.
    ``database.connections.allow_from(vpn, ec2.Port.tcp(5432))`` or
    ``ec2.ClientVpnRoute(..., client_vpn_endpoint=vpn)``. It is also an
    ``ITaggable`` for the endpoint: ``Tags.of(scope).add(...)`` reaches the endpoint's
    ``TagSpecifications`` (Client VPN takes tags nowhere else; the L2 drops them).

    There is no ``from_endpoint_attributes``: what this construct adds to an endpoint (its
    key, log group, PKI, exported files, grants) are resources it creates and owns, which an
    import could not offer. To refer to an endpoint created elsewhere, use the L2's
    ``ec2.ClientVpnEndpoint.from_endpoint_attributes``; from another stack of the same app,
    pass the ``ClientVpn`` itself (its ``connections``, grants and ``endpoint_id`` work
    across stacks).

    Example::

        ClientVpn(self, "Vpn", vpc=vpc, cidr="10.100.0.0/22",
                  server_certificate_arn=server_arn, client_certificate_arn=root_arn,
                  authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)])

    Props marked *replaces* give the endpoint a new id and DNS name when changed: every
    configuration file handed out before stops working.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        cidr: str,
        server_certificate_arn: str | None = None,
        client_certificate_arn: str | None = None,
        user_based_authentication: ec2.ClientVpnUserBasedAuthentication
        | Sequence[ec2.ClientVpnUserBasedAuthentication]
        | None = None,
        self_service_portal: bool = False,
        dns_servers: Sequence[str] | None = None,
        split_tunnel: bool = False,
        transport_protocol: ec2.TransportProtocol | None = ec2.TransportProtocol.UDP,
        port: ec2.VpnPort = ec2.VpnPort.HTTPS,
        session_timeout: ec2.ClientVpnSessionTimeout = ec2.ClientVpnSessionTimeout.TWELVE_HOURS,
        disconnect_on_session_timeout: bool = True,
        client_login_banner: str | None = None,
        client_connection_handler: ec2.IClientVpnConnectionHandler | None = None,
        client_route_enforcement_options: ec2.ClientRouteEnforcementOptions
        | Mapping[str, Any]
        | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        vpc_subnets: ec2.SubnetSelection | Mapping[str, Any] | None = None,
        logging: bool = True,
        log_group: logs.ILogGroup | None = None,
        log_stream: logs.ILogStream | None = None,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
        authorization_rules: Sequence[AuthorizationRule] = (),
        routes: Sequence[Route] = (),
        authorize_all_users_to_vpc_cidr: bool = False,
        internet_access: bool = False,
        internet_access_group_id: str | None = None,
        config_export: bool = True,
        config_bucket: s3.IBucket | None = None,
        config_prefix: str = "client-config",
        client_credentials_secret: secretsmanager.ISecret | None = None,
        config_version: str | None = None,
        remote_random_label: bool = False,
        users: Sequence[str] = (),
        ca_validity_days: int = 3650,
        server_certificate_validity_days: int = 825,
        client_certificate_validity_days: int = 825,
    ) -> None:
        """Create the endpoint.

        Args:
            vpc: the VPC the endpoint's target networks and security group live in. A
                ``Vpc.from_lookup`` VPC works: before the CDK CLI has looked it up, the
                CDK's placeholder (``vpc-12345``, ``1.2.3.4/5``) is accepted with an info
                annotation and the VPC checks run on the synthesis after the lookup.
            cidr: client address block, IPv4 /12 to /22, not overlapping any VPC CIDR
                (primary or secondary) or route destination. A token (``CfnParameter``)
                skips these checks, with a warning. *Replaces.*
            server_certificate_arn: ACM ARN of the server certificate. The certificate
                must carry a domain (a DNS SAN, or a CN with a dot). Default: a generated
                PKI (see ``constructs_cvpn.pki``): a CA kept in Secrets Manager, a server
                certificate in ACM, mutual authentication with per-user certificates.
            client_certificate_arn: ACM ARN of the client root CA: turns on mutual
                authentication. Default: none. *Replaces.*
            user_based_authentication: one Active Directory or SAML method (the L2's
                ``ClientVpnUserBasedAuthentication``), alone or with mutual auth. Needs
                ``server_certificate_arn`` (the generated PKI would add mutual
                authentication nobody could pass without a user certificate).
                Default: none. *Replaces.*
            self_service_portal: offer the self-service portal; needs user-based auth.
                Default: False (the L2 turns it on).
            dns_servers: up to two IPv4 DNS servers. Default: the VPC resolver is not
                pushed; clients keep their own.
            split_tunnel: send only routed traffic through the VPN. Default: False.
            transport_protocol: UDP or TCP; ``None`` leaves it out of the template (AWS
                then uses UDP), as the L2 does when it is not set: moving an L2 endpoint
                that never set it, ``None`` keeps the endpoint (adding the property, even
                as "udp", would replace it). Default: UDP. *Replaces.*
            port: 443 or 1194. Default: 443.
            session_timeout: 8, 10, 12 or 24 hours. Default: 12 hours.
            disconnect_on_session_timeout: end sessions at the timeout instead of
                letting clients reconnect silently. Default: True.
            client_login_banner: text shown by the AWS client, at most 1400 characters.
                Default: none.
            client_connection_handler: Lambda run on connect; its name must start with
                ``AWSClientVPN-``. Default: none.
            client_route_enforcement_options: keep client routes as the endpoint pushes
                them (AWS-provided client). Cannot be combined with split tunnel.
                Default: enforced in full-tunnel mode, off with split tunnel.
            description: endpoint description. Default: "Client VPN <construct path>".
            tags: tags on the endpoint. Default: none. *Replaces* (Client VPN takes tags
                only at creation).
            security_groups: bring your own groups. Default: a new group, no ingress,
                egress only to authorized destinations.
            vpc_subnets: the target networks, at most one subnet per AZ, all in ``vpc``.
                Each association is keyed by its AZ (or, when the AZ is a token, by the
                subnet's construct path), so reordering the subnets or adding an AZ leaves
                the other associations in place. Default: the VPC's private subnets, one
                per AZ.
            logging: connection logging; only True is accepted (the L2's prop, so that
                moving from it needs no edit): connection logs are the one record of who
                connected, and the ``ClientVpn-ConnectionLogging`` nag rule requires them.
                Default: True.
            log_group: bring your own connection log group (then ``log_retention`` and
                ``encryption_key`` do not apply to it). Default: a new group encrypted
                with ``encryption_key``, named ``<log_group_prefix>/<stack uuid>`` and
                retained: a destroyed and redeployed stack gets a new name.
            log_stream: connection log stream. Default: AWS creates one.
            log_retention: retention of the new log group. Default: one year.
            encryption_key: the KMS key for the logs and the client configurations (the
                generated CA's secret has a key of its own, see ``constructs_cvpn.pki``).
                Default: a new customer-managed key, rotation on, retained on stack
                deletion, whose policy also denies grants that are not for an AWS resource
                (Control Tower CT.KMS.PR.3). Its policy gets a statement letting CloudWatch
                Logs use it for this construct's log groups, with a Sid ending in
                ``vpn_id`` (several ``ClientVpn`` may share one key). A key you bring from
                another stack must allow the same itself.
            authorization_rules: who may reach which networks; see ``AuthorizationRule``.
                Default: none (no client reaches anything until you add a rule).
            routes: extra destinations; see ``Route``. Not the VPC's own CIDRs (AWS adds
                that route on association) and only through associated subnets.
                Default: none (the VPC CIDR is routed by AWS).
            authorize_all_users_to_vpc_cidr: add a rule letting every user reach the VPC
                CIDR. Default: False (the L2 default is True).
            internet_access: in full-tunnel mode, a 0.0.0.0/0 route through every
                associated subnet and a rule for it. The subnets need a path to the
                internet (NAT or internet gateway). Default: False.
            internet_access_group_id: the group allowed to the internet. Default: every
                user (with ``internet_access``).
            config_export: export the client configuration to S3 on every deployment
                that changes it. Default: True.
            config_bucket: bring your own bucket (its policy, versioning and encryption
                are yours; objects are written with ``encryption_key``; keep S3 Bucket Keys
                off, or the grants cannot name one object). Default: a new bucket:
                private, TLS-only, versioned, SSE-KMS without a bucket key (so KMS sees
                each object's ARN and a grant reaches one file), owner-enforced,
                noncurrent versions expire after 90 days, access logs to a second bucket,
                retained on stack deletion.
            config_prefix: key prefix, without ``*`` or ``?`` (they would be wildcards in
                the IAM policies naming it); the shared file is
                ``<prefix>/<vpn-id>/client.ovpn`` where ``<vpn-id>`` is
                ``Names.unique_id`` of this construct (see ``config_base``): the key
                stays the same when the endpoint is replaced. Default: ``client-config``.
            client_credentials_secret: with mutual authentication, a Secrets Manager
                secret whose SecretString is ``{"certificate": "<PEM>", "private_key":
                "<PEM>"}``: both are added to the exported file (one identity shared by
                everyone who gets the file). Default: none: the file is exported as AWS
                gives it, without a client certificate or key, and each person adds their
                own (``cvpn config get --cert my.crt --key my.key`` inlines them locally;
                the key is never uploaded).
            config_version: any string; changing it re-exports the shared file, or
                re-renders every user's file with the generated PKI (after enabling MFA
                on the directory, or after changing the credentials secret's value).
                Default: none. The files are also re-written when the endpoint is
                replaced or its server certificate, port, protocol or authentication
                change.
            remote_random_label: put a random label in front of the ``remote`` host, for
                clients that ignore ``remote-random-hostname``. Default: False.
            users: with the generated PKI, one client certificate and one
                ``<prefix>/<vpn-id>/users/<name>.ovpn`` per name (letters, digits,
                ``.``, ``_``, ``-``; at most 64 characters), at most 2000 users (what one
                run of the users function creates within its timeout). Removing a name
                revokes the certificate. Default: none (add later with ``add_user``).
            ca_validity_days: generated CA lifetime. Default: 3650.
            server_certificate_validity_days: generated server certificate lifetime; a
                scheduled renewal (every 12 hours, no deploy needed) re-issues it 30 days
                before expiry under the same ACM ARN. Default: 825.
            client_certificate_validity_days: generated user certificates' lifetime; the
                scheduled renewal re-issues them (and their files) 30 days before
                expiry. Default: 825.
        """
        super().__init__(scope, id)
        self._vpc = vpc
        self._tags = TagManager(
            TagType.KEY_VALUE, ec2.CfnClientVpnEndpoint.CFN_RESOURCE_TYPE_NAME, dict(tags or {})
        )
        #: True while ``vpc`` is ``Vpc.from_lookup``'s placeholder: the checks of the VPC's
        #: CIDRs and subnets wait for the synthesis after the lookup.
        self._placeholder_vpc = _is_lookup_placeholder(vpc)
        if self._placeholder_vpc:
            Annotations.of(self).add_info(
                "the VPC is Vpc.from_lookup's placeholder (the CDK CLI looks it up after this "
                "synthesis): the checks against its CIDRs and subnets run on the next synthesis"
            )
        self._lanes: list[IConstruct | None] = [None] * MAX_CONCURRENT_MUTATIONS
        self._mutations = 0
        self._rule_keys: set[tuple[str, str]] = set()
        self._route_keys: set[tuple[str, str]] = set()

        if logging is not True:
            raise ClientVpnConfigError(
                self.node.path,
                "logging",
                "connection logging is always on: the logs are the one record of who "
                "connected from where (and cdk-nag's ClientVpn-ConnectionLogging requires "
                "them); drop logging=False, or use the L2 ec2.ClientVpnEndpoint",
            )
        # The L2 (like every jsii struct prop) also takes these as dicts.
        vpc_subnets = self._struct("vpc_subnets", ec2.SubnetSelection, vpc_subnets)
        client_route_enforcement_options = self._struct(
            "client_route_enforcement_options",
            ec2.ClientRouteEnforcementOptions,
            client_route_enforcement_options,
        )
        user_auths = self._user_auths(user_based_authentication)
        self._user_based = bool(user_auths)
        self._users: set[str] = set()
        self.certificate_authority: CertificateAuthority | None = None
        self._generated_pki = server_certificate_arn is None
        if self._generated_pki and (client_certificate_arn or client_credentials_secret):
            prop = (
                "client_certificate_arn"
                if client_certificate_arn
                else ("client_credentials_secret")
            )
            raise ClientVpnConfigError(
                self.node.path,
                prop,
                "is generated when server_certificate_arn is omitted; give both certificate "
                "ARNs (and the secret) or neither",
            )
        if self._user_based and self._generated_pki:
            raise ClientVpnConfigError(
                self.node.path,
                "server_certificate_arn",
                "is required with user_based_authentication (Active Directory or SAML): "
                "without it the generated PKI would add mutual authentication with per-user "
                "certificates, and nobody without one could connect; give the ACM ARN of a "
                "server certificate (and client_certificate_arn for AD or SAML together with "
                "mutual authentication)",
            )
        if users and not self._generated_pki:
            raise ClientVpnConfigError(
                self.node.path,
                "users",
                "per-user certificates come from the generated PKI; omit "
                "server_certificate_arn to use it",
            )
        self._validate_endpoint_props(
            cidr=cidr,
            server_certificate_arn=server_certificate_arn,
            client_certificate_arn=client_certificate_arn,
            self_service_portal=self_service_portal,
            dns_servers=dns_servers,
            split_tunnel=split_tunnel,
            client_login_banner=client_login_banner,
            client_connection_handler=client_connection_handler,
            client_route_enforcement_options=client_route_enforcement_options,
            log_group=log_group,
            log_retention=log_retention,
            internet_access=internet_access,
            internet_access_group_id=internet_access_group_id,
            config_export=config_export,
            config_prefix=config_prefix,
            client_credentials_secret=client_credentials_secret,
        )
        self._client_net = (
            None if Token.is_unresolved(cidr) else ipaddress.IPv4Network(cidr, strict=True)
        )
        self._check_vpc_overlap()
        subnets = self._select_subnets(vpc_subnets)

        #: Every log group this construct creates is named with this prefix.
        self.log_group_prefix = "/aws/client-vpn/" + Names.unique_resource_name(
            self, max_length=200, separator="-"
        )
        # The groups are retained on stack deletion: their names carry the stack's uuid so
        # that the next deployment of a destroyed stack does not collide with them.
        stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        self._log_group_base = f"{self.log_group_prefix}/{stack_uuid}"
        #: ``Names.unique_id`` of this construct: the S3 key segment of its files and the
        #: ``Vpn`` dimension of the ``DaysToExpiry`` metric. Stable across endpoint
        #: replacement.
        self.vpn_id = Names.unique_id(self)
        #: Key prefix (ends with ``/``) of every object this construct writes.
        self.config_base = f"{config_prefix}/{self.vpn_id}/"
        self.encryption_key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            description=f"Client VPN {self.node.path}: connection logs and client configs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        if encryption_key is None:
            # Control Tower CT.KMS.PR.3 on the key we create (a key you bring is yours).
            self.encryption_key.add_to_resource_policy(
                deny_grants_statement(f"DenyGrantsExceptForAwsResources{self.vpn_id}")
            )
        self._allow_logs_to_use_key()
        self.log_group: logs.ILogGroup = log_group or self._new_log_group(log_retention)
        if server_certificate_arn is None:
            self.certificate_authority = CertificateAuthority(
                self,
                "CertificateAuthority",
                secret_prefix=f"client-vpn/{Names.unique_resource_name(self, max_length=200)}/ca",
                encryption_key=self.encryption_key,
                log_group_name=f"{self._log_group_base}/certificate-authority",
                metric_dimension=self.vpn_id,
                ca_validity_days=ca_validity_days,
                server_validity_days=server_certificate_validity_days,
            )
            server_certificate_arn = self.certificate_authority.server_certificate_arn
            client_certificate_arn = self.certificate_authority.client_root_certificate_arn

        self._owns_security_group = security_groups is None
        self.security_group: ec2.ISecurityGroup = (
            security_groups[0]
            if security_groups
            else ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                description=f"Client VPN {self.node.path}: egress to authorized networks",
                allow_all_outbound=False,
            )
        )
        if client_route_enforcement_options is None:
            client_route_enforcement_options = ec2.ClientRouteEnforcementOptions(
                enforced=not split_tunnel
            )

        self.endpoint = ec2.ClientVpnEndpoint(
            self,
            "Endpoint",
            vpc=self._l2_vpc(),
            cidr=cidr,
            server_certificate_arn=server_certificate_arn,
            client_certificate_arn=client_certificate_arn,
            user_based_authentication=user_auths[0] if user_auths else None,
            self_service_portal=self_service_portal,
            authorize_all_users_to_vpc_cidr=False,
            logging=True,
            log_group=self.log_group,
            log_stream=log_stream,
            dns_servers=list(dns_servers) if dns_servers else None,
            split_tunnel=split_tunnel,
            transport_protocol=transport_protocol,
            port=port,
            security_groups=list(security_groups) if security_groups else [self.security_group],
            # No subnets: the L2 would name its associations by index (Association0..N),
            # so reordering or adding subnets would replace unrelated associations. They
            # are created below, keyed by AZ.
            vpc_subnets=ec2.SubnetSelection(subnets=[]),
            session_timeout=session_timeout,
            disconnect_on_session_timeout=disconnect_on_session_timeout,
            client_login_banner=client_login_banner,
            client_connection_handler=client_connection_handler,
            client_route_enforcement_options=client_route_enforcement_options,
            description=description or f"Client VPN {self.node.path}",
        )
        cfn = self.endpoint.node.default_child
        assert isinstance(cfn, ec2.CfnClientVpnEndpoint)
        # Rendered at synthesis: Tags.of(...) aspects add to the tag manager first.
        cfn.tag_specifications = Lazy.uncached_any(_TagSpecifications(self._tags))
        self.associated_subnets: list[ec2.ISubnet] = subnets
        self._associated = DependencyGroup()
        #: The target network associations, by subnet path.
        self.associations: dict[str, ec2.CfnClientVpnTargetNetworkAssociation] = {}
        for subnet in subnets:
            association = ec2.CfnClientVpnTargetNetworkAssociation(
                self.endpoint,
                f"Association-{_association_key(subnet)}",
                client_vpn_endpoint_id=self.endpoint_id,
                subnet_id=subnet.subnet_id,
            )
            self.associations[subnet.node.path] = association
            self._associated.add(association)

        if authorize_all_users_to_vpc_cidr:
            self.add_authorization_rule(vpc.vpc_cidr_block, all_users=True)
        for rule in authorization_rules:
            self.add_authorization_rule(
                rule.cidr,
                group_id=rule.group_id,
                all_users=rule.all_users,
                description=rule.description,
            )
        if internet_access:
            self.add_authorization_rule(
                ANYWHERE,
                group_id=internet_access_group_id,
                all_users=internet_access_group_id is None,
                description="Internet access through the VPN",
            )
            self.add_route(ANYWHERE, description="Internet access through the VPN")
            self._warn_without_internet_path()
        for route in routes:
            self.add_route(route.cidr, subnet=route.subnet, description=route.description)

        CfnOutput(self, "EndpointId", value=self.endpoint_id, description="Client VPN endpoint id")

        self.config_bucket: s3.IBucket | None = None
        self.config_object_key: str | None = None
        self.user_certificates: UserCertificates | None = None
        #: Alarm on the days left before a generated certificate expires (``None``
        #: without the generated PKI). It has no action: add yours with
        #: ``vpn.expiry_alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))``.
        self.expiry_alarm: cloudwatch.Alarm | None = None
        triggers = {
            "ServerCertificateArn": server_certificate_arn,
            "ClientCertificateArn": client_certificate_arn or "",
            "Authentication": self._stable(
                [a.render() for a in user_auths]  # type: ignore[arg-type]
            ),
            "Port": _PORT_NUMBERS[port],
            "TransportProtocol": (transport_protocol or ec2.TransportProtocol.UDP).name.lower(),
            "ConfigVersion": config_version or "",
        }
        if config_export or self.certificate_authority is not None:
            self.config_bucket = config_bucket or new_config_bucket(self, self.encryption_key)
            CfnOutput(
                self,
                "ConfigBucketName",
                value=self.config_bucket.bucket_name,
                description="Bucket holding the client configurations",
            )
        if self.certificate_authority is not None:
            assert self.config_bucket is not None
            self._issue_user_certificates(
                bucket=self.config_bucket,
                prefix=self.config_base,
                remote_random_label=remote_random_label,
                validity_days=client_certificate_validity_days,
                triggers=triggers,
            )
            for name in users:
                self.add_user(name)
            self.expiry_alarm = self._expiry_alarm()
        elif config_export:
            assert self.config_bucket is not None
            self._export_config(
                bucket=self.config_bucket,
                secret=client_credentials_secret,
                triggers=triggers,
                remote_random_label=remote_random_label,
            )

        self._warn_if_not_deployable()

    # -- attributes -------------------------------------------------------------------

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
        """For security group rules: ``db.connections.allow_from(vpn, ec2.Port.tcp(5432))``."""
        return self.endpoint.connections

    @property
    def target_networks_associated(self) -> IDependable:
        """Depend on this to wait until every target network association exists."""
        return self._associated

    def grant_read_config(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` download the exported ``.ovpn`` and nothing else.

        See ``grant_read_user_config`` for exactly what is granted and where.
        """
        if self.user_certificates is not None:
            raise ClientVpnConfigError(
                self.node.path,
                "users",
                "with the generated PKI there is no shared configuration: each user has a "
                "file of their own; use grant_read_user_config(name, grantee)",
            )
        if self.config_bucket is None or self.config_object_key is None:
            raise ClientVpnConfigError(
                self.node.path, "config_export", "is off, so there is no config to read"
            )
        return self._grant_read(self.config_object_key, grantee)

    def add_user(self, name: str) -> None:
        """Give ``name`` a client certificate and their own ``.ovpn`` (generated PKI only).

        Adding a user leaves every other user's certificate and file untouched; removing
        a name from the list later revokes the certificate and deletes the file.
        """
        if self.user_certificates is None:
            raise ClientVpnConfigError(
                self.node.path,
                "users",
                "per-user certificates come from the generated PKI; omit "
                "server_certificate_arn to use it",
            )
        if not USER_NAME.match(name):
            raise ClientVpnConfigError(
                self.node.path,
                "users",
                f"{name!r} is not a safe user name; use 1 to 64 letters, digits, '.', '_' "
                "or '-', starting with a letter or digit",
            )
        if name in self._users:
            raise ClientVpnConfigError(self.node.path, "users", f"duplicate user {name!r}")
        if len(self._users) >= MAX_USERS:
            raise ClientVpnConfigError(
                self.node.path,
                "users",
                f"adding {name!r} would make {len(self._users) + 1} users; one endpoint "
                f"takes at most {MAX_USERS} (what the users function issues within its "
                "timeout): split the users across two ClientVpn constructs",
            )
        self._users.add(name)

    def user_config_key(self, name: str) -> str:
        """The object key of ``name``'s ``.ovpn`` (generated PKI only)."""
        if self.user_certificates is None or name not in self._users:
            raise ClientVpnConfigError(self.node.path, "users", f"no user {name!r}")
        return f"{self.user_certificates.prefix}users/{name}.ovpn"

    def grant_read_user_config(self, name: str, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` download ``name``'s ``.ovpn`` and nothing else.

        Exactly two statements: ``s3:GetObject`` on that one object's ARN, and
        ``kms:Decrypt`` on the config key only when S3 asks for it in this region
        (``kms:ViaService``) for that object (``kms:EncryptionContext:aws:s3:arn``). No
        listing, no bucket reads, no other user's file, no CA secret. (The file's older
        versions are deleted by the handler, and ``GetObject`` does not cover
        ``GetObjectVersion``.)

        For an ``iam.Role``, ``iam.User`` or ``iam.Group`` the statements go into one
        customer-managed policy per grantee and ``ClientVpn`` (a child of the grantee,
        ``ReadClientVpnConfig<vpn-id>``), so the grantee's app gets no cdk-nag finding
        for an inline policy; other principals get them in their default policy. A
        managed policy holds about 6 KB: grant one principal at most a dozen files of one
        VPN. The grantee must be in the VPN's account (the key policy trusts the
        account's IAM policies). A bucket you bring (``config_bucket``) must have S3 Bucket
        Keys off, or KMS sees the bucket's ARN as the context and the decrypt is refused.
        """
        return self._grant_read(self.user_config_key(name), grantee)

    def _grant_read(self, object_key: str, grantee: iam.IGrantable) -> iam.Grant:
        """``s3:GetObject`` on one object and ``kms:Decrypt`` for exactly that object."""
        assert self.config_bucket is not None
        stack = Stack.of(self)
        object_arn = self.config_bucket.arn_for_objects(object_key)
        target = _policy_grantee(grantee, f"ReadClientVpnConfig{self.vpn_id}", self.node.path)
        read = iam.Grant.add_to_principal(
            grantee=target, actions=["s3:GetObject"], resource_arns=[object_arn]
        )
        decrypt = iam.Grant.add_to_principal(
            grantee=target,
            actions=["kms:Decrypt"],
            resource_arns=[self.encryption_key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": object_arn,
                }
            },
        )
        return read.combine(decrypt)

    # -- rules and routes -------------------------------------------------------------

    def add_authorization_rule(
        self,
        cidr: str,
        *,
        group_id: str | None = None,
        all_users: bool = False,
        description: str | None = None,
    ) -> ec2.ClientVpnAuthorizationRule:
        """Let ``group_id`` (or, with ``all_users=True``, every user) reach ``cidr``.

        The construct id is derived from the CIDR and group, so reordering rules does not
        replace them. Our own security group gets an egress rule to ``cidr``.

        Every property of a rule, ``description`` included, is create-only: changing it
        replaces the rule, and CloudFormation creates the new rule before deleting the
        old one, which Client VPN refuses (same CIDR and group). Change a description in
        two deploys: remove the rule and deploy, then add it back with the new
        description and deploy.
        """
        prop = "authorization_rules"
        if self._checkable(cidr):
            self._check(prop, validation.ipv4_network, cidr)
        if group_id is None and not all_users:
            raise ClientVpnConfigError(
                self.node.path,
                prop,
                f"the rule for {cidr} names no group; give group_id, or all_users=True to "
                "authorize every user explicitly",
            )
        if group_id is not None and all_users:
            raise ClientVpnConfigError(
                self.node.path, prop, f"the rule for {cidr} sets both group_id and all_users"
            )
        if group_id is not None and not self._user_based:
            raise ClientVpnConfigError(
                self.node.path,
                prop,
                f"the rule for {cidr} names group {group_id!r}, but groups need user-based "
                "authentication (Active Directory or SAML); use all_users=True",
            )
        key = (self._stable(cidr), group_id or "*")
        if key in self._rule_keys:
            who = f"group {group_id!r}" if group_id else "all users"
            raise ClientVpnConfigError(
                self.node.path,
                prop,
                f"duplicate rule for {self._display(cidr)} and {who}; Client VPN refuses the "
                "second one at deploy: remove it",
            )
        self._rule_keys.add(key)

        rule = self.endpoint.add_authorization_rule(
            f"Rule-{self._id_part(cidr)}-{_slug(group_id) if group_id else 'AllUsers'}",
            cidr=cidr,
            group_id=group_id,
            description=description,
        )
        self._chain(rule)
        if self._owns_security_group:
            self._allow_egress(cidr)
        return rule

    def add_route(
        self,
        cidr: str,
        *,
        subnet: ec2.ISubnet | None = None,
        description: str | None = None,
    ) -> list[ec2.ClientVpnRoute]:
        """Route ``cidr`` through ``subnet``, or through every associated subnet.

        Routes wait for the target network associations (AWS rejects a route through a
        subnet that is not associated yet). ``subnet`` must be one of
        ``associated_subnets``, and ``cidr`` may not be one of the VPC's CIDRs: AWS adds
        that route itself on association.

        Every property of a route, ``description`` included, is create-only: changing it
        replaces the route, and CloudFormation creates the new route before deleting the
        old one, which Client VPN refuses (same destination and subnet). Change a
        description in two deploys: remove the route and deploy, then add it back with
        the new description and deploy.
        """
        prop = "routes"
        if self._checkable(cidr):
            self._check(prop, validation.ipv4_network, cidr)
            if self._client_net is not None and cidr != ANYWHERE:
                self._check(prop, validation.no_overlap, self._client_net, cidr, "route")
        self._check_not_vpc_cidr(cidr)
        if subnet is not None:
            self._check_associated(subnet, cidr)
        targets = [subnet] if subnet is not None else self.associated_subnets
        created = []
        for target in targets:
            key = (self._stable(cidr), self._stable(target.subnet_id))
            if key in self._route_keys:
                raise ClientVpnConfigError(
                    self.node.path,
                    prop,
                    f"duplicate route to {self._display(cidr)} through subnet "
                    f"{target.node.path}; Client VPN refuses the second one at deploy: "
                    "remove it",
                )
            self._route_keys.add(key)
            route = self.endpoint.add_route(
                f"Route-{self._id_part(cidr)}-{_slug(Names.stack_relative_construct_path(target))}",
                cidr=cidr,
                target=ec2.ClientVpnRouteTarget.subnet(target),
                description=description,
            )
            route.node.add_dependency(self._associated)
            self._chain(route)
            created.append(route)
        return created

    # -- internals --------------------------------------------------------------------

    def _export_config(
        self,
        *,
        bucket: s3.IBucket,
        secret: secretsmanager.ISecret | None,
        triggers: Mapping[str, str],
        remote_random_label: bool,
    ) -> None:
        """The shared-config export custom resource and the outputs that find the file."""
        self.config_object_key = f"{self.config_base}client.ovpn"
        export = ConfigExport(
            self,
            "ConfigExport",
            endpoint_id=self.endpoint_id,
            endpoint_arn=self.endpoint_arn,
            bucket=bucket,
            encryption_key=self.encryption_key,
            object_key=self.config_object_key,
            log_group_name=f"{self._log_group_base}/config-export",
            credentials_secret=secret,
            remote_random_label=remote_random_label,
            triggers=triggers,
        )
        export.resource.node.add_dependency(self.target_networks_associated)
        uri = f"s3://{bucket.bucket_name}/{self.config_object_key}"
        CfnOutput(
            self,
            "ConfigKey",
            value=self.config_object_key,
            description="Object key of the client configuration (.ovpn)",
        )
        CfnOutput(self, "ConfigS3Uri", value=uri, description="The client configuration")
        CfnOutput(
            self,
            "ConfigDownloadCommand",
            value=f"aws s3 cp {uri} ./client.ovpn",
            description="Download the client configuration",
        )

    def _issue_user_certificates(
        self,
        *,
        bucket: s3.IBucket,
        prefix: str,
        remote_random_label: bool,
        validity_days: int,
        triggers: Mapping[str, str],
    ) -> None:
        """The per-user certificates resource (generated PKI) and its output."""
        assert self.certificate_authority is not None
        self.user_certificates = UserCertificates(
            self,
            "Users",
            users=self._users,
            endpoint_id=self.endpoint_id,
            endpoint_arn=self.endpoint_arn,
            authority=self.certificate_authority,
            bucket=bucket,
            prefix=prefix,
            encryption_key=self.encryption_key,
            log_group_name=f"{self._log_group_base}/users",
            metric_dimension=self.vpn_id,
            remote_random_label=remote_random_label,
            client_validity_days=validity_days,
            triggers=triggers,
        )
        self.user_certificates.resource.node.add_dependency(self.target_networks_associated)
        CfnOutput(
            self,
            "UserConfigPrefix",
            value=f"{prefix}users/",
            description="User configurations are <prefix><user>.ovpn in the bucket",
        )

    def _expiry_alarm(self) -> cloudwatch.Alarm:
        """Alarm when a generated certificate expires within ``EXPIRY_ALARM_DAYS`` days.

        Both PKI functions log ``DaysToExpiry`` on every run (deploys and the 12-hourly
        renewal). Missing data counts as breaching: renewal that stopped running is a
        problem too.
        """
        alarm = cloudwatch.Alarm(
            self,
            "CertificateExpiryAlarm",
            alarm_description=(
                f"Client VPN {self.node.path}: a generated certificate (CA, server or user) "
                f"expires within {EXPIRY_ALARM_DAYS} days, or the 12-hourly renewal stopped "
                "reporting. Check the logs of the certificate functions."
            ),
            metric=cloudwatch.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name=METRIC_NAME,
                dimensions_map={"Vpn": self.vpn_id},
                statistic=cloudwatch.Stats.MINIMUM,
                period=Duration.days(1),
            ),
            threshold=EXPIRY_ALARM_DAYS,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        Validations.of(alarm).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5-CloudWatchAlarmAction",
                reason="Where the expiry alarm should notify is the application's choice; "
                "add a topic with expiry_alarm.add_alarm_action(SnsAction(topic)). The "
                "alarm state is visible in the console and to any EventBridge rule.",
            )
        )
        return alarm

    def _allow_egress(self, cidr: str) -> None:
        """Open our security group's egress to an authorized destination (all protocols)."""
        if cidr != ANYWHERE:
            self.security_group.add_egress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.all_traffic(), f"Authorized destination {cidr}"
            )
            return
        # The L2 refuses "all traffic to anywhere" unless the group was created with
        # allow_all_outbound; internet access may be authorized after creation, for
        # several groups, and needs the one egress rule.
        if self.node.try_find_child("EgressAnywhere") is not None:
            return
        ec2.CfnSecurityGroupEgress(
            self,
            "EgressAnywhere",
            group_id=self.security_group.security_group_id,
            ip_protocol="-1",
            cidr_ip=ANYWHERE,
            description="Authorized destination 0.0.0.0/0 (internet access)",
        )

    def _check(self, prop: str, check: Callable[..., T], *args: Any) -> T:
        """Run one validation function, turning its ValueError into ours."""
        try:
            return check(*args)
        except ValueError as err:
            raise ClientVpnConfigError(self.node.path, prop, str(err)) from None

    def _l2_vpc(self) -> ec2.IVpc:
        """The VPC as the L2 sees it: the placeholder's CIDR hidden behind a token.

        The L2 compares the client CIDR with a known VPC CIDR and refuses the placeholder's
        ``1.2.3.4/5``; it reads nothing else of the VPC but its id. The stand-in creates no
        resource, so the templates before and after the lookup name the same resources.
        """
        if not self._placeholder_vpc:
            return self._vpc
        return ec2.Vpc.from_vpc_attributes(
            self,
            "LookupPlaceholderVpc",
            vpc_id=self._vpc.vpc_id,
            availability_zones=self._vpc.availability_zones,
            vpc_cidr_block=Lazy.string(_Constant(LOOKUP_PLACEHOLDER_CIDR)),
        )

    def _warn_without_internet_path(self) -> None:
        """``internet_access`` through a subnet with no default route (no NAT, no IGW).

        Isolated subnets have none by definition; a subnet defined in this app is looked
        for a 0.0.0.0/0 route in its route table (routes added after the ``ClientVpn`` are
        not seen). An imported subnet that is not isolated is taken at its word.
        """
        if self._placeholder_vpc:
            return
        isolated = {self._stable(s.subnet_id) for s in self._vpc.isolated_subnets}
        routed = {
            self._stable(route.route_table_id)
            for route in Stack.of(self._vpc).node.find_all()
            if isinstance(route, ec2.CfnRoute) and route.destination_cidr_block == ANYWHERE
        }
        without = [
            subnet.node.path
            for subnet in self.associated_subnets
            if self._stable(subnet.subnet_id) in isolated
            or (
                isinstance(subnet.node.default_child, ec2.CfnSubnet)
                and self._stable(subnet.route_table.route_table_id) not in routed
            )
        ]
        if without:
            Annotations.of(self).add_warning_v2(
                "constructs-cvpn:noInternetPath",
                "internet_access=True, but associated subnet(s) "
                f"{', '.join(without)} have no route to the internet (no NAT or internet "
                "gateway): clients get a 0.0.0.0/0 route that leads nowhere. Associate "
                "subnets with a NAT gateway (vpc_subnets) or add one",
            )

    def _warn_if_not_deployable(self) -> None:
        """Handler assets built without their wheels (``CVPN_SKIP_BUNDLING``) cannot run."""
        if not skip_requested(self):
            return
        for construct in self.node.find_all():
            if isinstance(construct, HandlerProvider):
                Annotations.of(construct.function).add_warning_v2(
                    "constructs-cvpn:bundlingSkipped",
                    f"this function's asset was built with {SKIP_ENV_VAR}=1 (or the context "
                    f"{SKIP_CONTEXT_KEY}=true), without the cryptography wheels: fine for a "
                    "synth or a test, but the function fails if this template is deployed",
                )

    def _display(self, value: str) -> str:
        """A value as a user would name it: the value, or where a token comes from.

        Never a token string or CloudFormation JSON: "the VPC CIDR (Stack/Vpc)", "the
        parameter Stack/ClientCidr", "the region's availability zone #1".
        """
        if _known(value):
            return value
        resolved = Stack.of(self).resolve(value)
        if self._stable(value) == self._stable(self._vpc.vpc_cidr_block):
            return f"the VPC CIDR ({self._vpc.node.path})"
        token = Tokenization.reverse_string(value).first_token
        if isinstance(token, Reference):
            target = token.target
            if isinstance(target, CfnParameter):
                return f"the parameter {target.node.path}"
            owner = target.node.scope if target.node.id == "Resource" else target
            return f"the {token.display_name} of {owner.node.path if owner else target.node.path}"
        if (
            isinstance(resolved, dict)
            and isinstance(resolved.get("Fn::Select"), list)
            and len(resolved["Fn::Select"]) == 2
            and isinstance(resolved["Fn::Select"][1], dict)
            and "Fn::GetAZs" in resolved["Fn::Select"][1]
        ):
            return f"the region's availability zone #{int(resolved['Fn::Select'][0]) + 1}"
        return "a value known only at deploy time"

    def _struct(self, prop: str, struct: type[T], value: T | Mapping[str, Any] | None) -> T | None:
        """A struct prop given as the struct or, as the L2 takes it too, as a dict."""
        if value is None or isinstance(value, struct):
            return value
        if not isinstance(value, Mapping):
            raise ClientVpnConfigError(
                self.node.path, prop, f"expected an ec2.{struct.__name__} or a dict"
            )
        try:
            return struct(**value)
        except TypeError as err:
            raise ClientVpnConfigError(
                self.node.path,
                prop,
                f"{err}; the keys are the snake_case fields of ec2.{struct.__name__}",
            ) from None

    def _checkable(self, cidr: str) -> bool:
        """A CIDR known at synth time (not a token, not the lookup placeholder's CIDR)."""
        return _known(cidr) and not (self._placeholder_vpc and cidr == LOOKUP_PLACEHOLDER_CIDR)

    def _stable(self, value: str) -> str:
        """A comparable form of a value that may be a token."""
        return json.dumps(Stack.of(self).resolve(value), sort_keys=True)

    def _id_part(self, value: str) -> str:
        """A stable construct-id part for a CIDR, also when it is a token (e.g. a VPC CIDR)."""
        if _known(value):
            return _slug(value)
        return "Ref" + hashlib.sha256(self._stable(value).encode()).hexdigest()[:8]

    def _chain(self, mutation: IConstruct) -> None:
        """Put a rule or route in one of ``MAX_CONCURRENT_MUTATIONS`` sequential lanes."""
        lane = self._mutations % MAX_CONCURRENT_MUTATIONS
        previous = self._lanes[lane]
        if previous is not None:
            mutation.node.add_dependency(previous)
        self._lanes[lane] = mutation
        self._mutations += 1

    def _user_auths(
        self,
        value: ec2.ClientVpnUserBasedAuthentication
        | Sequence[ec2.ClientVpnUserBasedAuthentication]
        | None,
    ) -> list[ec2.ClientVpnUserBasedAuthentication]:
        if value is None:
            return []
        auths = list(value) if isinstance(value, Sequence) else [value]
        if len(auths) > 1:
            kinds = ", ".join(str(a.render().get("type")) for a in auths)
            raise ClientVpnConfigError(
                self.node.path,
                "user_based_authentication",
                f"got {len(auths)} user-based methods ({kinds}); Client VPN takes at most one "
                "(Active Directory or SAML), optionally with mutual authentication",
            )
        return auths

    def _validate_endpoint_props(
        self,
        *,
        cidr: str,
        server_certificate_arn: str | None,
        client_certificate_arn: str | None,
        self_service_portal: bool,
        dns_servers: Sequence[str] | None,
        split_tunnel: bool,
        client_login_banner: str | None,
        client_connection_handler: ec2.IClientVpnConnectionHandler | None,
        client_route_enforcement_options: ec2.ClientRouteEnforcementOptions | None,
        log_group: logs.ILogGroup | None,
        log_retention: logs.RetentionDays | None,
        internet_access: bool,
        internet_access_group_id: str | None,
        config_export: bool,
        config_prefix: str,
        client_credentials_secret: secretsmanager.ISecret | None,
    ) -> None:
        known = _known
        if known(cidr):
            self._check("cidr", validation.client_cidr, cidr)
        else:
            Annotations.of(self).add_warning_v2(
                "constructs-cvpn:clientCidrUnknown",
                f"cidr is {self._display(cidr)}, known only at deploy time: the checks of its "
                "size (/12 to /22) and of overlaps with the VPC's CIDRs and the routes are "
                "skipped; a bad value fails the deploy (and cidr replaces the endpoint)",
            )
        if server_certificate_arn is not None and known(server_certificate_arn):
            self._check(
                "server_certificate_arn", validation.acm_certificate_arn, server_certificate_arn
            )
        if client_certificate_arn is not None and known(client_certificate_arn):
            self._check(
                "client_certificate_arn", validation.acm_certificate_arn, client_certificate_arn
            )
        if client_certificate_arn is None and not self._user_based and not self._generated_pki:
            raise ClientVpnConfigError(
                self.node.path,
                "authentication",
                "no authentication method; give client_certificate_arn (mutual), "
                "user_based_authentication (Active Directory or SAML), or both",
            )
        if self_service_portal and not self._user_based:
            raise ClientVpnConfigError(
                self.node.path,
                "self_service_portal",
                "the self-service portal needs user_based_authentication (AD or SAML)",
            )
        if dns_servers is not None and all(known(d) for d in dns_servers):
            self._check("dns_servers", validation.dns_servers, dns_servers)
        if client_login_banner is not None and known(client_login_banner):
            self._check("client_login_banner", validation.banner, client_login_banner)
        handler_name = _function_name(client_connection_handler)
        if handler_name is not None:
            self._check("client_connection_handler", validation.connect_handler_name, handler_name)
        if (
            split_tunnel
            and client_route_enforcement_options
            and (client_route_enforcement_options.enforced is True)
        ):
            raise ClientVpnConfigError(
                self.node.path,
                "client_route_enforcement_options",
                "client route enforcement cannot be combined with split_tunnel=True",
            )
        if log_group is not None and log_retention is not None:
            raise ClientVpnConfigError(
                self.node.path,
                "log_retention",
                "applies only to the log group this construct creates; set the retention on "
                "the log_group you bring instead",
            )
        if internet_access and split_tunnel:
            raise ClientVpnConfigError(
                self.node.path,
                "internet_access",
                "routes all traffic through the VPN and needs split_tunnel=False",
            )
        if internet_access_group_id is not None and not internet_access:
            raise ClientVpnConfigError(
                self.node.path, "internet_access_group_id", "needs internet_access=True"
            )
        if config_export or self._generated_pki:
            self._check("config_prefix", validation.key_prefix, config_prefix)
        if client_credentials_secret is not None and client_certificate_arn is None:
            raise ClientVpnConfigError(
                self.node.path,
                "client_credentials_secret",
                "applies only to mutual authentication (client_certificate_arn)",
            )

    def _vpc_cidrs(self) -> list[str]:
        """The VPC's CIDR blocks known at synth time, primary and secondary."""
        cidrs: list[str] = []
        if self._placeholder_vpc:
            return cidrs
        primary = self._vpc.node.default_child
        if isinstance(primary, ec2.CfnVPC) and primary.cidr_block is not None:
            cidrs.append(primary.cidr_block)
        elif not Token.is_unresolved(self._vpc.vpc_cidr_block):
            cidrs.append(self._vpc.vpc_cidr_block)
        stack = Stack.of(self._vpc)
        vpc_ref = self._stable(self._vpc.vpc_id)
        for construct in stack.node.find_all():
            if (
                isinstance(construct, ec2.CfnVPCCidrBlock)
                and construct.cidr_block is not None
                and json.dumps(stack.resolve(construct.vpc_id), sort_keys=True) == vpc_ref
            ):
                cidrs.append(construct.cidr_block)
        return [c for c in cidrs if _known(c)]

    def _check_not_vpc_cidr(self, cidr: str) -> None:
        """A route to one of the VPC's own CIDRs duplicates the one AWS adds itself."""
        stable = self._stable(cidr)
        tokens = [self._vpc.vpc_cidr_block, *self._vpc_cidrs()]
        same = any(self._stable(c) == stable for c in tokens)
        if not same and _known(cidr) and "/" in cidr:
            net = ipaddress.IPv4Network(cidr, strict=False)
            same = any(ipaddress.IPv4Network(c, strict=False) == net for c in self._vpc_cidrs())
        if same:
            raise ClientVpnConfigError(
                self.node.path,
                "routes",
                f"the route to {cidr} is the VPC's own CIDR; AWS adds that route itself for "
                "each associated subnet (a second one fails with InvalidClientVpnDuplicateRoute"
                "): remove it and keep only an authorization rule for the VPC CIDR",
            )

    def _check_associated(self, subnet: ec2.ISubnet, cidr: str) -> None:
        """A route can only go through an associated subnet."""
        wanted = self._stable(subnet.subnet_id)
        if any(self._stable(s.subnet_id) == wanted for s in self.associated_subnets):
            return
        associated = ", ".join(s.node.path for s in self.associated_subnets)
        raise ClientVpnConfigError(
            self.node.path,
            "routes",
            f"the route to {cidr} goes through subnet {subnet.node.path}, which is not a "
            f"target network of this endpoint; use one of the associated subnets "
            f"({associated}) or add it to vpc_subnets",
        )

    def _check_vpc_overlap(self) -> None:
        if self._client_net is None:
            return
        for vpc_cidr in self._vpc_cidrs():
            self._check("cidr", validation.no_overlap, self._client_net, vpc_cidr, "VPC CIDR")

    def _select_subnets(self, selection: ec2.SubnetSelection | None) -> list[ec2.ISubnet]:
        """The target networks: one per AZ, all in the VPC."""
        chosen = self._vpc.select_subnets(
            **_selection_kwargs(selection) if selection else {"one_per_az": True}
        ).subnets
        if not chosen:
            raise ClientVpnConfigError(
                self.node.path, "vpc_subnets", "selects no subnet; give at least one"
            )
        own = self._vpc_subnets()
        own_ids = {self._stable(s.subnet_id) for s in own}
        all_known = all(_known(s.subnet_id) for s in own)
        seen_azs: dict[str, str] = {}
        for subnet in chosen:
            sid = self._stable(subnet.subnet_id)
            if sid not in own_ids and (
                _in_other_vpc(subnet, self._vpc) or (all_known and _known(subnet.subnet_id))
            ):
                raise ClientVpnConfigError(
                    self.node.path,
                    "vpc_subnets",
                    f"subnet {subnet.node.path} is not in the endpoint's VPC "
                    f"{self._vpc.node.path}; every target network must be in that VPC",
                )
            az = self._stable(subnet.availability_zone)
            if az in seen_azs:
                raise ClientVpnConfigError(
                    self.node.path,
                    "vpc_subnets",
                    f"subnets {seen_azs[az]} and {subnet.node.path} are in the same "
                    f"availability zone ({self._display(subnet.availability_zone)}); Client "
                    "VPN takes one subnet per AZ (use one_per_az=True)",
                )
            seen_azs[az] = subnet.node.path
        return list(chosen)

    def _vpc_subnets(self) -> list[ec2.ISubnet]:
        return [
            *self._vpc.public_subnets,
            *self._vpc.private_subnets,
            *self._vpc.isolated_subnets,
        ]

    def _allow_logs_to_use_key(self) -> None:
        """Let CloudWatch Logs use our key for the log groups named ``log_group_prefix*``.

        Those are the connection logs and our handlers' logs. An imported key's policy
        cannot be changed from here: it must allow the same.
        """
        stack = Stack.of(self)
        arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{self.log_group_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        sid = f"AllowCloudWatchLogsForClientVpnLogGroups{self.vpn_id}"  # unique per VPN
        actions = [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ]
        added = self.encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=actions,
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": arn}},
            )
        )
        if added.statement_added:
            return
        # An imported key (Key.from_key_arn, from_lookup): its policy is not ours to change.
        region = stack.region if _known(stack.region) else "<region>"
        account = stack.account if _known(stack.account) else "<account>"
        partition = stack.partition if _known(stack.partition) else "aws"
        statement = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": actions,
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:"
                    f"{account}:log-group:{self.log_group_prefix}*"
                }
            },
        }
        Annotations.of(self).add_warning_v2(
            "constructs-cvpn:importedKeyPolicy",
            "encryption_key is imported, so its key policy cannot be changed from here; it "
            "must let CloudWatch Logs use it for this VPN's log groups, or creating them "
            "fails. Add this statement to the key policy: "
            + json.dumps(statement, separators=(", ", ": ")),
        )

    def _new_log_group(self, retention: logs.RetentionDays | None) -> logs.LogGroup:
        """The connection log group, encrypted with our key."""
        group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=self._log_group_base,
            retention=retention or logs.RetentionDays.ONE_YEAR,
            encryption_key=self.encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        return group


def _known(value: object) -> bool:
    """True when a value is known at synth time (not a CloudFormation token)."""
    return not Token.is_unresolved(value)


@jsii.implements(IAnyProducer)
class _TagSpecifications:
    """The endpoint's TagSpecifications from a tag manager, or nothing without tags."""

    def __init__(self, tags: TagManager) -> None:
        self._tags = tags

    def produce(self, context: IResolveContext) -> Any:
        rendered = self._tags.render_tags()
        if not rendered:
            return None
        # The L1 resolves its props before mapping them to CloudFormation: give its own
        # (camelCase) shape, as TagSpecificationProperty and CfnTag would.
        tags = sorted(
            ({"key": str(t["Key"]), "value": str(t["Value"])} for t in rendered),
            key=lambda tag: tag["key"],
        )
        return [{"resourceType": "client-vpn-endpoint", "tags": tags}]


@jsii.implements(IStableStringProducer)
class _Constant:
    """A value the CDK sees as a token, so that it skips its own checks of it."""

    def __init__(self, value: str) -> None:
        self._value = value

    def produce(self) -> str | None:
        return self._value


def _is_lookup_placeholder(vpc: ec2.IVpc) -> bool:
    """True for the dummy VPC ``Vpc.from_lookup`` hands out while its context is missing."""
    return (
        _known(vpc.vpc_id)
        and vpc.vpc_id == LOOKUP_PLACEHOLDER_VPC_ID
        and _known(vpc.vpc_cidr_block)
        and vpc.vpc_cidr_block == LOOKUP_PLACEHOLDER_CIDR
    )


def _function_name(handler: ec2.IClientVpnConnectionHandler | None) -> str | None:
    """The connect handler's name when known at synth time.

    A ``lambda_.Function``'s ``function_name`` attribute is always a token; the name given
    to it sits on its L1.
    """
    if handler is None:
        return None
    cfn = handler.node.default_child if isinstance(handler, Construct) else None
    name = getattr(cfn, "function_name", None) or handler.function_name
    return name if isinstance(name, str) and _known(name) else None


def _association_key(subnet: ec2.ISubnet) -> str:
    """The construct-id part of a subnet's association: its AZ when known at synth.

    Environment-agnostic stacks have token AZs; then the subnet's construct path (relative
    to its stack) keys it, which is just as stable under reordering.
    """
    az = subnet.availability_zone
    if _known(az):
        return az
    return _slug(Names.stack_relative_construct_path(subnet))


def _slug(value: str) -> str:
    """A construct-id-safe form of a CIDR or group name (ids may not contain '/')."""
    return value.replace("/", "-")


def _in_other_vpc(subnet: ec2.ISubnet, vpc: ec2.IVpc) -> bool:
    """True when the subnet was defined inside another VPC construct of this app."""
    scope = subnet.node.scope
    while scope is not None:
        if scope is vpc:
            return False
        if hasattr(scope, "vpc_id") and hasattr(scope, "select_subnets"):
            return True
        scope = scope.node.scope
    return False


def _selection_kwargs(selection: ec2.SubnetSelection) -> dict[str, Any]:
    """The fields a user set on a SubnetSelection, defaulting to one subnet per AZ."""
    kwargs: dict[str, Any] = {
        name: getattr(selection, name)
        for name in (
            "availability_zones",
            "subnet_filters",
            "subnet_group_name",
            "subnet_type",
            "subnets",
        )
        if getattr(selection, name) is not None
    }
    kwargs["one_per_az"] = selection.one_per_az if selection.one_per_az is not None else None
    if "subnets" not in kwargs and kwargs["one_per_az"] is None:
        kwargs["one_per_az"] = True
    if kwargs["one_per_az"] is None:
        del kwargs["one_per_az"]
    return kwargs


class _ManagedPolicyPrincipal(iam.PrincipalBase):
    """A principal whose grants land in one customer-managed policy attached to it."""

    def __init__(self, principal: iam.IPrincipal, policy: iam.ManagedPolicy) -> None:
        super().__init__()
        self._principal = principal
        self._policy = policy

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self._principal.policy_fragment

    def dedupe_string(self) -> str | None:
        return None

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        self._policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)


@jsii.implements(iam.IGrantable)
class _Grantable:
    def __init__(self, principal: iam.IPrincipal) -> None:
        self._principal = principal

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self._principal


def _policy_grantee(grantee: iam.IGrantable, policy_id: str, vpn_path: str) -> iam.IGrantable:
    """Route a Role's, User's or Group's grants into its managed policy ``policy_id``.

    cdk-nag (NIST 800-53 IAMNoInlinePolicy) reports every inline policy; a customer-managed
    policy attached to the principal is not one. Other principals keep their default policy.
    """
    principal = grantee.grant_principal
    if not isinstance(principal, (iam.Role, iam.User, iam.Group)):
        return grantee
    existing = principal.node.try_find_child(policy_id)
    if isinstance(existing, iam.ManagedPolicy):
        policy = existing
    else:
        policy = iam.ManagedPolicy(
            principal,
            policy_id,
            description=f"Read client configurations of Client VPN {vpn_path}"[:1000],
        )
        if isinstance(principal, iam.Role):
            policy.attach_to_role(principal)
        elif isinstance(principal, iam.User):
            policy.attach_to_user(principal)
        else:
            policy.attach_to_group(principal)
    return _Grantable(_ManagedPolicyPrincipal(principal, policy))
