"""``tokens.known`` and ``tokens.stable`` decide plain strings without asking CDK: the same
answers as CDK's own ``Token.is_unresolved`` and ``Stack.resolve`` (the oracle)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_ec2 as ec2

from constructs_cvpn.tokens import group_part, is_lookup_placeholder, known, plain, stable


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
        {"b": cdk.Aws.REGION, "a": 1},  # keys out of order: the comparable form sorts them
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


def test_group_part_keeps_distinct_groups_apart_and_from_every_user() -> None:
    # its docstring: '%' and '/' percent-encoded (RFC 3986), "AllUsers" with its A encoded
    parts = {
        "eng": "eng",
        "eng-ops": "eng-ops",
        "eng/ops": "eng%2Fops",
        "50%": "50%25",
        "AllUsers": "%41llUsers",
        "allusers": "allusers",
    }
    assert {group: group_part(group) for group in parts} == parts
    assert "AllUsers" not in parts.values()


# What Vpc.from_lookup hands out while its context is missing (aws-cdk-lib's dummy VPC).
DUMMY_ID, DUMMY_CIDR = "vpc-12345", "1.2.3.4/5"


@pytest.mark.parametrize(
    ("vpc_id", "cidr", "placeholder"),
    [
        (DUMMY_ID, DUMMY_CIDR, True),
        (DUMMY_ID, "10.0.0.0/16", False),
        ("vpc-0123456789abcdef0", DUMMY_CIDR, False),
        ("vpc-0123456789abcdef0", "10.0.0.0/16", False),
    ],
)
def test_only_the_lookup_dummy_is_a_placeholder(
    stack: cdk.Stack, vpc_id: str, cidr: str, placeholder: bool
) -> None:
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id=vpc_id, vpc_cidr_block=cidr, availability_zones=["eu-west-1a"]
    )
    assert is_lookup_placeholder(vpc) is placeholder


def test_the_lookup_dummy_is_what_from_lookup_gives_without_context() -> None:
    app = cdk.App()
    stack = cdk.Stack(
        app, "Lookup", env=cdk.Environment(account="111111111111", region="eu-west-1")
    )
    vpc = ec2.Vpc.from_lookup(stack, "Vpc", vpc_id="vpc-0123456789abcdef0")
    assert (vpc.vpc_id, vpc.vpc_cidr_block) == (DUMMY_ID, DUMMY_CIDR)
    assert is_lookup_placeholder(vpc)


def test_a_vpc_with_deploy_time_attributes_is_no_placeholder(stack: cdk.Stack) -> None:
    vpc_id = cdk.CfnParameter(stack, "VpcId").value_as_string
    cidr = cdk.CfnParameter(stack, "VpcCidr").value_as_string
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id=vpc_id, vpc_cidr_block=cidr, availability_zones=["eu-west-1a"]
    )
    assert not is_lookup_placeholder(vpc)
