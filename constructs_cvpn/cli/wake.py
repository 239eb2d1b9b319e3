"""``cvpn wake`` and the schedule part of ``cvpn status``, for ``ClientVpn(schedule=...)``.

The construct adds one output, ``<vpn>OffHoursSchedule<hash>`` (``discovery.VpnOutputs.
schedule``): JSON with the reconciler
function's name, the wake-until SSM parameter and the hours. ``cvpn wake`` invokes the
function with ``{"wake_hours": N}`` (the only thing a wake may say: the function reconciles
its own configured endpoint, subnets and routes) and waits for it: associating takes a few
minutes. ``cvpn status`` computes the phase and the next change from the hours and the
wake-until time, with the same functions as the reconciler
(``constructs_cvpn.handlers.schedule.hours``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from botocore.exceptions import ClientError

from constructs_cvpn.cli.discovery import discover
from constructs_cvpn.cli.errors import CvpnError, NotFoundError, UsageError, from_client_error
from constructs_cvpn.handlers.schedule.hours import Hours, next_change, phase

__all__ = [
    "parse_duration",
    "schedule_status",
    "wake",
    "wake_stack",
]

_DURATION = re.compile(r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+)m)?$")


def parse_duration(text: str) -> float:
    """``"2h"``, ``"90m"``, ``"1h30m"``, ``"1.5h"`` -> hours."""
    match = _DURATION.match(text.strip().lower())
    if match is None or not (match["h"] or match["m"]):
        raise UsageError(f"--for {text!r}: give a duration such as 2h, 90m or 1h30m")
    return float(match["h"] or 0) + int(match["m"] or 0) / 60


def _hours(schedule: dict[str, Any]) -> Hours:
    return Hours(schedule["time_zone"], schedule["days"], schedule["start"], schedule["stop"])


def wake(lambda_client: Any, schedule: dict[str, Any], hours: float) -> dict[str, Any]:
    """Invoke the reconciler for ``hours``; its answer (phase, wake_until, complete)."""
    limit = float(schedule.get("max_wake_hours", 12))
    if not 0 < hours <= limit:
        raise UsageError(f"--for must be more than 0 and at most {limit:g} hours")
    try:
        response = lambda_client.invoke(
            FunctionName=schedule["function"],
            InvocationType="RequestResponse",
            Payload=json.dumps({"wake_hours": hours}).encode(),
        )
    except ClientError as err:
        raise from_client_error(err, "invoke the schedule's function") from None
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = body.get("errorMessage") if isinstance(body, dict) else body
        raise CvpnError(f"the wake failed: {message}")
    return dict(body)


def read_wake_until(ssm: Any, name: str) -> dt.datetime | None:
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise from_client_error(err, f"read parameter {name}") from None
    return dt.datetime.fromisoformat(str(value))


def schedule_status(
    schedule: dict[str, Any], wake_until: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    """Phase by the hours (and a wake), and when it changes next."""
    hours = _hours(schedule)
    if wake_until is not None and wake_until <= now:
        wake_until = None
    change = next_change(hours, now, wake_until)
    return {
        "phase": phase(hours, now, wake_until),
        "hours": f"{hours.days} {hours.start}-{hours.stop} {hours.time_zone}",
        "wake_until": wake_until.isoformat(timespec="seconds") if wake_until else None,
        "next_change": change.isoformat(timespec="minutes") if change else None,
    }


def status_of(clients: Any, schedule_json: str, now: dt.datetime) -> dict[str, Any]:
    """``cvpn status``'s schedule part, from the VPN's schedule output."""
    schedule = json.loads(schedule_json)
    wake_until = read_wake_until(clients.ssm(), schedule["wake_parameter"])
    return schedule_status(schedule, wake_until, now)


def print_schedule(status: dict[str, Any] | None) -> None:
    if status is None:
        return
    woken = f", woken until {status['wake_until']}" if status["wake_until"] else ""
    print(
        f"Schedule: {status['phase']} ({status['hours']}{woken}); "
        f"next change {status['next_change'] or 'none'}"
    )


def wake_stack(clients: Any, stack: str, vpn: str | None, duration: str) -> dict[str, Any]:
    """``cvpn wake``: find the VPN's schedule in the stack's outputs and wake it."""
    hours = parse_duration(duration)
    found = discover(clients.cloudformation(), stack, vpn)
    if found.schedule is None:
        raise NotFoundError(
            f"the VPN {found.label} in stack '{stack}' has no off-hours schedule "
            "(ClientVpn(schedule=...))"
        )
    return wake(clients.lambda_(), json.loads(found.schedule), hours)


def wake_message(result: dict[str, Any]) -> str:
    state = "associated" if result.get("complete") else "associating (cvpn wait shows when done)"
    return f"Awake until {result.get('wake_until')}: {state}."
