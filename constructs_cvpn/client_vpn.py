"""``ClientVpn``: an AWS Client VPN endpoint with secure defaults.

Built on the L2 ``aws_ec2.ClientVpnEndpoint``; props that exist there keep their names.
What it adds: validation of Client VPN's value rules at synth time, a KMS-encrypted
connection log group, a security group of its own, one association per AZ (keyed by the
AZ, so reordering or adding subnets leaves the other associations alone), rules and
routes as data, and dependency chaining that keeps CloudFormation within Client VPN's
limit of concurrent changes per endpoint.

The construct is a list of rooms, each a module named for what it holds: ``props``
(checks of the props as a whole, with ``prop_checks`` and ``ignored_props``),
``logs_and_keys``, ``network`` (putting together ``associations``, ``security_group``,
``rules``, ``routes`` and ``lanes``), ``endpoint`` (the L2 endpoint), ``client_configs``
(bucket, export or generated PKI, outputs, grants); ``attributes`` holds what a
``ClientVpn`` offers the CDK's APIs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import (
    CfnOutput,
    Duration,
    ITaggable,
    Names,
    Stack,
    TagManager,
    TagType,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .access import AuthorizationRule, Route
from .client_configs import ClientConfigs, config_triggers
from .config_access import ConfigAccess
from .endpoint import new_endpoint
from .expiry_alarm import EXPIRY_ALARM_DAYS
from .ignored_props import (
    DEFAULT_CA_VALIDITY_DAYS,
    DEFAULT_CERTIFICATE_VALIDITY_DAYS,
    DEFAULT_CONFIG_PREFIX,
    check_props_take_effect,
)
from .ip_address_type import IpAddressType
from .logs_and_keys import LogsAndKeys
from .network import ANYWHERE, MAX_CONCURRENT_MUTATIONS, NetworkAccess
from .office_hours import OfficeHours
from .posture import AuthorizationPolicy, DeviceTrustProvider
from .props import check_props
from .synth_checks import Built, SynthChecks
from .tokens import LOOKUP_PLACEHOLDER_CIDR, LOOKUP_PLACEHOLDER_VPC_ID
from .transit_gateway import TransitGatewayAttachment

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_secretsmanager as secretsmanager

    from .schedule import OffHoursSchedule


__all__ = [
    "ANYWHERE",
    "EXPIRY_ALARM_DAYS",
    "LOOKUP_PLACEHOLDER_CIDR",
    "LOOKUP_PLACEHOLDER_VPC_ID",
    "MAX_CONCURRENT_MUTATIONS",
    "ClientVpn",
]


@jsii.implements(ec2.IClientVpnEndpoint, ITaggable)
class ClientVpn(ConfigAccess):
    """An AWS Client VPN endpoint, its logging, security group, associations, rules and routes.

    A ``ClientVpn`` is an ``ec2.IClientVpnEndpoint``, the L2 endpoint's interface, and so an
    ``ec2.IConnectable``: every CDK API that takes a connectable or an endpoint takes it, e.g.
    ``database.connections.allow_from(vpn, ec2.Port.tcp(5432))``. Its rules and routes are
    added with ``add_authorization_rule`` and ``add_route`` only: one made elsewhere (the L2's
    ``ec2.ClientVpnAuthorizationRule`` / ``ec2.ClientVpnRoute``, ``vpn.endpoint.add_route``)
    is refused at synth, naming the method (``synth_checks``). It is also an
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
        vpc: ec2.IVpc | None = None,
        cidr: str | None = None,
        endpoint_ip_address_type: IpAddressType | str | None = None,
        traffic_ip_address_type: IpAddressType | str | None = None,
        server_certificate_arn: str | None = None,
        client_certificate_arn: str | None = None,
        user_based_authentication: ec2.ClientVpnUserBasedAuthentication
        | Sequence[ec2.ClientVpnUserBasedAuthentication]
        | None = None,
        self_service_portal: bool = False,
        dns_servers: Sequence[str] | None = None,
        split_tunnel: bool = False,
        transport_protocol: ec2.TransportProtocol | None = ec2.TransportProtocol.UDP,
        port: ec2.VpnPort | int = ec2.VpnPort.HTTPS,
        session_timeout: ec2.ClientVpnSessionTimeout
        | Duration = ec2.ClientVpnSessionTimeout.TWELVE_HOURS,
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
        max_azs: int | None = None,
        transit_gateway: TransitGatewayAttachment | None = None,
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
        client_to_client: bool = False,
        client_to_client_group_id: str | None = None,
        config_export: bool = True,
        config_bucket: s3.IBucket | None = None,
        config_prefix: str = DEFAULT_CONFIG_PREFIX,
        break_glass_arn: str | None = None,
        client_credentials_secret: secretsmanager.ISecret | None = None,
        config_version: str | None = None,
        remote_random_label: bool = False,
        ipv6_leak_protection: bool | None = None,
        users: Sequence[str] = (),
        ca_validity_days: int = DEFAULT_CA_VALIDITY_DAYS,
        server_certificate_validity_days: int = DEFAULT_CERTIFICATE_VALIDITY_DAYS,
        client_certificate_validity_days: int = DEFAULT_CERTIFICATE_VALIDITY_DAYS,
        device_trust_providers: Sequence[DeviceTrustProvider] = (),
        authorization_policy: AuthorizationPolicy | None = None,
        log_authorization_policy_context: bool | None = None,
        schedule: OfficeHours | None = None,
    ) -> None:
        """Create the endpoint.

        Args:
            vpc: the VPC the endpoint's target networks and security group live in. A
                ``Vpc.from_lookup`` VPC works: before the CDK CLI has looked it up, the
                CDK's placeholder (``vpc-12345``, ``1.2.3.4/5``) is accepted with an info
                annotation and the VPC checks run on the synthesis after the lookup.
                Required, unless the endpoint is attached to a ``transit_gateway``
                (then it has no VPC).
            cidr: client address block, IPv4 /12 to /22, not overlapping any VPC CIDR
                (primary or secondary) or route destination. Required with IPv4 or
                dual-stack traffic; refused with IPv6-only traffic, whose client addresses
                Amazon assigns (AWS Client VPN administrator guide, "IPv6 considerations").
                A token (``CfnParameter``) skips the checks of its value, with a warning.
                *Replaces.*
            endpoint_ip_address_type: the IP version clients connect over (the outer
                tunnel): ``IpAddressType.IPV4``, ``IPV6`` or ``DUAL_STACK`` (or
                ``"ipv4"``, ``"ipv6"``, ``"dual-stack"``). Default: not set (AWS: IPv4).
                *Replaces* (create-only in the CloudFormation schema; setting it, even to
                IPv4, on an endpoint that never had it replaces the endpoint).
            traffic_ip_address_type: the IP version(s) the tunnel carries: client
                addresses, routes and authorization rules. ``IPV6`` takes no ``cidr``;
                ``IPV6`` and ``DUAL_STACK`` need target subnets with an IPv6 CIDR. Any
                combination with ``endpoint_ip_address_type`` is valid (AWS Client VPN
                administrator guide, "Create an endpoint"). Default: not set (AWS: IPv4).
                *Replaces* (create-only).
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
            dns_servers: up to two IPv4 DNS servers; ``[]`` pushes none (clients keep
                their own). Default: in full tunnel with IPv4 or dual-stack traffic, the VPC
                resolver (the VPC's primary CIDR plus two, e.g. ``10.0.0.2``) when that CIDR
                is known at synth; otherwise none (split tunnel keeps the clients' own
                resolver; an imported VPC with a deploy-time CIDR, ``Vpc.from_lookup``
                before the lookup and IPv6-only traffic get none). In place.
            split_tunnel: send only routed traffic through the VPN. Default: False.
            transport_protocol: UDP or TCP; ``None`` leaves it out of the template (AWS
                then uses UDP), as the L2 does when it is not set: moving an L2 endpoint
                that never set it, ``None`` keeps the endpoint (adding the property, even
                as "udp", would replace it). Default: UDP. *Replaces.*
            port: 443 or 1194, as a number or the L2's ``ec2.VpnPort``. Default: 443.
            session_timeout: 8, 10, 12 or 24 hours, as a ``Duration`` or the L2's
                ``ec2.ClientVpnSessionTimeout``. Default: 12 hours.
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
                the other associations in place. Each subnet must be a /27 or larger
                (and keep 20 free addresses at all times; admin guide, target network
                requirements). Default: the VPC's private subnets, one per AZ.
            max_azs: associate at most this many AZs: the first ones of the
                ``vpc_subnets`` selection, in the VPC's AZ order. Each association is
                billed per hour (every synth shows the monthly association-hours and
                their list price as an info annotation; ``monthly_cost()``); more AZs keep
                the VPN up when an AZ fails and raise the concurrent-connection quota
                (1 AZ: 7,000; 2: 36,500). Lowering it removes the last AZs'
                associations, their routes and the connections through them.
                Default: None (one association per AZ of the selection).
            transit_gateway: attach the endpoint to a transit gateway instead of a VPC;
                see ``TransitGatewayAttachment``: one association per Availability Zone
                it names, routes go to the transit gateway (``Route.subnet`` must be left
                out), and there is no VPC, security group or subnet (``vpc``,
                ``security_groups``, ``vpc_subnets``, ``max_azs`` and
                ``authorize_all_users_to_vpc_cidr`` are refused). Clients keep their own
                addresses (no SNAT), so ``connections`` is the client CIDR: allow it in the
                security groups of what they reach. The transit gateway's route table must
                propagate the Client VPN attachment. Default: none (a VPC endpoint).
                *Replaces* (``TransitGatewayConfiguration`` is create-only).
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
            internet_access: in full-tunnel mode, a 0.0.0.0/0 route (and ``::/0`` when
                the traffic carries IPv6) through every associated subnet and a rule for
                each. The subnets need a path to the internet (NAT or egress-only/internet
                gateway). Default: False.
            internet_access_group_id: the group allowed to the internet. Default: every
                user (with ``internet_access``).
            client_to_client: let clients reach each other: a route to the client CIDR
                with the target ``local`` and an authorization rule for it (AWS Client
                VPN API, CreateClientVpnRoute; administrator guide, "Routes"). Needs an
                IPv4 client CIDR (not IPv6-only traffic). Default: False.
            client_to_client_group_id: the group allowed to reach other clients; needs
                user-based authentication. Default: every user (with ``client_to_client``).
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
            break_glass_arn: the one principal (an IAM role or user ARN, or the account
                root) that the config bucket's Deny statements and the CA secret's guard
                never refuse: it can repair or remove them. Default: the account root (S3
                lets the root user delete any bucket policy of its account anyway). In place.
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
            ipv6_leak_protection: add the IPv6 leak block of the AWS Client VPN
                administrator guide ("IPv6 considerations") to every ``.ovpn``:
                ``ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1``, ``route-ipv6
                2000::/3``, ``route-ipv6 fc00::/7``, so a dual-stack client sends its IPv6
                traffic into the IPv4-only tunnel (where it is dropped) instead of around
                it. Only for full tunnel with IPv4-only traffic. A client whose system has
                IPv6 turned off cannot set the tunnel's IPv6 address and OpenVPN 2.x stops:
                turn it off for such clients. Default: on where it applies (full tunnel,
                traffic IPv4).
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
            device_trust_providers: device posture: the CrowdStrike, Jamf or JumpCloud
                tenants whose posture tokens the ``authorization_policy`` reads (each type
                and tenant once); see ``DeviceTrustProvider``. Default: none (device
                posture off). Changes in place.
            authorization_policy: a Cedar policy every connection must satisfy, as text or
                from a file (``AuthorizationPolicy.from_text`` / ``from_file``), optionally
                in shadow mode (decisions logged, nobody blocked). It must have a
                ``permit`` statement (without one, Client VPN denies every connection).
                Default: none. Changes in place.
            log_authorization_policy_context: add the policy's evaluation context (device
                signals, user, connection) to the connection logs; needs an
                ``authorization_policy``. Default: on with an ``authorization_policy``
                (shadow mode is judged from those logs), else off. Changes in place.
            schedule: associate the target networks only in office hours
                (``OfficeHours(time_zone=..., days="MON-FRI", start="07:00",
                stop="20:00")``); see ``constructs_cvpn.schedule`` and the README's
                "Off-hours schedule". Associations and routes are then kept by a reconciler
                function instead of CloudFormation (rules stay CloudFormation's);
                ``add_route`` returns no ``ClientVpnRoute`` and ``associations`` is empty.
                Not with a ``transit_gateway``. Default: none (associated around the
                clock). Turning it on or off on a deployed VPN: see the README.
        """
        super().__init__(scope, id)
        self._vpc = vpc
        self._cidr = cidr
        self._tags = TagManager(
            TagType.KEY_VALUE, ec2.CfnClientVpnEndpoint.CFN_RESOURCE_TYPE_NAME, dict(tags or {})
        )
        props = check_props(
            self,
            vpc=vpc,
            port=port,
            session_timeout=session_timeout,
            cidr=cidr,
            endpoint_ip_address_type=endpoint_ip_address_type,
            traffic_ip_address_type=traffic_ip_address_type,
            logging=logging,
            server_certificate_arn=server_certificate_arn,
            client_certificate_arn=client_certificate_arn,
            user_based_authentication=user_based_authentication,
            self_service_portal=self_service_portal,
            dns_servers=dns_servers,
            split_tunnel=split_tunnel,
            client_login_banner=client_login_banner,
            client_connection_handler=client_connection_handler,
            client_route_enforcement_options=client_route_enforcement_options,
            vpc_subnets=vpc_subnets,
            log_group=log_group,
            log_retention=log_retention,
            internet_access=internet_access,
            internet_access_group_id=internet_access_group_id,
            client_to_client=client_to_client,
            client_to_client_group_id=client_to_client_group_id,
            ipv6_leak_protection=ipv6_leak_protection,
            config_export=config_export,
            config_prefix=config_prefix,
            client_credentials_secret=client_credentials_secret,
            users=users,
            transit_gateway=transit_gateway,
            security_groups=security_groups,
            max_azs=max_azs,
            authorize_all_users_to_vpc_cidr=authorize_all_users_to_vpc_cidr,
            device_trust_providers=device_trust_providers,
            authorization_policy=authorization_policy,
            log_authorization_policy_context=log_authorization_policy_context,
        )
        check_props_take_effect(
            self,
            generated_pki=props.generated_pki,
            config_export=config_export,
            remote_random_label=remote_random_label,
            config_version=config_version,
            config_bucket=config_bucket,
            config_prefix=config_prefix,
            client_credentials_secret=client_credentials_secret,
            ca_validity_days=ca_validity_days,
            server_certificate_validity_days=server_certificate_validity_days,
            client_certificate_validity_days=client_certificate_validity_days,
            log_group=log_group,
            log_stream=log_stream,
        )
        self._network = NetworkAccess(self, vpc=vpc, props=props, vpc_subnets=props.vpc_subnets)
        #: ``Names.unique_id`` of this construct: the S3 key segment of its files and the
        #: ``Vpn`` dimension of the ``DaysToExpiry`` metric. Stable across endpoint
        #: replacement.
        self.vpn_id = Names.unique_id(self)
        #: Key prefix (ends with ``/``) of every object this construct writes.
        self.config_base = f"{config_prefix}/{self.vpn_id}/"

        logs_and_keys = LogsAndKeys(
            self,
            vpn_id=self.vpn_id,
            encryption_key=encryption_key,
            log_group=log_group,
            log_retention=log_retention,
        )
        #: Every log group this construct creates is named with this prefix.
        self.log_group_prefix = logs_and_keys.log_group_prefix
        self.encryption_key: kms.IKey = logs_and_keys.encryption_key
        self.log_group: logs.ILogGroup = logs_and_keys.log_group

        self._configs = ClientConfigs(
            self,
            vpn_id=self.vpn_id,
            config_base=self.config_base,
            encryption_key=self.encryption_key,
            log_group_base=logs_and_keys.log_group_base,
            break_glass_arn=break_glass_arn,
        )
        if props.generated_pki:
            authority = self._configs.new_certificate_authority(
                ca_validity_days=ca_validity_days,
                server_validity_days=server_certificate_validity_days,
            )
            server_certificate_arn = authority.server_certificate_arn
            client_certificate_arn = authority.client_root_certificate_arn
        assert server_certificate_arn is not None

        #: The endpoint's security group (``None`` for a transit gateway endpoint).
        self.security_group: ec2.ISecurityGroup | None = self._network.new_security_group(
            security_groups
        )
        self.endpoint = new_endpoint(
            self,
            vpc=vpc,
            placeholder_vpc=props.placeholder_vpc,
            tags=self._tags,
            transit_gateway=props.transit_gateway,
            overrides=props.endpoint_overrides,
            cidr=cidr,
            endpoint_ip_address_type=props.endpoint_ip_address_type,
            traffic_ip_address_type=props.traffic_ip_address_type,
            server_certificate_arn=server_certificate_arn,
            client_certificate_arn=client_certificate_arn,
            user_based_authentication=props.user_auths[0] if props.user_auths else None,
            self_service_portal=self_service_portal,
            log_group=self.log_group,
            log_stream=log_stream,
            dns_servers=self._network.dns_servers(dns_servers, split_tunnel=split_tunnel),
            split_tunnel=split_tunnel,
            transport_protocol=transport_protocol,
            port=props.port,
            security_groups=list(security_groups or filter(None, [self.security_group])),
            session_timeout=props.session_timeout,
            disconnect_on_session_timeout=disconnect_on_session_timeout,
            client_login_banner=client_login_banner,
            client_connection_handler=client_connection_handler,
            client_route_enforcement_options=props.route_enforcement,
            description=description or f"Client VPN {self.node.path}",
        )
        #: The off-hours reconciler (``None`` without a ``schedule``).
        self.off_hours: OffHoursSchedule | None = None
        if schedule is not None:
            from .schedule import new_schedule  # the scheduler's modules only when asked for

            self.off_hours = new_schedule(self, schedule, logs_and_keys.log_group_base)
            self._network.schedule(self.off_hours)
        self._network.associate(self.endpoint, self.endpoint_id)

        if authorize_all_users_to_vpc_cidr and vpc is not None:
            self.add_authorization_rule(vpc.vpc_cidr_block, all_users=True)
        for rule in authorization_rules:
            self.add_authorization_rule(
                rule.cidr,
                group_id=rule.group_id,
                all_users=rule.all_users,
                description=rule.description,
            )
        if internet_access:
            self._network.allow_internet(internet_access_group_id)
        if client_to_client:
            assert cidr is not None  # check_props: client-to-client needs a client CIDR
            self._network.allow_client_to_client(cidr, client_to_client_group_id)
        for route in routes:
            self.add_route(route.cidr, subnet=route.subnet, description=route.description)

        CfnOutput(self, "EndpointId", value=self.endpoint_id, description="Client VPN endpoint id")
        self.node.add_validation(
            SynthChecks(
                self,
                Built(
                    endpoint=self.endpoint.node.default_child,  # type: ignore[arg-type]
                    own_resources=self._network.own_resources,
                    tags=self._tags,
                    given_tags=frozenset(tags or {}),
                    rule_cidrs=self._network.rules.cidrs,
                    route_cidrs=self._network.routes.cidrs,
                    users=lambda: self._configs.user_names,
                    generated_pki=props.generated_pki,
                    monthly_cost=self.monthly_cost,
                ),
            )
        )

        self._configs.publish(
            endpoint_id=self.endpoint_id,
            endpoint_arn=self.endpoint_arn,
            associated=self.target_networks_associated,
            config_export=config_export,
            config_bucket=config_bucket,
            client_credentials_secret=client_credentials_secret,
            remote_random_label=remote_random_label,
            block_ipv6_leak=props.block_ipv6_leak,
            users=users,
            client_validity_days=client_certificate_validity_days,
            triggers=config_triggers(
                server_certificate_arn=server_certificate_arn,
                client_certificate_arn=client_certificate_arn,
                authentication=json.dumps(
                    Stack.of(self).resolve([a.render() for a in props.user_auths]),
                    sort_keys=True,
                ),
                port=props.port,
                transport_protocol=transport_protocol,
                config_version=config_version,
            ),
        )

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

        ``cidr`` is an IPv4 or IPv6 block of a version the tunnel carries
        (``traffic_ip_address_type``). The construct id is derived from the CIDR and group,
        so reordering rules does not replace them. Our own security group gets an egress
        rule to ``cidr`` (IPv4 or IPv6). ``group_id`` has at most 255 characters (a fixed
        quota); over 200 rules per endpoint (the default quota) gives a
        ``constructs-cvpn:quotaAuthorizationRules`` warning.

        Every property of a rule, ``description`` included, is create-only: changing it
        replaces the rule, and CloudFormation creates the new rule before deleting the
        old one, which Client VPN refuses (same CIDR and group). Change a description in
        two deploys: remove the rule and deploy, then add it back with the new
        description and deploy.
        """
        return self._network.add_authorization_rule(
            cidr, group_id=group_id, all_users=all_users, description=description
        )

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
        that route itself on association. ``cidr`` is an IPv4 or IPv6 block of a version
        the tunnel carries; an IPv6 route's resource carries a cfn-lint ``ignore_checks:
        [E3002]`` in its Metadata (cfn-lint's copy of the schema formats the destination
        as IPv4 only; the EC2 API takes IPv6 destinations). With a ``transit_gateway``
        there is one route, to the transit gateway, and no ``subnet``.

        Client VPN allows 100 routes per association by default (a route without
        ``subnet`` is one per associated subnet): more gives a
        ``constructs-cvpn:quotaRoutesPerAssociation`` warning (raise the quota first).

        Every property of a route, ``description`` included, is create-only: changing it
        replaces the route, and CloudFormation creates the new route before deleting the
        old one, which Client VPN refuses (same destination and subnet). Change a
        description in two deploys: remove the route and deploy, then add it back with
        the new description and deploy.
        """
        return self._network.add_route(cidr, subnet=subnet, description=description)
