"""The off-hours reconciler driven as CloudFormation, EventBridge Scheduler and ``cvpn wake``
drive it, against :mod:`.fake_network`, on a virtual clock.

:func:`synthesize_scheduled` builds two versions of one scheduled ``ClientVpn`` (``v2`` adds
a route) and the :class:`Deployed` view of each: the reconciler's environment, IAM policy
and custom resource properties resolved with the fake's ids, and the schedules' inputs and
expressions, all read from the synthesized template. :class:`ScheduleWorld` runs the real
handler (``handlers.schedule.index.handler``, answering through
``handlers/cloudformation.py`` with its PUT captured) with ``time`` replaced by the clock.

The oracle of the desired state (:attr:`Deployed.expected_routes`) is computed here from
the stack's inputs (the subnets' resolved ids and the routes the test stack declares), not
from the reconciler's configuration parser.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from constructs_cvpn.handlers import cloudformation
from constructs_cvpn.handlers.schedule import aws as schedule_aws
from constructs_cvpn.handlers.schedule import index

from .fake_network import FakeCloudFormation, FakeEc2, FakeEndpoint, FakeSsm, Fault
from .harness import (
    STACK_ID,
    Clock,
    LambdaContext,
    PolicyChecker,
    Refs,
    StackTemplate,
    resolve,
)

SCHEDULE = "Custom::ClientVpnSchedule"
ENDPOINT_ID = "cvpn-endpoint-0000000000000000a"
SUBNETS = ("subnet-00000000000000aaa", "subnet-00000000000000bbb")
CLIENT_CIDR = "10.100.0.0/22"
EXTRA_CIDR = "172.16.0.0/16"
V2_CIDR = "192.168.0.0/16"
BERLIN = dt.timezone(dt.timedelta(hours=1))  # December: CET, UTC+1


def berlin(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A December 2026 instant in Berlin (the 7th is a Monday)."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


@dataclass
class Deployed:
    """One synthesized version of the scheduled VPN, resolved."""

    environment: str
    policy: dict[str, Any]
    properties: dict[str, Any]
    schedule_inputs: dict[str, dict[str, Any]]
    schedule_expressions: dict[str, tuple[str, str | None]]
    timeout: int
    expected_routes: set[tuple[str, str]]
    template: dict[str, Any]


def _refs(template: dict[str, Any]) -> Refs:
    refs = Refs()
    subnets = iter(SUBNETS)
    for logical_id, resource in template["Resources"].items():
        value: str = logical_id
        if resource["Type"] == "AWS::EC2::ClientVpnEndpoint":
            value = ENDPOINT_ID
        elif resource["Type"] == "AWS::EC2::Subnet" and "Isolated" in logical_id:
            value = next(subnets)
        refs.refs[logical_id] = value
        refs.attrs[(logical_id, "Arn")] = f"arn:aws:test:::{logical_id}"
    return refs


def deployed(template: dict[str, Any], routes: list[str]) -> Deployed:
    stack = StackTemplate(template)
    refs = _refs(template)
    ((_, resource),) = stack.of_type(SCHEDULE).items()
    function = stack.resources[stack.handler_function(SCHEDULE)]["Properties"]
    schedules = stack.of_type("AWS::Scheduler::Schedule").values()
    inputs, expressions = {}, {}
    for schedule in schedules:
        props = schedule["Properties"]
        body = json.loads(props["Target"]["Input"])
        inputs[body["schedule"]] = body
        expressions[body["schedule"]] = (
            props["ScheduleExpression"],
            props.get("ScheduleExpressionTimezone"),
        )
    expected = {(CLIENT_CIDR, "local")} | {(cidr, s) for cidr in routes for s in SUBNETS}
    return Deployed(
        environment=resolve(function["Environment"]["Variables"]["CVPN_SCHEDULE"], refs),
        policy=resolve(stack.handler_policy(SCHEDULE), refs),
        properties=resolve(
            {k: v for k, v in resource["Properties"].items() if k != "ServiceToken"}, refs
        ),
        schedule_inputs=inputs,
        schedule_expressions=expressions,
        timeout=int(function["Timeout"]),
        expected_routes=expected,
        template=template,
    )


@dataclass(frozen=True)
class Versions:
    v1: Deployed
    v2: Deployed


def synthesize_scheduled() -> Versions:
    os.environ["CVPN_SKIP_BUNDLING"] = "1"
    from aws_cdk import App, Stack
    from aws_cdk import aws_ec2 as ec2

    from constructs_cvpn import AuthorizationRule, ClientVpn, OfficeHours, Route

    app = App(context={"cvpn:skipBundling": True})
    templates = {}
    for name, cidrs in (("V1", [EXTRA_CIDR]), ("V2", [EXTRA_CIDR, V2_CIDR])):
        stack = Stack(app, f"Scheduled{name}")
        ClientVpn(
            stack,
            "Vpn",
            vpc=ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0),
            cidr=CLIENT_CIDR,
            server_certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000001",
            client_certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000002",
            config_export=False,
            client_to_client=True,
            authorization_rules=[AuthorizationRule(cidr="10.0.0.0/8", all_users=True)],
            routes=[Route(cidr=c, description="office") for c in cidrs],
            schedule=OfficeHours(time_zone="Europe/Berlin"),
        )
        templates[name] = (stack, cidrs)
    assembly = app.synth()
    return Versions(
        *(
            deployed(assembly.get_stack_by_name(stack.stack_name).template, cidrs)
            for stack, cidrs in templates.values()
        )
    )


class VirtualClock(Clock):
    """:class:`Clock` from a fixed start; ``on_sleep`` callbacks run at each sleep."""

    def __init__(self, start: dt.datetime) -> None:
        super().__init__()
        self.start = start
        self.on_sleep: list[Callable[[], None]] = []

    def now(self) -> dt.datetime:
        return self.start + self.offset

    def monotonic(self) -> float:
        return self.offset.total_seconds()

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        for callback in list(self.on_sleep):
            callback()

    def set(self, when: dt.datetime) -> None:
        assert when >= self.now(), "the clock only moves forward"
        self.offset = when - self.start


@dataclass
class ScheduleWorld:
    clock: VirtualClock
    monkeypatch: pytest.MonkeyPatch
    endpoint: FakeEndpoint = field(init=False)
    faults: list[Fault] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    deployed: Deployed | None = None

    def __post_init__(self) -> None:
        self.endpoint = FakeEndpoint(ENDPOINT_ID, self.clock.now)
        shim = self.clock.time_module()
        shim.virtual = True
        for name, module in list(sys.modules.items()):
            current = getattr(module, "time", None)
            if name.startswith("constructs_cvpn.handlers.") and (
                current is time or getattr(current, "virtual", False)
            ):
                self.monkeypatch.setattr(module, "time", shim)
        self.monkeypatch.setattr(
            cloudformation,
            "put_response",
            lambda url, body: self.responses.append(json.loads(body)),
        )

    def use(self, version: Deployed) -> None:
        """The function's configuration and role as ``version`` deploys them."""
        self.deployed = version
        self.monkeypatch.setenv("CVPN_SCHEDULE", version.environment)
        policy = PolicyChecker(version.policy)
        self.ec2 = FakeEc2(self.endpoint, policy, self.faults)
        self.ssm = getattr(self, "ssm", None) or FakeSsm(policy, self.faults)
        self.ssm.policy = policy
        self.cfn = getattr(self, "cfn", None) or FakeCloudFormation(STACK_ID, policy)
        self.cfn.policy = policy
        schedule_aws.reset()
        schedule_aws.set_client("ec2", self.ec2)
        schedule_aws.set_client("ssm", self.ssm)
        schedule_aws.set_client("cloudformation", self.cfn)

    def context(self) -> LambdaContext:
        assert self.deployed is not None
        return LambdaContext(self.deployed.timeout, self.clock.monotonic)

    def request(
        self,
        request_type: str,
        *,
        old: Deployed | None = None,
        physical_id: str | None = None,
        stack_status: str | None = None,
    ) -> dict[str, Any] | None:
        """A CloudFormation request; returns the response PUT (None if the run died).

        The stack is ``stack_status`` during the request (default: ``UPDATE_IN_PROGRESS``
        for Create and Update, as set by the test for Delete) and ``UPDATE_COMPLETE``
        after a Create or Update that answered."""
        assert self.deployed is not None
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
            "StackId": STACK_ID,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "VpnOffHours",
            "ResourceType": SCHEDULE,
            "ResourceProperties": self.deployed.properties,
        }
        if old is not None:
            event["OldResourceProperties"] = old.properties
        if request_type != "Create":
            event["PhysicalResourceId"] = physical_id or ENDPOINT_ID
        if stack_status is not None or request_type != "Delete":
            self.cfn.status = stack_status or "UPDATE_IN_PROGRESS"
        before = len(self.responses)
        index.handler(event, self.context())
        if len(self.responses) == before:
            return None
        if request_type != "Delete":
            self.cfn.status = "UPDATE_COMPLETE"
        return self.responses[-1]

    def scheduled(self, name: str) -> Any:
        """EventBridge Scheduler delivers the template's Input for schedule ``name``."""
        assert self.deployed is not None
        return index.handler(dict(self.deployed.schedule_inputs[name]), self.context())

    def invoke(self, event: dict[str, Any]) -> Any:
        """A direct invocation (``cvpn wake``); its result as Lambda would return it."""
        return index.handler(event, self.context())

    # -- the end state ------------------------------------------------------------------

    def is_awake(self) -> bool:
        assert self.deployed is not None
        return (
            self.endpoint.associated_subnets() == set(SUBNETS)
            and len(self.endpoint.live()) == len(SUBNETS)
            and self.endpoint.added_routes() == self.deployed.expected_routes
            and self.endpoint.status == "available"
        )

    def is_asleep(self) -> bool:
        return (
            not self.endpoint.live()
            and not self.endpoint.added_routes()
            and self.endpoint.status == "pending-associate"
        )

    def settle(self, minutes: float = 10) -> None:
        """Let asynchronous (dis)associations finish, without running the handler."""
        self.clock.advance(minutes=minutes)
        self.endpoint.tick()
