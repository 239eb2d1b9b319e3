"""The Lambda function and ``custom_resources.Provider`` behind our custom resources.

One place for what every handler shares: the newest Python runtime aws-cdk-lib offers,
arm64, an explicit timeout and memory, a KMS-encrypted log group with retention, a role
with no managed policies (its permissions are granted by the caller, scoped to ARNs),
and the acknowledgements of the cdk-nag findings that the Provider framework causes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Acknowledgment, CfnElement, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from .bundling import handlers_code

#: The Provider framework's own function times out after 15 minutes; a handler must end
#: (and answer) well before it, or CloudFormation hears nothing until its ServiceTimeout.
MAX_HANDLER_TIMEOUT = Duration.minutes(12)
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
#: Retention of the handler and framework logs.
LOG_RETENTION = logs.RetentionDays.ONE_YEAR

_FRAMEWORK_FINDINGS = {
    "AwsSolutions-IAM4": "The Provider framework's own function uses the AWS managed "
    "AWSLambdaBasicExecutionRole to write its logs; the CDK does not let us replace it.",
    "AwsSolutions-IAM5": "The Provider framework may invoke every version of our handler "
    "function (<function arn>:*); that is the one function it is built for.",
    "AwsSolutions-L1": "The Provider framework's Node.js runtime is chosen by aws-cdk-lib, "
    "not by this library.",
    "NIST.800.53.R5-IAMNoInlinePolicy": "The CDK generates the framework's inline policy; it "
    "only allows invoking our handler function.",
    "NIST.800.53.R5-LambdaConcurrency": "The framework runs only during deployments; "
    "reserving concurrency would take capacity from the account for nothing.",
    "NIST.800.53.R5-LambdaDLQ": "Custom resource calls are synchronous; failures are "
    "reported to CloudFormation, so there is nothing to dead-letter.",
    "NIST.800.53.R5-LambdaInsideVPC": "The framework calls only the Lambda API and the "
    "CloudFormation response URL; it touches nothing inside a VPC.",
}
_HANDLER_FINDINGS = {
    "NIST.800.53.R5-LambdaConcurrency": "The handler runs only during deployments; reserved "
    "concurrency would take capacity from the account (and fails on accounts with the "
    "default limit of 10).",
    "NIST.800.53.R5-LambdaDLQ": "Custom resource calls are synchronous; a failure is "
    "reported to CloudFormation by the Provider framework, so there is nothing to dead-letter.",
    "NIST.800.53.R5-LambdaInsideVPC": "The handler calls only AWS APIs (EC2, S3, KMS, "
    "Secrets Manager, ACM); placing it in the VPC would require NAT or endpoints for no gain.",
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


class HandlerProvider(Construct):
    """A handler function from ``constructs_cvpn/handlers`` and the Provider that runs it.

    Attributes:
        function: the handler; grant it what it needs through ``role``.
        role: the handler's role, with no permissions except writing its own logs;
            grant more with ``allow``.
        service_token: pass to ``CustomResource(service_token=...)``.
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
        timeout: Duration | None = None,
        memory_size: int = 256,
    ) -> None:
        """Create the function and its Provider.

        Args:
            handler: the handler string, e.g. ``handlers.export_config.index.on_event``.
            description: the function description.
            encryption_key: encrypts the log groups (its policy must allow CloudWatch Logs).
            log_group_name: the handler's log group; the framework's gets ``-provider``
                appended. May be a token (the names carry the stack id, so that a
                destroyed and redeployed stack does not meet its retained groups).
            timeout: the handler's timeout. Default: 2 minutes (at most 12, so that
                the framework, with 15, always outlives the handler and answers).
            memory_size: MB. Default: 256.
        """
        super().__init__(scope, id)
        timeout = timeout or Duration.minutes(2)
        if timeout.to_seconds() > MAX_HANDLER_TIMEOUT.to_seconds():
            raise ValueError(
                f"handler timeout {timeout.to_human_string()} is over "
                f"{MAX_HANDLER_TIMEOUT.to_human_string()}; the Provider framework needs time "
                "to answer CloudFormation after the handler stops"
            )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        log_group = self._log_group("Logs", log_group_name, encryption_key)
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
        )
        log_group.grant_write(self.role)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=self._log_group("ProviderLogs", f"{log_group_name}-provider", encryption_key),
        )
        self.service_token: str = self.provider.service_token
        for finding, reason in _HANDLER_FINDINGS.items():
            Validations.of(self.function).acknowledge(Acknowledgment(id=finding, reason=reason))
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5-IAMNoInlinePolicy",
                reason="The handler role's one policy is built by allow() from the ARNs this "
                "handler works on; it belongs to this role alone.",
            )
        )
        stack = Stack.of(self)
        function_id = stack.resolve(stack.get_logical_id(self._cfn(self.function)))
        granular = {
            # cdk-nag names the exact policy and resource of these two findings.
            "AwsSolutions-IAM4": "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:"
            "policy/service-role/AWSLambdaBasicExecutionRole]",
            "AwsSolutions-IAM5": f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
        }
        for finding, reason in _FRAMEWORK_FINDINGS.items():
            Validations.of(self.provider).acknowledge(
                Acknowledgment(id=granular.get(finding, finding), reason=reason)
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
        for resource in resources:
            rendered = _nag_rendering(stack.resolve(resource))
            if "*" not in rendered:
                continue
            if wildcard_reason is None:
                raise ValueError(f"{resource} has a wildcard; say why in wildcard_reason")
            Validations.of(self.role).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{rendered}]", reason=wildcard_reason
                )
            )

    @staticmethod
    def _cfn(construct: Construct) -> CfnElement:
        child = construct.node.default_child
        assert isinstance(child, CfnElement)
        return child

    def _log_group(self, id: str, name: str, key: kms.IKey) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            id,
            log_group_name=name,
            retention=LOG_RETENTION,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
