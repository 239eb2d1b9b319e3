"""Key-policy statements shared by the KMS keys this library creates."""

from __future__ import annotations

from aws_cdk import aws_iam as iam

#: What the account (and through IAM its administrators) may do with a key that holds
#: secrets: manage it, never use it. No Encrypt/Decrypt/GenerateDataKey/ReEncrypt and no
#: CreateGrant (a grant would hand out use of the key).
KEY_ADMINISTRATION_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)


def administration_statement(sid: str) -> iam.PolicyStatement:
    """The account may administer the key (including its policy) but not use it."""
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.AccountRootPrincipal()],
        actions=list(KEY_ADMINISTRATION_ACTIONS),
        resources=["*"],
    )


def deny_grants_statement(sid: str) -> iam.PolicyStatement:
    """AWS Control Tower's CT.KMS.PR.3: grants only for AWS resources or by AWS services.

    The control (its cfn-guard rule) wants exactly this shape: Deny ``kms:CreateGrant`` to
    every principal on ``*`` when both ``kms:GrantIsForAWSResource`` and
    ``aws:PrincipalIsAWSService`` are false, with ``BoolIfExists``.
    """
    return iam.PolicyStatement(
        sid=sid,
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["kms:CreateGrant"],
        resources=["*"],
        conditions={
            "BoolIfExists": {
                "kms:GrantIsForAWSResource": "false",
                "aws:PrincipalIsAWSService": "false",
            }
        },
    )


def via_service_statement(
    sid: str, role_arn: str, actions: list[str], service: str
) -> iam.PolicyStatement:
    """``role_arn`` may use the key for ``actions`` only through ``service`` in this region."""
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ArnPrincipal(role_arn)],
        actions=actions,
        resources=["*"],
        conditions={"StringEquals": {"kms:ViaService": service}},
    )
