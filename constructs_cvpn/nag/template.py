"""A read-only view of a synthesized CloudFormation template for the Client VPN rules.

Rules see resources as they appear in the template (PascalCase properties, intrinsics as
``{"Ref": ...}`` / ``{"Fn::GetAtt": [...]}``). Relations between resources are followed by
resolving those intrinsics to logical ids of the same template. Anything that does not resolve
(imported resources, parameters, other stacks) is *unknown*: helpers return ``None`` and rules
answer ``NOT_APPLICABLE`` instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

USER_BASED_AUTH_TYPES = frozenset({"directory-service-authentication", "federated-authentication"})
"""``AuthenticationOptions[].Type`` values that authenticate users (and so carry groups)."""

OPEN_IPV4 = "0.0.0.0/0"
OPEN_IPV6 = "::/0"


def is_intrinsic(value: Any) -> bool:
    """Return True when ``value`` is an unresolved CloudFormation intrinsic or condition."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::") or key == "Condition")


def as_bool(value: Any, default: bool | None = None) -> bool | None:
    """Read a CloudFormation boolean: True/False, or "true"/"false" strings.

    Returns ``default`` when the value is absent (``None``) and ``None`` when it is not known at
    synth time (an intrinsic, or something that is not a boolean at all).
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


@dataclass(frozen=True)
class Resource:
    """One resource of a template: its logical id, type and (possibly empty) properties."""

    logical_id: str
    type: str
    properties: Mapping[str, Any] = field(default_factory=dict)

    def prop(self, name: str) -> Any:
        """Return the property ``name`` or ``None`` when it is absent."""
        return self.properties.get(name)


class Template:
    """Index over a synthesized template's ``Resources`` with intrinsic-following helpers."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        """Index ``template`` (a parsed CloudFormation template)."""
        resources = template.get("Resources") or {}
        self._resources: dict[str, Resource] = {
            logical_id: Resource(
                logical_id=logical_id,
                type=str(body.get("Type", "")),
                properties=body.get("Properties") or {},
            )
            for logical_id, body in resources.items()
            if isinstance(body, Mapping)
        }

    def __contains__(self, logical_id: object) -> bool:
        """Return True when the template defines a resource with this logical id."""
        return logical_id in self._resources

    def get(self, logical_id: str) -> Resource | None:
        """Return the resource with this logical id, or ``None``."""
        return self._resources.get(logical_id)

    def __getitem__(self, logical_id: str) -> Resource:
        """Return the resource with this logical id; ``KeyError`` names the missing id."""
        try:
            return self._resources[logical_id]
        except KeyError:
            raise KeyError(f"resource {logical_id!r} is not in the synthesized template") from None

    def of_type(self, resource_type: str) -> Iterator[Resource]:
        """Yield every resource of ``resource_type``, in template order."""
        return (r for r in self._resources.values() if r.type == resource_type)

    def referenced_id(self, value: Any) -> str | None:
        """Return the logical id a ``Ref`` / ``Fn::GetAtt`` points at, if it is in this template.

        ``{"Ref": "X"}``, ``{"Fn::GetAtt": ["X", "Attr"]}`` and ``{"Fn::GetAtt": "X.Attr"}`` all
        give ``"X"``. Anything else (literals, parameters, imports) gives ``None``.
        """
        if not isinstance(value, Mapping) or len(value) != 1:
            return None
        target: Any = None
        if "Ref" in value:
            target = value["Ref"]
        elif "Fn::GetAtt" in value:
            attr = value["Fn::GetAtt"]
            if isinstance(attr, list) and attr:
                target = attr[0]
            elif isinstance(attr, str):
                target = attr.split(".", 1)[0]
        return target if isinstance(target, str) and target in self._resources else None

    def referenced(self, value: Any, resource_type: str) -> Resource | None:
        """Return the resource ``value`` points at when it exists and has ``resource_type``."""
        logical_id = self.referenced_id(value)
        if logical_id is None:
            return None
        resource = self._resources[logical_id]
        return resource if resource.type == resource_type else None


def user_based_auth(endpoint: Resource) -> bool | None:
    """Tell whether a Client VPN endpoint authenticates users (Active Directory or SAML).

    ``None`` when ``AuthenticationOptions`` is not known at synth time.
    """
    options = endpoint.prop("AuthenticationOptions")
    if not isinstance(options, list):
        return None
    types = []
    for option in options:
        kind = option.get("Type") if isinstance(option, Mapping) else None
        if not isinstance(kind, str):
            return None
        types.append(kind)
    return any(kind in USER_BASED_AUTH_TYPES for kind in types)
