"""``nag.template``: reading CloudFormation values the way the service does."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_cvpn.nag.template import as_bool, is_intrinsic


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("false", False),
        ("yes", None),  # CloudFormation accepts only true/false for a Boolean
        ({"Ref": "SplitTunnel"}, None),  # not known at synth time
        (1, None),
    ],
)
def test_as_bool_reads_booleans_and_their_strings(value: Any, expected: bool | None) -> None:
    assert as_bool(value) is expected


def test_as_bool_gives_the_default_only_for_an_absent_value() -> None:
    assert as_bool(None, default=True) is True
    assert as_bool(None) is None
    assert as_bool("false", default=True) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "SplitTunnel"}, True),
        ({"Fn::GetAtt": ["Group", "GroupId"]}, True),
        ({"Fn::If": ["IsProd", True, False]}, True),
        ({"Condition": "IsProd"}, True),
        ({"Ref": "A", "Fn::Sub": "b"}, False),  # two keys: a plain object, not an intrinsic
        ({"Enabled": True}, False),
        ({}, False),
        ("Ref", False),
        (["Ref"], False),
    ],
)
def test_is_intrinsic_is_one_key_naming_a_function(value: Any, expected: bool) -> None:
    assert is_intrinsic(value) is expected
