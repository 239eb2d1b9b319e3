"""Off-hours schedule: pay for target network associations only while people work.

With ``ClientVpn(schedule=OfficeHours(...))`` the associations and routes are not
CloudFormation resources. A reconciler (``handlers/schedule``, one Lambda function) keeps
them as the hours say: awake, every subnet associated and every route present; asleep, no
association (Client VPN bills each association by the hour, $0.10 in us-east-1,
``cost.py``). It runs on the custom resource's Create/Update/Delete, on two EventBridge
Scheduler schedules in the hours' time zone (wake at ``start``, sleep at ``stop``), on a
check every 15 minutes (finishes what a run left, and sleeps after a ``cvpn wake``), and on
``cvpn wake``. The desired set (endpoint, subnets, routes, hours) is the function's
configuration and the custom resource's properties, both fixed by the template: they do
not depend on the phase, so nothing drifts and ``cdk diff`` stays empty across flips.
Authorization rules stay CloudFormation resources (they survive disassociation).

Sources: EventBridge Scheduler schedules (``AWS::Scheduler::Schedule``: cron with
``ScheduleExpressionTimezone``, a target ``Arn``/``RoleArn``/``Input``,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-scheduler-schedule.html);
associations billed per hour (https://aws.amazon.com/vpn/pricing/); an endpoint cannot be
deleted with target networks associated
(https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/cvpn-working-endpoint-delete.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    Aws,
    CfnOutput,
    CustomResource,
    Duration,
    IStableStringProducer,
    Lazy,
    Stack,
    Validations,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from .cost import MonthlyCost
from .descriptions import SCHEDULE_DESCRIPTION, with_path
from .errors import ClientVpnConfigError
from .handler_function import HandlerFunction
from .handlers.schedule.config import ENV
from .handlers.schedule.hours import Hours
from .office_hours import LOCAL_INDEX, OfficeHours, ScheduledRoute

__all__ = [
    "CHECK_EVERY",
    "LOCAL_INDEX",
    "OffHoursSchedule",
    "OfficeHours",
    "ScheduledRoute",
    "new_schedule",
]

#: How often the check runs: it finishes a run that was cut short and ends a wake.
CHECK_EVERY = Duration.minutes(15)
#: The handler's timeout: associations take minutes to become available.
HANDLER_TIMEOUT = Duration.minutes(12)
#: CloudFormation waits this long for an answer (above the handler's timeout).
SERVICE_TIMEOUT = Duration.minutes(14)
#: Lambda's limit on the environment (all variables together).
ENV_LIMIT_BYTES = 4096
#: The longest each deploy-time value of the desired set can be, as Lambda counts it: the
#: stack's ARN in the partition and region of the longest names together (``aws-iso-f``,
#: ``us-isof-south-1``, in botocore's partitions), a 12-digit account, a stack name of 128
#: characters (CloudFormation's limit) and a UUID; EC2 ids are a prefix and 17 hex digits.
LONGEST_STACK_ID = (
    f"arn:aws-iso-f:cloudformation:us-isof-south-1:{'0' * 12}:stack/{'s' * 128}/{'0' * 36}"
)
LONGEST_ENDPOINT_ID = "cvpn-endpoint-" + "0" * 17
LONGEST_SUBNET_ID = "subnet-" + "0" * 17


class OffHoursSchedule(Construct):
    """The reconciler function, its custom resource, schedules and output.

    Attributes:
        resource: the ``Custom::ClientVpnSchedule`` custom resource: ``ClientVpn``'s
            ``target_networks_associated`` with a schedule.
        handler: the reconciler function.
        wake_parameter: the SSM parameter name holding the wake-until time.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        office_hours: OfficeHours,
        vpn_id: str,
        endpoint_id: str,
        endpoint_arn: str,
        subnets: list[ec2.ISubnet],
        encryption_key: kms.IKey,
        log_group_name: str,
    ) -> None:
        super().__init__(scope, id)
        path = scope.node.path
        self._path = path
        #: The routes the reconciler keeps (``add_route``).
        self.routes: list[ScheduledRoute] = []
        hours = office_hours.hours(path)
        stack = Stack.of(self)
        self.wake_parameter = f"/constructs-cvpn/{vpn_id}/wake-until"
        self.handler = HandlerFunction(
            self,
            "Handler",
            handler="handlers.schedule.index.handler",
            description="Associates the Client VPN's target networks in office hours only",
            encryption_key=encryption_key,
            log_group_name=log_group_name,
            timeout=HANDLER_TIMEOUT,
            service_timeout=SERVICE_TIMEOUT,
        )
        self._hours_doc = hours_doc = {
            "time_zone": hours.time_zone,
            "days": hours.days,
            "start": hours.start,
            "stop": hours.stop,
        }
        subnet_ids = [s.subnet_id for s in subnets]
        self._subnet_keys = [stack.resolve(s) for s in subnet_ids]

        def desired() -> dict[str, Any]:
            return {
                "endpoint_id": endpoint_id,
                "stack_id": Aws.STACK_ID,
                "subnets": subnet_ids,
                "routes": [[r.cidr, r.subnet, r.description] for r in self.routes],
                "hours": hours_doc,
                "wake_parameter": self.wake_parameter,
                "max_wake_hours": office_hours.max_wake_hours,
            }

        self._desired = desired
        self.handler.function.add_environment(ENV, Lazy.string(_Json(stack, desired)))
        self._grant(endpoint_arn, subnet_ids)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.handler.service_token,
            resource_type="Custom::ClientVpnSchedule",
            service_timeout=SERVICE_TIMEOUT,
            properties={
                "EndpointId": endpoint_id,
                # Read by the cost report (constructs_cvpn.cost.schedules_by_endpoint).
                "Subnets": subnet_ids,
                "Hours": hours_doc,
                "Desired": Lazy.string(_Json(stack, desired)),
            },
        )
        self._schedules(hours)
        CfnOutput(
            scope,
            "OffHoursSchedule",
            description="Off-hours schedule: reconciler function, wake parameter, hours",
            value=stack.to_json_string(
                {
                    "function": self.handler.function.function_name,
                    "wake_parameter": self.wake_parameter,
                    **hours_doc,
                    "max_wake_hours": office_hours.max_wake_hours,
                }
            ),
        )

    def _grant(self, endpoint_arn: str, subnet_ids: list[str]) -> None:
        stack = Stack.of(self)
        self.handler.allow(
            ["ec2:DescribeClientVpnTargetNetworks", "ec2:DescribeClientVpnRoutes"],
            ["*"],
            wildcard_reason="EC2 Describe actions support no resource-level permissions "
            "(Service Authorization Reference, Amazon EC2); the handler only reads the "
            "associations and routes of its own endpoint.",
        )
        self.handler.allow(
            [
                "ec2:AssociateClientVpnTargetNetwork",
                "ec2:DisassociateClientVpnTargetNetwork",
                "ec2:CreateClientVpnRoute",
                "ec2:DeleteClientVpnRoute",
            ],
            [
                endpoint_arn,
                *(
                    stack.format_arn(service="ec2", resource="subnet", resource_name=s)
                    for s in subnet_ids
                ),
            ],
        )
        parameter_arn = stack.format_arn(
            service="ssm", resource="parameter", resource_name=self.wake_parameter.lstrip("/")
        )
        self.handler.allow(
            ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"], [parameter_arn]
        )
        self.handler.allow(["cloudformation:DescribeStacks"], [Aws.STACK_ID])

    def _schedules(self, hours: Hours) -> None:
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            description="EventBridge Scheduler invokes the Client VPN schedule's reconciler",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[self.handler.function.function_arn]
            )
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5-IAMNoInlinePolicy",
                reason="The scheduler role's one statement invokes this reconciler function "
                "and nothing else; it belongs to this role alone.",
            )
        )
        for name, expression, zone in (
            ("wake", hours.cron(hours.start), hours.time_zone),
            ("sleep", hours.cron(hours.stop), hours.time_zone),
            ("check", f"rate({int(CHECK_EVERY.to_minutes())} minutes)", None),
        ):
            scheduler.CfnSchedule(
                self,
                name.capitalize(),
                description=with_path(
                    f"Client VPN {{path}}: {name}", self._path, SCHEDULE_DESCRIPTION
                ),
                schedule_expression=expression,
                schedule_expression_timezone=zone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=self.handler.function.function_arn,
                    role_arn=role.role_arn,
                    input=json.dumps({"schedule": name}),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=int(CHECK_EVERY.to_seconds()),
                        maximum_retry_attempts=2,
                    ),
                ),
            )

    def subnet_index(self, subnet_id: str) -> int:
        """The index of an associated subnet (by its resolved id or token)."""
        return self._subnet_keys.index(Stack.of(self).resolve(subnet_id))

    def add_route(self, route: ScheduledRoute) -> None:
        """Keep ``route`` too; a ``ClientVpnConfigError`` when the desired set could outgrow
        Lambda's 4 KB of environment: counted as CloudFormation renders it, every deploy-time
        value (stack, endpoint and subnet ids) at its longest."""
        self.routes.append(route)
        size = self._longest_environment()
        if size > ENV_LIMIT_BYTES:
            self.routes.pop()
            raise ClientVpnConfigError(
                self._path,
                "schedule",
                f"with the route to {route.cidr} the scheduled routes need {size} bytes of "
                f"the reconciler's environment, over Lambda's {ENV_LIMIT_BYTES}: use fewer "
                "routes (a route without subnet= counts once per subnet), shorter "
                "descriptions, or no schedule",
            )

    def _longest_environment(self) -> int:
        """Bytes of the reconciler's one variable (name and compact JSON, as
        ``Stack.to_json_string`` renders it), each deploy-time value at its longest."""
        doc = Stack.of(self).resolve(self._desired())
        doc["stack_id"] = LONGEST_STACK_ID
        doc["endpoint_id"] = _at_longest(doc["endpoint_id"], LONGEST_ENDPOINT_ID)
        doc["subnets"] = [_at_longest(s, LONGEST_SUBNET_ID) for s in doc["subnets"]]
        rendered = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        return len(ENV) + len(rendered.encode())

    def monthly_cost(self) -> MonthlyCost:
        """The associations' hours in office hours only, at list price (``cost``)."""
        return MonthlyCost.scheduled(len(self._subnet_keys), **self._hours_doc)

    def grant_wake(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` run ``cvpn wake``: invoke the reconciler, which only takes a number
        of hours (at most ``max_wake_hours``) and reconciles its own desired set."""
        return self.handler.function.grant_invoke(grantee)


@jsii.implements(IStableStringProducer)
class _Json:
    """The desired set as JSON, produced at synth (routes may be added after construction)."""

    def __init__(self, stack: Stack, desired: Callable[[], dict[str, Any]]) -> None:
        self._stack = stack
        self._desired = desired

    def produce(self) -> str:
        return self._stack.to_json_string(self._desired())


def _at_longest(resolved: Any, longest: str) -> Any:
    """``longest`` for a value known at deploy only (an intrinsic once resolved)."""
    return longest if isinstance(resolved, dict) else resolved


def new_schedule(vpn: Any, office_hours: OfficeHours, log_group_base: str) -> OffHoursSchedule:
    """The reconciler of a ``ClientVpn`` (``vpn``); refused for a transit gateway endpoint."""
    if not vpn.associated_subnets:
        raise ClientVpnConfigError(
            vpn.node.path,
            "schedule",
            "a transit gateway endpoint's associations are by Availability Zone; the "
            "schedule keeps subnet associations only: leave schedule out",
        )
    return OffHoursSchedule(
        vpn,
        "OffHours",
        office_hours=office_hours,
        vpn_id=vpn.vpn_id,
        endpoint_id=vpn.endpoint_id,
        endpoint_arn=vpn.endpoint_arn,
        subnets=vpn.associated_subnets,
        encryption_key=vpn.encryption_key,
        log_group_name=f"{log_group_base}/schedule",
    )
