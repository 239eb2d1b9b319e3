"""Each handler configures its own package's loggers, whatever was imported before it.

Both handlers ship in one asset (``handlers/``) and the test suite imports them as
``constructs_cvpn.handlers``. Before this test, the PKI handler set the level of the logger
named ``handlers``: in the asset that also switched on INFO for the export handler's modules
when the PKI module happened to be imported first, and in the test process it matched no logger
at all, so the PKI's INFO lines (``users: 2 total, 2 issued``) were dropped unless a test lowered
the root logger itself. Each case runs in a fresh interpreter so the import order is the one
written here, not the one of the tests collected before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Loggers of the modules that log, by handler (relative to the ``handlers`` package).
PKI = ("pki.index", "pki.authority", "pki.users")
EXPORT = ("export_config.index", "export_config.aws")
SCHEDULE = ("schedule.index", "schedule.reconcile")
OWN = {"pki": PKI, "export_config": EXPORT, "schedule": SCHEDULE}
SHARED = ("cloudformation",)  # answers CloudFormation for both handlers

PROBE = """
import importlib, json, logging, sys
prefix, order = sys.argv[1], sys.argv[2].split(",")
for name in order:
    importlib.import_module(f"{{prefix}}.{{name}}.index")
names = {names!r}
print(json.dumps({{
    n: logging.getLogger(f"{{prefix}}.{{n}}").getEffectiveLevel() for n in names
}} | {{"<package>": logging.getLogger(prefix).level}}
  | {{f"sdk:{{n}}": logging.getLogger(n).level for n in ("boto3", "botocore", "urllib3")}}))
"""


def _levels(layout: str, order: list[str]) -> dict[str, int]:
    """Effective level of each handler logger after importing the index modules in ``order``."""
    if layout == "asset":  # as deployed: ``handlers`` is a top-level package
        cwd, prefix = ROOT / "constructs_cvpn", "handlers"
    else:
        cwd, prefix = ROOT, "constructs_cvpn.handlers"
    code = PROBE.format(names=[*PKI, *EXPORT, *SCHEDULE, *SHARED, "ovpn"])
    done = subprocess.run(
        [sys.executable, "-c", code, prefix, ",".join(order)],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    levels: dict[str, int] = json.loads(done.stdout)
    return levels


INFO, WARNING, NOTSET = 20, 30, 0  # logging's numeric levels, written out


@pytest.mark.parametrize("layout", ["asset", "package"])
@pytest.mark.parametrize(
    "order",
    [
        ["pki"],
        ["export_config"],
        ["schedule"],
        ["pki", "export_config"],
        ["export_config", "pki"],
        ["schedule", "pki"],
    ],
)
def test_each_handler_logs_info_for_its_own_modules(layout: str, order: list[str]) -> None:
    """The same levels whichever handler was imported first."""
    levels = _levels(layout, order)
    imported = {m for handler in order for m in OWN[handler]}
    for name in [*PKI, *EXPORT, *SCHEDULE]:
        # the root logger stays at Python's default (WARNING) in a fresh interpreter
        assert levels[name] == (INFO if name in imported else WARNING), name
    # the CloudFormation answer ("answered CloudFormation: HTTP 200") is logged by either
    assert levels["cloudformation"] == INFO
    # nothing is set on the shared parent or on a shared module that does not log
    assert levels["<package>"] == NOTSET
    assert levels["ovpn"] == WARNING
    # botocore's DEBUG output holds request bodies (keys): each handler pins the SDK's
    # loggers at WARNING itself, whatever the root logger is set to later
    for sdk in ("boto3", "botocore", "urllib3"):
        assert levels[f"sdk:{sdk}"] == WARNING, sdk
