"""Shared test set-up: run jsii on the Node.js pinned in package.json; xdist groups."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_NODE_BIN = ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir():
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

# Modules whose module-scoped fixtures are expensive to build twice (a wheel and venvs, pip
# installs of the Lambda wheels, synthesized example apps run through cfn-guard or parliament,
# the change matrix's baselines).
# Under `pytest -n N --dist loadgroup` (make test) each of them runs whole on one worker; every
# other test goes to whichever worker is free.
ONE_WORKER_MODULES = frozenset(
    {
        "test_packaging.py",
        "test_bundling.py",
        "test_asset_wheels.py",
        "test_control_tower.py",
        "test_example_stacks.py",
        "test_parliament.py",
        "test_change_matrix.py",
    }
)


# pytest-timeout (pyproject: 600 s per test) charges a module-scoped fixture's set-up to the
# module's first test; these modules build wheels, venvs or baselines there, which takes
# minutes on two saturated cores. Their tests get a longer limit (still a limit).
ONE_WORKER_TIMEOUT_SECONDS = 1800


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in ONE_WORKER_MODULES:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(ONE_WORKER_TIMEOUT_SECONDS))


def _share_botocore_models() -> None:
    """Parse each botocore model file (ec2's is ~5 MB of JSON) once per test process.

    moto resets boto3's default session at every ``mock_aws`` start, and a new session has a
    new loader with an empty cache: every test that creates a client parsed the models again
    (a third of the handler tests' time). The models are read-only data; botocore already
    shares one parsed copy between all users of a loader.
    """
    from botocore import loaders

    parse = loaders.JSONFileLoader.load_file
    parsed: dict[str, object] = {}

    def load_file(self: loaders.JSONFileLoader, file_path: str) -> object:
        if file_path not in parsed:
            parsed[file_path] = parse(self, file_path)
        return parsed[file_path]

    loaders.JSONFileLoader.load_file = load_file  # type: ignore[method-assign]


_share_botocore_models()
