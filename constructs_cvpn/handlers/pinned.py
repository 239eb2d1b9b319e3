"""What a handler may touch: pinned by the template in the function's own configuration.

Whoever may ``lambda:InvokeFunction`` a handler (or put targets on its schedule) can send it
any event. So everything that says where things live or who may read them is not taken
from the event: the construct writes it into the function's environment variable
:data:`ENV` (JSON), and this module reads it once per process::

    {"StackId": "<the stack's id>", "LogicalResourceId": "<the custom resource>",
     "BucketOwner": "<account id>",
     "Pinned": {"Bucket": ..., "Prefix": ..., ...},
     "Imposed": {"ReaderRoleArns": [...], ...},
     "Settings": {"RenewBeforeDays": "30", ...}}

- ``Pinned``: an event whose ``ResourceProperties`` give another value for one of these is
  refused (:class:`RefusedEvent`: FAILED to CloudFormation with the property's name, or
  logged when the event has no ``ResponseURL``).
- ``Imposed``: these replace whatever the event says (who may read the CA secret: a
  CloudFormation rollback that carries an older reader list must not fail, and must not
  decide the readers either).
- ``Settings``: with ``Pinned`` and ``Imposed``, the whole of a ``Renew``: the schedule's
  event carries nothing but its request type and the physical id.
- ``StackId``: a CloudFormation request from any other stack is refused.
- ``LogicalResourceId``: a ``Delete`` is obeyed only while CloudFormation itself deletes this
  resource: ``DescribeStackResource`` on the pinned stack must show it
  ``DELETE_IN_PROGRESS`` with the event's physical id (CloudFormation marks a resource so
  before it sends the request), or, for a physical id the resource no longer has (an
  Update answered with a new one: CloudFormation deletes the old one in the clean-up
  phase, or the new one in a rollback's clean-up), ``DescribeStacks`` must show the stack
  in a clean-up status (:data:`CLEANUP_STATUSES`). A forged Delete of the resource's
  current physical id is refused outside ``DELETE_IN_PROGRESS``.
- ``BucketOwner``: sent as ``ExpectedBucketOwner`` on every S3 call (:func:`expect_owner`).

Changing the environment needs ``lambda:UpdateFunctionConfiguration``, which also lets a
principal replace the function's code: the configuration is no weaker than the code. A
function without :data:`ENV` (a unit test, never a function the construct deploys) pins
nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CLEANUP_STATUSES", "ENV", "Pinned", "RefusedEvent", "expect_owner", "forget", "load"]

ENV = "CVPN_PINNED"
_CLOUDFORMATION_REQUESTS = ("Create", "Update", "Delete")
#: The stack statuses of the clean-up phases, in which CloudFormation deletes what an update
#: (or the rollback of a failed one) replaced (CloudFormation User Guide, "Stack status
#: codes"; the API's ``StackStatus`` has no others with ``CLEANUP``).
CLEANUP_STATUSES = frozenset(
    {"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"}
)


class RefusedEvent(ValueError):
    """The event names something the function's configuration does not allow."""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return bool(a == b)


