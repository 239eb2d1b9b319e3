"""The Lambda function behind each of our custom resources.

One place for what every handler shares: the newest Python runtime aws-cdk-lib offers,
arm64, an explicit timeout and memory, a KMS-encrypted log group with retention, a role
with no managed policies (its permissions are granted by the caller, scoped to ARNs), no
asynchronous retries, a maximum event age that lets a queued event start only while
CloudFormation still waits for it, the handler's pinned configuration (:meth:`pin`), and the
acknowledgements of the cdk-nag findings a handler causes.

The function is the custom resource's ``ServiceToken`` and answers CloudFormation itself
(``handlers/cloudformation.py``): there is no ``custom_resources.Provider`` framework
function, role, policy and log group per handler, no AWS managed policy and no Node.js
runtime chosen by aws-cdk-lib.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Aws,
    CfnResource,
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .bundling import handlers_code
from .handlers.pinned import ENV as PINNED_ENV
from .tokens import plain

#: The longest handler timeout we allow: Lambda's limit is 15 minutes; the handlers stop
#: their work 90 seconds before their own deadline and answer, and CloudFormation waits for
#: the custom resource's ``ServiceTimeout`` (set above the handler's timeout) otherwise.
MAX_HANDLER_TIMEOUT = Duration.minutes(12)
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
#: Retention of the handler logs.
LOG_RETENTION = logs.RetentionDays.ONE_YEAR

_HANDLER_FINDINGS = {
    "NIST.800.53.R5-LambdaConcurrency": "The handler runs at deployments, on its schedules "
    "(renewal, off hours) and when an operator invokes it (cvpn): a few runs at a time at "
    "most; reserved concurrency would take capacity from the account (and fails on accounts "
    "with the default limit of 10).",
    "NIST.800.53.R5-LambdaDLQ": "The handler answers CloudFormation itself, failures "
    "included, and is never retried (retry attempts 0); a scheduled or operator run that "
    "fails is reported by the HandlerErrors alarm and its caller, and the next scheduled run "
    "does the work again; there is nothing to dead-letter.",
    "NIST.800.53.R5-LambdaInsideVPC": "The handler calls only AWS APIs (EC2, ACM, S3, KMS, "
    "Secrets Manager) and CloudFormation's response URL; placing it in the VPC would "
    "require NAT or endpoints for no gain.",
}


def _nag_rendering(value: Any) -> str:
    """A resolved IAM resource as cdk-nag writes it in a finding id.

    ``{"Ref": "X"}`` becomes ``<X>``, ``{"Fn::GetAtt": ["X", "Arn"]}`` ``<X.Arn>``, and
    ``Fn::Join`` joins its parts.
    """
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_nag_rendering(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as cdk-nag does")


class HandlerFunction(Construct):
    """A handler function from ``constructs_cvpn/handlers`` that answers CloudFormation.

    Attributes:
        function: the handler; grant it what it needs through ``allow``.
        role: the handler's role, with no permissions except writing its own logs.
        service_token: pass to ``CustomResource(service_token=...)``: the function's ARN.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        handler: str,
        description: str,
        encryption_key: kms.IKey,
        log_group_name: str,
        service_timeout: Duration,
        timeout: Duration | None = None,
        memory_size: int = 256,
    ) -> None:
        """Create the function, its role and its log group.

        Args:
            handler: the handler string, e.g. ``handlers.export_config.index.handler``.
            description: the function description.
            encryption_key: encrypts the log group (its policy must allow CloudWatch Logs).
            log_group_name: the handler's log group. May be a token (the names carry the
                stack id, so that a destroyed and redeployed stack does not meet its
                retained groups).
            service_timeout: the custom resource's ``ServiceTimeout``. An asynchronous
                event that waited longer than ``service_timeout - timeout`` (at least the
                60 seconds Lambda allows) is dropped: a run starting later could end after
                CloudFormation gave up (Lambda developer guide, "Configuring error handling
                for asynchronous invocation": ``MaximumEventAgeInSeconds`` 60-21600).
            timeout: the handler's timeout. Default: 2 minutes (at most 12).
            memory_size: MB. Default: 256.
        """
        super().__init__(scope, id)
        timeout = timeout or Duration.minutes(2)
        if timeout.to_seconds() > MAX_HANDLER_TIMEOUT.to_seconds():
            raise ValueError(
                f"handler timeout {timeout.to_human_string()} is over "
                f"{MAX_HANDLER_TIMEOUT.to_human_string()}"
            )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            retention=LOG_RETENTION,
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=handlers_code(ARCHITECTURE, RUNTIME, scope=self),
            timeout=timeout,
            memory_size=memory_size,
            description=description,
            role=self.role,
            log_group=log_group,
            # CloudFormation (and the renewal schedule) invoke asynchronously. A retry of a
            # run that died could act after CloudFormation has given up and rolled back
            # (e.g. write a config for a deleted stack): never retry; a run that dies is
            # reported by CloudFormation's ServiceTimeout.
            retry_attempts=0,
            max_event_age=Duration.seconds(
                max(60, int(service_timeout.to_seconds() - timeout.to_seconds()))
            ),
        )
        log_group.grant_write(self.role)
        self.service_token: str = self.function.function_arn
        Validations.of(self.function).acknowledge(
            *(
                Acknowledgment(id=finding, reason=reason)
                for finding, reason in _HANDLER_FINDINGS.items()
            )
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5-IAMNoInlinePolicy",
                reason="The handler role's one policy is built by allow() from the ARNs this "
                "handler works on; it belongs to this role alone.",
            )
        )

    def pin(
        self,
        resource: CustomResource,
        *,
        pinned: Mapping[str, Any],
        imposed: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        bucket_owner: str | None = None,
    ) -> None:
        """Pin what the handler may touch in its configuration (``handlers/pinned.py``).

        Args:
            resource: the custom resource this function serves: a ``Delete`` is obeyed only
                while CloudFormation shows it ``DELETE_IN_PROGRESS``
                (``cloudformation:DescribeStackResource`` on this stack), or, for a physical
                id it no longer has, while the stack cleans up after an update
                (``cloudformation:DescribeStacks`` on this stack).
            pinned: properties an event must carry with exactly these values.
            imposed: properties that replace the event's (who may read the CA secret).
            settings: the other properties a ``Renew`` runs with.
            bucket_owner: the account sent as ``ExpectedBucketOwner`` on every S3 call.
        """
        stack = Stack.of(self)
        child = resource.node.default_child
        assert isinstance(child, CfnResource)
        document = {
            "StackId": Aws.STACK_ID,
            "LogicalResourceId": stack.get_logical_id(child),
            "BucketOwner": bucket_owner or "",
            "Pinned": dict(pinned),
            "Imposed": dict(imposed or {}),
            "Settings": dict(settings or {}),
        }
        self.function.add_environment(PINNED_ENV, stack.to_json_string(document))
        self.allow(
            ["cloudformation:DescribeStackResource", "cloudformation:DescribeStacks"],
            [Aws.STACK_ID],
        )

    def allow(
        self,
        actions: list[str],
        resources: list[str],
        *,
        conditions: Mapping[str, Any] | None = None,
        wildcard_reason: str | None = None,
    ) -> None:
        """Grant the handler ``actions`` on ``resources``.

        A resource containing ``*`` needs ``wildcard_reason``: it acknowledges exactly that
        cdk-nag AwsSolutions-IAM5 finding (cdk-nag names each wildcard resource).
        """
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions)
        )
        stack = Stack.of(self)
        wildcards = [
            rendered
            for rendered in (
                resource if plain(resource) else _nag_rendering(stack.resolve(resource))
                for resource in resources
            )
            if "*" in rendered
        ]
        if not wildcards:
            return
        if wildcard_reason is None:
            raise ValueError(f"{wildcards[0]} has a wildcard; say why in wildcard_reason")
        Validations.of(self.role).acknowledge(
            *(
                Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{w}]", reason=wildcard_reason)
                for w in wildcards
            )
        )
