"""Read access to exactly one client configuration object: ``s3:GetObject`` + scoped decrypt."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from .descriptions import MANAGED_POLICY_DESCRIPTION, with_path

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3


def grant_read_object(
    *,
    bucket: s3.IBucket,
    object_key: str,
    key: kms.IKey,
    region: str,
    grantee: iam.IGrantable,
    policy_id: str,
    vpn_path: str,
) -> iam.Grant:
    """``s3:GetObject`` on one object and ``kms:Decrypt`` for exactly that object.

    The decrypt is allowed only when S3 asks for it in ``region`` (``kms:ViaService``)
    for that object (``kms:EncryptionContext:aws:s3:arn``, which is the object's ARN when
    S3 Bucket Keys are off). A Role's, User's or Group's statements
    go into the customer-managed policy ``policy_id`` attached to it (see
    ``_policy_grantee``).
    """
    object_arn = bucket.arn_for_objects(object_key)
    target = _policy_grantee(grantee, policy_id, vpn_path)
    read = iam.Grant.add_to_principal(
        grantee=target, actions=["s3:GetObject"], resource_arns=[object_arn]
    )
    decrypt = iam.Grant.add_to_principal(
        grantee=target,
        actions=["kms:Decrypt"],
        resource_arns=[key.key_arn],
        conditions={
            "StringEquals": {
                "kms:ViaService": f"s3.{region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": object_arn,
            }
        },
    )
    return read.combine(decrypt)


class _ManagedPolicyPrincipal(iam.PrincipalBase):
    """A principal whose grants land in one customer-managed policy attached to it."""

    def __init__(self, principal: iam.IPrincipal, policy: iam.ManagedPolicy) -> None:
        super().__init__()
        self._principal = principal
        self._policy = policy

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self._principal.policy_fragment

    def dedupe_string(self) -> str | None:
        return None

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        self._policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)


@jsii.implements(iam.IGrantable)
class _Grantable:
    def __init__(self, principal: iam.IPrincipal) -> None:
        self._principal = principal

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self._principal


def _policy_grantee(grantee: iam.IGrantable, policy_id: str, vpn_path: str) -> iam.IGrantable:
    """Route a Role's, User's or Group's grants into its managed policy ``policy_id``.

    cdk-nag (NIST 800-53 IAMNoInlinePolicy) reports every inline policy; a customer-managed
    policy attached to the principal is not one. Other principals keep their default policy.
    """
    principal = grantee.grant_principal
    if not isinstance(principal, (iam.Role, iam.User, iam.Group)):
        return grantee
    existing = principal.node.try_find_child(policy_id)
    if isinstance(existing, iam.ManagedPolicy):
        policy = existing
    else:
        policy = iam.ManagedPolicy(
            principal,
            policy_id,
            description=with_path(
                "Read client configurations of Client VPN {path}",
                vpn_path,
                MANAGED_POLICY_DESCRIPTION,
            ),
        )
        if isinstance(principal, iam.Role):
            policy.attach_to_role(principal)
        elif isinstance(principal, iam.User):
            policy.attach_to_user(principal)
        else:
            policy.attach_to_group(principal)
    return _Grantable(_ManagedPolicyPrincipal(principal, policy))
