"""Shared test set-up: run jsii on the Node.js pinned in package.json; xdist groups."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_NODE_BIN = ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir():
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

# Modules whose module-scoped fixtures are expensive to build twice (a wheel and venvs, pip
# installs of the Lambda wheels, synthesized example apps run through cfn-guard or parliament).
# Under `pytest -n N --dist loadgroup` (make test) each of them runs whole on one worker; every
# other test goes to whichever worker is free.
ONE_WORKER_MODULES = frozenset(
    {
        "test_packaging.py",
        "test_bundling.py",
        "test_control_tower.py",
        "test_example_stacks.py",
        "test_parliament.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in ONE_WORKER_MODULES:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
