"""Where a ``ClientVpn``'s rules and routes go: the endpoint, in lanes, within quotas.

Client VPN allows 10 concurrent mutations per endpoint (``ConcurrentMutationLimitExceeded``
beyond). CloudFormation creates every resource without a dependency at once, so each rule
and route joins one of ``MAX_CONCURRENT_MUTATIONS`` lanes: a chain of dependencies in which
one change waits for the one before it.
"""

from __future__ import annotations

from aws_cdk import Annotations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, IConstruct

from . import quotas

#: How many rule/route changes CloudFormation may run on one endpoint at once. Client VPN
#: allows 10 concurrent mutations per endpoint; target network associations are also
#: mutations and may run alongside authorization rules (one per AZ, at most 6 in any
#: region), so 4 lanes keep the total at 10 or below in the worst case.
MAX_CONCURRENT_MUTATIONS = 4


class Mutations:
    """The endpoint that rules and routes are added to, their lanes, and quota warnings."""

    def __init__(self, vpn: Construct) -> None:
        self._vpn = vpn
        self._lanes: list[IConstruct | None] = [None] * MAX_CONCURRENT_MUTATIONS
        self._count = 0
        self._over_quota: set[str] = set()
        self._endpoint: ec2.ClientVpnEndpoint | None = None
        #: Paths of the rules' and routes' resources (``CfnClientVpn...``) made here.
        self.resource_paths: set[str] = set()

    @property
    def endpoint(self) -> ec2.ClientVpnEndpoint:
        assert self._endpoint is not None, "associate() comes before rules and routes"
        return self._endpoint

    @endpoint.setter
    def endpoint(self, endpoint: ec2.ClientVpnEndpoint) -> None:
        self._endpoint = endpoint

    def chain(self, mutation: IConstruct) -> None:
        """Put a rule or route in one of ``MAX_CONCURRENT_MUTATIONS`` sequential lanes."""
        lane = self._count % MAX_CONCURRENT_MUTATIONS
        previous = self._lanes[lane]
        if previous is not None:
            mutation.node.add_dependency(previous)
        self._lanes[lane] = mutation
        self._count += 1
        resource = mutation.node.default_child
        self.resource_paths.add((resource or mutation).node.path)

    def warn_over(self, quota: quotas.Quota, count: int, what: str) -> None:
        """Warn (once per quota) when ``count`` is over an adjustable quota."""
        message = quota.exceeded(count, what)
        if message is None or quota.id in self._over_quota:
            return
        self._over_quota.add(quota.id)
        Annotations.of(self._vpn).add_warning_v2(f"constructs-cvpn:quota{quota.id}", message)
