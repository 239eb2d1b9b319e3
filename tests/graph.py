"""The DependsOn graph of a synthesized template: what CloudFormation may run at once."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any


def ancestors_of(resources: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Every resource's transitive DependsOn."""
    deps = {name: set(r.get("DependsOn", [])) for name, r in resources.items()}

    @functools.cache
    def ancestors(name: str) -> frozenset[str]:
        found: set[str] = set()
        for dep in deps.get(name, ()):
            found |= {dep, *ancestors(dep)}
        return frozenset(found)

    return {name: ancestors(name) for name in resources}


def max_concurrent(resources_: Mapping[str, Any], types: set[str]) -> int:
    """The longest antichain of ``types`` resources in the DependsOn order.

    That is how many of them CloudFormation may create at once. By Dilworth's theorem it
    equals the minimum number of chains covering them: n minus a maximum matching in the
    bipartite "u must precede v" graph of the transitive closure.
    """
    ancestors = ancestors_of(resources_)
    nodes = [n for n, r in resources_.items() if r["Type"] in types]
    before = {n: ancestors[n] for n in nodes}
    matched: dict[str, str] = {}  # successor -> predecessor

    def augment(u: str, seen: set[str]) -> bool:
        for v in nodes:
            if u in before[v] and v not in seen:
                seen.add(v)
                if v not in matched or augment(matched[v], seen):
                    matched[v] = u
                    return True
        return False

    return len(nodes) - sum(augment(u, set()) for u in nodes)


def longest_chain(resources: Mapping[str, Any], types: set[str]) -> int:
    """How many ``types`` resources the longest DependsOn chain runs one after another."""
    before = ancestors_of(resources)
    nodes = [n for n, r in resources.items() if r["Type"] in types]

    @functools.cache
    def depth(name: str) -> int:
        return 1 + max((depth(p) for p in nodes if p in before[name]), default=0)

    return max((depth(n) for n in nodes), default=0)
