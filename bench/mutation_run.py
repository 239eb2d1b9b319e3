"""Running one mutant (bench/mutate.py): a scratch copy of the repo, the mutated module
written into it, the selected tests in a new ``python -m pytest -x`` process (its own jsii)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from mutants import ROOT, Mutant, mutated_source

WORK = ROOT / ".mutation"  # coverage data and scratch copies (git-ignored)

PYTEST = [
    sys.executable,
    "-m",
    "pytest",
    "-x",
    "-q",
    "--no-header",
    "-p",
    "no:randomly",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:cov",
    "-o",
    "addopts=",
]
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".tools",
    "node_modules",
    "cdk.out",
    ".build",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".mutation",
    ".coverage*",
    "htmlcov",
)


# --- running a mutant ------------------------------------------------------------------------


def scratch_copy(index: int) -> Path:
    dest = WORK / f"scratch{index}"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT, dest, ignore=COPY_IGNORE, symlinks=True)
    (dest / "node_modules").symlink_to((ROOT / "node_modules").resolve())
    keys = ROOT / ".pytest_cache" / "cvpn-lifecycle-keys"
    if keys.is_dir():
        (dest / ".pytest_cache").mkdir(exist_ok=True)
        target = dest / ".pytest_cache" / "cvpn-lifecycle-keys"
        if not target.exists():
            target.symlink_to(keys.resolve())
    return dest


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def run_mutant(mutant: Mutant, scratch: Path, tests: list[str], budget: float) -> None:
    target = scratch / mutant.path
    original = target.read_text()
    mutated = mutated_source(mutant, original)
    if mutated is None:
        mutant.outcome = "incompetent"
        return
    env = {
        **os.environ,
        "PYTHONPATH": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    start = time.monotonic()
    target.write_text(mutated)
    try:
        proc = subprocess.Popen(
            [*PYTEST, "-rfE", *tests],
            cwd=scratch,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            mutant.outcome = "timeout"
            mutant.killed_by = f"timeout after {budget:.0f} s"
            return
    finally:
        target.write_text(original)
        mutant.seconds = round(time.monotonic() - start, 1)
        mutant.tests = len(tests)
    if proc.returncode == 0:
        mutant.outcome = "survived"
        mutant.killed_by = ""
    elif proc.returncode in (1, 2):  # 2: interrupted, e.g. the mutant breaks an import
        mutant.outcome = "killed"
        failed = _FAILED.search(out)
        mutant.killed_by = failed.group(1) if failed else f"pytest exit {proc.returncode}"
    else:  # 3 internal error, 4 usage error, 5 no test collected
        mutant.outcome = "incompetent"
        mutant.killed_by = out.strip().splitlines()[-1][:200] if out.strip() else ""
