"""The KMS key of a ``ClientVpn`` and its connection log group."""

from __future__ import annotations

import json

from aws_cdk import Annotations, ArnFormat, Aws, Fn, Names, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .descriptions import KEY_DESCRIPTION, with_path
from .keys import deny_grants_statement
from .tokens import known

#: Retention of the connection log group this construct creates, unless ``log_retention``.
DEFAULT_RETENTION = logs.RetentionDays.ONE_YEAR


class LogsAndKeys:
    """The key for logs and client configs, and the connection log group.

    Built in ``vpn``'s scope (construct ids ``Key`` and ``LogGroup``). Every log group the
    VPN creates (connections and handlers) is named ``<log_group_prefix>/<stack uuid>...``:
    the groups are retained on stack deletion, and the stack's uuid keeps a destroyed and
    redeployed stack from colliding with them.
    """

    def __init__(
        self,
        vpn: Construct,
        *,
        vpn_id: str,
        encryption_key: kms.IKey | None,
        log_group: logs.ILogGroup | None,
        log_retention: logs.RetentionDays | None,
    ) -> None:
        self._vpn = vpn
        self._vpn_id = vpn_id
        #: Every log group the VPN creates is named with this prefix.
        self.log_group_prefix = "/aws/client-vpn/" + Names.unique_resource_name(
            vpn, max_length=200, separator="-"
        )
        stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        #: The connection log group's name; the handlers' groups are named below it.
        self.log_group_base = f"{self.log_group_prefix}/{stack_uuid}"
        self.encryption_key: kms.IKey = encryption_key or kms.Key(
            vpn,
            "Key",
            description=with_path(
                "Client VPN {path}: connection logs and client configs",
                vpn.node.path,
                KEY_DESCRIPTION,
            ),
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        if encryption_key is None:
            # Control Tower CT.KMS.PR.3 on the key we create (a key you bring is yours).
            self.encryption_key.add_to_resource_policy(
                deny_grants_statement(f"DenyGrantsExceptForAwsResources{vpn_id}")
            )
        self._allow_logs_to_use_key()
        self.log_group: logs.ILogGroup = log_group or logs.LogGroup(
            vpn,
            "LogGroup",
            log_group_name=self.log_group_base,
            retention=log_retention or DEFAULT_RETENTION,
            encryption_key=self.encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _allow_logs_to_use_key(self) -> None:
        """Let CloudWatch Logs use the key for the log groups named ``log_group_prefix*``.

        Those are the connection logs and our handlers' logs. An imported key's policy
        cannot be changed from here: it must allow the same (a warning shows the statement).
        """
        stack = Stack.of(self._vpn)
        arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{self.log_group_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        sid = f"AllowCloudWatchLogsForClientVpnLogGroups{self._vpn_id}"  # unique per VPN
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
        region = stack.region if known(stack.region) else "<region>"
        account = stack.account if known(stack.account) else "<account>"
        partition = stack.partition if known(stack.partition) else "aws"
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
        Annotations.of(self._vpn).add_warning_v2(
            "constructs-cvpn:importedKeyPolicy",
            "encryption_key is imported, so its key policy cannot be changed from here; it "
            "must let CloudWatch Logs use it for this VPN's log groups, or creating them "
            "fails. Add this statement to the key policy: "
            + json.dumps(statement, separators=(", ", ": ")),
        )
