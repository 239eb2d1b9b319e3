"""Mutation testing of constructs_cvpn with cosmic-ray's operators, one test run per mutant.

Run from the repo root with ``make mutate`` (= ``python bench/mutate.py``); ``make mutate
MODULES=constructs`` mutates one group (see :data:`GROUPS`); ``make mutate-changed``
(``--changed-since last``) mutates, whole, every source file changed since the last recorded
run's commit. Writes bench/MUTATION.md from
bench/mutation/results.json (kept, so that a run of one group adds to the others) and
bench/mutation/notes.json (a reviewer's word on each survivor: ``"equivalent: <reason>"``).

How a mutant is tested (why cosmic-ray, not mutmut: bench/MUTATION.md):

1. One pytest run of the group's tests under coverage with per-test contexts (``--cov-context
   test``) and a JUnit report (per-test durations). It tells, for each line, which tests run it.
2. The mutants: cosmic-ray's operators (the list in :data:`OPERATORS`: comparison boundaries,
   negated conditions, swapped booleans and/or, numbers +/- 1, removed decorators, loops that
   never run, caught exception types replaced), one mutant per occurrence, none inside a type
   annotation (never evaluated here: ``from __future__ import annotations``).
3. Each mutant is written into a scratch copy of the repo and the tests that run its line
   (the whole test file when the line ran in a fixture's set-up: a module-scoped synth) are
   run in a new ``python -m pytest -x`` process (the CDK's jsii node process belongs to the
   process that imported ``aws_cdk``: nothing here forks after an import). A line no test runs
   is reported "not covered" without a run: no test can kill it.
   A line that runs only at import (a constant, a ``def``) gets every test file that runs
   anything in its file, fastest file first, and the group's tests that run its code in a
   subprocess (:data:`SUBPROCESS_TESTS`). (The first run took the 60 fastest tests instead:
   three validation.py constants survived it that their own boundary tests kill.)
4. Killed = pytest failed (the first failing test is recorded), timeout = the run took longer
   than 90 s + 3x the selected tests' recorded time, at most 600 s (counted as killed, listed
   apart), survived = pytest passed.

Score = (killed + timeout) / (mutants - equivalent), per module and in total.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "bench" / "mutation"
RESULTS = STATE / "results.json"
NOTES = STATE / "notes.json"
REPORT = ROOT / "bench" / "MUTATION.md"
WORK = ROOT / ".mutation"  # coverage data and scratch copies (git-ignored)

# group -> (source globs, test paths for lines that run only at import time)
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "handlers": (
        ("constructs_cvpn/handlers/**/*.py",),
        ("tests/handlers", "tests/pki", "tests/lifecycle"),
    ),
    "nag": (("constructs_cvpn/nag/**/*.py",), ("tests/nag",)),
    "cli": (("constructs_cvpn/cli/**/*.py",), ("tests/cli",)),
    "testing": (("constructs_cvpn/testing.py",), ("tests/test_testing.py",)),
    "validation": (
        ("constructs_cvpn/validation.py",),
        ("tests/test_validation.py", "tests/test_client_vpn_validation.py"),
    ),
    # The construct modules: client_vpn.py and its rooms (props, tokens, logs_and_keys,
    # endpoint, network, client_configs, grants), pki.py, bundling.py, ...: every top-level
    # module that no other group claims.
    "constructs": (("constructs_cvpn/*.py",), ("tests",)),
}
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
CATCH_ALL = "constructs"
DEFAULT_GROUPS = ("handlers", "nag", "cli", "testing", "validation")

# Realistic slips, not every operator cosmic-ray has: `x < y` for `x <= y`, a dropped or added
# `not`, and/or swapped, a constant off by one, a loop that never runs, an exception type that
# no longer matches. Replacements such as `+` -> `<<` or `==` -> `is` are left out.
OPERATORS = (
    "core/ReplaceComparisonOperator_Eq_NotEq",
    "core/ReplaceComparisonOperator_NotEq_Eq",
    "core/ReplaceComparisonOperator_Lt_LtE",
    "core/ReplaceComparisonOperator_LtE_Lt",
    "core/ReplaceComparisonOperator_Gt_GtE",
    "core/ReplaceComparisonOperator_GtE_Gt",
    "core/ReplaceComparisonOperator_Is_IsNot",
    "core/ReplaceComparisonOperator_IsNot_Is",
    "core/ReplaceBinaryOperator_Add_Sub",
    "core/ReplaceBinaryOperator_Sub_Add",
    "core/ReplaceBinaryOperator_Mul_Div",
    "core/ReplaceBinaryOperator_Div_Mul",
    "core/ReplaceBinaryOperator_FloorDiv_Mul",
    "core/ReplaceUnaryOperator_Delete_Not",
    "core/ReplaceUnaryOperator_USub_UAdd",
    "core/AddNot",
    "core/ReplaceTrueWithFalse",
    "core/ReplaceFalseWithTrue",
    "core/ReplaceAndWithOr",
    "core/ReplaceOrWithAnd",
    "core/ReplaceBreakWithContinue",
    "core/ReplaceContinueWithBreak",
    "core/ExceptionReplacer",
    "core/NumberReplacer",
    "core/ZeroIterationForLoop",
    "core/RemoveDecorator",
)

MAX_SECONDS = 600.0  # per mutant

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


@dataclass
class Mutant:
    id: str
    group: str
    path: str
    line: int
    operator: str
    occurrence: int
    diff: str
    outcome: str = "pending"  # killed | timeout | survived | not covered | incompetent
    killed_by: str = ""
    first_outcome: str = ""
    seconds: float = 0.0
    tests: int = 0
    history: list[str] = field(default_factory=list)
    commit: str = ""  # the commit the result was measured at ("" before this was recorded)


# --- mutants ---------------------------------------------------------------------------------


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    spans = []
    for node in ast.walk(ast.parse(source)):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            notes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for note in notes:
            if note is not None and note.end_lineno is not None and note.end_col_offset is not None:
                spans.append(
                    ((note.lineno, note.col_offset), (note.end_lineno, note.end_col_offset))
                )
    return spans


def _in_spans(
    pos: tuple[int, int], spans: Iterable[tuple[tuple[int, int], tuple[int, int]]]
) -> bool:
    return any(start <= pos < end for start, end in spans)


def enumerate_mutants(group: str, path: Path) -> list[Mutant]:
    """Every mutant of ``path`` for the operators in :data:`OPERATORS` (diffs made later).

    A mutant's id is its file, operator and the text of its line with the occurrence on that
    line, so it survives edits elsewhere in the file (results and notes stay attached).
    """
    from cosmic_ray.ast import ast_nodes, get_ast_from_path
    from cosmic_ray.plugins import get_operator

    rel = path.relative_to(ROOT).as_posix()
    source = path.read_text()
    text = source.splitlines()
    spans = _annotation_spans(source)
    nodes = list(ast_nodes(get_ast_from_path(path)))
    mutants = []
    for name in OPERATORS:
        operator = get_operator(name)()
        positions = [(node, pos) for node in nodes for pos in operator.mutation_positions(node)]
        on_line: dict[str, int] = defaultdict(int)
        for occurrence, (node, (start, _end)) in enumerate(positions):
            line = text[start[0] - 1].strip()
            nth = on_line[line]
            on_line[line] += 1
            if _in_spans(start, spans) or _in_signature(node):
                continue
            digest = hashlib.sha1(f"{rel}\n{name}\n{line}\n{nth}".encode()).hexdigest()[:12]
            mutants.append(
                Mutant(
                    id=f"{rel}:{name.removeprefix('core/')}:{digest}",
                    group=group,
                    path=rel,
                    line=start[0],
                    operator=name.removeprefix("core/"),
                    occurrence=occurrence,
                    diff="",
                )
            )
    return mutants


def _in_signature(node: Any) -> bool:
    """A ``*`` or ``/`` marker in a parameter list: not an arithmetic operator."""
    parent = getattr(node, "parent", None)
    return getattr(parent, "type", "") in ("parameters", "typedargslist", "lambdef", "varargslist")


def mutated_source(mutant: Mutant, source: str) -> str | None:
    """The module's text with ``mutant`` applied (None: cosmic-ray cannot apply it)."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    operator = get_operator(f"core/{mutant.operator}")()
    try:
        mutated: str | None = mutate_code(source, operator, mutant.occurrence)
    except AttributeError:  # cosmic-ray 8.7 cannot rewrite some `except (A, B)` forms
        return None
    if mutated is None or mutated == source:
        return None
    mutant.diff = _diff(source, mutated, mutant.path)
    return mutated


