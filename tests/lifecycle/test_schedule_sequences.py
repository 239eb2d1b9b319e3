"""Off-hours schedule sequences: deploys, flips, wakes and failures (issue 22).

Every sequence ends with the desired associations and routes for its phase: awake, both
subnets ``associated``, exactly the declared routes (the client-to-client route and each
extra route through each subnet) and the endpoint ``available``; asleep, no association,
no added route, the endpoint ``pending-associate``. The reconciler is the real handler
with the template's configuration, IAM policy (every call checked) and schedule inputs;
the fake Client VPN is :mod:`.fake_network`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from constructs_cvpn.handlers.schedule.index import EventError

from .fake_network import CONCURRENT_LIMIT, error
from .harness import Killed
from .schedule_world import (
    ENDPOINT_ID,
    SUBNETS,
    V2_CIDR,
    ScheduleWorld,
    Versions,
    VirtualClock,
    berlin,
    synthesize_scheduled,
)

MUTATIONS = (
    "AssociateClientVpnTargetNetwork",
    "DisassociateClientVpnTargetNetwork",
    "CreateClientVpnRoute",
    "DeleteClientVpnRoute",
)


@pytest.fixture(scope="module")
def versions() -> Versions:
    return synthesize_scheduled()


@pytest.fixture
def world(versions: Versions, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScheduleWorld]:
    w = ScheduleWorld(VirtualClock(berlin(8, 10)), monkeypatch)  # Tuesday 10:00
    w.use(versions.v1)
    yield w


def test_the_schedules_fire_at_start_and_stop_in_berlin_and_every_15_minutes(
    versions: Versions,
) -> None:
    assert versions.v1.schedule_expressions == {
        "wake": ("cron(0 7 ? * MON,TUE,WED,THU,FRI *)", "Europe/Berlin"),
        "sleep": ("cron(0 20 ? * MON,TUE,WED,THU,FRI *)", "Europe/Berlin"),
        "check": ("rate(15 minutes)", None),
    }


def test_deploy_in_office_hours_associates_and_routes(world: ScheduleWorld) -> None:
    response = world.request("Create")
    assert response is not None and response["Status"] == "SUCCESS", response
    assert response["PhysicalResourceId"] == ENDPOINT_ID
    assert world.deployed is not None
    assert response["Data"] == {
        "Phase": "awake",
        "Complete": "true",
        "Associated": "2",
        "Routes": str(len(world.deployed.expected_routes)),
    }
    assert world.is_awake()
    assert world.endpoint.max_in_flight <= CONCURRENT_LIMIT


def test_deploy_off_hours_stores_the_set_and_the_wake_associates_it(
    world: ScheduleWorld,
) -> None:
    world.clock.set(berlin(12, 10))  # Saturday
    response = world.request("Create")
    assert response is not None and response["Status"] == "SUCCESS"
    assert response["Data"]["Phase"] == "asleep"
    assert world.is_asleep()
    assert "AssociateClientVpnTargetNetwork" not in world.ec2.calls
    world.clock.set(berlin(14, 7))  # Monday 07:00: the wake schedule
    world.scheduled("wake")
    assert world.is_awake()


def test_a_day_of_flips_with_checks_every_quarter_hour(world: ScheduleWorld) -> None:
    world.clock.set(berlin(9, 6))  # Wednesday 06:00
    world.request("Create")
    assert world.is_asleep()
    seen = []
    when = berlin(9, 6, 15)
    while when <= berlin(10, 8):  # until Thursday 08:00
        world.clock.set(when)
        name = {(7, 0): "wake", (20, 0): "sleep"}.get((when.hour, when.minute), "check")
        world.scheduled(name)
        awake = 7 <= when.hour < 20
        assert world.is_awake() if awake else world.is_asleep(), when
        seen.append(awake)
        when += dt.timedelta(minutes=15)
    assert True in seen and False in seen
    # Two wakes and one sleep: each flip ended every session once (the sleep).
    assert world.endpoint.sessions_ended == 1


def test_a_sleep_schedule_in_office_hours_does_not_sleep(world: ScheduleWorld) -> None:
    """The phase comes from the clock and the configuration, never from the event."""
    world.request("Create")
    world.scheduled("sleep")  # Tuesday 10:00: a misfire, or someone invoking it
    assert world.is_awake()


def test_route_added_while_asleep_is_created_at_the_wake(
    world: ScheduleWorld, versions: Versions
) -> None:
    world.request("Create")
    world.clock.set(berlin(8, 20))
    world.scheduled("sleep")
    assert world.is_asleep()
    world.clock.set(berlin(8, 22))
    world.use(versions.v2)  # cdk deploy adds a route at night
    response = world.request("Update", old=versions.v1)
    assert response is not None and response["Status"] == "SUCCESS"
    assert response["Data"]["Phase"] == "asleep"
    assert world.is_asleep()
    world.clock.set(berlin(9, 7))
    world.scheduled("wake")
    assert world.is_awake()
    assert {(V2_CIDR, s) for s in SUBNETS} <= world.endpoint.added_routes()


def test_route_removed_by_a_deploy_is_deleted(world: ScheduleWorld, versions: Versions) -> None:
    world.use(versions.v2)
    world.request("Create")
    assert world.is_awake()
    world.use(versions.v1)
    response = world.request("Update", old=versions.v2)
    assert response is not None and response["Status"] == "SUCCESS"
    assert world.is_awake()
    assert not {(V2_CIDR, s) for s in SUBNETS} & world.endpoint.added_routes()


def test_schedule_flip_during_a_deploy_follows_the_clock(world: ScheduleWorld) -> None:
    """A Create starts at 19:58; associating takes 4 minutes; at 20:00 the sleep schedule
    runs while the Create still waits (and leaves the stack to the deploy). The Create sees
    the new phase and sleeps."""
    world.clock.set(berlin(8, 19, 58))
    fired = []

    def sleep_schedule_at_eight() -> None:
        if not fired and world.clock.now() >= berlin(8, 20):
            fired.append(world.clock.now())
            world.scheduled("sleep")

    world.clock.on_sleep.append(sleep_schedule_at_eight)
    response = world.request("Create")
    assert fired, "the sleep schedule ran during the Create"
    assert response is not None and response["Status"] == "SUCCESS"
    assert response["Data"]["Phase"] == "asleep"
    world.settle()
    assert world.is_asleep()
    world.clock.on_sleep.clear()
    world.clock.set(berlin(9, 7))
    world.scheduled("wake")
    assert world.is_awake()


def test_wake_on_demand_for_two_hours_then_sleep(world: ScheduleWorld) -> None:
    world.clock.set(berlin(12, 10))  # Saturday
    world.request("Create")
    assert world.is_asleep()
    asked_at = world.clock.now()
    result = world.invoke({"wake_hours": 2})
    assert result["phase"] == "awake" and result["complete"] is True
    assert dt.datetime.fromisoformat(result["wake_until"]) == asked_at + dt.timedelta(hours=2)
    assert world.is_awake()
    world.clock.set(berlin(12, 11, 45))
    world.scheduled("check")
    assert world.is_awake()
    world.clock.set(berlin(12, 12, 15))
    world.scheduled("check")
    world.settle()
    assert world.is_asleep()


@pytest.mark.parametrize("hours", [12, 0.25])
def test_a_wake_up_to_max_wake_hours_is_taken(world: ScheduleWorld, hours: float) -> None:
    """``0 < N <= max_wake_hours`` (12 here), fractions too: the limit itself is allowed."""
    world.clock.set(berlin(12, 10))
    world.request("Create")
    asked_at = world.clock.now()
    result = world.invoke({"wake_hours": hours})
    assert dt.datetime.fromisoformat(result["wake_until"]) == asked_at + dt.timedelta(hours=hours)
    assert world.is_awake()


def test_a_shorter_wake_does_not_cut_a_longer_one(world: ScheduleWorld) -> None:
    world.clock.set(berlin(12, 10))
    world.request("Create")
    world.invoke({"wake_hours": 4})
    second = world.invoke({"wake_hours": 1})
    assert dt.datetime.fromisoformat(second["wake_until"]) > berlin(12, 13, 59)
    world.clock.set(berlin(12, 12))
    world.scheduled("check")
    assert world.is_awake()


@pytest.mark.parametrize(
    "event",
    [
        {"wake_hours": 2, "endpoint_id": "cvpn-endpoint-0000000000000000f"},
        {"wake_hours": 13},
        {"wake_hours": 0},
        {"wake_hours": True},
        {"schedule": "wake", "subnets": ["subnet-0000000000000dead"]},
        {"RequestType": "Replace"},
    ],
)
def test_an_invocation_cannot_choose_what_the_reconciler_touches(
    world: ScheduleWorld, event: dict[str, Any]
) -> None:
    world.clock.set(berlin(12, 10))
    with pytest.raises(EventError):
        world.invoke(event)
    assert not world.endpoint.live()
    assert world.ssm.values == {}


def test_concurrent_mutation_limit_is_waited_out(world: ScheduleWorld) -> None:
    """Nine other changes are in flight (CloudFormation's rules): the second association is
    refused with ConcurrentMutationLimitExceeded and made once they are done."""
    world.endpoint.extra_in_flight = CONCURRENT_LIMIT - 1
    refused = []

    def count_refusals(operation: str, params: dict[str, Any]) -> None:
        if operation == "AssociateClientVpnTargetNetwork" and world.endpoint.in_flight() >= 10:
            refused.append(params["SubnetId"])

    world.faults.append(count_refusals)

    def rules_done() -> None:
        if world.clock.monotonic() > 60:
            world.endpoint.extra_in_flight = 0

    world.clock.on_sleep.append(rules_done)
    response = world.request("Create")
    assert refused, "the limit was reached"
    assert response is not None and response["Status"] == "SUCCESS"
    assert world.is_awake()
    assert world.endpoint.max_in_flight <= CONCURRENT_LIMIT


def _failing_at(fail_at: int, how: str, calls: list[str]) -> Any:
    def fail(operation: str, params: dict[str, Any]) -> None:
        calls.append(operation)
        if len(calls) == fail_at:
            if how == "kill":
                raise Killed
            raise error(operation, "InternalError", "An internal error has occurred")

    return fail


def _flip_failing(
    versions: Versions,
    monkeypatch: pytest.MonkeyPatch,
    flip: str,
    when: dt.datetime,
    fail_at: int,
    how: str,
) -> ScheduleWorld:
    w = ScheduleWorld(VirtualClock(berlin(8, 10)), monkeypatch)
    w.use(versions.v1)
    w.request("Create")
    if flip == "wake":
        w.clock.set(berlin(8, 20))
        w.scheduled("sleep")
    w.clock.set(when)
    calls: list[str] = []
    w.faults.append(_failing_at(fail_at, how, calls))
    try:
        w.scheduled(flip)
    except Killed:
        assert how == "kill"
        # No call reached AWS after the kill (no finally, no clean-up ran).
        assert len(calls) == fail_at
    except ClientError:
        assert how == "error"  # outside the step loop's retries (a Describe): the run fails
    w.faults.clear()
    return w


@pytest.mark.parametrize("fail_at", range(1, 12))
@pytest.mark.parametrize("how", ["error", "kill"])
def test_a_failure_at_any_call_of_a_flip_is_repaired_by_the_next_check(
    versions: Versions, monkeypatch: pytest.MonkeyPatch, fail_at: int, how: str
) -> None:
    """Sleep at Tuesday 20:00 and wake at Wednesday 07:00, each failing at its n-th AWS
    call: an error (AWS answers InternalError once) or a kill (the Lambda dies: no handler
    code runs after it). The next quarter-hour check ends in the right phase."""
    for flip, when, check in (
        ("sleep", berlin(8, 20), berlin(8, 20, 15)),
        ("wake", berlin(9, 7), berlin(9, 7, 15)),
    ):
        w = _flip_failing(versions, monkeypatch, flip, when, fail_at, how)
        w.clock.set(check)
        w.scheduled("check")
        w.settle()
        assert w.is_awake() if flip == "wake" else w.is_asleep(), (flip, how, fail_at)


def _kill_at(fail_at: int) -> tuple[list[str], Any]:
    calls: list[str] = []

    def kill(operation: str, params: dict[str, Any]) -> None:
        calls.append(operation)
        if len(calls) >= fail_at:  # this call and every later one of the run: it is dead
            raise Killed(operation)

    return calls, kill


@pytest.mark.parametrize("fail_at", range(1, 10))
def test_a_killed_update_is_rolled_back_to_the_old_set(
    world: ScheduleWorld, versions: Versions, fail_at: int
) -> None:
    """An Update adding a route dies at its n-th AWS call: no answer; after the custom
    resource's ServiceTimeout CloudFormation rolls back (the function's configuration first,
    then an Update with the old properties). The end: awake with the old set."""
    world.request("Create")
    world.use(versions.v2)
    calls, kill = _kill_at(fail_at)
    world.faults.append(kill)
    with pytest.raises(Killed):
        world.request("Update", old=versions.v1)
    assert world.responses[-1]["Status"] == "SUCCESS"  # only the Create's answer
    assert len(world.responses) == 1, "a killed run answers nothing"
    assert len(calls) == fail_at, "no call reached AWS after the kill"
    world.faults.clear()
    world.clock.advance(minutes=14)  # ServiceTimeout
    world.use(versions.v1)
    response = world.request("Update", old=versions.v2, stack_status="UPDATE_ROLLBACK_IN_PROGRESS")
    assert response is not None and response["Status"] == "SUCCESS"
    world.settle()
    assert world.is_awake()  # v1's routes exactly: the v2 route, if created, is gone


@pytest.mark.parametrize("fail_at", range(1, 10))
def test_a_killed_create_of_a_new_stack_is_released_by_the_rollback(
    world: ScheduleWorld, fail_at: int
) -> None:
    """The Create dies; the new stack rolls back and CloudFormation sends a Delete with an
    id it made up: the reconciler releases whatever the dead run associated, so that the
    endpoint can be deleted."""
    calls, kill = _kill_at(fail_at)
    world.faults.append(kill)
    with pytest.raises(Killed):
        world.request("Create", stack_status="CREATE_IN_PROGRESS")
    assert world.responses == [], "a killed run answers nothing"
    assert len(calls) == fail_at, "no call reached AWS after the kill"
    world.faults.clear()
    world.clock.advance(minutes=14)
    world.cfn.status = "ROLLBACK_IN_PROGRESS"
    response = world.request("Delete", physical_id="VpnOffHours-1A2B3C4D5E6F")
    assert response is not None and response["Status"] == "SUCCESS"
    world.settle()
    assert world.is_asleep()


def test_stack_deletion_disassociates_everything_and_removes_the_wake(
    world: ScheduleWorld,
) -> None:
    world.request("Create")
    world.invoke({"wake_hours": 1})
    world.cfn.status = "DELETE_IN_PROGRESS"
    response = world.request("Delete")
    assert response is not None and response["Status"] == "SUCCESS", response
    world.settle()
    assert world.is_asleep()
    assert world.ssm.values == {}


@pytest.mark.parametrize(
    "status",
    ["UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"],
)
def test_delete_during_an_update_leaves_the_associations(world: ScheduleWorld, status: str) -> None:
    """Removing the schedule (or rolling back its addition) hands the associations back to
    CloudFormation: the reconciler's Delete must not take them away."""
    world.request("Create")
    world.cfn.status = status
    response = world.request("Delete")
    assert response is not None and response["Status"] == "SUCCESS"
    assert world.is_awake()


