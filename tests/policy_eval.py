"""A small evaluator of IAM identity and resource policies for one account (tests only).

moto evaluates no resource policy (bucket policy, secret policy, key policy), so the tests of
issue 18 decide requests with this evaluator, itself tested on the documented cases in
``tests/test_policy_eval.py``. It follows the IAM documentation:

- Policy evaluation logic (same account):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
  An explicit Deny in any applicable policy wins; otherwise an Allow in the identity policy
  OR in the resource policy (for a principal of the same account) allows; otherwise the
  request is implicitly denied. A resource policy that names the account (``:root`` or the
  account id) as principal delegates to IAM: it allows nothing by itself.
- Condition operators:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  A key absent from the request context makes a condition false, except for the negated
  operators (``StringNotEquals``, ``StringNotLike``, ``ArnNotEquals``, ``ArnNotLike``), which are
  then true; ``...IfExists`` is true when the key is absent; ``Null: true`` holds when the key
  is absent. Several keys in one operator, and several operators, must all hold; several
  values for one key: any of them matches (for negated operators: none of them matches).
  ``ForAnyValue:``/``ForAllValues:`` compare a multi-valued key.

- KMS key policies (AWS KMS developer guide, "Key policies in AWS KMS":
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html): "Unless the key
  policy explicitly allows it, you cannot use IAM policies to allow access to a KMS key".
  With ``key_policy=True`` an identity Allow counts only for an action that a key-policy
  statement naming the account (``:root``) allows.

Supported: ``Effect``, ``Principal`` (``"*"``, ``{"AWS": ...}``, ``{"Service": ...}``),
``Action``/``NotAction``, ``Resource``/``NotResource`` with ``*`` and ``?`` wildcards, and the
operators String(Not)Equals, String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null, each
with ``IfExists``. An unsupported operator raises (never silently true or false).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Request", "evaluate"]


@dataclass(frozen=True)
class Request:
    """One authorization request: who, what, on which resource, with which context."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    principal_account: str = ""

    def account(self) -> str:
        if self.principal_account:
            return self.principal_account
        parts = self.principal.split(":")
        return parts[4] if len(parts) > 4 else ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _glob(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(pattern))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, str(text), flags) is not None


def _arn_like(pattern: str, arn: str) -> bool:
    """ArnLike: each of the six colon-separated parts matches, wildcards within a part."""
    want = str(pattern).split(":", 5)
    got = str(arn).split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    return all(_glob(w, g) for w, g in zip(want, got, strict=True))


def _one(operator: str, expected: str, actual: Any) -> bool:
    if operator == "StringEquals":
        return str(actual) == str(expected)
    if operator == "StringLike":
        return _glob(expected, actual)
    if operator in ("ArnEquals", "ArnLike"):
        return _arn_like(expected, actual)
    if operator == "Bool":
        return str(actual).lower() == str(expected).lower()
    raise NotImplementedError(f"condition operator {operator} is not supported")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


_KNOWN = frozenset(
    {"StringEquals", "StringLike", "ArnEquals", "ArnLike", "Bool", "Null", *_NEGATED}
)


def _condition_holds(
    raw_operator: str, key: str, expected: Any, context: Mapping[str, Any]
) -> bool:
    qualifier = ""
    operator = raw_operator
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    if operator not in _KNOWN:
        raise NotImplementedError(f"condition operator {raw_operator} is not supported")
    present = key in context and context[key] is not None
    if operator == "Null":
        (flag,) = _as_list(expected)
        return (not present) == (str(flag).lower() == "true")
    if not present:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True  # vacuously true for an absent (empty) set
        return operator in _NEGATED
    values = [str(v) for v in _as_list(expected)]
    actual = _as_list(context[key])
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)

    def matches(item: Any) -> bool:
        return any(_one(base, v, item) for v in values)

    if qualifier == "ForAllValues":
        result = all(matches(a) for a in actual)
        return not result if negated else result
    if qualifier == "ForAnyValue":
        result = any(matches(a) for a in actual)
        return not result if negated else result
    if qualifier:
        raise NotImplementedError(f"qualifier {qualifier} is not supported")
    if len(actual) != 1:
        raise NotImplementedError(f"{key} is multi-valued: use ForAnyValue/ForAllValues")
    found = matches(actual[0])
    return not found if negated else found


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, block in conditions.items()
        for key, expected in block.items()
    )


def _principal_matches(principal: Any, request: Request) -> bool:
    """Whether a resource-policy ``Principal`` names the request's principal directly."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise NotImplementedError(f"principal {principal!r}")
    for kind, names in principal.items():
        for name in _as_list(names):
            if name == "*":
                return True
            if kind == "AWS" and name == request.principal:
                return True
            if kind == "Service" and name == request.principal:
                return True
    return False


def _names_account(principal: Any, request: Request) -> bool:
    """A principal given as the account (``arn:...:root`` or the id): delegation to IAM."""
    if not isinstance(principal, Mapping):
        return False
    account = request.account()
    for name in _as_list(principal.get("AWS")):
        if name in (account, f"arn:aws:iam::{account}:root"):
            return True
    return False


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(
            _glob(a, request.action, ignore_case=True) for a in _as_list(statement["Action"])
        ):
            return False
    elif "NotAction" in statement:
        if any(
            _glob(a, request.action, ignore_case=True) for a in _as_list(statement["NotAction"])
        ):
            return False
    else:
        raise ValueError(f"statement without Action or NotAction: {statement}")
    if "Resource" in statement:
        if not any(_glob(r, request.resource) for r in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        _glob(r, request.resource) for r in _as_list(statement["NotResource"])
    ):
        return False
    return _conditions_hold(statement.get("Condition", {}), request.context)


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not document:
        return []
    return [dict(s) for s in _as_list(document.get("Statement"))]


def evaluate(
    request: Request,
    *,
    identity: Sequence[Mapping[str, Any]] = (),
    resource: Mapping[str, Any] | None = None,
    key_policy: bool = False,
) -> bool:
    """Same-account decision for ``request`` under identity policies and one resource policy.

    ``request.context`` should hold ``aws:PrincipalArn`` (added here when absent) and any
    other key the policies test.
    """
    context = {"aws:PrincipalArn": request.principal, **request.context}
    request = Request(
        request.principal,
        request.action,
        request.resource,
        context,
        request.principal_account,
    )
    identity_allows = False
    for document in identity:
        for statement in _statements(document):
            if not _applies(statement, request):
                continue
            if statement["Effect"] == "Deny":
                return False
            identity_allows = True
    allowed = identity_allows and not key_policy
    for statement in _statements(resource):
        principal = statement.get("Principal")
        if "NotPrincipal" in statement:
            raise NotImplementedError("NotPrincipal is not supported")
        if not (_principal_matches(principal, request) or _names_account(principal, request)):
            continue
        if not _applies(statement, request):
            continue
        if statement["Effect"] == "Deny":
            if _principal_matches(principal, request) or _names_account(principal, request):
                return False
        elif _principal_matches(principal, request):
            allowed = True
        elif key_policy and identity_allows:
            allowed = True  # the key policy delegates this action to the account's IAM
    return allowed
