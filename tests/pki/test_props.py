"""``handlers.pki.props``: reading the custom resource's properties."""

from __future__ import annotations

import pytest

from constructs_cvpn.handlers.pki.props import PropertyError, get_int


@pytest.mark.parametrize("value", ["0", "10", 10, "7"])
def test_get_int_accepts_both_ends_of_the_range(value: object) -> None:
    """``[low, high]`` is inclusive at both ends (the docstring's contract)."""
    assert get_int({"N": value}, "N", 5, low=0, high=10) == int(str(value))


@pytest.mark.parametrize("value", ["-1", "11", "ten", "1.5"])
def test_get_int_refuses_values_outside_the_range_or_not_integers(value: object) -> None:
    with pytest.raises(PropertyError, match="property N must be"):
        get_int({"N": value}, "N", 5, low=0, high=10)


@pytest.mark.parametrize("props", [{}, {"N": None}, {"N": ""}])
def test_get_int_gives_the_default_for_an_absent_value(props: dict[str, object]) -> None:
    assert get_int(props, "N", 5, low=0, high=10) == 5
