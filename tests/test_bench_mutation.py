"""bench/mutate.py's test selection: a test that fails with no mutant never counts as a kill.

Oracle: a coverage data file and a JUnit report written here by hand (two tests, one of them
failing), and pytest's own behaviour for ``--deselect``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coverage
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import mutation_coverage  # noqa: E402
import mutation_run  # noqa: E402

SOURCE = "/x/constructs_cvpn/handlers/pki/lease.py"
GOOD = "tests/pki/test_lease.py::test_takes_over_an_expired_lease"
BAD = "tests/pki/test_lease.py::test_fails_on_this_machine"

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.pki.test_lease" name="test_takes_over_an_expired_lease" time="0.5"/>
<testcase classname="tests.pki.test_lease" name="test_fails_on_this_machine" time="0.1">
<failure message="boom">boom</failure></testcase>
</testsuite></testsuites>"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / ".coverage"
    cov = coverage.CoverageData(basename=str(path))
    cov.set_context(f"{GOOD}|run")
    cov.add_lines({SOURCE: [10, 11]})
    cov.set_context(f"{BAD}|run")
    cov.add_lines({SOURCE: [11, 12]})
    cov.write()
    path.with_suffix(".junit.xml").write_text(JUNIT)
    return path


def test_a_test_failing_without_a_mutant_is_never_selected(data: Path) -> None:
    cov = mutation_coverage.load_coverage(data)

    assert cov.broken == {BAD}
    lines = cov.lines["constructs_cvpn/handlers/pki/lease.py"]
    assert lines[10] == [GOOD]
    assert lines[11] == [GOOD]
    assert 12 not in lines  # only the broken test ran it: "not covered", no test can kill it
    assert cov.durations[GOOD] == 0.5


def test_broken_tests_are_deselected_from_whole_files_only() -> None:
    broken = frozenset({BAD, "tests/cli/test_other.py::test_x"})

    assert mutation_run._deselect(["tests/pki/test_lease.py"], broken) == ["--deselect", BAD]
    assert mutation_run._deselect([GOOD], broken) == []