def test_a_failed_create_of_a_new_stack_cleans_up(world: ScheduleWorld) -> None:
    """The rollback's Delete of a failed Create never reaches the handler: the Create
    disassociates what it associated before failing (an endpoint with associations cannot
    be deleted)."""

    def routes_refused(operation: str, params: dict[str, Any]) -> None:
        if operation == "CreateClientVpnRoute":
            raise error(operation, "InvalidClientVpnRouteNotFound", "refused")

    world.faults.append(routes_refused)
    response = world.request("Create", stack_status="CREATE_IN_PROGRESS")
    assert response is not None and response["Status"] == "FAILED"
    assert "create route" in response["Reason"]
    world.settle()
    assert not world.endpoint.live()


def test_the_iam_policy_reaches_only_this_endpoint_and_parameter(versions: Versions) -> None:
    from .harness import PolicyChecker, Request

    policy = PolicyChecker(versions.v1.policy)
    arn = f"arn:aws:ec2:eu-west-1:123456789012:client-vpn-endpoint/{ENDPOINT_ID}"
    other = arn.replace(ENDPOINT_ID, "cvpn-endpoint-0000000000000000f")
    for action in MUTATIONS:
        assert policy.allowed(Request(f"ec2:{action}", arn))
        assert not policy.allowed(Request(f"ec2:{action}", other))
    assert not policy.allowed(Request("ec2:ModifyClientVpnEndpoint", arn))
    assert not policy.allowed(Request("ec2:AuthorizeClientVpnIngress", arn))
    environment = json.loads(versions.v1.environment)
    parameter = "arn:aws:ssm:eu-west-1:123456789012:parameter" + environment["wake_parameter"]
    assert policy.allowed(Request("ssm:PutParameter", parameter))
    assert not policy.allowed(Request("ssm:PutParameter", parameter + "-other"))


