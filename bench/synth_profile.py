"""Where a fresh-process synth spends its time: the L2 app, the floor and the generated PKI.

Run with ``python bench/synth_profile.py [--rounds N]`` (writes bench/SYNTH_PROFILE.md). It
answers what bench/run.py's ratios cannot: which part of the generated PKI's extra CPU is
ours to cut. Each variant runs in a fresh child (bytecode on, prebuilt handler asset) with:

- the Python process's CPU time split at ``import aws_cdk``, the app's construction and
  ``app.synth()`` (``time.process_time``);
- the jsii kernel's node process profiled by V8 (``--cpu-prof``, passed through ``JSII_NODE``;
  the jsii runtime starts the kernel with its own ``execArgv``). V8's profile samples the main
  thread every ~1 ms whether it runs or waits, so it is attributed to: waiting for Python
  (the kernel's synchronous ``read`` of the next request), the CloudFormation schema
  validation aws-cdk-lib runs in WebAssembly at synth (``CDK_VALIDATION=false`` turns it off),
  each aws-cdk-lib module's own JavaScript, and the rest (node and jsii internals).

Medians of ``--rounds`` rounds (default 3), variants alternated. Figures are milliseconds.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REPORT = HERE / "SYNTH_PROFILE.md"
KINDS = ("l2", "floor", "pki")
LABELS = {
    "l2": "L2 ClientVpnEndpoint",
    "floor": "floor (the PKI's resources as plain CfnResource)",
    "pki": "ClientVpn, generated PKI, 3 users",
}
WAIT = "node: waiting for Python"
#: Where a sample of the kernel's main thread is attributed (a profile's node -> a row).
_MODULE = re.compile(r"aws-cdk-lib/([^/]+)/")


def child(kind: str) -> None:
    """Build and synthesize ``kind``; print the Python process's CPU per phase as JSON."""
    sys.path.insert(0, str(HERE))
    start = time.process_time()
    import aws_cdk  # noqa: F401  (its import is a phase of its own)

    imported = time.process_time()
    import apps

    with tempfile.TemporaryDirectory(prefix="cvpn-profile-out-") as out:
        os.environ["CDK_OUTDIR"] = out
        app, _ = apps.build(kind)
        built = time.process_time()
        app.synth()
        done = time.process_time()
    phases = {"import aws_cdk": imported - start, "build": built - imported, "synth": done - built}
    print("PHASES " + json.dumps({k: round(v * 1000) for k, v in phases.items()}), flush=True)


def node_rows(profile: Path) -> dict[str, float]:
    """A V8 CPU profile's time (ms) per row: wait for Python, validation, a CDK module, other."""
    data = json.loads(profile.read_text())
    nodes = {n["id"]: n["callFrame"] for n in data["nodes"]}
    rows: collections.Counter[str] = collections.Counter()
    for sample, delta in zip(data["samples"], data["timeDeltas"], strict=True):
        frame = nodes[sample]
        url, name = frame["url"], frame["functionName"]
        if name == "read" and not url:
            row = WAIT
        elif url.startswith("wasm://"):
            row = "node: template validation (WebAssembly)"
        elif match := _MODULE.search(url):
            row = f"node: aws-cdk-lib/{match.group(1)}"
        else:
            row = "node: the rest (jsii, node internals, file writes)"
        rows[row] += delta / 1000
    return dict(rows)


def profile_once(kind: str, env: dict[str, str]) -> dict[str, float]:
    """One fresh child of ``kind``: its Python phases and its kernel's node rows (ms)."""
    with tempfile.TemporaryDirectory(prefix="cvpn-profile-") as tmp:
        wrapper = Path(tmp) / "node"
        wrapper.write_text(f'#!/bin/sh\nexec node --cpu-prof --cpu-prof-dir="{tmp}" "$@"\n')
        wrapper.chmod(0o755)
        done = subprocess.run(
            [sys.executable, __file__, "--child", kind],
            cwd=ROOT,
            env={**env, "JSII_NODE": str(wrapper)},
            capture_output=True,
            text=True,
            check=False,
        )
        match = re.search(r"PHASES (\{.*\})", done.stdout)
        if done.returncode != 0 or not match:
            raise RuntimeError(f"{kind}: {done.stderr.strip().splitlines()[-1:]}")
        # The runtime's thin parent writes a small profile; the kernel's is the big one.
        kernel = max(Path(tmp).glob("*.cpuprofile"), key=lambda p: p.stat().st_size)
        rows = {f"python: {k}": float(v) for k, v in json.loads(match.group(1)).items()}
        return {**rows, **node_rows(kernel)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=KINDS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    sys.path.insert(0, str(HERE))
    import run

    with tempfile.TemporaryDirectory(prefix="cvpn-profile-floor-") as tmp:
        run.write_floor_resources(Path(tmp) / "floor.json")
        envs = {k: run.child_env(ROOT, bytecode=True, bundling=k == "pki") for k in KINDS}
        samples: dict[str, list[dict[str, float]]] = {k: [] for k in KINDS}
        load = os.getloadavg()
        for i in range(args.rounds):
            for kind in KINDS if i % 2 == 0 else tuple(reversed(KINDS)):
                samples[kind].append(profile_once(kind, envs[kind]))
            print(f"round {i + 1}/{args.rounds} done", flush=True)
    write_report(samples, args.rounds, load)


def write_report(samples: dict[str, list[dict[str, float]]], rounds: int, load: tuple) -> None:
    medians = {
        kind: {
            row: statistics.median(s.get(row, 0.0) for s in runs)
            for row in sorted({r for s in runs for r in s})
        }
        for kind, runs in samples.items()
    }
    rows = sorted({r for m in medians.values() for r in m}, key=lambda r: -medians["pki"].get(r, 0))
    lines = [
        "# Where a fresh-process synth spends its time",
        "",
        f"Written by `python bench/synth_profile.py --rounds {rounds}` (see its docstring for "
        "what each row measures). Medians in ms; node rows are wall time of the kernel's main "
        "thread (V8's sampling profiler), Python rows are the Python process's CPU time.",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; load average before "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; nproc {os.cpu_count()}",
        "",
        "| row | " + " | ".join(LABELS[k] for k in KINDS) + " | PKI - L2 | PKI - floor |",
        "| --- | " + " | ".join("---:" for _ in KINDS) + " | ---: | ---: |",
    ]
    for row in rows:
        got = [medians[k].get(row, 0.0) for k in KINDS]
        lines.append(
            f"| {row} | "
            + " | ".join(f"{v:.0f}" for v in got)
            + f" | {got[2] - got[0]:+.0f} | {got[2] - got[1]:+.0f} |"
        )
    # The kernel waits while Python works: its wait is left out of the sum (counted once).
    totals = [sum(v for r, v in medians[k].items() if r != WAIT) for k in KINDS]
    lines.append(
        "| **Python + node busy (the wait left out)** | "
        + " | ".join(f"**{v:.0f}**" for v in totals)
        + f" | **{totals[2] - totals[0]:+.0f}** | **{totals[2] - totals[1]:+.0f}** |"
    )
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
