"""A fake Client VPN endpoint's target networks and routes, for the off-hours reconciler.

Modelled on the EC2 API reference and the AWS Client VPN administrator guide:

- AssociateClientVpnTargetNetwork returns at once with ``associating``; the association
  becomes ``associated`` ``associate_seconds`` later (of the fake clock): associating is
  asynchronous. One subnet per AZ: associating a subnet that already has a live
  association fails.
- DisassociateClientVpnTargetNetwork: ``disassociating``, gone ``disassociate_seconds``
  later. It deletes the routes added through that subnet ("any routes that were manually
  added ... are deleted, as well as the route that was automatically created"); the last
  one leaves the endpoint ``pending-associate`` and ends every session. Whether the
  client-to-client route (target ``local``) survives the last disassociation is not
  documented: the fake deletes it (the harder case for the reconciler).
- Each association adds an ``associate``-origin route to the VPC CIDR.
- CreateClientVpnRoute needs the target subnet's association to be ``associated`` (a
  ``local`` route: any association), and refuses a duplicate
  (``InvalidClientVpnDuplicateRoute``).
- At most 10 operations in progress per endpoint (quota "Concurrent operations per Client
  VPN endpoint"): associations ``associating``/``disassociating`` and ``extra_in_flight``
  (other changes, e.g. CloudFormation's rules) count; one more answers
  ``ConcurrentMutationLimitExceeded``.

Every call is checked against the handler's resolved IAM policy (``PolicyChecker``) on the
endpoint's ARN (``Describe*``: ``*``), and runs the test's faults first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .harness import ACCOUNT, PARTITION, REGION, PolicyChecker, Request, access_denied

CONCURRENT_LIMIT = 10
VPC_CIDR = "10.0.0.0/16"

Fault = Callable[[str, dict[str, Any]], None]


def error(operation: str, code: str, message: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        operation,
    )


@dataclass
class Association:
    association_id: str
    subnet: str
    state: str
    since: dt.datetime


@dataclass
class FakeRoute:
    cidr: str
    subnet: str
    origin: str
    description: str = ""


@dataclass
class FakeEndpoint:
    endpoint_id: str
    clock: Callable[[], dt.datetime]
    associate_seconds: float = 240.0
    disassociate_seconds: float = 60.0
    associations: list[Association] = field(default_factory=list)
    routes: list[FakeRoute] = field(default_factory=list)
    extra_in_flight: int = 0
    sessions_ended: int = 0
    max_in_flight: int = 0
    _counter: int = 0

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:ec2:{REGION}:{ACCOUNT}:client-vpn-endpoint/{self.endpoint_id}"

    def tick(self) -> None:
        """Finish what the clock says is finished."""
        now = self.clock()
        for a in list(self.associations):
            elapsed = (now - a.since).total_seconds()
            if a.state == "associating" and elapsed >= self.associate_seconds:
                a.state, a.since = "associated", now
                self.routes.append(FakeRoute(VPC_CIDR, a.subnet, "associate"))
            elif a.state == "disassociating" and elapsed >= self.disassociate_seconds:
                self.associations.remove(a)

    def live(self) -> list[Association]:
        self.tick()
        return list(self.associations)

    def in_flight(self) -> int:
        return self.extra_in_flight + sum(
            1 for a in self.live() if a.state in ("associating", "disassociating")
        )

    @property
    def status(self) -> str:
        return (
            "available"
            if any(a.state == "associated" for a in self.live())
            else ("pending-associate")
        )

    def associated_subnets(self) -> set[str]:
        return {a.subnet for a in self.live() if a.state == "associated"}

    def added_routes(self) -> set[tuple[str, str]]:
        self.tick()
        return {(r.cidr, r.subnet) for r in self.routes if r.origin == "add-route"}

    # -- mutations ------------------------------------------------------------------------

    def _limit(self, operation: str) -> None:
        if self.in_flight() >= CONCURRENT_LIMIT:
            raise error(
                operation,
                "ConcurrentMutationLimitExceeded",
                "Cannot initiate another change for this endpoint at this time. Please try "
                "again later.",
            )

    def associate(self, subnet: str) -> dict[str, Any]:
        op = "AssociateClientVpnTargetNetwork"
        if any(a.subnet == subnet for a in self.live()):
            raise error(op, "InvalidParameterValue", f"subnet {subnet} is already associated")
        self._limit(op)
        self._counter += 1
        association = Association(
            f"cvpn-assoc-{self._counter:017x}", subnet, "associating", self.clock()
        )
        self.associations.append(association)
        self.max_in_flight = max(self.max_in_flight, self.in_flight())
        return {"AssociationId": association.association_id, "Status": {"Code": "associating"}}

    def disassociate(self, association_id: str) -> dict[str, Any]:
        op = "DisassociateClientVpnTargetNetwork"
        found = [a for a in self.live() if a.association_id == association_id]
        if not found or found[0].state == "disassociating":
            raise error(op, "InvalidClientVpnAssociationId.NotFound", association_id)
        self._limit(op)
        association = found[0]
        association.state, association.since = "disassociating", self.clock()
        self.routes = [r for r in self.routes if r.subnet != association.subnet]
        if not any(a.state == "associated" for a in self.associations):
            self.routes = [r for r in self.routes if r.subnet != "local"]
            self.sessions_ended += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight())
        return {"AssociationId": association_id, "Status": {"Code": "disassociating"}}

    def create_route(self, cidr: str, subnet: str, description: str) -> dict[str, Any]:
        op = "CreateClientVpnRoute"
        ready = self.associated_subnets()
        if (subnet == "local" and not ready) or (subnet != "local" and subnet not in ready):
            raise error(
                op, "InvalidClientVpnActiveAssociationNotFound", f"{subnet} is not associated"
            )
        if (cidr, subnet) in {(r.cidr, r.subnet) for r in self.routes}:
            raise error(op, "InvalidClientVpnDuplicateRoute", f"route {cidr} via {subnet}")
        self.routes.append(FakeRoute(cidr, subnet, "add-route", description))
        return {"Status": {"Code": "creating"}}

    def delete_route(self, cidr: str, subnet: str) -> dict[str, Any]:
        before = len(self.routes)
        self.routes = [
            r
            for r in self.routes
            if not (r.cidr == cidr and r.subnet == subnet and r.origin == "add-route")
        ]
        if len(self.routes) == before:
            raise error("DeleteClientVpnRoute", "InvalidClientVpnRouteNotFound", cidr)
        return {"Status": {"Code": "deleting"}}


class FakeEc2:
    """What the reconciler sees as ``client("ec2")``: the six calls, IAM-checked, faultable."""

    def __init__(self, endpoint: FakeEndpoint, policy: PolicyChecker, faults: list[Fault]) -> None:
        self.endpoint = endpoint
        self.policy = policy
        self.faults = faults
        self.calls: list[str] = []

    def _enter(self, operation: str, endpoint_id: str, params: dict[str, Any]) -> FakeEndpoint:
        resource = "*" if operation.startswith("Describe") else self.endpoint.arn
        if endpoint_id != self.endpoint.endpoint_id:
            resource = resource.replace(self.endpoint.endpoint_id, endpoint_id)
        request = Request(f"ec2:{operation}", resource)
        if not self.policy.allowed(request):
            raise access_denied(operation, request)
        for fault in list(self.faults):
            fault(operation, params)
        self.calls.append(operation)
        if endpoint_id != self.endpoint.endpoint_id:
            raise error(operation, "InvalidClientVpnEndpointId.NotFound", endpoint_id)
        return self.endpoint

    def describe_client_vpn_target_networks(
        self, *, ClientVpnEndpointId: str, NextToken: str | None = None
    ) -> dict[str, Any]:
        ep = self._enter("DescribeClientVpnTargetNetworks", ClientVpnEndpointId, {})
        return {
            "ClientVpnTargetNetworks": [
                {
                    "AssociationId": a.association_id,
                    "TargetNetworkId": a.subnet,
                    "ClientVpnEndpointId": ep.endpoint_id,
                    "Status": {"Code": a.state},
                }
                for a in ep.live()
            ]
        }

    def describe_client_vpn_routes(
        self, *, ClientVpnEndpointId: str, NextToken: str | None = None
    ) -> dict[str, Any]:
        ep = self._enter("DescribeClientVpnRoutes", ClientVpnEndpointId, {})
        ep.tick()
        return {
            "Routes": [
                {
                    "DestinationCidr": r.cidr,
                    "TargetSubnet": r.subnet,
                    "Origin": r.origin,
                    "Status": {"Code": "active"},
                    "Description": r.description,
                }
                for r in ep.routes
            ]
        }

    def associate_client_vpn_target_network(
        self, *, ClientVpnEndpointId: str, SubnetId: str
    ) -> dict[str, Any]:
        params = {"SubnetId": SubnetId}
        return self._enter(
            "AssociateClientVpnTargetNetwork", ClientVpnEndpointId, params
        ).associate(SubnetId)

    def disassociate_client_vpn_target_network(
        self, *, ClientVpnEndpointId: str, AssociationId: str
    ) -> dict[str, Any]:
        params = {"AssociationId": AssociationId}
        ep = self._enter("DisassociateClientVpnTargetNetwork", ClientVpnEndpointId, params)
        return ep.disassociate(AssociationId)

    def create_client_vpn_route(
        self,
        *,
        ClientVpnEndpointId: str,
        DestinationCidrBlock: str,
        TargetVpcSubnetId: str,
        Description: str = "",
    ) -> dict[str, Any]:
        params = {
            "DestinationCidrBlock": DestinationCidrBlock,
            "TargetVpcSubnetId": TargetVpcSubnetId,
        }
        ep = self._enter("CreateClientVpnRoute", ClientVpnEndpointId, params)
        return ep.create_route(DestinationCidrBlock, TargetVpcSubnetId, Description)

    def delete_client_vpn_route(
        self, *, ClientVpnEndpointId: str, DestinationCidrBlock: str, TargetVpcSubnetId: str
    ) -> dict[str, Any]:
        params = {
            "DestinationCidrBlock": DestinationCidrBlock,
            "TargetVpcSubnetId": TargetVpcSubnetId,
        }
        ep = self._enter("DeleteClientVpnRoute", ClientVpnEndpointId, params)
        return ep.delete_route(DestinationCidrBlock, TargetVpcSubnetId)


class FakeSsm:
    """The wake-until parameter (SSM ``GetParameter``/``PutParameter``/``DeleteParameter``)."""

    def __init__(self, policy: PolicyChecker, faults: list[Fault]) -> None:
        self.values: dict[str, str] = {}
        self.policy = policy
        self.faults = faults

    def _enter(self, operation: str, name: str) -> None:
        arn = f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"
        request = Request(f"ssm:{operation}", arn)
        if not self.policy.allowed(request):
            raise access_denied(operation, request)
        for fault in list(self.faults):
            fault(operation, {"Name": name})

    def get_parameter(self, *, Name: str) -> dict[str, Any]:
        self._enter("GetParameter", Name)
        if Name not in self.values:
            raise error("GetParameter", "ParameterNotFound", Name)
        return {"Parameter": {"Name": Name, "Value": self.values[Name]}}

    def put_parameter(self, *, Name: str, Value: str, Overwrite: bool, **_: Any) -> dict[str, Any]:
        self._enter("PutParameter", Name)
        if Name in self.values and not Overwrite:
            raise error("PutParameter", "ParameterAlreadyExists", Name)
        self.values[Name] = Value
        return {"Version": 1}

    def delete_parameter(self, *, Name: str) -> dict[str, Any]:
        self._enter("DeleteParameter", Name)
        if self.values.pop(Name, None) is None:
            raise error("DeleteParameter", "ParameterNotFound", Name)
        return {}


class FakeCloudFormation:
    """``DescribeStacks`` of the one stack, with a status the test sets."""

    def __init__(self, stack_id: str, policy: PolicyChecker) -> None:
        self.stack_id = stack_id
        self.status = "UPDATE_COMPLETE"
        self.policy = policy

    def describe_stacks(self, *, StackName: str) -> dict[str, Any]:
        request = Request("cloudformation:DescribeStacks", StackName)
        if not self.policy.allowed(request):
            raise access_denied("DescribeStacks", request)
        assert StackName == self.stack_id
        return {"Stacks": [{"StackId": self.stack_id, "StackStatus": self.status}]}