def test_scheduled_runs_wait_while_cloudformation_changes_the_stack(
    world: ScheduleWorld,
) -> None:
    world.request("Create")
    world.clock.set(berlin(8, 20))
    world.cfn.status = "UPDATE_IN_PROGRESS"  # someone deploys at 20:00
    assert world.scheduled("sleep") == {
        "phase": None,
        "complete": False,
        "stack": "UPDATE_IN_PROGRESS",
    }
    assert world.is_awake()
    world.cfn.status = "UPDATE_COMPLETE"
    world.clock.set(berlin(8, 20, 15))
    world.scheduled("check")
    world.settle()
    assert world.is_asleep()


def test_removing_the_schedule_while_asleep_keeps_cloudformations_new_associations(
    world: ScheduleWorld,
) -> None:
    """The schedule is removed at night: CloudFormation creates association resources (and
    routes) while the reconciler's schedules still exist, then deletes the reconciler in the
    clean-up. Neither a check during the update nor the Delete takes them away."""
    world.clock.set(berlin(8, 22))
    world.request("Create")
    assert world.is_asleep()
    world.cfn.status = "UPDATE_IN_PROGRESS"
    for subnet in SUBNETS:  # CloudFormation's AWS::EC2::ClientVpnTargetNetworkAssociation
        world.endpoint.associate(subnet)
    world.clock.advance(minutes=5)
    world.scheduled("check")
    world.settle()
    assert world.endpoint.associated_subnets() == set(SUBNETS)
    world.cfn.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    world.scheduled("check")
    response = world.request("Delete")
    assert response is not None and response["Status"] == "SUCCESS"
    assert world.endpoint.associated_subnets() == set(SUBNETS)


def test_a_check_during_stack_deletion_does_not_associate_again(world: ScheduleWorld) -> None:
    """The reconciler's Delete released everything so that the endpoint can be deleted; a
    check that fires before its schedule is deleted must not associate again."""
    world.request("Create")
    world.cfn.status = "DELETE_IN_PROGRESS"
    world.request("Delete")
    world.clock.advance(minutes=15)
    world.scheduled("check")
    world.settle()
    assert world.is_asleep()
