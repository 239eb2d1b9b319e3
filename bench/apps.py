"""The CDK apps the benchmarks synthesize: one VPC, and either ClientVpn or the bare L2.

The synth-time apps (``build``) have the same ``Vpc(max_azs=2)`` (the CDK's default VPC:
public and private subnets, two NAT gateways) in an environment-agnostic stack, as in the
figures of issue 14. The model's apps (``new_stack``) pin six AZs and use isolated subnets
only. The L2 app is what a team would write without this library, with the settings
``ClientVpn`` uses by default (mutual authentication with ACM ARNs, UDP 443, full tunnel
with client route enforcement, 12-hour sessions that disconnect, connection logging, one
all-users rule for the VPC CIDR and no automatic VPC-CIDR rule). What ``ClientVpn`` adds
on purpose (its KMS key, log retention, its own security group egress) is measured with it.
"""

from __future__ import annotations

from typing import Any

REGION = "eu-west-1"
ACCOUNT = "111111111111"
SERVER_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000002"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:cvpn/bench-client-AbCdEf"
CLIENT_CIDR = "10.100.0.0/22"
VPC_CIDR = "10.0.0.0/16"
#: Six AZs: the most any region offers Client VPN (the model's 1-6 AZ sweep).
AZS = [f"{REGION}{letter}" for letter in "abcdef"]

#: Fresh-process variants: the L2, ClientVpn with the export off, with the export on, with the
#: generated PKI (3 users).
KINDS = ("l2", "off", "on", "pki")


def new_stack(*, azs: int = 2, resource_limit: bool = True) -> tuple[Any, Any, Any]:
    """(app, stack, vpc): a stack in a pinned environment with ``azs`` private subnets."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    context: dict[str, Any] = {f"availability-zones:account={ACCOUNT}:region={REGION}": AZS}
    if not resource_limit:
        context["@aws-cdk/core:stackResourceLimit"] = 0  # the model goes past 500
    app = cdk.App(context=context)
    stack = cdk.Stack(app, "Bench", env=cdk.Environment(account=ACCOUNT, region=REGION))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
        max_azs=azs,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(
                name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            )
        ],
    )
    return app, stack, vpc


def l2_endpoint(stack: Any, vpc: Any) -> Any:
    """The bare L2 with ClientVpn's default settings and one all-users rule."""
    from aws_cdk import aws_ec2 as ec2

    endpoint = ec2.ClientVpnEndpoint(
        stack,
        "Endpoint",
        vpc=vpc,
        cidr=CLIENT_CIDR,
        server_certificate_arn=SERVER_ARN,
        client_certificate_arn=CLIENT_ARN,
        transport_protocol=ec2.TransportProtocol.UDP,
        port=ec2.VpnPort.HTTPS,
        split_tunnel=False,
        session_timeout=ec2.ClientVpnSessionTimeout.TWELVE_HOURS,
        disconnect_on_session_timeout=True,
        client_route_enforcement_options=ec2.ClientRouteEnforcementOptions(enforced=True),
        logging=True,
        self_service_portal=False,
        authorize_all_users_to_vpc_cidr=False,
    )
    endpoint.add_authorization_rule("Rule", cidr=VPC_CIDR)
    return endpoint


def client_vpn(
    stack: Any,
    vpc: Any,
    *,
    export: bool = False,
    rules: int = 1,
    routes: int = 0,
    users: int = 0,
) -> Any:
    """``ClientVpn``: given certificates (or the generated PKI with ``users``)."""
    import constructs_cvpn as cvpn

    if rules == 1 and routes == 0:
        rule_list = [cvpn.AuthorizationRule(cidr=VPC_CIDR, all_users=True)]
    else:
        rule_list = [cvpn.AuthorizationRule(cidr=_cidr(i), all_users=True) for i in range(rules)]
    route_list = [cvpn.Route(cidr=_cidr(i)) for i in range(routes)]
    kwargs: dict[str, Any] = {}
    if users:
        kwargs["users"] = [f"user{i}" for i in range(users)]
    else:
        kwargs["server_certificate_arn"] = SERVER_ARN
        kwargs["client_certificate_arn"] = CLIENT_ARN
        if export:
            from aws_cdk import aws_secretsmanager as secretsmanager

            kwargs["client_credentials_secret"] = secretsmanager.Secret.from_secret_complete_arn(
                stack, "Credentials", SECRET_ARN
            )
    return cvpn.ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr=CLIENT_CIDR,
        config_export=export,
        authorization_rules=rule_list,
        routes=route_list,
        **kwargs,
    )


def _cidr(i: int) -> str:
    """The i-th /24 in 172.16.0.0/12 (outside the VPC and the client CIDR)."""
    return f"172.{16 + i // 256}.{i % 256}.0/24"


def build(kind: str, **kw: Any) -> tuple[Any, Any]:
    """(app, stack) for a fresh-process or in-process synth of ``kind`` (see KINDS)."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    app = cdk.App()
    stack = cdk.Stack(app, "Bench")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    if kind == "l2":
        l2_endpoint(stack, vpc)
    elif kind == "pki":
        client_vpn(stack, vpc, users=3, **kw)
    else:
        client_vpn(stack, vpc, export=kind == "on", **kw)
    return app, stack
