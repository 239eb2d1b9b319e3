"""bench/synth_profile.py ``node_rows``: a V8 CPU profile's samples attributed to rows.

Oracle: a profile of five samples written by hand, each row's time added up by hand.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_profile", ROOT / "bench/synth_profile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _frame(node_id: int, url: str, name: str) -> dict:
    return {"id": node_id, "callFrame": {"url": url, "functionName": name}}


def test_samples_are_attributed_to_wait_validation_cdk_module_and_the_rest(tmp_path: Path) -> None:
    profile = tmp_path / "kernel.cpuprofile"
    nodes = [
        _frame(1, "", "read"),  # the kernel's synchronous read of the next request
        _frame(2, "wasm://wasm/021d73e6", "validate"),
        _frame(3, "file:///tmp/x/node_modules/aws-cdk-lib/aws-lambda/lib/function.js", "Fn"),
        _frame(4, "file:///tmp/x/lib/program.js", "read"),  # a read with a url: not the wait
        _frame(5, "file:///tmp/x/node_modules/aws-cdk-lib/core/lib/stack.js", "resolve"),
    ]
    # samples with their time deltas in microseconds
    samples = [1, 2, 3, 4, 5, 1, 2]
    deltas = [1000, 2500, 500, 250, 4000, 3000, 1500]
    profile.write_text(json.dumps({"nodes": nodes, "samples": samples, "timeDeltas": deltas}))

    rows = _load().node_rows(profile)

    assert rows == {
        "node: waiting for Python": 4.0,  # 1000 + 3000 us
        "node: template validation (WebAssembly)": 4.0,  # 2500 + 1500 us
        "node: aws-cdk-lib/aws-lambda": 0.5,
        "node: the rest (jsii, node internals, file writes)": 0.25,
        "node: aws-cdk-lib/core": 4.0,
    }
