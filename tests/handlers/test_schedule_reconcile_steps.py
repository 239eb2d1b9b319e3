"""The reconciler's steps counted one by one: its budget, failures in a row, paged answers,
routes whose subnet is not ready yet, and when a run may call itself done.

Same fake endpoint as tests/handlers/test_schedule_reconcile.py. Oracles: the module's
docstring and the quotas it cites (10 concurrent operations per endpoint, minus
CloudFormation's 4 lanes of rules, minus one: 10 - 4 - 1 mutations per step; a mutation that
fails 3 steps in a row fails the run; a step issues nothing while that many changes are in
flight), the EC2 API's pagination (``NextToken`` on the next call, absent on the first) and
the endpoint's state after the run.
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_cvpn.handlers.schedule.hours import ASLEEP, AWAKE
from constructs_cvpn.handlers.schedule.reconcile import ReconcileError
from tests.lifecycle.fake_network import FakeEc2, error

from .test_schedule_reconcile import SUBNETS, World, config

#: Client VPN's concurrent operations per endpoint, CloudFormation's lanes of rules, the margin.
PER_STEP = 10 - 4 - 1


def test_a_step_uses_its_whole_budget_and_no_more() -> None:
    w = World()
    w.run(config(SUBNETS), AWAKE)
    assert w.mutations_per_step[0] == PER_STEP


@pytest.mark.parametrize("already", [1, 2, PER_STEP])
def test_changes_in_flight_are_taken_from_the_budget(already: int) -> None:
    w = World()
    w.run(config(SUBNETS[:already]), AWAKE, seconds=1)  # one step: `already` associating
    calls = len(w.ec2.calls)
    w.run(config(SUBNETS), AWAKE, seconds=1)  # one step, nothing finished meanwhile
    made = [c for c in w.ec2.calls[calls:] if not c.startswith("Describe")]
    assert len(made) == max(0, PER_STEP - already)


def test_a_mutation_fails_the_run_on_its_third_failure_in_a_row() -> None:
    w = World()
    attempts: list[str] = []

    def refuse(operation: str, params: dict[str, Any]) -> None:
        if operation == "AssociateClientVpnTargetNetwork" and params["SubnetId"] == SUBNETS[0]:
            attempts.append(params["SubnetId"])
            raise error(operation, "InvalidSubnetID.NotFound", "no such subnet")

    w.faults.append(refuse)
    with pytest.raises(ReconcileError):
        w.run(config(SUBNETS[:2]), AWAKE)
    assert len(attempts) == 3


def test_two_failures_in_a_row_are_not_enough_to_fail_the_run() -> None:
    w = World()
    answers = iter(["fail", "fail", "ok"])
    attempts: list[str] = []

    def flaky(operation: str, params: dict[str, Any]) -> None:
        if operation == "DisassociateClientVpnTargetNetwork" and params["AssociationId"].endswith(
            "1"
        ):
            answer = next(answers)
            attempts.append(answer)
            if answer == "fail":
                raise error(operation, "InternalError", "try again")

    w.run(config(SUBNETS[:2]), AWAKE)
    w.faults.append(flaky)
    outcome = w.run(config(SUBNETS[:2]), ASLEEP)
    assert outcome.complete and not w.endpoint.live()
    assert attempts == ["fail", "fail", "ok"]


class PagedEc2(FakeEc2):
    """The fake's answers split into pages of two, as the EC2 API pages them."""

    tokens: list[str | None]

    def _page(self, items: list[Any], key: str, token: str | None) -> dict[str, Any]:
        self.tokens.append(token)
        start = int(token or 0)
        out: dict[str, Any] = {key: items[start : start + 2]}
        if start + 2 < len(items):
            out["NextToken"] = str(start + 2)
        return out

    def describe_client_vpn_target_networks(self, **kwargs: Any) -> dict[str, Any]:
        token = kwargs.pop("NextToken", None)
        everything = super().describe_client_vpn_target_networks(**kwargs)
        return self._page(everything["ClientVpnTargetNetworks"], "ClientVpnTargetNetworks", token)

    def describe_client_vpn_routes(self, **kwargs: Any) -> dict[str, Any]:
        token = kwargs.pop("NextToken", None)
        everything = super().describe_client_vpn_routes(**kwargs)
        return self._page(everything["Routes"], "Routes", token)


