"""Reading custom resource properties (CloudFormation passes every scalar as a string)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PropertyError", "get_bool", "get_int", "get_str", "get_str_list"]


class PropertyError(ValueError):
    """A custom resource property is missing or invalid (the message names the property)."""


def get_str(props: Mapping[str, Any], name: str, default: str | None = None) -> str:
    """A required (``default is None``) or optional string property."""
    value = props.get(name)
    if value is None or value == "":
        if default is None:
            raise PropertyError(f"property {name} is required")
        return default
    if not isinstance(value, str):
        raise PropertyError(f"property {name} must be a string")
    return value


def get_int(props: Mapping[str, Any], name: str, default: int, *, low: int, high: int) -> int:
    """An integer property (number or numeric string) within ``[low, high]``."""
    value = props.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise PropertyError(f"property {name} must be an integer") from None
    if not low <= number <= high:
        raise PropertyError(f"property {name} must be between {low} and {high}, got {number}")
    return number


def get_bool(props: Mapping[str, Any], name: str, default: bool) -> bool:
    """A boolean property: ``true``/``false`` (any case) or a JSON boolean."""
    value = props.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text not in ("true", "false"):
        raise PropertyError(f"property {name} must be true or false")
    return text == "true"


def get_str_list(props: Mapping[str, Any], name: str) -> list[str]:
    """A list of strings (required; may be empty)."""
    value = props.get(name)
    if value is None:
        raise PropertyError(f"property {name} is required")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PropertyError(f"property {name} must be a list of strings")
    return list(value)
