"""``tokens.known`` and ``tokens.stable`` decide plain strings without asking CDK: the same
answers as CDK's own ``Token.is_unresolved`` and ``Stack.resolve`` (the oracle)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
import pytest

from constructs_cvpn.tokens import known, plain, stable


def _values(stack: cdk.Stack) -> list[object]:
    number = cdk.CfnParameter(stack, "Count", type="Number")
    cidrs = cdk.CfnParameter(stack, "Cidrs", type="CommaDelimitedList")
    return [
        "10.0.0.0/16",
        "",
        "arn:aws:s3:::bucket/*",
        "${Token",  # looks like the start of a token, is not one
        f"arn:aws:kms:eu-west-1:{cdk.Aws.ACCOUNT_ID}:key/*",
        cdk.Aws.REGION,
        cdk.Lazy.string(_Late()),
        number.value_as_number,
        cidrs.value_as_list,
        ["10.0.0.0/16", cdk.Aws.ACCOUNT_ID],
        42,
    ]


@jsii.implements(cdk.IStableStringProducer)
class _Late:
    def produce(self) -> str:
        return "known only at synth"


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Tokens")


def test_known_agrees_with_cdk(stack: cdk.Stack) -> None:
    values = _values(stack)
    assert [known(v) for v in values] == [not cdk.Token.is_unresolved(v) for v in values]
    # Both kinds are in the list: the comparison could tell a wrong answer either way.
    assert {known(v) for v in values} == {True, False}


def test_stable_agrees_with_resolve(stack: cdk.Stack) -> None:
    for value in _values(stack):
        assert stable(stack, value) == json.dumps(stack.resolve(value), sort_keys=True)


def test_plain_is_only_a_string_without_a_token(stack: cdk.Stack) -> None:
    assert plain("10.0.0.0/16") and plain("${Token")
    assert not plain(f"arn:{cdk.Aws.PARTITION}:s3:::b") and not plain(["a"]) and not plain(1)
