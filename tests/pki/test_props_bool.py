"""``get_bool`` turns CloudFormation's string booleans into real ``bool`` values.

Oracles: the ``get_bool`` docstring (``true``/``false`` in any case, or a JSON boolean) and
the CloudFormation custom resource documentation, which says every property value reaches
the handler as a string (so ``"false"`` must become ``False``, not the truthy string).
"""

from __future__ import annotations

import pytest

from constructs_cvpn.handlers.pki.props import PropertyError, get_bool


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("True", True), ("false", False), ("False", False)],
)
def test_string_booleans_become_bools(value: str, expected: bool) -> None:
    result = get_bool({"Flag": value}, "Flag", not expected)
    assert type(result) is bool
    assert result is expected


@pytest.mark.parametrize("value", [True, False])
def test_json_booleans_are_kept(value: bool) -> None:
    assert get_bool({"Flag": value}, "Flag", not value) is value


@pytest.mark.parametrize("value", ["yes", "1", "0", "on", 1])
def test_other_values_are_refused(value: object) -> None:
    with pytest.raises(PropertyError, match="property Flag must be true or false"):
        get_bool({"Flag": value}, "Flag", False)
