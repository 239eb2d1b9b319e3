"""``cvpn wait``: poll until the endpoint is ``available`` and every association ``associated``.

Sleeping and the clock are injected, so tests run without waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_cvpn.cli.endpoint import describe_endpoint, describe_target_networks
from constructs_cvpn.cli.errors import CvpnError, WaitTimeoutError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

Sleep = Callable[[float], None]
Clock = Callable[[], float]

FAILED_ENDPOINT_STATES = frozenset({"deleting", "deleted"})
FAILED_ASSOCIATION_STATES = frozenset({"association-failed", "disassociating", "disassociated"})


@dataclass(frozen=True)
class Readiness:
    """One observation of the endpoint and its target network associations."""

    endpoint_state: str
    associations: tuple[tuple[str, str, str], ...]
    """``(association id, subnet id, state)`` for every target network."""

    @property
    def ready(self) -> bool:
        """True when the endpoint is available and every association is associated."""
        return self.endpoint_state == "available" and all(
            state == "associated" for _, _, state in self.associations
        )

    def summary(self) -> str:
        """One line: the endpoint state and how many associations are done."""
        done = sum(1 for _, _, state in self.associations if state == "associated")
        return f"endpoint {self.endpoint_state}, {done}/{len(self.associations)} associated"


def observe(ec2: EC2Client, endpoint_id: str) -> Readiness:
    """Describe the endpoint and its target networks once; fail fast on dead ends."""
    endpoint = describe_endpoint(ec2, endpoint_id)
    state = endpoint.get("Status", {}).get("Code", "unknown")
    if state in FAILED_ENDPOINT_STATES:
        raise CvpnError(f"endpoint {endpoint_id} is {state}; it will never become available")
    associations = []
    for network in describe_target_networks(ec2, endpoint_id):
        status = network.get("Status", {})
        code = status.get("Code", "unknown")
        association = network.get("AssociationId", "?")
        if code in FAILED_ASSOCIATION_STATES:
            raise CvpnError(
                f"association {association} of {endpoint_id} is {code}: "
                f"{status.get('Message') or 'no message'}"
            )
        associations.append((association, network.get("TargetNetworkId", "?"), code))
    return Readiness(state, tuple(associations))


def wait_until_ready(
    ec2: EC2Client,
    endpoint_id: str,
    *,
    timeout: float,
    interval: float,
    sleep: Sleep,
    clock: Clock,
    on_update: Callable[[Readiness], None] | None = None,
) -> Readiness:
    """Poll every ``interval`` seconds until ready; raise WaitTimeoutError after ``timeout``."""
    start = clock()
    while True:
        readiness = observe(ec2, endpoint_id)
        if on_update is not None:
            on_update(readiness)
        if readiness.ready:
            return readiness
        remaining = timeout - (clock() - start)
        if remaining <= 0:
            raise WaitTimeoutError(
                f"timed out after {timeout:g} s waiting for {endpoint_id}: {readiness.summary()}"
            )
        sleep(min(interval, remaining))
