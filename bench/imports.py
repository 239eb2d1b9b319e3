"""What an app loads, and what each module costs: ``python bench/imports.py SCENARIO``.

``python -X importtime`` does not see most of it: aws-cdk-lib loads its submodules (and
``constructs_cvpn`` its construct modules) in a module ``__getattr__`` through
``importlib.import_module``, which bypasses the interpreter's import timer. So the child
wraps ``builtins.__import__`` and ``importlib.import_module`` itself and charges each call's
own time (minus the imports nested in it) to the module the call loaded.

Scenarios (each in a fresh process): ``import`` (``import constructs_cvpn``), ``name``
(``from constructs_cvpn import ClientVpn``), ``off`` (construct ``ClientVpn`` with given
certificates and ``config_export=False`` in the bench app), ``l2`` (the same app with the bare
L2). The child prints one JSON line: total seconds and ``{module: self seconds}`` for every
module it loaded.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCENARIOS = ("import", "name", "off", "l2")
#: Modules an app that only builds a ClientVpn must not load (issue 14, item 3).
NOT_FOR_CLIENT_VPN = (
    "cdk_nag",
    "cryptography",
    "aws_cdk.aws_lambda",
    "aws_cdk.custom_resources",
    "typer",
    "rich",
)


def _target(args: tuple[Any, ...], kwargs: dict[str, Any], via_import: bool) -> str:
    """The absolute name an ``__import__`` / ``import_module`` call asks for."""
    if not via_import:
        name, package = args[0], (args[1] if len(args) > 1 else kwargs.get("package"))
        return importlib.util.resolve_name(name, package) if name.startswith(".") else name
    name = args[0]
    globals_ = args[1] if len(args) > 1 else kwargs.get("globals")
    level = args[4] if len(args) > 4 else kwargs.get("level", 0)
    if level and globals_:
        package = globals_.get("__package__") or globals_.get("__name__", "")
        base = package.rsplit(".", level - 1)[0] if level > 1 else package
        return f"{base}.{name}" if name else base
    return str(name)


def trace(code: str) -> tuple[float, dict[str, float]]:
    """Run ``code``; (seconds, self seconds per newly loaded module)."""
    costs: dict[str, float] = {}
    nested: list[float] = []

    def timed(fn: Callable[..., Any], via_import: bool) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            before = len(sys.modules)
            nested.append(0.0)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                inner = nested.pop()
                if nested:
                    nested[-1] += elapsed
                if len(sys.modules) != before:
                    name = _target(args, kwargs, via_import)
                    costs[name] = costs.get(name, 0.0) + elapsed - inner

        return wrapper

    original_import, original_import_module = builtins.__import__, importlib.import_module
    builtins.__import__ = timed(original_import, True)
    importlib.import_module = timed(original_import_module, False)
    start = time.perf_counter()
    try:
        exec(compile(code, "<bench>", "exec"), {"__name__": "__bench__"})
    finally:
        total = time.perf_counter() - start
        builtins.__import__, importlib.import_module = original_import, original_import_module
    return total, {name: costs[name] for name in costs if name in sys.modules}


CODE = {
    "import": "import constructs_cvpn",
    "name": "from constructs_cvpn import ClientVpn",
    "off": "import apps\napp, stack = apps.build('off')",
    "l2": "import apps\napp, stack = apps.build('l2')",
}


def run(scenario: str, env: dict[str, str], python: str = sys.executable) -> dict[str, Any]:
    """One fresh process: {"total": s, "costs": {module: s}, "modules": [...]}."""
    out = subprocess.run(
        [python, __file__, scenario], env=env, capture_output=True, text=True, check=True
    ).stdout
    parsed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return parsed


def measured(scenario: str, env: dict[str, str], runs: int) -> dict[str, Any]:
    """Medians over ``runs`` fresh processes: total, and self cost per module."""
    samples = [run(scenario, env) for _ in range(runs)]
    modules = sorted(set().union(*(s["modules"] for s in samples)))
    costs = {
        name: statistics.median(s["costs"].get(name, 0.0) for s in samples)
        for name in set().union(*(s["costs"] for s in samples))
    }
    return {
        "total": statistics.median(s["total"] for s in samples),
        "costs": costs,
        "modules": modules,
    }


def interesting(name: str) -> bool:
    """aws-cdk-lib submodules, our modules, and the heavy optional dependencies."""
    if name.endswith("._private") or "._jsii" in name:
        return False
    return name.startswith(("aws_cdk.", "constructs_cvpn")) or name.split(".")[0] in {
        m.split(".")[0] for m in NOT_FOR_CLIENT_VPN
    }


def main(scenario: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    total, costs = trace(CODE[scenario])
    modules = sorted(m for m in sys.modules if interesting(m))
    print(json.dumps({"total": total, "costs": costs, "modules": modules}))
    sys.stdout.flush()
    os._exit(0)  # skip jsii's shutdown: not part of what we measure


if __name__ == "__main__":
    main(sys.argv[1])
