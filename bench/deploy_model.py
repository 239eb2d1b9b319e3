"""Deploy-time model: the longest chain of Client VPN endpoint changes in a template.

CloudFormation starts a resource as soon as everything it depends on is done: its
``DependsOn`` and every resource it names with ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``. The
wall time of a deploy that creates many rules and routes is therefore bounded by the longest
path through that graph, counted in endpoint changes.

Model (deliberately simple): every *endpoint change* takes one unit of time and everything
else takes none. Endpoint changes are the target network associations, authorization rules,
routes, and the custom resources that wait on the endpoint (config export, per-user
certificates: they run after the associations). Real associations take minutes and rules
seconds, so the units say how many steps run one after another, not how long a step takes.

For each template:

- ``serial``: every change one after another (the number of changes).
- ``chain``: the critical path of the template's graph, i.e. the deploy with unlimited
  parallelism as CloudFormation runs it.
- ``peak``: how many changes CloudFormation may run at once. The largest level of the
  as-soon-as-possible schedule is an antichain (a lower bound); a greedy chain cover is an
  upper bound (Dilworth); when they meet, the figure is exact.
- ``limit 10``: what the quota of 10 concurrent operations per endpoint allows under the
  constraints AWS imposes (routes after the associations, custom resources after what they
  reference) but without our lanes: a critical-path-first list schedule with at most 10
  changes at once, and the lower bound max(changes / 10, critical path without lanes).
  When the two are equal the schedule is optimal.
- ``10-k lanes``: the same template re-chained into ``10 - k`` lanes (``k`` associations), the
  most lanes that stay within the quota while every association runs at once.
- ``phased``: rules in ``10 - k`` lanes (they may run beside the associations); routes, which
  wait for the associations anyway, in ``10 - c`` lanes (``c`` custom resources that wait on
  the endpoint) that start after the last rule of every rule lane.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"
RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"
ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
CUSTOM_PREFIXES = ("Custom::", "AWS::CloudFormation::CustomResource")
#: Client VPN: concurrent operations per endpoint (not adjustable; admin guide, quotas).
ENDPOINT_LIMIT = 10


def references(value: Any) -> set[str]:
    """Logical ids named by ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` anywhere in ``value``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for part in str(text).split("${")[1:]:
                    found.add(part.split("}")[0].split(".")[0])
                if isinstance(inner, list) and len(inner) > 1:
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def dependencies(resources: Mapping[str, Any]) -> dict[str, set[str]]:
    """Each resource's direct predecessors: DependsOn plus Ref/GetAtt/Sub targets."""
    deps: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        direct = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        direct |= references(resource.get("Properties", {}))
        deps[name] = {d for d in direct if d in resources and d != name}
    return deps


def topological(deps: Mapping[str, set[str]]) -> list[str]:
    """Resources ordered so that every resource follows its predecessors."""
    order: list[str] = []
    state: dict[str, int] = {}
    for root in deps:
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(deps[root])))]
        if root in state:
            continue
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[node] = 2
                order.append(node)
            elif state.get(child) is None:
                state[child] = 1
                stack.append((child, iter(sorted(deps[child]))))
            elif state[child] == 1:
                raise ValueError(f"dependency cycle through {child}")
    return order


def changes(resources: Mapping[str, Any], deps: Mapping[str, set[str]]) -> set[str]:
    """The endpoint changes: associations, rules, routes, custom resources after the endpoint."""
    order = topological(deps)
    after_endpoint: dict[str, bool] = {}
    for name in order:
        after_endpoint[name] = resources[name]["Type"] == ENDPOINT or any(
            after_endpoint[d] for d in deps[name]
        )
    found = set()
    for name, resource in resources.items():
        kind = resource["Type"]
        if kind in (ASSOCIATION, RULE, ROUTE) or (
            kind.startswith(CUSTOM_PREFIXES) and after_endpoint[name]
        ):
            found.add(name)
    return found


@dataclass(frozen=True)
class Figures:
    """The model's figures for one template (in endpoint changes)."""

    associations: int
    rules: int
    routes: int
    custom: int
    serial: int
    chain: int
    peak_low: int
    peak_high: int
    limit: int
    limit_bound: int
    wide_chain: int
    wide_peak: str
    phased_chain: int
    phased_peak: str

    @property
    def peak(self) -> str:
        return _bounds(self.peak_low, self.peak_high)


def _bounds(low: int, high: int) -> str:
    """An exact figure, or its range when the bounds differ."""
    return str(low) if low == high else f"{low}-{high}"


def _levels(order: list[str], deps: Mapping[str, set[str]], unit: set[str]) -> dict[str, int]:
    """Finish time of each resource in the as-soon-as-possible unit schedule."""
    level: dict[str, int] = {}
    for name in order:
        level[name] = max((level[d] for d in deps[name]), default=0) + (name in unit)
    return level


def _peak_bounds(order: list[str], deps: Mapping[str, set[str]], unit: set[str]) -> tuple[int, int]:
    """(largest ASAP level of changes, size of a greedy chain cover of the changes)."""
    level = _levels(order, deps, unit)
    per_level: dict[int, int] = {}
    for name in unit:
        per_level[level[name]] = per_level.get(level[name], 0) + 1
    low = max(per_level.values(), default=0)
    # Ancestor sets among the changes, as bit sets over the topological index.
    index = {name: i for i, name in enumerate(order)}
    ancestors: dict[str, int] = {}
    for name in order:
        bits = 0
        for d in deps[name]:
            bits |= ancestors[d] | ((1 << index[d]) if d in unit else 0)
        ancestors[name] = bits
    tails: list[str] = []
    for name in sorted(unit, key=lambda n: (level[n], index[n])):
        fits = [t for t in tails if ancestors[name] >> index[t] & 1]
        if fits:
            best = max(fits, key=lambda t: level[t])
            tails[tails.index(best)] = name
        else:
            tails.append(name)
    return low, len(tails)


def _list_schedule(
    order: list[str], deps: Mapping[str, set[str]], unit: set[str], capacity: int
) -> int:
    """Length of a critical-path-first schedule with at most ``capacity`` changes at once."""
    succ: dict[str, set[str]] = {name: set() for name in order}
    for name in order:
        for d in deps[name]:
            succ[d].add(name)
    tail: dict[str, int] = {}
    for name in reversed(order):
        tail[name] = max((tail[s] for s in succ[name]), default=0) + (name in unit)
    waiting = {name: len(deps[name]) for name in order}
    ready: list[tuple[int, int, str]] = []
    position = {name: i for i, name in enumerate(order)}
    for name in order:
        if waiting[name] == 0:
            heapq.heappush(ready, (-tail[name], position[name], name))
    time = 0
    done = 0
    while done < len(order):
        # Free resources (not changes) finish at once; run them until only changes are ready.
        batch: list[str] = []
        deferred: list[tuple[int, int, str]] = []
        while ready:
            item = heapq.heappop(ready)
            if item[2] in unit:
                if len(batch) < capacity:
                    batch.append(item[2])
                else:
                    deferred.append(item)
                continue
            done += 1
            for s in succ[item[2]]:
                waiting[s] -= 1
                if waiting[s] == 0:
                    heapq.heappush(ready, (-tail[s], position[s], s))
        for item in deferred:
            heapq.heappush(ready, item)
        if not batch:
            if done < len(order) and not ready:
                raise ValueError("schedule stuck: cycle?")
            continue
        time += 1
        for name in batch:
            done += 1
            for s in succ[name]:
                waiting[s] -= 1
                if waiting[s] == 0:
                    heapq.heappush(ready, (-tail[s], position[s], s))
    return time


def _lane_order(order: list[str], deps: Mapping[str, set[str]], chained: set[str]) -> list[str]:
    """Rules and routes in the order the construct chained them (lane by lane, round robin).

    A lane is a chain of ``DependsOn`` between rules/routes; the n-th member of lane i was
    the change number ``n * lanes + i``.
    """
    pred = {n: [d for d in deps[n] if d in chained] for n in chained}
    position: dict[str, int] = {}
    heads: list[str] = []
    for name in order:
        if name not in chained:
            continue
        if not pred[name]:
            position[name] = 0
            heads.append(name)
        else:
            position[name] = position[pred[name][0]] + 1
    lane: dict[str, int] = {}
    for name in order:
        if name in chained:
            lane[name] = heads.index(name) if not pred[name] else lane[pred[name][0]]
    return sorted(chained, key=lambda n: (position[n], lane[n]))


def rechained(
    resources: Mapping[str, Any], deps: Mapping[str, set[str]], lanes: int
) -> dict[str, set[str]]:
    """``deps`` with the rules and routes re-chained into ``lanes`` lanes, same order."""
    chained = {n for n, r in resources.items() if r["Type"] in (RULE, ROUTE)}
    ordered = _lane_order(topological(deps), deps, chained)
    out = {n: {d for d in ds if not (n in chained and d in chained)} for n, ds in deps.items()}
    for i, name in enumerate(ordered):
        if i >= lanes:
            out[name].add(ordered[i - lanes])
    return out


def phased(
    resources: Mapping[str, Any], deps: Mapping[str, set[str]], rule_lanes: int, route_lanes: int
) -> dict[str, set[str]]:
    """Rules in ``rule_lanes`` lanes, then routes in ``route_lanes`` lanes after every rule."""
    chained = {n for n, r in resources.items() if r["Type"] in (RULE, ROUTE)}
    ordered = _lane_order(topological(deps), deps, chained)
    out = {n: {d for d in ds if not (n in chained and d in chained)} for n, ds in deps.items()}
    rules = [n for n in ordered if resources[n]["Type"] == RULE]
    routes = [n for n in ordered if resources[n]["Type"] == ROUTE]
    for group, lanes in ((rules, rule_lanes), (routes, route_lanes)):
        for i, name in enumerate(group):
            if i >= lanes:
                out[name].add(group[i - lanes])
    tails = set(rules[-rule_lanes:])
    for name in routes[:route_lanes]:
        out[name] |= tails
    return out


def _shape(deps: Mapping[str, set[str]], unit: set[str]) -> tuple[int, str]:
    """(critical path in changes, how many may run at once) of a dependency graph."""
    order = topological(deps)
    level = _levels(order, deps, unit)
    return max((level[n] for n in unit), default=0), _bounds(*_peak_bounds(order, deps, unit))


def model(template: Mapping[str, Any]) -> Figures:
    """The figures for one synthesized template."""
    resources = template["Resources"]
    deps = dependencies(resources)
    unit = changes(resources, deps)
    order = topological(deps)
    level = _levels(order, deps, unit)
    chain = max((level[n] for n in unit), default=0)
    low, high = _peak_bounds(order, deps, unit)
    chained = {n for n, r in resources.items() if r["Type"] in (RULE, ROUTE)}
    free = {n: {d for d in ds if not (n in chained and d in chained)} for n, ds in deps.items()}
    limit = _list_schedule(order, free, unit, ENDPOINT_LIMIT)
    free_level = _levels(topological(free), free, unit)
    hard_chain = max((free_level[n] for n in unit), default=0)
    count = {
        kind: sum(1 for r in resources.values() if r["Type"] == kind)
        for kind in (ASSOCIATION, RULE, ROUTE)
    }
    free_lanes = max(1, ENDPOINT_LIMIT - count[ASSOCIATION])
    wide_chain, wide_peak = _shape(rechained(resources, deps, free_lanes), unit)
    custom = len(unit) - sum(count.values())
    phased_chain, phased_peak = _shape(
        phased(resources, deps, free_lanes, ENDPOINT_LIMIT - custom), unit
    )
    return Figures(
        associations=count[ASSOCIATION],
        rules=count[RULE],
        routes=count[ROUTE],
        custom=custom,
        serial=len(unit),
        chain=chain,
        peak_low=low,
        peak_high=high,
        limit=limit,
        limit_bound=max(math.ceil(len(unit) / ENDPOINT_LIMIT), hard_chain),
        wide_chain=wide_chain,
        wide_peak=wide_peak,
        phased_chain=phased_chain,
        phased_peak=phased_peak,
    )
