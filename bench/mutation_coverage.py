"""Which tests run which line (bench/mutate.py): one coverage run with per-test contexts,
per-test durations from a JUnit report, and the tests and time budget for each mutant."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mutants import ROOT, Mutant

# Tests that run the group's code in a subprocess (not seen by coverage): added to the
# selection of every line that runs at import time (an import moved out of TYPE_CHECKING, ...).
SUBPROCESS_TESTS: dict[str, tuple[str, ...]] = {
    "handlers": (
        "tests/handlers/test_logging.py",
        "tests/handlers/test_export_config.py::test_imports_as_top_level_handlers_package_without_cdk",
        "tests/test_packaging.py::test_no_module_imports_the_type_stubs_at_run_time",
    ),
    "cli": (
        "tests/cli/test_missing_extra.py",
        "tests/cli/test_subprocess.py",
        "tests/test_packaging.py::test_no_module_imports_the_type_stubs_at_run_time",
    ),
}
MAX_SECONDS = 600.0  # per mutant

# --- which tests run which line ---------------------------------------------------------------


@dataclass
class Coverage:
    lines: dict[str, dict[int, list[str]]]  # rel path -> line -> test node ids ("" = import)
    durations: dict[str, float]
    #: Tests that failed in the coverage run, i.e. with no mutant: never selected (they would
    #: "kill" every mutant), deselected from the whole test files an import-time line runs.
    broken: frozenset[str] = frozenset()


def measure_coverage(test_paths: list[str], data: Path) -> Coverage:
    """Run ``test_paths`` once with per-test coverage contexts and per-test durations."""
    data.parent.mkdir(parents=True, exist_ok=True)
    for old in data.parent.glob(data.name + "*"):
        old.unlink()
    junit = data.with_suffix(".junit.xml")
    env = {**os.environ, "COVERAGE_FILE": str(data), "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-o",
        "addopts=",
        "--cov=constructs_cvpn",
        "--cov-context=test",
        "--cov-report=",
        f"--junitxml={junit}",
        *test_paths,
    ]
    print("coverage run:", " ".join(cmd[3:]), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"the coverage run failed (exit {done.returncode})")
    if done.returncode == 1:
        print("warning: some tests fail without any mutation; their lines count as covered")
    return load_coverage(data)


def load_coverage(data: Path) -> Coverage:
    import coverage

    cov = coverage.CoverageData(basename=str(data))
    cov.read()
    lines: dict[str, dict[int, list[str]]] = {}
    for measured in cov.measured_files():
        rel = _relative(measured)
        if rel is None:
            continue
        by_line: dict[int, list[str]] = {}
        for line, contexts in cov.contexts_by_lineno(measured).items():
            ids: set[str] = set()
            for context in contexts:
                nodeid, _, phase = context.rpartition("|")
                # Run in a fixture's set-up (a module-scoped synth): the tests that assert on
                # what it built are the whole module, not the test that happened to be first.
                ids.add(nodeid.split("::", 1)[0] if phase == "setup" else nodeid)
            by_line[line] = sorted(ids)
        lines[rel] = by_line
    durations: dict[str, float] = defaultdict(float)
    broken: set[str] = set()
    junit = data.with_suffix(".junit.xml")
    if junit.exists():
        for case in ET.parse(junit).iter("testcase"):
            file = case.get("file") or ""
            classname = case.get("classname", "")
            name = case.get("name", "")
            nodeid = _junit_nodeid(file, classname, name)
            durations[nodeid] += float(case.get("time", "0"))
            if case.find("failure") is not None or case.find("error") is not None:
                broken.add(nodeid)
    for by_line in lines.values():
        for line, ids in list(by_line.items()):
            if broken.intersection(ids):
                kept = [i for i in ids if i not in broken]
                if kept:
                    by_line[line] = kept
                else:  # only a broken test runs it: no test can kill a mutant there
                    del by_line[line]
    return Coverage(lines, dict(durations), frozenset(broken))


def _relative(measured: str) -> str | None:
    parts = Path(measured).parts
    if "constructs_cvpn" not in parts:
        return None
    i = len(parts) - 1 - parts[::-1].index("constructs_cvpn")
    return Path(*parts[i:]).as_posix()


def _junit_nodeid(file: str, classname: str, name: str) -> str:
    # classname "tests.nag.test_rules.TestBaseline" -> "tests/nag/test_rules.py::TestBaseline"
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        module = "/".join(parts[:cut]) + ".py"
        if (ROOT / module).exists():
            return "::".join([module, *parts[cut:], name])
    return f"{file}::{name}"


def select_tests(mutant: Mutant, cov: Coverage, group_tests: tuple[str, ...]) -> list[str] | None:
    """Tests that run the mutated line, fastest first; None when no test runs it."""
    by_line = cov.lines.get(mutant.path, {})
    span = [mutant.line, *_changed_lines(mutant)]
    ids: set[str] = set()
    seen = False
    for line in span:
        if line in by_line:
            seen = True
            ids.update(i for i in by_line[line] if i)
    if ids:
        return sorted(ids, key=lambda i: (_duration(i, cov), i))
    if seen:  # runs only at import time: the fastest tests that run anything in the file
        ids = {i for tests in by_line.values() for i in tests if i}
        if not ids:
            return [t for t in group_tests if (ROOT / t).exists()]
        files = sorted({i.split("::", 1)[0] for i in ids}, key=lambda f: (_duration(f, cov), f))
        extra = SUBPROCESS_TESTS.get(mutant.group, ())
        return [*files, *(t for t in extra if t.split("::", 1)[0] not in files)]
    return None


def fastest_tests_of_file(path: str, cov: Coverage) -> list[str]:
    """Every test that runs a line of ``path``, fastest first (a capped first pass's
    selection for a line that runs only at import time, instead of whole test files)."""
    ids = {i for tests in cov.lines.get(path, {}).values() for i in tests if i}
    return sorted(ids, key=lambda i: (_duration(i, cov), i))


def first_pass(tests: list[str], cov: Coverage, count: int, seconds: float = 60.0) -> list[str]:
    """The fastest of ``tests`` (already fastest first): at most ``count``, and no more than
    ``seconds`` of their recorded time after the first."""
    chosen: list[str] = []
    spent = 0.0
    for test in tests[:count]:
        spent += _duration(test, cov)
        if chosen and spent > seconds:
            break
        chosen.append(test)
    return chosen


def _changed_lines(mutant: Mutant) -> list[int]:
    lines = []
    for hunk in re.finditer(r"^@@ -(\d+)(?:,(\d+))? ", mutant.diff, re.MULTILINE):
        start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
        lines.extend(range(start, start + max(count, 1)))
    return lines


def budget_for(tests: list[str], cov: Coverage) -> float:
    """90 s (process, jsii and module fixtures) + 3x the selected tests' time, at most 600 s."""
    own = sum(_duration(t, cov) for t in tests)
    return min(MAX_SECONDS, 90.0 + 3.0 * own)


def _duration(test: str, cov: Coverage) -> float:
    if "::" in test:
        return cov.durations.get(test, 2.0)
    return sum(d for t, d in cov.durations.items() if t.startswith(f"{test}::")) or 2.0
