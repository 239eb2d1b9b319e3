"""Lambda entry point for the PKI custom resources: ``handlers.pki.index.handler``.

:func:`on_event` returns ``PhysicalResourceId`` and ``Data`` and raises on failure;
``handler`` answers CloudFormation with it (see :mod:`..cloudformation`: FAILED with the
exception message, which never contains key material). The ``Kind`` property selects
``Authority`` (see :mod:`.authority`) or ``Users`` (see :mod:`.users`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .. import pinned
from ..cloudformation import answering
from ..log_levels import set_levels
from . import authority, revoke_now, users
from .aws import client
from .props import PropertyError

__all__ = ["handler", "on_event"]

LOG = logging.getLogger(__name__)
set_levels(__package__)  # handlers/log_levels.py

KINDS = ("Authority", "Users")


def on_event(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Handle a Create, Update, Delete or Renew request.

    ``Renew`` comes from the construct's EventBridge schedule, not from CloudFormation: the
    event carries the custom resource's ``ResourceProperties`` and ``PhysicalResourceId``;
    the run renews what expires within ``RenewBeforeDays`` and reports days to expiry.

    What the function may touch comes from its configuration (:mod:`..pinned`): an event
    naming anything else is refused, and a ``Renew`` takes nothing from its event but the
    physical id, which must name this CA's secret.

    Raises:
        PropertyError: unknown ``Kind`` or request type, or an invalid property.
        RefusedEvent: the event names what the configuration does not allow.
    """
    configuration = pinned.load()
    try:
        event = configuration.admit(event, _describe, _stack_status)
        if configuration.active:
            _check_physical_id(event)
    except pinned.RefusedEvent as err:
        LOG.error("%s", err)
        raise
    request = event.get("RequestType")
    props: Mapping[str, Any] = event.get("ResourceProperties") or {}
    old: Mapping[str, Any] = event.get("OldResourceProperties") or {}
    pid = str(event.get("PhysicalResourceId", ""))
    kind = props.get("Kind")
    if kind not in KINDS:
        raise PropertyError(f"property Kind must be one of {', '.join(KINDS)}")
    if request not in ("Create", "Update", "Delete", "Renew"):
        raise PropertyError(f"unknown RequestType {request!r}")
    LOG.info("%s %s", request, kind)
    if (
        request == "Delete"
        and not (kind == "Authority" and pid.startswith("arn:"))
        and not configuration.deleting_current(pid, _describe)
    ):
        # Admitted as the clean-up of an id the resource no longer has. Only an old CA
        # secret's own ARN (checked above to be one of this CA's) names what to remove; a
        # made-up id would make Delete sweep by tags or properties, i.e. remove the current
        # CA or every user's file: a forged Delete during any stack clean-up.
        LOG.warning("Delete of %s: not the resource CloudFormation is deleting; nothing done", pid)
        return {"PhysicalResourceId": pid}
    if request == "Delete":
        if kind == "Authority":
            authority.delete(pid, props, **_owner(event))
        else:
            users.delete(props, context)
        return {"PhysicalResourceId": pid}
    if kind == "Authority":
        request_id = str(event.get("RequestId", ""))
        pid, data = authority.create_or_update(
            props,
            physical_id=None if request == "Create" else pid,
            request_id=request_id,
            renew=request == "Renew",
            **_owner(event),
        )
    else:
        pid, data = users.create_or_update(
            props,
            old if request == "Update" else None,
            request=str(request),
            request_id=str(event.get("RequestId", "")),
            context=context,
        )
    return {"PhysicalResourceId": pid, "Data": data}


def _owner(event: Mapping[str, Any]) -> dict[str, str]:
    """The custom resource's stack and logical id (tags of what the Authority creates)."""
    return {
        "stack_id": str(event.get("StackId", "")),
        "logical_id": str(event.get("LogicalResourceId", "")),
    }


def _describe(stack_id: str, logical_id: str) -> Mapping[str, Any]:
    """CloudFormation's ``DescribeStackResource`` (see :meth:`..pinned.Pinned.admit`)."""
    out = client("cloudformation").describe_stack_resource(
        StackName=stack_id, LogicalResourceId=logical_id
    )
    detail: Mapping[str, Any] = out["StackResourceDetail"]
    return detail


def _stack_status(stack_id: str) -> str:
    """CloudFormation's ``DescribeStacks``: the stack's status (a clean-up phase or not)."""
    out = client("cloudformation").describe_stacks(StackName=stack_id)
    return str(out["Stacks"][0]["StackStatus"])


def _check_physical_id(event: Mapping[str, Any]) -> None:
    """An Authority's physical id (other than a failed Create's marker) is one of this CA's
    secrets: ``arn:...:secret:<CaSecretPrefix>-<16 hex>-<6 characters>``."""
    props: Mapping[str, Any] = event.get("ResourceProperties") or {}
    pid = str(event.get("PhysicalResourceId", ""))
    if props.get("Kind") != "Authority" or event.get("RequestType") == "Create":
        return
    if not pid.startswith("arn:"):
        return  # not a secret: nothing was created (Delete) or refused below (Update/Renew)
    prefix = str(props.get("CaSecretPrefix", ""))
    name = pid.split(":secret:", 1)[-1] if ":secret:" in pid else ""
    rest = name[len(prefix) + 1 :] if name.startswith(f"{prefix}-") else ""
    marker, _, suffix = rest.partition("-")
    if len(marker) != 16 or any(c not in "0123456789abcdef" for c in marker) or len(suffix) != 6:
        raise pinned.RefusedEvent(
            f"refused: physical id {pid!r} is not one of this CA's secrets ({prefix}-...)"
        )


# A failed Create's rollback Delete runs too: a second delivery of that Create may have
# made a CA secret or user files after the first failed (handlers/cloudformation.py).
_answering = answering(on_event, marker_deletes=True)


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any] | None:
    """The Lambda entry point: runs :func:`on_event` and answers CloudFormation (the
    renewal schedule's events have no ResponseURL and just run); ``Revoke`` / ``Rotate``
    (``cvpn revoke``, invoked directly) return their result to the caller instead."""
    if event.get("RequestType") in revoke_now.OPERATIONS:
        return revoke_now.handle(event, context)
    _answering(event, context)
    return None
