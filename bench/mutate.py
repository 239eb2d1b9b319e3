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
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from mutants import ROOT, Mutant, enumerate_mutants, mutated_source
from mutation_coverage import (
    Coverage,
    budget_for,
    fastest_tests_of_file,
    first_pass,
    load_coverage,
    measure_coverage,
    select_tests,
)
from mutation_report import (
    REPORT,
    equivalent_note,
    load_notes,
    load_results,
    load_runs,
    save_results,
    write_report,
)
from mutation_run import WORK, run_mutant, scratch_copy

#: While this file exists no new mutant starts (the ones running finish): ``touch`` it to
#: take the cores back for a benchmark without stopping the run, remove it to go on.
PAUSE = WORK / "pause"

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
CATCH_ALL = "constructs"
DEFAULT_GROUPS = ("handlers", "nag", "cli", "testing", "validation")


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


def _per_file(items: list[str]) -> dict[str, list[str]]:
    """``FILE=TEST,TEST`` options as {file: [tests]}."""
    per_file: dict[str, list[str]] = {}
    for item in items:
        source, _, tests = item.partition("=")
        per_file[source.strip()] = [t.strip() for t in tests.split(",") if t.strip()]
    return per_file


def _pick(m: Mutant) -> float:
    return int(hashlib.sha1(m.id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


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
        "--also-tests",
        action="append",
        default=[],
        metavar="FILE=TESTS",
        help="tests run first for every mutant of one source file, before the selected ones: "
        "tests written after the coverage run, or that run the code in a subprocess (which "
        "coverage does not see)",
    )
    parser.add_argument(
        "--timeout", type=float, default=0, help="seconds per mutant (default: from durations)"
    )
    parser.add_argument(
        "--max-tests",
        type=int,
        default=0,
        help="run at most the N fastest of the tests that cover a mutant's line, and at most a "
        "minute of their recorded time (a first pass: "
        "a survivor may still be killed by a slower test; --rerun survived without this flag "
        "runs them all). Default: all",
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
    per_file = _per_file(args.tests_for)
    also = _per_file(args.also_tests)
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
        if tests and args.max_tests and not (per_file.get(m.path) or fixed):
            if all("::" not in t for t in tests):  # an import-time line: whole test files
                tests = fastest_tests_of_file(m.path, cov)
            # the fastest (at most a minute of them): a survivor is only "survived so far"
            tests = first_pass(tests, cov, args.max_tests)
        if m.path in also:
            tests = [*also[m.path], *(t for t in tests or [] if t not in also[m.path])]
        if tests is None:
            m.outcome, m.killed_by, m.tests = "not covered", "", 0
            if mutated_source(m, (ROOT / m.path).read_text()) is None:
                m.outcome = "incompetent"
        else:
            while PAUSE.exists():  # a benchmark wants quiet cores: wait between mutants
                time.sleep(2)
            with lock:
                scratch = free.pop()
            try:
                run_mutant(m, scratch, tests, args.timeout or budget_for(tests, cov), cov.broken)
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
