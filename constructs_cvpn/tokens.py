"""Values that may be CloudFormation tokens: comparing, naming and showing them.

A CIDR, a subnet id or an AZ may be known only at deploy time (a ``CfnParameter``, an
imported VPC's attribute, an environment-agnostic stack's AZ). The rooms of ``ClientVpn``
compare such values by their resolved form, build construct ids from them and name them
in error messages in user words, never as a token string or CloudFormation JSON.
"""

from __future__ import annotations

import hashlib
import json

import jsii
from aws_cdk import CfnParameter, IStableStringProducer, Reference, Stack, Token, Tokenization
from aws_cdk import aws_ec2 as ec2
from constructs import IConstruct

#: What ``ec2.Vpc.from_lookup`` returns before the CDK CLI has looked the VPC up (aws-cdk-lib's
#: ``DUMMY_VPC_PROPS``): the CLI runs the lookup only after a synthesis that succeeds.
LOOKUP_PLACEHOLDER_VPC_ID = "vpc-12345"
LOOKUP_PLACEHOLDER_CIDR = "1.2.3.4/5"


#: What every string token contains (aws-cdk-lib encodes a token in a string as
#: ``${Token[NAME.n]}``): a string without it needs no round trip to CDK to be known.
_STRING_TOKEN_MARK = "${Token["


def plain(value: object) -> bool:
    """True for a string with no token in it (decided here, without asking CDK)."""
    return isinstance(value, str) and _STRING_TOKEN_MARK not in value


def known(value: object) -> bool:
    """True when a value is known at synth time (not a CloudFormation token)."""
    return plain(value) or not Token.is_unresolved(value)


def stable(scope: IConstruct, value: object) -> str:
    """A comparable form of a value that may be a token."""
    if plain(value):
        return json.dumps(value)
    return json.dumps(Stack.of(scope).resolve(value), sort_keys=True)


def slug(value: str) -> str:
    """A construct-id-safe form of a CIDR or group name (ids may not contain '/')."""
    return value.replace("/", "-")


#: The construct-id part of a rule for every user (``all_users=True``).
ALL_USERS_PART = "AllUsers"


def group_part(group_id: str) -> str:
    """A construct-id part for a group id, distinct for distinct groups and from
    ``ALL_USERS_PART``.

    Construct ids may not contain ``/``; ``%`` and ``/`` are percent-encoded, so ``eng/ops``
    (``eng%2Fops``) and ``eng-ops`` stay apart, and a group without either keeps its name;
    a group named ``AllUsers`` becomes ``%41llUsers`` (its ``A`` encoded).
    """
    encoded = group_id.replace("%", "%25").replace("/", "%2F")
    return "%41" + encoded[1:] if encoded == ALL_USERS_PART else encoded


def id_part(scope: IConstruct, value: str) -> str:
    """A stable construct-id part for a CIDR, also when it is a token (e.g. a VPC CIDR)."""
    if known(value):
        return slug(value)
    return "Ref" + hashlib.sha256(stable(scope, value).encode()).hexdigest()[:8]


def display(scope: IConstruct, vpc: ec2.IVpc | None, value: str) -> str:
    """A value as a user would name it: the value, or where a token comes from.

    Never a token string or CloudFormation JSON: "the VPC CIDR (Stack/Vpc)", "the
    parameter Stack/ClientCidr", "the region's availability zone #1".
    """
    if known(value):
        return value
    resolved = Stack.of(scope).resolve(value)
    if vpc is not None and stable(scope, value) == stable(scope, vpc.vpc_cidr_block):
        return f"the VPC CIDR ({vpc.node.path})"
    token = Tokenization.reverse_string(value).first_token
    if isinstance(token, Reference):
        target = token.target
        if isinstance(target, CfnParameter):
            return f"the parameter {target.node.path}"
        owner = target.node.scope if target.node.id == "Resource" else target
        return f"the {token.display_name} of {owner.node.path if owner else target.node.path}"
    if (
        isinstance(resolved, dict)
        and isinstance(resolved.get("Fn::Select"), list)
        and len(resolved["Fn::Select"]) == 2
        and isinstance(resolved["Fn::Select"][1], dict)
        and "Fn::GetAZs" in resolved["Fn::Select"][1]
    ):
        return f"the region's availability zone #{int(resolved['Fn::Select'][0]) + 1}"
    return "a value known only at deploy time"


def is_lookup_placeholder(vpc: ec2.IVpc) -> bool:
    """True for the dummy VPC ``Vpc.from_lookup`` hands out while its context is missing."""
    return (
        known(vpc.vpc_id)
        and vpc.vpc_id == LOOKUP_PLACEHOLDER_VPC_ID
        and known(vpc.vpc_cidr_block)
        and vpc.vpc_cidr_block == LOOKUP_PLACEHOLDER_CIDR
    )


@jsii.implements(IStableStringProducer)
class Constant:
    """A value the CDK sees as a token, so that it skips its own checks of it.

    ``None`` resolves to nothing: a property given it is left out of the template.
    """

    def __init__(self, value: str | None) -> None:
        self._value = value

    def produce(self) -> str | None:
        return self._value
