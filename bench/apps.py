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
#: generated PKI (3 users), and the floor (see :func:`floor_resources`).
KINDS = ("l2", "off", "on", "pki", "floor")
#: The file (JSON) of the resources the "floor" app adds to the L2 app: written by the parent.
FLOOR_ENV = "CVPN_BENCH_FLOOR_RESOURCES"


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


def floor_resources(l2: dict[str, Any], pki: dict[str, Any]) -> dict[str, Any]:
    """What the generated PKI adds to the L2 app, as template resources (the "floor").

    From the two synthesized templates' ``Resources``: for each resource type, as many of the
    PKI app's resources of that type as it has more than the L2 app (its endpoint,
    associations, rule and log group have their L2 counterparts). A reference to one of the
    PKI app's resources left out (its endpoint) points to the L2 app's resource of that type.
    Declared as plain ``CfnResource`` these cost what the same resources cost with no
    construct logic at all: CDK's synth-time work per resource and its CloudFormation
    validation of the template.
    """
    counts: dict[str, int] = {}
    for r in l2.values():
        counts[r["Type"]] = counts.get(r["Type"], 0) + 1
    by_type: dict[str, list[str]] = {}
    for lid, r in pki.items():
        by_type.setdefault(r["Type"], []).append(lid)
    extra = {
        lid: pki[lid]
        for ids in by_type.values()
        for lid in ids[counts.get(pki[ids[0]]["Type"], 0) :]
    }
    twin = {
        lid: next(k for k, r in l2.items() if r["Type"] == pki[lid]["Type"])
        for lid in pki
        if lid not in extra
        and lid not in l2
        and any(r["Type"] == pki[lid]["Type"] for r in l2.values())
    }

    def relink(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in twin:
                return {"Ref": twin[value["Ref"]]}
            if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in twin:
                return {"Fn::GetAtt": [twin[value["Fn::GetAtt"][0]], *value["Fn::GetAtt"][1:]]}
            return {k: relink(v) for k, v in value.items()}
        if isinstance(value, list):
            return [relink(v) for v in value]
        return value

    return {lid: relink(r) for lid, r in extra.items()}


def _floor(stack: Any, vpc: Any) -> None:
    """The L2 app plus :func:`floor_resources` (from the file named by FLOOR_ENV)."""
    import json
    import os

    import aws_cdk as cdk

    l2_endpoint(stack, vpc)
    with open(os.environ[FLOOR_ENV]) as f:
        resources = json.load(f)
    for lid, r in resources.items():
        res = cdk.CfnResource(stack, lid, type=r["Type"], properties=r.get("Properties"))
        res.override_logical_id(lid)
        depends = [d for d in r.get("DependsOn", []) if d in resources]
        if depends:
            res.add_override("DependsOn", depends)


def build(kind: str, **kw: Any) -> tuple[Any, Any]:
    """(app, stack) for a fresh-process or in-process synth of ``kind`` (see KINDS)."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    app = cdk.App()
    stack = cdk.Stack(app, "Bench")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    if kind == "l2":
        l2_endpoint(stack, vpc)
    elif kind == "floor":
        _floor(stack, vpc)
    elif kind == "pki":
        client_vpn(stack, vpc, users=3, **kw)
    else:
        client_vpn(stack, vpc, export=kind == "on", **kw)
    return app, stack