def test_every_page_of_the_endpoint_is_read() -> None:
    w = World()
    paged = PagedEc2(w.endpoint, w.ec2.policy, w.faults)
    paged.tokens = []
    w.ec2 = paged
    routes = [["172.16.0.0/16", i, ""] for i in range(5)]
    assert w.run(config(SUBNETS[:5], routes), AWAKE).complete
    assert w.endpoint.associated_subnets() == set(SUBNETS[:5])
    assert w.endpoint.added_routes() == {("172.16.0.0/16", s) for s in SUBNETS[:5]}
    # every listing starts without a token and goes on with the one it was given
    assert None in paged.tokens and {"2", "4"} <= set(paged.tokens)
    # done means done: a run now changes nothing
    before = w.endpoint.added_routes(), w.endpoint.associated_subnets()
    assert w.run(config(SUBNETS[:5], routes), AWAKE).complete
    assert (w.endpoint.added_routes(), w.endpoint.associated_subnets()) == before


def test_a_route_waits_for_its_subnet_without_holding_up_the_others() -> None:
    w = World()
    w.run(config(SUBNETS[1:2]), AWAKE)  # the second subnet associated already
    routes = [["172.16.0.0/16", 0, ""], ["172.17.0.0/16", 1, ""]]  # the first's subnet is new
    w.run(config(SUBNETS[:2], routes), AWAKE, seconds=1)  # one step
    assert ("172.17.0.0/16", SUBNETS[1]) in w.endpoint.added_routes()
    assert ("172.16.0.0/16", SUBNETS[0]) not in w.endpoint.added_routes()


def test_deleting_a_route_does_not_make_an_unfinished_wake_complete() -> None:
    w = World()
    w.run(config(SUBNETS[:1], [["172.16.0.0/16", 0, ""]]), AWAKE)
    outcome = w.run(config(SUBNETS[:2]), AWAKE)  # a new subnet, the route gone
    assert outcome.complete
    assert w.endpoint.associated_subnets() == set(SUBNETS[:2])
    assert w.endpoint.added_routes() == set()


def test_the_outcome_counts_routes_present_and_none_asleep() -> None:
    w = World()
    routes = [["172.16.0.0/16", 0, ""], ["172.17.0.0/16", 1, ""]]
    awake = w.run(config(SUBNETS[:2], routes), AWAKE)
    assert awake.data() == {"Phase": AWAKE, "Complete": "true", "Associated": "2", "Routes": "2"}
    asleep = w.run(config(SUBNETS[:2], routes), ASLEEP)
    assert asleep.data()["Routes"] == "0"
    assert asleep.data()["Associated"] == "0"


@pytest.mark.parametrize("phase", [AWAKE, ASLEEP])
def test_a_step_cut_short_by_the_limit_still_counts_the_routes_in_place(phase: str) -> None:
    """Client VPN refuses a change while 10 are in flight (here: CloudFormation's): the step
    ends early, and its outcome still says how many configured routes are there."""
    w = World()
    routes = [["172.16.0.0/16", 0, ""]]
    assert w.run(config(SUBNETS[:1], routes), AWAKE).complete
    w.endpoint.extra_in_flight = 10
    outcome = w.run(config(SUBNETS[:2], routes), phase, seconds=1)  # one step, refused
    assert not outcome.complete
    assert outcome.data()["Routes"] == "1"


@pytest.mark.parametrize(("seconds", "steps"), [(15, 1), (15.5, 2), (30, 2), (30.5, 3)])
def test_the_run_sleeps_only_when_a_step_can_follow(seconds: float, steps: int) -> None:
    """``time_left`` is what the run may still use: a 15-second sleep with 15 seconds left
    would leave none for the step after it."""
    w = World()
    outcome = w.run(config(SUBNETS[:2]), AWAKE, seconds=seconds)  # associating takes minutes
    assert not outcome.complete
    assert len(w.mutations_per_step) == steps  # one entry per step (sleeps + the last)
