"""The reconciler's step loop on its own: batches, the concurrency limit, repeated failures,
and its configuration's checks (the sequences are tests/lifecycle/test_schedule_sequences.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from constructs_cvpn.handlers.schedule.config import ENV, Config, ConfigError, load
from constructs_cvpn.handlers.schedule.hours import ASLEEP, AWAKE
from constructs_cvpn.handlers.schedule.reconcile import BATCH, ReconcileError, reconcile
from tests.lifecycle.fake_network import CONCURRENT_LIMIT, FakeEc2, FakeEndpoint, error
from tests.lifecycle.harness import PolicyChecker

ENDPOINT = "cvpn-endpoint-0000000000000000a"
SUBNETS = [f"subnet-{i:017x}" for i in range(1, 9)]  # more than a batch
ALLOW_ALL = PolicyChecker({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def config(subnets: list[str], routes: list[list[Any]] | None = None) -> Config:
    return Config.from_json(
        json.dumps(
            {
                "endpoint_id": ENDPOINT,
                "stack_id": "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1",
                "subnets": subnets,
                "routes": routes or [],
                "hours": {"time_zone": "UTC", "days": "MON-FRI", "start": "07:00", "stop": "20:00"},
                "wake_parameter": "/constructs-cvpn/x/wake-until",
                "max_wake_hours": 12,
            }
        )
    )


class World:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 8, 10, tzinfo=dt.UTC)
        self.endpoint = FakeEndpoint(ENDPOINT, lambda: self.now)
        self.faults: list[Any] = []
        self.ec2 = FakeEc2(self.endpoint, ALLOW_ALL, self.faults)
        self.mutations_per_step: list[int] = []
        self._mutations = 0

        def count(operation: str, params: dict[str, Any]) -> None:
            if not operation.startswith("Describe"):
                self._mutations += 1

        self.faults.append(count)

    def sleep(self, seconds: float) -> None:
        self.mutations_per_step.append(self._mutations)
        self._mutations = 0
        self.now += dt.timedelta(seconds=seconds)

    def run(self, cfg: Config, phase: str, seconds: float = 600) -> Any:
        end = self.now + dt.timedelta(seconds=seconds)
        outcome = reconcile(
            self.ec2,
            cfg,
            lambda: phase,
            time_left=lambda: (end - self.now).total_seconds(),
            sleep=self.sleep,
        )
        self.mutations_per_step.append(self._mutations)
        return outcome


def test_eight_subnets_are_associated_in_batches_within_the_limit() -> None:
    w = World()
    w.endpoint.extra_in_flight = 4  # CloudFormation's four lanes of rules at the same time
    routes = [["172.16.0.0/16", i, ""] for i in range(len(SUBNETS))]
    outcome = w.run(config(SUBNETS, routes), AWAKE)
    assert outcome.complete
    assert w.endpoint.associated_subnets() == set(SUBNETS)
    assert w.endpoint.added_routes() == {("172.16.0.0/16", s) for s in SUBNETS}
    assert max(w.mutations_per_step) <= BATCH
    assert w.endpoint.max_in_flight <= CONCURRENT_LIMIT


def test_sleep_disassociates_in_batches() -> None:
    w = World()
    w.run(config(SUBNETS), AWAKE)
    w.mutations_per_step.clear()
    outcome = w.run(config(SUBNETS), ASLEEP)
    assert outcome.complete
    assert not w.endpoint.live()
    assert max(w.mutations_per_step) <= BATCH


def test_a_subnet_no_longer_configured_is_disassociated() -> None:
    w = World()
    w.run(config(SUBNETS[:3]), AWAKE)
    outcome = w.run(config(SUBNETS[:2]), AWAKE)
    assert outcome.complete
    assert w.endpoint.associated_subnets() == set(SUBNETS[:2])
    assert len(w.endpoint.live()) == 2


def test_a_call_that_keeps_failing_fails_the_run_with_its_name() -> None:
    w = World()

    def refuse(operation: str, params: dict[str, Any]) -> None:
        if operation == "AssociateClientVpnTargetNetwork" and params["SubnetId"] == SUBNETS[0]:
            raise error(operation, "InvalidSubnetID.NotFound", "no such subnet")

    w.faults.append(refuse)
    with pytest.raises(ReconcileError, match=f"associate {SUBNETS[0]} failed 3 times"):
        w.run(config(SUBNETS[:2]), AWAKE)


def test_out_of_time_returns_incomplete() -> None:
    w = World()
    outcome = w.run(config(SUBNETS[:2]), AWAKE, seconds=30)  # associating takes 4 minutes
    assert not outcome.complete
    assert outcome.phase == AWAKE


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        ({}, "has no CVPN_SCHEDULE"),
        ({ENV: "{"}, "not a valid schedule configuration"),
        ({ENV: json.dumps({"endpoint_id": ENDPOINT})}, "not a valid schedule configuration"),
    ],
)
def test_configuration_errors(environment: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load(environment)


def test_a_route_through_an_unknown_subnet_index_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a valid schedule configuration"):
        config(SUBNETS[:2], [["172.16.0.0/16", 5, ""]])


def test_a_wake_right_after_a_sleep_waits_for_the_disassociations() -> None:
    """Asleep runs leave associations ``disassociating``; a wake at that moment may not
    associate the same subnet again before they are gone (one association per subnet)."""
    w = World()
    cfg = config(SUBNETS[:2], [["172.16.0.0/16", 0, ""]])
    w.run(cfg, AWAKE)
    asleep = w.run(cfg, ASLEEP, seconds=1)  # out of time while they are disassociating
    assert not asleep.complete
    assert {a.state for a in w.endpoint.live()} == {"disassociating"}
    outcome = w.run(cfg, AWAKE)
    assert outcome.complete
    assert w.endpoint.associated_subnets() == set(SUBNETS[:2])
    assert w.endpoint.added_routes() == {("172.16.0.0/16", SUBNETS[0])}
