"""``nag.template``: reading CloudFormation values the way the service does."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_cvpn.nag.template import as_bool


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
