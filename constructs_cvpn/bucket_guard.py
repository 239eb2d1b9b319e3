"""The config bucket's policy for one VPN: its prefix closed to all but the handlers and readers.

``ConfigBucketGuard`` adds three explicit Deny statements (every principal, ``Principal: *``)
on ``<prefix>*``, the VPN's files, state and revocation ledger. An explicit deny in a bucket
policy overrides any allow of an identity policy, however broad (IAM user guide, "Policy
evaluation logic"):

- ``DenyWritesButTheHandlers``: ``s3:PutObject*``, ``s3:DeleteObject*`` and
  ``s3:RestoreObject`` unless ``aws:PrincipalArn`` is a handler role or the break-glass
  principal: nobody else can replace or delete a user's file, the state or the ledger (a
  ledger rolled back by one write would make revoked certificates valid again).
- ``DenyWritesWithoutTheVpnKey``: ``s3:PutObject`` unless the request names the VPN's KMS key
  (``s3:x-amz-server-side-encryption-aws-kms-key-id``, Amazon S3 user guide, "Requiring
  server-side encryption with AWS KMS keys").
- ``DenyReadsButTheReaders``: ``s3:GetObject*`` unless ``aws:PrincipalArn`` is a handler
  role, the break-glass principal or a principal added with :meth:`allow_reader` (every
  ``grant_read_*`` grantee), or the principal carries a tag added with
  :meth:`allow_reader_tag` (a self-service grant by ``aws:PrincipalTag``). Which file a
  reader may read is still decided by its identity policy (one object, and ``kms:Decrypt``
  only for that object's encryption context).

The break-glass principal defaults to the account root: "the root principal in a bucket
owner's account can perform the GetBucketPolicy, PutBucketPolicy, and DeleteBucketPolicy API
actions, even if their bucket policy explicitly denies the root principal's access" (Amazon
S3 API reference, DeleteBucketPolicy:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html), so no
statement here can strand the account. The CloudFormation deploy role keeps
``s3:PutBucketPolicy``: changing this policy is deploy power.

A bucket the app brings gets the same statements when CDK can add them
(``add_to_resource_policy``); an imported bucket (no policy CDK manages) gets a warning that
names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jsii
from aws_cdk import Annotations, IStableAnyProducer, IStableListProducer, Lazy, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

__all__ = ["READER_TAG", "READ_ACTIONS", "WRITE_ACTIONS", "ConfigBucketGuard", "reader_arn"]

WRITE_ACTIONS = ("s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject")
READ_ACTIONS = ("s3:GetObject*",)
#: The principal tag that exempts a grantee of another stack from the read Deny (its value:
#: the VPN's id). A same-stack grantee is exempted by its ARN.
READER_TAG = "constructs-cvpn:config-reader"


@jsii.implements(IStableListProducer)
class _Arns:
    def __init__(self, arns: list[str]) -> None:
        self._arns = arns

    def produce(self) -> list[str]:
        return list(dict.fromkeys(self._arns))


@jsii.implements(IStableAnyProducer)
class _ReaderCondition:
    """``StringNotEquals`` of the read Deny: the reader ARNs and, if any, the reader tags."""

    def __init__(self, arns: list[str], tags: dict[str, list[str]]) -> None:
        self._arns = arns
        self._tags = tags

    def produce(self) -> dict[str, list[str]]:
        block = {"aws:PrincipalArn": list(dict.fromkeys(self._arns))}
        for key, values in sorted(self._tags.items()):
            block[f"aws:PrincipalTag/{key}"] = sorted(set(values))
        return block


class ConfigBucketGuard:
    """The Deny statements of one VPN's prefix in its config bucket (see the module)."""

    def __init__(
        self,
        vpn: Construct,
        bucket: s3.IBucket,
        *,
        prefix: str,
        key_arn: str,
        break_glass_arn: str,
        vpn_id: str,
    ) -> None:
        self._vpn = vpn
        self._vpn_id = vpn_id
        self._writers: list[str] = [break_glass_arn]
        self._readers: list[str] = [break_glass_arn]
        self._reader_tags: dict[str, list[str]] = {}
        objects = bucket.arn_for_objects(f"{prefix}*")
        statements = [
            iam.PolicyStatement(
                sid=f"DenyWritesButTheHandlers{_sid(prefix)}",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(WRITE_ACTIONS),
                resources=[objects],
                conditions={
                    "StringNotEquals": {"aws:PrincipalArn": Lazy.list(_Arns(self._writers))}
                },
            ),
            iam.PolicyStatement(
                sid=f"DenyWritesWithoutTheVpnKey{_sid(prefix)}",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[objects],
                conditions={
                    "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}
                },
            ),
            iam.PolicyStatement(
                sid=f"DenyReadsButTheReaders{_sid(prefix)}",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(READ_ACTIONS),
                resources=[objects],
                conditions={
                    "StringNotEquals": Lazy.any(_ReaderCondition(self._readers, self._reader_tags))
                },
            ),
        ]
        added = [bucket.add_to_resource_policy(s).statement_added for s in statements]
        self.applied = all(added)
        if not self.applied:
            Annotations.of(vpn).add_warning_v2(
                "constructs-cvpn:bucketPolicyNotManaged",
                f"the config bucket's policy is not managed by this app, so it lacks the "
                f"statements that close s3://{bucket.bucket_name}/{prefix} to all but this "
                "VPN's handlers and readers: add DenyWritesButTheHandlers, "
                "DenyWritesWithoutTheVpnKey and DenyReadsButTheReaders (see "
                "constructs_cvpn.bucket_guard and the README's Security section) to the "
                "bucket's own policy",
            )

    def allow_writer(self, principal_arn: str) -> None:
        """Let a handler role write and read under the prefix (the VPN key still required)."""
        self._writers.append(principal_arn)
        self._readers.append(principal_arn)

    def allow_reader(self, principal_arn: str) -> None:
        """Exempt ``principal_arn`` (a role or user ARN) from the read Deny; its identity
        policy still decides which objects it reads. ``grant_read_*`` call this."""
        self._readers.append(principal_arn)

    def allow_grantee(self, grantee: iam.IGrantable) -> None:
        """Exempt a ``grant_read_*`` grantee from the read Deny.

        A role or user of this stack (or an imported one) by its ARN; a role or user of
        another stack by the tag :data:`READER_TAG` = the VPN's id, which this puts on it
        (its ARN in this stack's bucket policy would make the two stacks depend on each
        other); a grantee without a principal ARN (a group) gets a warning.
        """
        arn = reader_arn(grantee)
        if (
            arn is not None
            and isinstance(grantee, Construct)
            and Stack.of(grantee) is not Stack.of(self._vpn)
        ):
            Tags.of(grantee).add(READER_TAG, self._vpn_id)
            self.allow_reader_tag(READER_TAG, self._vpn_id)
            return
        if arn is None:
            Annotations.of(self._vpn).add_warning_v2(
                "constructs-cvpn:readerWithoutArn",
                f"{grantee.grant_principal} has no principal ARN (a group?): the config "
                "bucket's policy denies it every read under this VPN's prefix; grant a role "
                "or a user instead",
            )
            return
        self.allow_reader(arn)

    def allow_reader_tag(self, key: str, value: str) -> None:
        """Exempt principals tagged ``key=value`` (``aws:PrincipalTag``) from the read Deny:
        for a self-service grant whose principals are not known at synthesis. The tag is
        then what grants the exemption: only tag it on principals meant to read."""
        self._reader_tags.setdefault(key, []).append(value)


def _sid(prefix: str) -> str:
    return "".join(c for c in prefix if c.isalnum())[-40:]


def reader_arn(grantee: iam.IGrantable) -> str | None:
    """The ``aws:PrincipalArn`` of a grantee, when it has one (a role or a user)."""
    for attribute in ("role_arn", "user_arn"):
        arn = getattr(grantee, attribute, None)
        if isinstance(arn, str):
            return arn
    return None