@dataclass(frozen=True)
class Pinned:
    """The function's pinned configuration (see the module docstring)."""

    stack_id: str = ""
    logical_id: str = ""
    bucket_owner: str = ""
    pinned: Mapping[str, Any] = field(default_factory=dict)
    imposed: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.stack_id or self.pinned or self.imposed)

    def admit(
        self,
        event: Mapping[str, Any],
        describe: Callable[[str, str], Mapping[str, Any]] | None = None,
        stack_status: Callable[[str], str] | None = None,
    ) -> dict[str, Any]:
        """The event this handler acts on: ``event`` checked, with ``Imposed`` applied; for
        a ``Renew``, a new event from the configuration and the physical id alone.

        Args:
            describe: ``(stack id, logical id) -> StackResourceDetail`` (CloudFormation's
                ``DescribeStackResource``), asked before a ``Delete`` is obeyed.
            stack_status: ``stack id -> StackStatus`` (``DescribeStacks``), asked before a
                ``Delete`` of a physical id the resource no longer has is obeyed.

        Raises:
            RefusedEvent: another stack, a pinned property with another value, or a
                ``Delete`` while CloudFormation is not deleting this resource.
        """
        if not self.active:
            return dict(event)
        request = event.get("RequestType")
        if request == "Renew":
            return {
                "RequestType": "Renew",
                "PhysicalResourceId": str(event.get("PhysicalResourceId", "")),
                "ResourceProperties": {**self.settings, **self.pinned, **self.imposed},
            }
        stack_id = event.get("StackId")
        if request in _CLOUDFORMATION_REQUESTS and self.stack_id and stack_id != self.stack_id:
            raise RefusedEvent(
                f"refused: the request's StackId is not this function's stack ({self.stack_id})"
            )
        if request == "Delete" and self.logical_id:
            self._check_deleting(event, describe, stack_status)
        props = dict(event.get("ResourceProperties") or {})
        for name, value in self.pinned.items():
            if not _same(props.get(name), value):
                raise RefusedEvent(
                    f"refused: property {name} must be {json.dumps(value)}, as pinned in "
                    "this function's configuration by the template"
                )
        return {**event, "ResourceProperties": {**props, **self.imposed}}

    def deleting_current(
        self, physical_id: str, describe: Callable[[str, str], Mapping[str, Any]]
    ) -> bool:
        """Whether CloudFormation shows this resource ``DELETE_IN_PROGRESS`` under
        ``physical_id`` (so a Delete of it is not the clean-up of an id the resource once
        had, nor a forgery admitted during such a clean-up). True when no resource is
        pinned (a unit test)."""
        if not self.logical_id:
            return True
        detail = describe(self.stack_id, self.logical_id)
        return bool(
            detail.get("ResourceStatus") == "DELETE_IN_PROGRESS"
            and detail.get("PhysicalResourceId") == physical_id
        )

    def _check_deleting(
        self,
        event: Mapping[str, Any],
        describe: Callable[[str, str], Mapping[str, Any]] | None,
        stack_status: Callable[[str], str] | None,
    ) -> None:
        if event.get("LogicalResourceId") != self.logical_id:
            raise RefusedEvent(f"refused: this function serves {self.logical_id} only")
        if describe is None:
            raise RefusedEvent("refused: a Delete needs CloudFormation's view of the resource")
        detail = describe(self.stack_id, self.logical_id)
        status = detail.get("ResourceStatus")
        physical_id = event.get("PhysicalResourceId")
        current = detail.get("PhysicalResourceId")
        if status == "DELETE_IN_PROGRESS" and current == physical_id:
            return
        if physical_id and current and physical_id != current and stack_status is not None:
            stack = stack_status(self.stack_id)
            if stack in CLEANUP_STATUSES:
                return  # the clean-up of what an update or its rollback replaced
            raise RefusedEvent(
                f"refused: {physical_id} is not {self.logical_id}'s current physical id and "
                f"the stack is not cleaning up (its status is {stack})"
            )
        raise RefusedEvent(
            f"refused: CloudFormation is not deleting {self.logical_id} (its status is "
            f"{status}); a Delete is obeyed only while the stack deletes the resource"
        )


_loaded: Pinned | None = None


def load() -> Pinned:
    """The configuration, read from :data:`ENV` once per process."""
    global _loaded
    if _loaded is None:
        raw = os.environ.get(ENV, "")
        if not raw:
            _loaded = Pinned()
        else:
            data = json.loads(raw)
            _loaded = Pinned(
                stack_id=str(data.get("StackId", "")),
                logical_id=str(data.get("LogicalResourceId", "")),
                bucket_owner=str(data.get("BucketOwner", "")),
                pinned=dict(data.get("Pinned") or {}),
                imposed=dict(data.get("Imposed") or {}),
                settings=dict(data.get("Settings") or {}),
            )
    return _loaded


def forget() -> None:
    """Read the configuration again on next use (tests)."""
    global _loaded
    _loaded = None


def _add_expected_owner(params: dict[str, Any], model: Any, **_: Any) -> None:
    owner = load().bucket_owner
    members = getattr(model.input_shape, "members", {}) if model.input_shape else {}
    if owner and "ExpectedBucketOwner" in members:
        params.setdefault("ExpectedBucketOwner", owner)


def expect_owner(s3_client: Any) -> Any:
    """Send ``ExpectedBucketOwner`` (the pinned account) on every call of ``s3_client`` whose
    operation takes it: S3 answers 403 when the bucket belongs to another account
    (Amazon S3 user guide, "Verifying bucket ownership with bucket owner condition")."""
    s3_client.meta.events.register("provide-client-params.s3", _add_expected_owner)
    return s3_client
