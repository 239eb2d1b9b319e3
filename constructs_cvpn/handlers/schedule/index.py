"""The off-hours reconciler's Lambda entry point (``handlers.schedule.index.handler``).

Three kinds of invocation, all reconciling the one desired set in the function's
configuration (:mod:`.config`) with the phase of the clock (:mod:`.hours`):

- CloudFormation (``Custom::ClientVpnSchedule``; answered by :mod:`..cloudformation`):
  Create and Update reconcile now and return the endpoint id as the physical id and
  ``Phase``/``Complete``/``Associated`` as ``Data``. A deploy does not wake the VPN: in the
  off phase the desired set is stored (it is the configuration) and associated at the next
  wake. Delete disassociates everything only when the stack itself goes away (deletion, or
  the rollback of its creation): an endpoint cannot be deleted with target networks
  associated (EC2 API reference, DeleteClientVpnEndpoint). Any other Delete (the schedule
  removed by an update, the clean-up after a replacement, an update's rollback) leaves the
  associations alone: they are CloudFormation's again, or the new resource's. A Create
  that fails while the stack is being created disassociates what it did before failing.
- EventBridge Scheduler (``{"schedule": "wake" | "sleep" | "check"}``, no ``ResponseURL``):
  reconcile, unless the stack is ``*_IN_PROGRESS`` (a deploy or deletion: the associations
  may be CloudFormation's again, or released for the endpoint's deletion; the first check
  after it acts). The name is logged and otherwise ignored: the phase comes from the clock.
- ``cvpn wake`` (``{"wake_hours": N}``, 0 < N <= ``max_wake_hours``): extend the
  wake-until time (:mod:`.wake`) and reconcile; returns ``{"phase", "wake_until",
  "complete"}``.

Any other event is refused. Runs stop ``clock.MARGIN_SECONDS`` before the Lambda's
deadline; what is left is done by the next run (the check schedule runs every 15 minutes).

IAM: ``ec2:DescribeClientVpnTargetNetworks``, ``ec2:DescribeClientVpnRoutes`` (no
resource-level permissions), ``ec2:AssociateClientVpnTargetNetwork``,
``ec2:DisassociateClientVpnTargetNetwork``, ``ec2:CreateClientVpnRoute``,
``ec2:DeleteClientVpnRoute`` on the endpoint; ``ssm:GetParameter``, ``ssm:PutParameter``,
``ssm:DeleteParameter`` on the wake-until parameter; ``cloudformation:DescribeStacks`` on
its own stack.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

from ..cloudformation import answering
from ..log_levels import set_levels
from ..pki.clock import Deadline
from . import aws, config, wake
from .hours import ASLEEP, phase
from .reconcile import Outcome, reconcile

__all__ = ["handler", "on_event"]

LOG = logging.getLogger(__name__)
set_levels(__package__)  # handlers/log_levels.py

#: The stack states in which a Delete means "the stack is going away".
STACK_DELETING = frozenset({"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
SCHEDULES = frozenset({"wake", "sleep", "check"})


class EventError(ValueError):
    """The event is not one this handler takes."""


def now() -> dt.datetime:
    """The clock (UTC); tests move it."""
    return dt.datetime.fromtimestamp(time.time(), dt.UTC)


def _run(cfg: config.Config, context: object, *, release: bool = False) -> Outcome:
    ec2, ssm = aws.client("ec2"), aws.client("ssm")
    deadline = Deadline(context)

    def phase_now() -> str:
        if release:
            return ASLEEP
        return phase(cfg.hours, now(), wake.read(ssm, cfg.wake_parameter))

    return reconcile(ec2, cfg, phase_now, time_left=deadline.seconds_left, sleep=time.sleep)


def _stack_status(stack_id: str) -> str:
    stacks = aws.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    return str(stacks[0].get("StackStatus", "")) if stacks else ""


def on_event(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Handle one invocation; raise on failure."""
    cfg = config.load()
    request_type = event.get("RequestType")
    if request_type == "Create":
        try:
            outcome = _run(cfg, context)
        except Exception:
            # The rollback's Delete of a failed Create never reaches this handler
            # (handlers/cloudformation.py): clean up here when the stack is being created.
            if _stack_status(cfg.stack_id) == "CREATE_IN_PROGRESS":
                _run(cfg, context, release=True)
            raise
        return {"PhysicalResourceId": cfg.endpoint_id, "Data": outcome.data()}
    if request_type == "Update":
        outcome = _run(cfg, context)
        return {"PhysicalResourceId": cfg.endpoint_id, "Data": outcome.data()}
    if request_type == "Delete":
        physical_id = str(event.get("PhysicalResourceId", ""))
        if _stack_status(cfg.stack_id) not in STACK_DELETING:
            LOG.info("Delete without stack deletion: associations left in place")
            return {"PhysicalResourceId": physical_id}
        outcome = _run(cfg, context, release=True)
        if not outcome.complete:
            raise RuntimeError(
                f"{len(outcome.associated)} association(s) of {cfg.endpoint_id} still being "
                "removed; the endpoint cannot be deleted before they are gone"
            )
        wake.clear(aws.client("ssm"), cfg.wake_parameter)
        return {"PhysicalResourceId": physical_id}
    if request_type is not None:
        raise EventError(f"unsupported RequestType {request_type!r}")
    if set(event) == {"schedule"} and event["schedule"] in SCHEDULES:
        status = _stack_status(cfg.stack_id)
        if status.endswith("_IN_PROGRESS"):
            # CloudFormation is changing the stack: creating the associations of a VPN whose
            # schedule is being removed, deleting the stack after the reconciler released
            # everything, or running the reconciler itself. The first check after it acts.
            LOG.info("schedule %s: stack %s, left to the next check", event["schedule"], status)
            return {"phase": None, "complete": False, "stack": status}
        LOG.info("schedule %s", event["schedule"])
        outcome = _run(cfg, context)
        return {"phase": outcome.phase, "complete": outcome.complete}
    if set(event) == {"wake_hours"}:
        hours = event["wake_hours"]
        if (
            isinstance(hours, bool)
            or not isinstance(hours, int | float)
            or not 0 < hours <= cfg.max_wake_hours
        ):
            raise EventError(f"wake_hours must be a number from 0 to {cfg.max_wake_hours}")
        until = wake.extend(
            aws.client("ssm"), cfg.wake_parameter, now() + dt.timedelta(hours=float(hours))
        )
        outcome = _run(cfg, context)
        return {
            "phase": outcome.phase,
            "wake_until": until.isoformat(timespec="seconds"),
            "complete": outcome.complete,
        }
    raise EventError(
        "not an event this function takes: a CloudFormation request, "
        '{"schedule": "wake"|"sleep"|"check"} or {"wake_hours": N}'
    )


_answering = answering(on_event)


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any] | None:
    """The Lambda entry point: CloudFormation requests are answered through ``ResponseURL``
    (:mod:`..cloudformation`); a schedule or ``cvpn wake`` gets the result returned (a
    synchronous invoke shows it to the caller; a failure raises, which Lambda reports)."""
    if "RequestType" in event:
        _answering(event, context)
        return None
    return on_event(event, context)
