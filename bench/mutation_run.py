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


def _deselect(tests: list[str], broken: frozenset[str]) -> list[str]:
    """``--deselect`` options for the broken tests inside the selected test files."""
    files = {t for t in tests if "::" not in t}
    chosen = [b for b in sorted(broken) if any(b.startswith(f + "::") for f in files)]
    return [arg for b in chosen for arg in ("--deselect", b)]


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def run_mutant(
    mutant: Mutant, scratch: Path, tests: list[str], budget: float, broken: frozenset[str]
) -> None:
    """Test ``mutant`` in ``scratch`` with ``tests`` (``broken``: tests that fail with no
    mutant, deselected) and record its outcome."""
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
            [*PYTEST, "-rfE", *tests, *_deselect(tests, broken)],
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
    elif proc.returncode == 4 and (
        "found no collectors" in out or "ImportError while loading conftest" in out
    ):
        # a selected test module (or a conftest) no longer imports under the mutant: the
        # package is broken, a kill (pytest reports an unknown test id as "not found" instead)
        mutant.outcome = "killed"
        failed = _FAILED.search(out)
        mutant.killed_by = "collection error: " + (failed.group(1) if failed else "")
    else:  # 3 internal error, 4 usage error, 5 no test collected
        mutant.outcome = "incompetent"
        mutant.killed_by = out.strip().splitlines()[-1][:200] if out.strip() else ""
