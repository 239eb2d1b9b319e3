"""The limits ``descriptions.py`` fits paths to are the resource schemas' own.

Oracle: the CloudFormation resource provider schemas as cfn-lint ships them (``maxLength``
of each property, the security group description's ``pattern``).
"""

from __future__ import annotations

import re

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from constructs_cvpn import descriptions
from constructs_cvpn.descriptions import security_group_description, with_path


def _schema_property(resource_type: str, name: str) -> dict[str, object]:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    found: dict[str, object] = schema["properties"][name]
    if "$ref" in found:
        found = schema["definitions"][str(found["$ref"]).rsplit("/", 1)[1]]
    return found


@pytest.mark.parametrize(
    ("limit", "resource_type", "name"),
    [
        ("SECURITY_GROUP_DESCRIPTION", "AWS::EC2::SecurityGroup", "GroupDescription"),
        ("ALARM_DESCRIPTION", "AWS::CloudWatch::Alarm", "AlarmDescription"),
        ("MANAGED_POLICY_DESCRIPTION", "AWS::IAM::ManagedPolicy", "Description"),
        ("KEY_DESCRIPTION", "AWS::KMS::Key", "Description"),
        ("SCHEDULE_DESCRIPTION", "AWS::Scheduler::Schedule", "Description"),
        ("QUERY_NAME", "AWS::Logs::QueryDefinition", "Name"),
    ],
)
def test_each_limit_is_the_schemas_max_length(limit: str, resource_type: str, name: str) -> None:
    assert getattr(descriptions, limit) == _schema_property(resource_type, name)["maxLength"]


def test_a_security_group_description_keeps_exactly_the_characters_the_schema_allows() -> None:
    pattern = re.compile(
        str(_schema_property("AWS::EC2::SecurityGroup", "GroupDescription")["pattern"])
    )
    for code in [*range(32, 127), 0xE9, 0x2019, 0x4E2D]:
        character = chr(code)
        kept = security_group_description(character, "x") == f"Client VPN {character}: x"
        assert kept == bool(pattern.fullmatch(character)), repr(character)


def test_a_text_exactly_at_the_limit_is_kept_whole() -> None:
    text = with_path("Client VPN {path}: key", "App/Vpn", 23)
    assert text == "Client VPN App/Vpn: key" and len(text) == 23
    assert with_path("Client VPN {path}: key", "App/Vpn", 22) == "Client VPN ...Vpn: key"
