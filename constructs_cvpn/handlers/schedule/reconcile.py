"""Make an endpoint's associations and routes what the phase asks for, idempotently.

Awake: every configured subnet associated and every configured route present. Asleep: no
association at all (EC2 API reference, DisassociateClientVpnTargetNetwork: disassociating the
last target network ends every session and leaves the endpoint ``pending-associate``,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateClientVpnTargetNetwork.html;
admin guide: "any routes that were manually added ... are deleted" with it,
https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/cvpn-working-target-disassociate.html),
so the routes need no deleting. Rules are not
touched (they are CloudFormation's and survive disassociation).

The run is a loop of steps. Each step reads the phase again (it is a function of the clock
and the wake-until time, so two runs at the same moment agree, and a run that outlives a
flip follows it), describes the endpoint, and issues at most ``BATCH`` mutations: Client
VPN allows 10 concurrent operations per endpoint (quota "Concurrent operations per Client
VPN endpoint", not adjustable; https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/
limits.html), and CloudFormation may be creating authorization rules at the same time (4
lanes, ``network.MAX_CONCURRENT_MUTATIONS``). A ``ConcurrentMutationLimitExceeded`` answer
("Cannot initiate another change for this endpoint at this time") ends the step and the
next one tries again. Associating is asynchronous (``associating`` -> ``associated``); a
route is created once its subnet's association is ``associated`` (CreateClientVpnRoute
needs an associated target subnet). Nothing is remembered between steps or runs: a run
that dies is finished by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .config import LOCAL, Config
from .hours import ASLEEP, AWAKE

__all__ = ["BATCH", "POLL_SECONDS", "Outcome", "ReconcileError", "reconcile"]

LOG = logging.getLogger(__name__)

#: Mutations per step: 10 concurrent operations per endpoint, minus CloudFormation's 4 lanes
#: of rules, minus one for luck.
BATCH = 5
#: Seconds between steps while something is in progress.
POLL_SECONDS = 15.0
#: A mutation that fails this many steps in a row (other than the concurrency limit) fails
#: the run.
MAX_FAILURES = 3
#: Error codes that mean "too many changes in flight": wait and try again.
BUSY_CODES = frozenset({"ConcurrentMutationLimitExceeded"})
#: Association states that hold (or will hold) the subnet.
LIVE = frozenset({"associating", "associated", "association-failed", "disassociating"})
#: Route states that count as present.
PRESENT = frozenset({"creating", "active"})


class ReconcileError(RuntimeError):
    """A mutation kept failing; the message names it and AWS's answer."""


@dataclass
class Outcome:
    """Where a run left the endpoint."""

    phase: str
    complete: bool
    associated: list[str]
    #: The configured routes in place when the step looked (none once asleep: a route goes
    #: with its subnet's association).
    routes: int

    def data(self) -> dict[str, str]:
        """For the custom resource's ``Data`` (strings, a few bytes)."""
        return {
            "Phase": self.phase,
            "Complete": "true" if self.complete else "false",
            "Associated": str(len(self.associated)),
            "Routes": str(self.routes),
        }


class _Busy(Exception):
    """The endpoint has too many changes in flight: end the step."""