def _diff(before: str, after: str, rel: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), f"a/{rel}", f"b/{rel}", n=0, lineterm=""
    )
    return "\n".join(x for x in lines if not x.startswith(("---", "+++")))


def group_files(group: str) -> list[Path]:
    """The group's files; the catch-all ``constructs`` group leaves out the other groups'."""
    claimed: set[Path] = set()
    if group == CATCH_ALL:
        claimed = {
            p
            for other, (globs, _) in GROUPS.items()
            if other != group
            for g in globs
            for p in ROOT.glob(g)
        }
    globs, _ = GROUPS[group]
    files = sorted({p for g in globs for p in ROOT.glob(g) if p.is_file()} - claimed)
    return [p for p in files if p.name != "__init__.py" or _has_code(p)]


def group_of(rel: str) -> str:
    """The group a source file belongs to (the catch-all ``constructs`` if none claims it)."""
    path = ROOT / rel
    for group, (globs, _) in GROUPS.items():
        if group != CATCH_ALL and any(path in set(ROOT.glob(g)) for g in globs):
            return group
    return CATCH_ALL


def changed_files(since: str) -> list[str]:
    """Source files of constructs_cvpn that differ between ``since`` and the working tree
    (committed or not), that still exist and hold code; ``since="last"``: the commit of the
    last run recorded in results.json."""
    if since == "last":
        recorded = [r.get("commit", "") for r in load_runs() if r.get("commit")]
        if not recorded:
            raise SystemExit("--changed-since last: no run with a commit in results.json")
        since = recorded[-1]
    out = subprocess.run(
        ["git", "diff", "--name-only", since, "--", "constructs_cvpn"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = []
    for rel in sorted(set(out.split())):
        path = ROOT / rel
        if (
            rel.endswith(".py")
            and path.is_file()
            and (path.name != "__init__.py" or _has_code(path))
        ):
            files.append(rel)
    return files


def _has_code(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(not isinstance(n, ast.Import | ast.ImportFrom | ast.Expr) for n in tree.body)


# --- which tests run which line ---------------------------------------------------------------


@dataclass
class Coverage:
    lines: dict[str, dict[int, list[str]]]  # rel path -> line -> test node ids ("" = import)
    durations: dict[str, float]


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
    junit = data.with_suffix(".junit.xml")
    if junit.exists():
        for case in ET.parse(junit).iter("testcase"):
            file = case.get("file") or ""
            classname = case.get("classname", "")
            name = case.get("name", "")
            durations[_junit_nodeid(file, classname, name)] += float(case.get("time", "0"))
    return Coverage(lines, dict(durations))


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


def _pick(m: Mutant) -> float:
    return int(hashlib.sha1(m.id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


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


# --- results and report ----------------------------------------------------------------------


def load_results() -> dict[str, Mutant]:
    if not RESULTS.exists():
        return {}
    raw = json.loads(RESULTS.read_text())
    return {m["id"]: Mutant(**m) for m in raw["mutants"]}


def save_results(results: dict[str, Mutant], runs: list[dict[str, Any]]) -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    ordered = sorted(results.values(), key=lambda m: (m.group, m.path, m.line, m.operator, m.id))
    RESULTS.write_text(
        json.dumps({"runs": runs, "mutants": [asdict(m) for m in ordered]}, indent=1) + "\n"
    )


def load_runs() -> list[dict[str, Any]]:
    if not RESULTS.exists():
        return []
    return list(json.loads(RESULTS.read_text()).get("runs", []))


def equivalent_note(note: str) -> bool:
    return note.startswith("equivalent")


def load_notes() -> dict[str, str]:
    return json.loads(NOTES.read_text()) if NOTES.exists() else {}


def write_report(results: dict[str, Mutant], runs: list[dict[str, Any]]) -> None:
    notes = load_notes()
    per_module: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first_run: dict[str, int] = defaultdict(int)
    for m in results.values():
        equivalent = equivalent_note(notes.get(m.id, ""))
        key = "equivalent" if m.outcome in ("survived", "not covered") and equivalent else m.outcome
        per_module[m.path][key] += 1
        first = "equivalent" if equivalent else m.first_outcome
        first_run[first] += 1
    out = ["# Mutation testing", ""]
    out += [
        "Generated by `make mutate` (`python bench/mutate.py`); do not edit by hand. Reviewers' "
        "notes on survivors live in `bench/mutation/notes.json`, every result in "
        "`bench/mutation/results.json`.",
        "",
        "## Why cosmic-ray (and not mutmut)",
        "",
        "`import aws_cdk` starts a jsii node process and talks to it over a pipe. mutmut 3 runs "
        "the test collection once and then forks that process for each mutant: every fork "
        "shares the parent's jsii pipe, so the CDK tests of two mutants write into one node "
        "process and break. cosmic-ray's operators are used as a library here and each mutant is "
        "tested in a new `python -m pytest` process, so every run has its own jsii. cosmic-ray "
        "has no test selection of its own; `bench/mutate.py` adds it from one coverage run with "
        "per-test contexts (only the tests that execute the mutated line run, fastest first, "
        "`-x`), which is what makes it fit on two shared cores.",
        "",
        "## How to run",
        "",
        "- `make mutate`: the groups handlers, nag, cli, testing, validation (every mutant).",
        "- `make mutate MODULES=constructs JOBS=2`: the construct modules (client_vpn.py and "
        "its rooms); `MUTATE_ARGS='--sample 0.2'` tests a fixed fifth of the mutants (chosen by "
        "a hash of the mutant's id, so the same fifth every time), `--files "
        "constructs_cvpn/network.py` one file, `--rerun survived` only earlier survivors, "
        "`--coverage .mutation/coverage/.coverage` reuses the last coverage run.",
        "- `make mutate-changed` (`python bench/mutate.py --changed-since last`): every source "
        "file changed since the commit of the last recorded run (or `SINCE=<commit>`), whole "
        'files: every mutant tested again, no sampling. The column "measured at" says on '
        'which commit each module\'s results were measured ("not recorded": before this '
        "column existed).",
        "- Mutants and budgets: see the docstring of `bench/mutate.py`. Not a CI gate.",
        "",
        "## Runs",
        "",
        "| date (UTC) | commit | command | groups | mutants run (of all in the files) | wall | "
        "machine | load (1 min) "
        "at start |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        out.append(
            f"| {run['date']} | {run.get('commit', '')} | `{run['command']}` | "
            f"{', '.join(run['groups'])} | {run['ran']} of {run.get('of', '?')} | "
            f"{run['wall_s'] / 60:.1f} min (coverage run {run['coverage_s'] / 60:.1f} min) | "
            f"{run['machine']} | {run['load']} |"
        )
    timed = [r for r in runs if r.get("ran")]
    if timed:
        per = sum(r["wall_s"] for r in timed) / sum(r["ran"] for r in timed)
        out += [
            "",
            f"Time: {per:.0f} s of wall per mutant on average over these runs (2 jobs; the "
            "machine is shared, see the load). Every mutant of the default groups "
            f"({timed[0].get('of', '?')}) would take about "
            f"{per * int(timed[0].get('of') or 0) / 3600:.1f} h at that pace: run a group or a "
            "`--sample` at a time (a stopped run resumes where it stopped).",
        ]
    out += [
        "",
        "## Score per module",
        "",
        'Score = (killed + timeout) / (mutants - equivalent). "not covered": no test runs the '
        "line (not run, counted as a survivor unless noted equivalent).",
        "",
        "| module | mutants | killed | timeout | survived | not covered | equivalent | "
        "incompetent | score | measured at |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    totals: dict[str, int] = defaultdict(int)
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    group_by_path = {m.path: m.group for m in results.values()}
    measured_at: dict[str, set[str]] = defaultdict(set)
    for m in results.values():
        measured_at[m.path].add(m.commit or "not recorded")
    for path in sorted(per_module):
        counts = per_module[path]
        for k, v in counts.items():
            totals[k] += v
            groups[group_by_path[path]][k] += v
        out.append(_score_row(f"`{path}`", counts, measured_at.get(path, set())))
    out.append("||||||||||")
    for group in sorted(groups):
        out.append(_score_row(f"**{group}**", groups[group]))
    out.append(_score_row("**total**", totals))
    out.append(_score_row("total, first run (before the new tests)", first_run))
    survivors = [
        m
        for m in results.values()
        if m.first_outcome in ("survived", "not covered") or m.id in notes
    ]
    out += [
        "",
        "## Survivors of the first run, and what became of each",
        "",
        '"killed by" names the test that fails on the mutant now (the run after the test was '
        "written). Some first-run survivors were artefacts of that run's test selection, fixed "
        "in `bench/mutate.py` since, and are killed by tests that already existed: a line run "
        "in a module-scoped fixture's set-up was credited to the module's first test only (now: "
        "the whole file); the two handler index modules had moved by a few lines after the "
        "coverage run; an import taken out of `if TYPE_CHECKING:` only fails in a process that "
        "lacks the module (now: the tests in `SUBPROCESS_TESTS`).",
        "",
    ]
    for m in sorted(survivors, key=lambda m: (m.path, m.line, m.id)):
        if m.outcome in ("killed", "timeout"):
            verdict = f"killed by `{m.killed_by}`"
        elif m.id in notes:
            verdict = notes[m.id] if equivalent_note(notes[m.id]) else f"**open**: {notes[m.id]}"
        else:
            verdict = f"**{m.outcome}** (open)"
        out += [
            f"- `{m.path}:{m.line}` {m.operator} (first run: {m.first_outcome}): {verdict}",
            "",
            "  ```diff",
            *(f"  {x}" for x in m.diff.splitlines()),
            "  ```",
        ]
    REPORT.write_text("\n".join(out).rstrip() + "\n")


def _score_row(label: str, c: dict[str, int], commits: Iterable[str] = ()) -> str:
    """One table row; ``commits``: the commits the module's results were measured at."""
    total = sum(c.values())
    dead = c.get("killed", 0) + c.get("timeout", 0)
    scored = total - c.get("equivalent", 0) - c.get("incompetent", 0)
    score = f"{100 * dead / scored:.1f} %" if scored else "-"
    return (
        f"| {label} | {total} | {c.get('killed', 0)} | {c.get('timeout', 0)} | "
        f"{c.get('survived', 0)} | {c.get('not covered', 0)} | {c.get('equivalent', 0)} | "
        f"{c.get('incompetent', 0)} | {score} | {', '.join(sorted(commits))} |"
    )


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--modules",
        default=",".join(DEFAULT_GROUPS),
        help=f"comma-separated groups: {', '.join(GROUPS)} (default: {','.join(DEFAULT_GROUPS)})",
    )
    parser.add_argument("--files", default="", help="only these source files (comma-separated)")
    parser.add_argument(
        "--changed-since",
        default="",
        metavar="REF",
        help="every source file changed since REF (a commit, or 'last': the commit of the last "
        "recorded run), whole files: every mutant is tested again, no sampling; the groups "
        "follow from the files (--modules and --files are ignored)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once")
    parser.add_argument("--sample", type=float, default=1.0, help="fraction of mutants to run")
    parser.add_argument(
        "--coverage", default="", help="reuse this coverage data file (from an earlier run)"
    )
    parser.add_argument(
        "--rerun",
        default="",
        help="run again only earlier results with these outcomes, e.g. survived,timeout",
    )
    parser.add_argument(
        "--tests",
        default="",
        help="run these test paths for every mutant instead of the tests that cover its line",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="test mutants that already have a result (default: skip them, i.e. resume)",
    )
    parser.add_argument(
        "--tests-for",
        action="append",
        default=[],
        metavar="FILE=TESTS",
        help="the tests (comma-separated) for the mutants of one source file, e.g. for --rerun "
        "after new tests were written (the coverage data does not know them yet)",
    )
    parser.add_argument(
        "--timeout", type=float, default=0, help="seconds per mutant (default: from durations)"
    )
    parser.add_argument("--report-only", action="store_true", help="rewrite MUTATION.md only")
    args = parser.parse_args(argv)

    results = load_results()
    runs = load_runs()
    notes = load_notes()
    if args.report_only:
        write_report(results, runs)
        return 0
    groups = [g.strip() for g in args.modules.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {', '.join(GROUPS)}")
    if args.changed_since:
        if args.sample < 1.0 or args.rerun:
            parser.error("--changed-since runs whole files: no --sample, no --rerun")
        files = changed_files(args.changed_since)
        if not files:
            print(f"no source file changed since {args.changed_since}")
            return 0
        args.files, args.again = ",".join(files), True
        groups = sorted({group_of(f) for f in files})
        print(f"{len(files)} files changed since {args.changed_since}: {', '.join(files)}")

    started = time.monotonic()
    load = os.getloadavg()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    only = {f.strip() for f in args.files.split(",") if f.strip()}
    todo: list[Mutant] = []
    enumerated = 0
    for group in groups:
        for path in group_files(group):
            rel = path.relative_to(ROOT).as_posix()
            if only and rel not in only:
                continue
            mutants = enumerate_mutants(group, path)
            current = {m.id for m in mutants}
            for stale in [k for k, r in results.items() if r.path == rel and k not in current]:
                del results[stale]  # the code changed: that mutant no longer exists
            for m in mutants:
                enumerated += 1
                previous = results.get(m.id)
                if args.rerun:
                    wanted = {o.strip() for o in args.rerun.split(",")}
                    noted = equivalent_note(notes.get(m.id, ""))
                    if previous is None or previous.outcome not in wanted or noted:
                        continue
                    m.first_outcome, m.history = previous.first_outcome, previous.history
                else:
                    if _pick(m) > args.sample:
                        continue
                    if previous is not None and not args.again:  # resume an interrupted run
                        continue
                todo.append(m)
    # in hash order: a run stopped early has still tested an even sample of every module
    todo.sort(key=_pick)
    print(f"{len(todo)} mutants in {', '.join(groups)}", flush=True)

    cov_started = time.monotonic()
    fixed = [t.strip() for t in args.tests.split(",") if t.strip()]
    per_file: dict[str, list[str]] = {}
    for item in args.tests_for:
        source, _, tests = item.partition("=")
        per_file[source.strip()] = [t.strip() for t in tests.split(",") if t.strip()]
    if fixed:
        cov = Coverage({}, {})
    elif args.coverage:
        cov = load_coverage(Path(args.coverage))
    else:
        test_paths = sorted({t for g in groups for t in GROUPS[g][1] if (ROOT / t).exists()})
        if args.jobs > 1:
            test_paths = ["-n", str(args.jobs), *test_paths]
        cov = measure_coverage(test_paths, WORK / "coverage" / ".coverage")
    coverage_s = time.monotonic() - cov_started

    scratches = [scratch_copy(i) for i in range(max(1, args.jobs))]
    free = list(scratches)
    lock = threading.Lock()
    done = 0

    def work(m: Mutant) -> Mutant:
        nonlocal done
        tests = per_file.get(m.path) or fixed or select_tests(m, cov, GROUPS[m.group][1])
        if tests is None:
            m.outcome, m.killed_by, m.tests = "not covered", "", 0
            if mutated_source(m, (ROOT / m.path).read_text()) is None:
                m.outcome = "incompetent"
        else:
            with lock:
                scratch = free.pop()
            try:
                run_mutant(m, scratch, tests, args.timeout or budget_for(tests, cov))
            finally:
                with lock:
                    free.append(scratch)
        if m.outcome == "incompetent" and not m.diff:  # cosmic-ray could not apply it
            return m
        with lock:
            done += 1
            m.first_outcome = m.first_outcome or m.outcome
            m.history = [*m.history, f"{dt.date.today()}: {m.outcome}"]
            m.commit = commit
            results[m.id] = m
            print(
                f"[{done}/{len(todo)}] {m.outcome:11} {m.path}:{m.line} {m.operator} "
                f"({m.tests} tests, {m.seconds} s) {m.killed_by}",
                flush=True,
            )
            if done % 5 == 0:
                save_results(results, runs)
        return m

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(scratches)) as pool:
        list(pool.map(work, todo))
    for scratch in scratches:
        shutil.rmtree(scratch, ignore_errors=True)

    command = "python bench/mutate.py " + " ".join(argv if argv is not None else sys.argv[1:])
    runs.append(
        {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "command": command.strip(),
            "commit": commit,
            "groups": groups,
            "ran": done,
            "of": enumerated,
            "wall_s": round(time.monotonic() - started),
            "coverage_s": round(coverage_s),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}",
            "load": f"{load:.1f}",
        }
    )
    save_results(results, runs)
    write_report(results, runs)
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
