"""Which template changes replace a resource: the CloudFormation resource schemas cfn-lint ships.

A resource schema lists its ``createOnlyProperties`` (``/properties/ClientCidrBlock``, or a
nested path such as ``/properties/AuthenticationOptions/...``, which counts as its top-level
property). Changing one of them makes CloudFormation create a new resource and delete the old
one after the stack update succeeds; changing any other property updates the resource in place.

Custom resources (``Custom::*`` and ``AWS::CloudFormation::CustomResource``) are always updated
in place: CloudFormation sends the handler an Update with the new and the old properties (the
handler may answer with a new physical id, which CloudFormation then treats as a replacement:
that is the handler's decision, invisible in a template). Their one create-only property,
``ServiceToken``, cannot be changed at all ("Modifying service token is not allowed");
``changes_service_token`` tells.

The schemas are read from cfn-lint's data files (``cfnlint/data/schemas``): the per-region
provider index ``providers/<region>.json`` maps each type to ``resources/<hash>.json``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

#: The region whose provider index is read. Create-only properties do not differ by region.
REGION = "us-east-1"

Classification = Literal["none", "in-place", "replacement"]

CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"


def is_custom(resource_type: str) -> bool:
    """True for custom resources (``Custom::Name`` or ``AWS::CloudFormation::CustomResource``)."""
    return resource_type.startswith("Custom::") or resource_type == CUSTOM_RESOURCE


@cache
def _provider_index() -> dict[str, str]:
    index = resources.files("cfnlint.data.schemas") / "providers" / f"{REGION}.json"
    try:
        data: dict[str, str] = json.loads(index.read_text())
    except FileNotFoundError as err:  # pragma: no cover - depends on the cfn-lint layout
        raise RuntimeError(
            f"cfn-lint's schema index {index} is missing; this module expects cfn-lint 1.x "
            "(providers/<region>.json -> resources/<hash>.json)"
        ) from err
    return data


@cache
def schema(resource_type: str) -> dict[str, Any]:
    """The resource schema of ``resource_type`` as cfn-lint ships it."""
    if resource_type.startswith("Custom::"):
        resource_type = CUSTOM_RESOURCE
    try:
        digest = _provider_index()[resource_type]
    except KeyError:
        raise KeyError(
            f"cfn-lint ships no schema for {resource_type!r} in {REGION}; "
            "cannot tell which of its properties are create-only"
        ) from None
    path = resources.files("cfnlint.data.schemas") / "resources" / f"{digest}.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@cache
def create_only(resource_type: str) -> frozenset[str]:
    """Top-level property names whose change replaces a resource of ``resource_type``.

    ``/properties/AuthenticationOptions/...`` counts as ``AuthenticationOptions``. For custom
    resources this is ``{"ServiceToken"}`` (which in fact cannot be changed at all).
    """
    paths = schema(resource_type).get("createOnlyProperties", [])
    names = set()
    for path in paths:
        parts = path.split("/")
        if len(parts) < 3 or parts[0] != "" or parts[1] != "properties":
            raise ValueError(f"{resource_type}: unexpected createOnlyProperties entry {path!r}")
        names.add(parts[2])
    return frozenset(names)


def changed_properties(
    old_props: dict[str, Any] | None, new_props: dict[str, Any] | None
) -> set[str]:
    """Top-level property names that differ (added, removed or changed)."""
    old = old_props or {}
    new = new_props or {}
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def classify(
    resource_type: str, old_props: dict[str, Any] | None, new_props: dict[str, Any] | None
) -> Classification:
    """How CloudFormation applies a change of a resource's properties.

    ``"none"`` when nothing changed; ``"replacement"`` when a create-only property was added,
    removed or changed; else ``"in-place"``. Custom resources: ``"in-place"`` on any change
    (CloudFormation sends an Update).
    """
    changed = changed_properties(old_props, new_props)
    if not changed:
        return "none"
    if is_custom(resource_type):
        return "in-place"
    if changed & create_only(resource_type):
        return "replacement"
    return "in-place"


def changes_service_token(
    resource_type: str, old_props: dict[str, Any] | None, new_props: dict[str, Any] | None
) -> bool:
    """True when a custom resource's ``ServiceToken`` changes: CloudFormation refuses that."""
    return is_custom(resource_type) and "ServiceToken" in changed_properties(old_props, new_props)