class _Run:
    def __init__(
        self,
        ec2: Any,
        config: Config,
        phase_now: Callable[[], str],
        *,
        time_left: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.ec2 = ec2
        self.config = config
        self.endpoint = config.endpoint_id
        self.phase_now = phase_now
        self.time_left = time_left
        self.sleep = sleep
        self.failures: dict[str, int] = {}
        self.budget = 0

    # -- reading ----------------------------------------------------------------------

    def networks(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"ClientVpnEndpointId": self.endpoint}
            if token:
                kwargs["NextToken"] = token
            page = self.ec2.describe_client_vpn_target_networks(**kwargs)
            found += [
                n
                for n in page.get("ClientVpnTargetNetworks", [])
                if n.get("Status", {}).get("Code") in LIVE
            ]
            token = page.get("NextToken")
            if not token:
                return found

    def routes(self) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"ClientVpnEndpointId": self.endpoint}
            if token:
                kwargs["NextToken"] = token
            page = self.ec2.describe_client_vpn_routes(**kwargs)
            for route in page.get("Routes", []):
                if route.get("Origin") == "add-route" and (
                    route.get("Status", {}).get("Code") in PRESENT
                ):
                    found.add((str(route["DestinationCidr"]), str(route["TargetSubnet"])))
            token = page.get("NextToken")
            if not token:
                return found

    # -- writing ----------------------------------------------------------------------

    def mutate(self, key: str, call: Callable[..., Any], **kwargs: Any) -> None:
        """One mutation within the step's budget; busy ends the step, repeated failure the run."""
        if self.budget <= 0:
            raise _Busy
        self.budget -= 1
        try:
            call(ClientVpnEndpointId=self.endpoint, **kwargs)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in BUSY_CODES:
                LOG.info("%s: %s, trying again in the next step", key, code)
                raise _Busy from None
            self.failures[key] = self.failures.get(key, 0) + 1
            LOG.warning("%s failed (%d): %s", key, self.failures[key], err)
            if self.failures[key] >= MAX_FAILURES:
                raise ReconcileError(f"{key} failed {MAX_FAILURES} times: {err}") from None
            return
        self.failures.pop(key, None)
        LOG.info("%s", key)

    # -- one step ---------------------------------------------------------------------

    def step(self, phase: str) -> Outcome:
        """Look, change at most ``BATCH`` things, and say whether the endpoint is done."""
        networks = self.networks()
        in_flight = sum(
            1 for n in networks if n["Status"]["Code"] in ("associating", "disassociating")
        )
        self.budget = max(0, BATCH - in_flight)
        associated = sorted(
            n["TargetNetworkId"] for n in networks if n["Status"]["Code"] == "associated"
        )
        try:
            if phase == AWAKE:
                done, routes = self.wake(networks, associated)
            else:
                done, routes = self.release(networks), self.routes_in_place()
        except _Busy:  # the step ended early: count the routes anyway (Data never guesses)
            done, routes = False, self.routes_in_place()
        return Outcome(phase, done, associated, routes)

    def routes_in_place(self) -> int:
        return len(self.routes() & {(r.cidr, r.subnet) for r in self.config.routes})

    def release(self, networks: list[dict[str, Any]]) -> bool:
        for network in networks:
            if network["Status"]["Code"] != "disassociating":
                self.mutate(
                    f"disassociate {network['TargetNetworkId']} ({network['AssociationId']})",
                    self.ec2.disassociate_client_vpn_target_network,
                    AssociationId=network["AssociationId"],
                )
        return not networks

    def wake(self, networks: list[dict[str, Any]], associated: list[str]) -> tuple[bool, int]:
        wanted = set(self.config.subnets)
        holding = {n["TargetNetworkId"] for n in networks}
        done = True
        for network in networks:
            code = network["Status"]["Code"]
            if code == "disassociating":
                done = False  # on its way out: wait
            elif network["TargetNetworkId"] not in wanted or code == "association-failed":
                done = False
                self.mutate(
                    f"disassociate {network['TargetNetworkId']} ({network['AssociationId']})",
                    self.ec2.disassociate_client_vpn_target_network,
                    AssociationId=network["AssociationId"],
                )
            elif code != "associated":
                done = False
        for subnet in self.config.subnets:
            if subnet not in holding:
                done = False
                self.mutate(
                    f"associate {subnet}",
                    self.ec2.associate_client_vpn_target_network,
                    SubnetId=subnet,
                )
        present = self.routes()
        ready = set(associated) & wanted
        for route in self.config.routes:
            if (route.cidr, route.subnet) in present:
                continue
            done = False
            if route.subnet not in ready and not (route.subnet == LOCAL and ready):
                continue  # its association (for "local": any association) is not there yet
            self.mutate(
                f"create route {route.cidr} via {route.subnet}",
                self.ec2.create_client_vpn_route,
                DestinationCidrBlock=route.cidr,
                TargetVpcSubnetId=route.subnet,
                Description=route.description,
            )
        wanted_routes = {(r.cidr, r.subnet) for r in self.config.routes}
        for cidr, subnet in sorted(present - wanted_routes):
            done = False
            self.mutate(
                f"delete route {cidr} via {subnet}",
                self.ec2.delete_client_vpn_route,
                DestinationCidrBlock=cidr,
                TargetVpcSubnetId=subnet,
            )
        return done, len(present & wanted_routes)

    def run(self) -> Outcome:
        while True:
            outcome = self.step(self.phase_now())
            if outcome.complete:
                LOG.info("endpoint %s %s: done", self.endpoint, outcome.phase)
                return outcome
            if self.time_left() <= POLL_SECONDS:  # a sleep would leave no time for a step
                LOG.warning(
                    "endpoint %s %s: out of time, left for the next run",
                    self.endpoint,
                    outcome.phase,
                )
                return outcome
            self.sleep(POLL_SECONDS)


def reconcile(
    ec2: Any,
    config: Config,
    phase_now: Callable[[], str],
    *,
    time_left: Callable[[], float],
    sleep: Callable[[float], None],
) -> Outcome:
    """Step until the endpoint matches ``phase_now()`` or ``time_left()`` runs out.

    ``phase_now`` is called at every step (``AWAKE`` or ``ASLEEP``); ``time_left`` says how
    many seconds the run may still use; ``sleep`` waits between steps.
    """
    if phase_now() not in (AWAKE, ASLEEP):
        raise ValueError(f"unknown phase {phase_now()!r}")
    return _Run(ec2, config, phase_now, time_left=time_left, sleep=sleep).run()
