"""Resources, Lambda functions and log groups per example stack, for any source tree.

``python bench/stack_counts.py ROOT`` prints JSON for the ``constructs_cvpn`` and ``stacks``
found on ``PYTHONPATH``, so that ``bench/run.py`` can count the baseline commit (extracted
with ``git archive``) and the working tree the same way. Synthesized with the CDK context of the
tree's ``cdk.json`` and ``cvpn:skipBundling`` (the counts do not depend on the wheels).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

LAMBDA = "AWS::Lambda::Function"
LOG_GROUP = "AWS::Logs::LogGroup"
#: The library's construct in every example stack.
VPN_PATH = "/Vpn/"


def counts(root: Path) -> dict[str, dict[str, int]]:
    """Per stack: resources, Lambda functions (all / ClientVpn's), log groups, custom resources."""
    from aws_cdk import App

    from stacks.example_app import build_app

    context = json.loads((root / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory(prefix="cvpn-bench-") as out:
        app = App(
            outdir=out,
            context={**context, "cvpn:skipBundling": True, "aws:cdk:enable-path-metadata": True},
        )
        build_app(app)
        assembly = app.synth()
        result: dict[str, dict[str, int]] = {}
        for stack in assembly.stacks:
            resources: dict[str, Any] = json.loads(Path(stack.template_full_path).read_text())[
                "Resources"
            ]
            kinds = Counter(r["Type"] for r in resources.values())

            def ours(kind: str, resources: dict[str, Any] = resources) -> int:
                return sum(
                    1
                    for r in resources.values()
                    if r["Type"] == kind
                    and VPN_PATH in r.get("Metadata", {}).get("aws:cdk:path", "")
                )

            result[stack.stack_name] = {
                "resources": len(resources),
                "lambda": kinds[LAMBDA],
                "lambda_ours": ours(LAMBDA),
                "log_groups": kinds[LOG_GROUP],
                "custom": sum(n for k, n in kinds.items() if k.startswith("Custom::")),
            }
    return result


def counts_in(root: Path, python: str) -> dict[str, dict[str, int]]:
    """``counts`` of the tree at ``root``, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(root), "CVPN_SKIP_BUNDLING": "1"}
    out = subprocess.run(
        [python, __file__, str(root)], env=env, capture_output=True, text=True, check=True
    ).stdout
    parsed: dict[str, dict[str, int]] = json.loads(out.strip().splitlines()[-1])
    return parsed


if __name__ == "__main__":
    print(json.dumps(counts(Path(sys.argv[1]))))
