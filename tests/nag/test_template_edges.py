"""``nag.template`` edge cases: resolving ``Ref`` / ``Fn::GetAtt`` the way CloudFormation does.

Oracles come from the CloudFormation template format, not from the code under test:

- ``{"Ref": "X"}`` and ``{"Fn::GetAtt": ["X", "Attr"]}`` name the logical id ``X``; the short
  string form ``{"Fn::GetAtt": "X.Attr"}`` is equally valid and names ``X`` (the text before the
  first dot; logical ids are alphanumeric, so they never contain a dot).
- An intrinsic is an object with exactly one key; an object with two keys is a plain value.
- A ``Ref`` to a parameter or a pseudo parameter, or to an id the template does not define, does
  not point at a resource of the template, so the module docstring says it must give ``None``.
- The module docstring calls the index a read-only view: its ``Resource`` values are immutable.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from constructs_cvpn.nag.template import Template

VPC = "AWS::EC2::VPC"
TEMPLATE: dict[str, Any] = {
    "Parameters": {"VpcIdParam": {"Type": "AWS::EC2::VPC::Id"}},
    "Resources": {
        "Vpc": {"Type": VPC, "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    },
}


@pytest.fixture
def template() -> Template:
    return Template(TEMPLATE)


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "Vpc"},
        {"Fn::GetAtt": ["Vpc", "CidrBlock"]},
        {"Fn::GetAtt": "Vpc.CidrBlock"},  # short string form of Fn::GetAtt
        {"Fn::GetAtt": "Vpc.Ipv6CidrBlocks"},
    ],
)
def test_every_form_of_reference_names_the_logical_id(template: Template, value: Any) -> None:
    assert template.referenced_id(value) == "Vpc"
    resource = template.referenced(value, VPC)
    assert resource is not None
    assert resource.logical_id == "Vpc"


def test_string_get_att_with_a_dotted_attribute_names_the_id_before_the_first_dot() -> None:
    # "Db.Endpoint.Address" is GetAtt of attribute "Endpoint.Address" on "Db".
    template = Template({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance"}}})
    assert template.referenced_id({"Fn::GetAtt": "Db.Endpoint.Address"}) == "Db"


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "VpcIdParam"},  # a parameter, not a resource
        {"Ref": "AWS::Region"},  # a pseudo parameter
        {"Ref": "Missing"},  # an id the template does not define
        {"Fn::GetAtt": ["Missing", "CidrBlock"]},
        {"Fn::GetAtt": "Missing.CidrBlock"},
        {"Fn::GetAtt": "VpcIdParam.CidrBlock"},
    ],
)
def test_a_reference_outside_the_resources_is_unknown(template: Template, value: Any) -> None:
    assert template.referenced_id(value) is None
    assert template.referenced(value, VPC) is None


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "Vpc", "Fn::Sub": "x"},  # two keys: a plain object, not an intrinsic
        {"Ref": "Vpc", "Description": "vpc"},
        {"Fn::GetAtt": ["Vpc", "CidrBlock"], "Ref": "Vpc"},
        {},
    ],
)
def test_a_mapping_that_is_not_one_intrinsic_references_nothing(
    template: Template, value: Any
) -> None:
    assert template.referenced_id(value) is None
    assert template.referenced(value, VPC) is None


@pytest.mark.parametrize(
    "value",
    [None, 7, "Vpc", "V", ["Ref"], ["Vpc"], ("Fn::GetAtt",), True],
)
def test_a_literal_references_nothing(template: Template, value: Any) -> None:
    # Only {"Ref": ...} / {"Fn::GetAtt": ...} objects reference a resource; a bare string equal
    # to a logical id is just a string.
    assert template.referenced_id(value) is None
    assert template.referenced(value, VPC) is None


@pytest.mark.parametrize(
    "attr",
    [
        [],  # malformed: no logical id at all
        "",
        "Vpc",  # malformed string form: no attribute
        42,
        {"Ref": "Vpc"},
    ],
)
def test_malformed_get_att_does_not_crash(template: Template, attr: Any) -> None:
    value = {"Fn::GetAtt": attr}
    result = template.referenced_id(value)
    # The only defined id a malformed GetAtt can name is "Vpc" (the string "Vpc" without an
    # attribute); everything else names nothing.
    assert result is None or (attr == "Vpc" and result == "Vpc")


def test_get_att_string_form_is_not_read_character_by_character() -> None:
    # A one-letter logical id must not be matched by the first character of "Vpc.CidrBlock".
    template = Template({"Resources": {**TEMPLATE["Resources"], "V": {"Type": VPC}}})
    assert template.referenced_id({"Fn::GetAtt": "Vpc.CidrBlock"}) == "Vpc"
    assert template.referenced_id({"Fn::GetAtt": "V.CidrBlock"}) == "V"


def test_reference_to_a_resource_of_another_type_is_none(template: Template) -> None:
    assert template.referenced({"Ref": "Sg"}, VPC) is None
    assert template.referenced_id({"Ref": "Sg"}) == "Sg"


def test_missing_resource_key_error_names_the_id_and_the_template(template: Template) -> None:
    with pytest.raises(KeyError) as caught:
        template["Missing"]
    message = str(caught.value.args[0])
    assert "'Missing'" in message
    # More than the bare id: the error says where the id was looked up.
    assert "template" in message
    assert caught.value.__suppress_context__


def test_resources_are_read_only(template: Template) -> None:
    vpc = template["Vpc"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vpc.logical_id = "Other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vpc.properties = {}  # type: ignore[misc]
    assert template["Vpc"].logical_id == "Vpc"
