"""The resource-policy evaluator (``tests/policy_eval.py``) on documented allow/deny cases.

Oracles: the IAM User Guide, "Policy evaluation logic" (same-account requests)
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
and "IAM JSON policy elements: Condition operators"
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

from typing import Any

import pytest

from .policy_eval import Request, evaluate

ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:role/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:role/bob"
OBJECT = "arn:aws:s3:::bucket/data/file.txt"


def allow(action: str = "s3:GetObject", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


def bucket_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Statement": list(statements)}


GET = Request(ALICE, "s3:GetObject", OBJECT)


def test_no_policy_is_an_implicit_deny() -> None:
    """ "By default, all requests are implicitly denied"."""
    assert not evaluate(GET)


def test_identity_allow_alone_allows_within_the_account() -> None:
    """Same account: an identity-based Allow suffices when no resource policy denies."""
    assert evaluate(GET, identity=[allow()])


def test_resource_policy_naming_the_principal_allows_without_identity_policy() -> None:
    """Same account: "permissions can be granted by the identity-based policy OR the
    resource-based policy" when the resource policy names the principal's ARN."""
    policy = bucket_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ALICE},
            "Action": "s3:GetObject",
            "Resource": OBJECT,
        }
    )
    assert evaluate(GET, resource=policy)
    assert not evaluate(Request(BOB, "s3:GetObject", OBJECT), resource=policy)


def test_account_principal_delegates_to_iam() -> None:
    """A resource policy naming the account allows nothing by itself: the account's
    principals still need an identity-based Allow."""
    policy = bucket_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "s3:*",
            "Resource": "*",
        }
    )
    assert not evaluate(GET, resource=policy)
    assert evaluate(GET, resource=policy, identity=[allow()])


def test_explicit_deny_in_the_resource_policy_overrides_an_identity_allow() -> None:
    """ "An explicit deny in any policy overrides any allows"."""
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": OBJECT}
    assert not evaluate(GET, identity=[allow("s3:*")], resource=bucket_policy(deny))


def test_explicit_deny_in_the_identity_policy_overrides_a_resource_allow() -> None:
    identity = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    resource = bucket_policy(
        {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:*", "Resource": "*"}
    )
    assert not evaluate(GET, identity=[identity], resource=resource)


def test_not_action_and_not_resource() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": "*"}
    assert evaluate(GET, identity=[allow("s3:*")], resource=bucket_policy(statement))
    put = Request(ALICE, "s3:PutObject", OBJECT)
    assert not evaluate(put, identity=[allow("s3:*")], resource=bucket_policy(statement))
    outside = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "NotResource": "arn:aws:s3:::bucket/data/*",
    }
    assert evaluate(GET, identity=[allow("s3:*")], resource=bucket_policy(outside))


def test_actions_match_case_insensitively_and_with_wildcards() -> None:
    assert evaluate(GET, identity=[allow("S3:get*")])
    assert not evaluate(GET, identity=[allow("s3:Put*")])


def _deny_unless(condition: dict[str, Any]) -> dict[str, Any]:
    return bucket_policy(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": condition,
        }
    )


@pytest.mark.parametrize(
    ("condition", "context", "denied"),
    [
        # A deny except for listed principals (StringNotEquals on aws:PrincipalArn).
        ({"StringNotEquals": {"aws:PrincipalArn": [ALICE]}}, {}, False),
        ({"StringNotEquals": {"aws:PrincipalArn": [BOB]}}, {}, True),
        # ArnNotLike with a wildcard within one ARN part.
        ({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/al*"}}, {}, False),
        ({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/b*"}}, {}, True),
        # The documented rule: an absent key makes a negated operator TRUE...
        ({"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}, {}, True),
        # ... and a positive operator FALSE.
        ({"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}, {}, False),
        # ...IfExists: true when the key is absent (the plain operator is false then).
        ({"StringEqualsIfExists": {"s3:x-amz-server-side-encryption": "AES256"}}, {}, True),
        # Bool on aws:SecureTransport.
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
        # Null: true holds when the key is absent.
        ({"Null": {"aws:PrincipalTag/team": "true"}}, {}, True),
        ({"Null": {"aws:PrincipalTag/team": "true"}}, {"aws:PrincipalTag/team": "vpn"}, False),
        # Two keys in one block: both must hold (AND).
        (
            {"StringNotEquals": {"aws:PrincipalArn": [BOB], "aws:PrincipalTag/team": "vpn"}},
            {"aws:PrincipalTag/team": "vpn"},
            False,
        ),
        # Several values for one key: any of them (OR); negated: none of them.
        ({"StringNotEquals": {"aws:PrincipalArn": [BOB, ALICE]}}, {}, False),
        ({"StringLike": {"aws:PrincipalArn": ["x", "arn:aws:iam::*:role/alice"]}}, {}, True),
    ],
)
def test_condition_operators(
    condition: dict[str, Any], context: dict[str, Any], denied: bool
) -> None:
    request = Request(ALICE, "s3:GetObject", OBJECT, context)
    assert evaluate(request, identity=[allow("s3:*")], resource=_deny_unless(condition)) is (
        not denied
    )


def test_for_any_and_all_values() -> None:
    keys = {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}
    stmt = {
        "Effect": "Allow",
        "Action": "acm:AddTagsToCertificate",
        "Resource": "*",
        "Condition": keys,
    }
    request = Request(ALICE, "acm:AddTagsToCertificate", "*", {"aws:TagKeys": ["a"]})
    assert evaluate(request, identity=[{"Statement": [stmt]}])
    request = Request(ALICE, "acm:AddTagsToCertificate", "*", {"aws:TagKeys": ["a", "c"]})
    assert not evaluate(request, identity=[{"Statement": [stmt]}])


def test_unsupported_operator_raises() -> None:
    with pytest.raises(NotImplementedError):
        evaluate(GET, identity=[allow(Condition={"NumericLessThan": {"x": "1"}})], resource=None)


KEY = "arn:aws:kms:eu-west-1:111122223333:key/1"
ROOT_DELEGATES = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def test_kms_identity_policy_alone_does_not_reach_a_key() -> None:
    """KMS developer guide, "Key policies in AWS KMS": unless the key policy allows it,
    IAM policies cannot give access to a KMS key."""
    decrypt = Request(ALICE, "kms:Decrypt", KEY)
    identity = [allow("kms:*")]
    assert not evaluate(decrypt, identity=identity, resource={"Statement": []}, key_policy=True)
    # The default key policy delegates to IAM through the account root.
    delegating = {"Statement": [ROOT_DELEGATES]}
    assert evaluate(decrypt, identity=identity, resource=delegating, key_policy=True)
    assert not evaluate(decrypt, resource=delegating, key_policy=True), "IAM must allow too"
    # Delegation of some actions only: the others stay out of IAM's reach.
    admin_only = {"Statement": [{**ROOT_DELEGATES, "Action": ["kms:DescribeKey"]}]}
    assert not evaluate(decrypt, identity=identity, resource=admin_only, key_policy=True)
    # A key-policy statement naming the principal allows without any identity policy.
    direct = {"Statement": [{**ROOT_DELEGATES, "Principal": {"AWS": ALICE}}]}
    assert evaluate(decrypt, resource=direct, key_policy=True)
