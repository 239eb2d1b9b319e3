"""``ClientVpn(schedule=OfficeHours(...))`` at synth: what the template holds (issue 22).

With a schedule the associations and routes are not CloudFormation resources: the
reconciler's configuration carries them, fixed by the template. ``cdk diff`` compares the
synthesized template with the deployed one; what the reconciler changes during a day of
flips (associations, routes, the wake-until parameter) is in neither, and the properties
it is given hold no phase or time (checked below), so a day of flips leaves nothing for
``cdk diff`` to show. The flips themselves are tests/lifecycle/test_schedule_sequences.py.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import botocore
import pytest
from aws_cdk import App, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError, OfficeHours, Route

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
BERLIN = OfficeHours(time_zone="Europe/Berlin")


def new_vpn(stack: Stack, **props: Any) -> ClientVpn:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    defaults: dict[str, Any] = {
        "vpc": vpc,
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        "authorization_rules": [AuthorizationRule(cidr="10.0.0.0/8", all_users=True)],
        "schedule": BERLIN,
    }
    return ClientVpn(stack, "Vpn", **{**defaults, **props})


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    os.environ["CVPN_SKIP_BUNDLING"] = "1"
    yield App(context={"cvpn:skipBundling": True})


@pytest.fixture(scope="module")
def scheduled(app: App) -> tuple[ClientVpn, Template, iam.Role]:
    stage = Stage(app, "Synth")
    stack = Stack(stage, "Scheduled")
    vpn = new_vpn(stack, routes=[Route(cidr="172.16.0.0/16")], client_to_client=True)
    added = vpn.add_route("192.168.0.0/16", description="later")
    assert added == []
    oncall = iam.Role(stack, "OnCall", assumed_by=iam.AccountRootPrincipal())
    vpn.grant_wake(oncall)
    template = Template.from_stack(stack)
    return vpn, template, oncall


def _resources(template: Template, type_: str) -> dict[str, Any]:
    return dict(template.find_resources(type_))


def test_associations_and_routes_are_not_cloudformation_resources(
    scheduled: tuple[ClientVpn, Template, iam.Role],
) -> None:
    _, template, _ = scheduled
    assert _resources(template, "AWS::EC2::ClientVpnTargetNetworkAssociation") == {}
    assert _resources(template, "AWS::EC2::ClientVpnRoute") == {}
    assert len(_resources(template, "AWS::EC2::ClientVpnAuthorizationRule")) == 2  # + c2c
    assert len(_resources(template, "Custom::ClientVpnSchedule")) == 1


def _desired(template: Template) -> dict[str, Any]:
    ((_, resource),) = _resources(template, "Custom::ClientVpnSchedule").items()
    joined = resource["Properties"]["Desired"]["Fn::Join"]
    text = "".join(p if isinstance(p, str) else json.dumps(p).replace('"', "'") for p in joined[1])
    desired: dict[str, Any] = json.loads(text)
    return desired


def test_the_desired_set_holds_no_phase_and_equals_the_functions_configuration(
    scheduled: tuple[ClientVpn, Template, iam.Role],
) -> None:
    _, template, _ = scheduled
    desired = _desired(template)
    assert set(desired) == {
        "endpoint_id",
        "stack_id",
        "subnets",
        "routes",
        "hours",
        "wake_parameter",
        "max_wake_hours",
    }
    assert desired["max_wake_hours"] == 12  # README: OfficeHours(..., max_wake_hours=12)
    assert desired["hours"] == {
        "time_zone": "Europe/Berlin",
        "days": "MON-FRI",
        "start": "07:00",
        "stop": "20:00",
    }
    assert len(desired["subnets"]) == 2
    subnets = desired["subnets"]
    routes = {(cidr, "local" if i == -1 else subnets[i]) for cidr, i, _ in desired["routes"]}
    assert routes == {("10.100.0.0/22", "local")} | {
        (cidr, subnet) for cidr in ("172.16.0.0/16", "192.168.0.0/16") for subnet in subnets
    }
    ((_, resource),) = _resources(template, "Custom::ClientVpnSchedule").items()
    function_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    function = _resources(template, "AWS::Lambda::Function")[function_id]
    env = function["Properties"]["Environment"]["Variables"]["CVPN_SCHEDULE"]
    assert env == resource["Properties"]["Desired"]


def test_target_networks_associated_is_the_reconciler(app: App) -> None:
    stack = Stack(Stage(app, "Depends"), "Scheduled")
    vpn = new_vpn(stack)
    waiter = ec2.CfnEIP(stack, "Waiter")
    waiter.node.add_dependency(vpn.target_networks_associated)
    template = Template.from_stack(stack).to_json()
    (reconciler,) = [
        k for k, r in template["Resources"].items() if r["Type"] == "Custom::ClientVpnSchedule"
    ]
    eip = next(r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::EIP")
    assert reconciler in eip["DependsOn"]


def test_three_schedules_in_the_time_zone_invoke_the_reconciler(
    scheduled: tuple[ClientVpn, Template, iam.Role],
) -> None:
    _, template, _ = scheduled
    schedules = list(_resources(template, "AWS::Scheduler::Schedule").values())
    found = {
        json.loads(s["Properties"]["Target"]["Input"])["schedule"]: (
            s["Properties"]["ScheduleExpression"],
            s["Properties"].get("ScheduleExpressionTimezone"),
            s["Properties"]["FlexibleTimeWindow"],
        )
        for s in schedules
    }
    assert found == {
        "wake": ("cron(0 7 ? * MON,TUE,WED,THU,FRI *)", "Europe/Berlin", {"Mode": "OFF"}),
        "sleep": ("cron(0 20 ? * MON,TUE,WED,THU,FRI *)", "Europe/Berlin", {"Mode": "OFF"}),
        "check": ("rate(15 minutes)", None, {"Mode": "OFF"}),
    }


def test_grant_wake_is_invoke_on_the_reconciler_only(
    scheduled: tuple[ClientVpn, Template, iam.Role],
) -> None:
    _, template, _ = scheduled
    ((_, resource),) = _resources(template, "Custom::ClientVpnSchedule").items()
    function_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in _resources(template, "AWS::IAM::Policy").values()
        if any("OnCall" in r["Ref"] for r in p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": [
                {"Fn::GetAtt": [function_id, "Arn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": [function_id, "Arn"]}, ":*"]]},
            ],
        }
    ]


def _construction_error(app: App, name: str, **props: Any) -> str:
    stack = Stack(app, name)
    with pytest.raises(ClientVpnConfigError) as caught:
        new_vpn(stack, **props)
    return str(caught.value)


@pytest.mark.parametrize(
    ("hours", "problem"),
    [
        (OfficeHours(time_zone="Mars/Olympus"), "not an IANA time zone"),
        (OfficeHours(time_zone="UTC", start="7:00"), "HH:MM"),
        (OfficeHours(time_zone="UTC", stop="24:00"), "HH:MM"),
        (OfficeHours(time_zone="UTC", days="MON-FUN"), "not a list of days"),
        (OfficeHours(time_zone="UTC", start="08:00", stop="08:00"), "never sleep"),
        (OfficeHours(time_zone="UTC", max_wake_hours=0), "give 1 to 24"),
        (OfficeHours(time_zone="UTC", max_wake_hours=25), "give 1 to 24"),
    ],
)
def test_bad_hours_are_refused_at_synth(app: App, hours: OfficeHours, problem: str) -> None:
    name = f"Bad{abs(hash((hours, problem)))}"
    message = _construction_error(app, name, schedule=hours)
    assert message.startswith(f"{name}/Vpn: schedule: ")
    assert problem in message


@pytest.mark.parametrize("hours", [1, 24])
def test_max_wake_hours_from_1_to_24_is_accepted(hours: int) -> None:
    stack = Stack(App(context={"cvpn:skipBundling": True}), f"Wake{hours}")
    new_vpn(stack, schedule=OfficeHours(time_zone="UTC", max_wake_hours=hours))
    assert _desired(Template.from_stack(stack))["max_wake_hours"] == hours


def test_too_many_scheduled_routes_are_refused(app: App) -> None:
    routes = [Route(cidr=f"172.{16 + i}.0.0/16", description="x" * 40) for i in range(40)]
    message = _construction_error(app, "TooMany", routes=routes)
    assert "TooMany/Vpn: schedule: with the route to" in message
    assert "over Lambda's 4096" in message


def _longest_partition_and_region() -> tuple[str, str]:
    """The partition and region whose names are longest together, from botocore's list
    (the ``*-global`` names are endpoints, not regions a stack lives in)."""
    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    pairs = [
        (p["id"], region)
        for p in data["partitions"]
        for region in p["regions"]
        if not region.endswith("-global")
    ]
    return max(pairs, key=lambda pair: len(pair[0]) + len(pair[1]))


# The longest each deploy-time value of the reconciler's environment can be: a stack ARN in
# that partition and region with a 128-character stack name (CloudFormation's limit) and a
# UUID, a Client VPN endpoint id and subnet ids (EC2: the prefix and 17 hex digits).
PARTITION, REGION = _longest_partition_and_region()
LONGEST = {
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:123456789012:stack/"
    + "s" * 128
    + "/"
    + str(uuid.UUID(int=0)),
    "AWS::EC2::ClientVpnEndpoint": "cvpn-endpoint-" + "0" * 17,
    "AWS::EC2::Subnet": "subnet-" + "0" * 17,
}


def _longest_environment(template: dict[str, Any]) -> int:
    """Bytes of the reconciler's environment with every deploy-time value at its longest."""
    (function,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and "CVPN_SCHEDULE" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    variables = function["Properties"]["Environment"]["Variables"]
    size = 0
    for name, value in variables.items():
        parts = value["Fn::Join"][1] if isinstance(value, dict) else [value]
        for part in parts:
            if isinstance(part, dict):
                ref = part["Ref"]
                kind = ref if ref.startswith("AWS::") else template["Resources"][ref]["Type"]
                part = LONGEST[kind]
            size += len(part.encode())
        size += len(name.encode())
    return size


def _routes_up_to(routes: list[tuple[str, str]]) -> tuple[Stack, int]:
    """A stack with ``routes`` (cidr, description: one scheduled route each) added until
    the check refuses one; the stack and how many it kept. (Each in an app of its own, all
    under one name: the VPN's id, in the environment, comes from the construct path.)"""
    stack = Stack(App(context={"cvpn:skipBundling": True}), "Env")
    vpn = new_vpn(stack)
    for kept, (cidr, description) in enumerate(routes):
        try:
            vpn.add_route(cidr, subnet=vpn.associated_subnets[0], description=description)
        except ClientVpnConfigError as refused:
            assert "over Lambda's 4096" in str(refused)
            return stack, kept
    return stack, len(routes)


def test_the_check_refuses_exactly_what_could_outgrow_lambdas_4_kb() -> None:
    # Lambda refuses a function whose environment (keys and values) is over 4 KB at deploy.
    # The check counts the environment as the template renders it with every deploy-time
    # value at its longest: a set of exactly 4,096 such bytes is kept, one byte more is not.
    routes = [(f"172.16.{i}.0/24", "") for i in range(200)]
    stack, kept = _routes_up_to(routes)
    assert 10 < kept < 200  # the limit is reached by many routes, not by the first
    room = 4096 - _longest_environment(dict(Template.from_stack(stack).to_json()))
    assert room >= 0

    # The last kept route's description takes up the room: exactly 4,096 bytes.
    last = kept - 1
    full = [*routes[:last], (routes[last][0], "d" * room)]
    stack, kept_full = _routes_up_to(full)
    assert kept_full == kept
    assert _longest_environment(dict(Template.from_stack(stack).to_json())) == 4096

    over = [*routes[:last], (routes[last][0], "d" * (room + 1))]
    _, kept_over = _routes_up_to(over)
    assert kept_over == last


def test_the_check_counts_a_description_in_utf_8_bytes() -> None:
    # Lambda counts bytes: "é" is two in UTF-8 (one character, and six as a JSON escape).
    routes = [(f"172.16.{i}.0/24", "") for i in range(200)]
    stack, kept = _routes_up_to(routes)
    room = 4096 - _longest_environment(dict(Template.from_stack(stack).to_json()))
    last = kept - 1
    padding = "d" * (room % 2) + "\u00e9" * (room // 2)
    fits = [*routes[:last], (routes[last][0], padding)]
    stack, kept_fits = _routes_up_to(fits)
    assert kept_fits == kept
    assert _longest_environment(dict(Template.from_stack(stack).to_json())) == 4096
    over = [*routes[:last], (routes[last][0], padding + "d")]
    assert _routes_up_to(over)[1] == last


def test_grant_wake_needs_a_schedule(app: App) -> None:
    stack = Stack(app, "NoSchedule")
    vpn = new_vpn(stack, schedule=None)
    with pytest.raises(ClientVpnConfigError, match="grant_wake needs a schedule"):
        vpn.grant_wake(iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal()))


def test_monthly_cost_counts_office_hours_only(
    scheduled: tuple[ClientVpn, Template, iam.Role],
) -> None:
    """2 associations x 65 of 168 hours a week (weekdays 07:00-20:00) x 730 h / 168."""
    vpn, _, _ = scheduled
    cost = vpn.monthly_cost()
    assert cost.associations == 2
    assert cost.association_hours == Decimal(2 * 65 * 730) / 168
    assert "scheduled MON-FRI 07:00-20:00 Europe/Berlin" in cost.note("Vpn")
    assert "(24/7: 1,460 = $146.00; 61 % fewer)" in cost.note("Vpn")


def test_what_the_reconciler_may_change_is_not_in_the_template(
    scheduled: tuple[ClientVpn, Template, iam.Role],
) -> None:
    """Its role may change associations, routes and its wake-until parameter, none of which
    is a resource of the template: what it does between deploys cannot drift the stack."""
    _, template, _ = scheduled
    ((_, resource),) = _resources(template, "Custom::ClientVpnSchedule").items()
    function_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    role_id = _resources(template, "AWS::Lambda::Function")[function_id]["Properties"]["Role"][
        "Fn::GetAtt"
    ][0]
    actions = {
        action
        for p in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    writes = {a for a in actions if not a.split(":")[1].startswith(("Describe", "Get", "List"))}
    assert writes == {
        "ec2:AssociateClientVpnTargetNetwork",
        "ec2:DisassociateClientVpnTargetNetwork",
        "ec2:CreateClientVpnRoute",
        "ec2:DeleteClientVpnRoute",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert _resources(template, "AWS::SSM::Parameter") == {}
    assert _resources(template, "AWS::EC2::ClientVpnTargetNetworkAssociation") == {}
    assert _resources(template, "AWS::EC2::ClientVpnRoute") == {}
