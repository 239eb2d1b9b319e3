"""Checks of a built handler asset (zip + manifest), shared by test_bundling and test_packaging.

Every expectation comes from outside ``constructs_cvpn.asset_build``: the repository's
handler sources, ``lambda_requirements.txt`` read with a regular expression here, the wheel
tags ``packaging.tags`` says CPython 3.14 accepts on Lambda arm64, and the ELF headers.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from packaging import tags as packaging_tags

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "constructs_cvpn" / "lambda_requirements.txt"
EM_AARCH64 = 183  # ELF e_machine of AArch64 ("ELF for the Arm 64-bit Architecture")


def repo_handler_sources() -> dict[str, bytes]:
    """What the asset must hold of constructs_cvpn/handlers: every module but the tests."""
    base = ROOT / "constructs_cvpn"
    found = {}
    for path in (base / "handlers").rglob("*.py"):
        rel = path.relative_to(base)
        if "__pycache__" in rel.parts or "tests" in rel.parts or path.name.startswith("test_"):
            continue
        found[rel.as_posix()] = path.read_bytes()
    return found


def requirement_pins() -> dict[str, dict[str, Any]]:
    """``{name: {"version", "hashes"}}`` of lambda_requirements.txt, hashes sorted."""
    text = REQUIREMENTS.read_text()
    found = {}
    for name, version, rest in re.findall(
        r"^([a-z]+)==(\S+)((?:\s*\\\n\s+--hash=\S+)+)", text, re.MULTILINE
    ):
        found[name] = {"version": version, "hashes": sorted(re.findall(r"sha256:\w+", rest))}
    return found


def lambda_python_314_arm64_tags() -> set[str]:
    """Wheel tags CPython 3.14 on Lambda arm64 accepts: Amazon Linux 2023, glibc 2.34.

    Runtime and OS: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
    (python3.14: Amazon Linux 2023, glibc 2.34). manylinux_2_x for x <= 34 (PEP 600), with
    the legacy alias manylinux2014 for 2_17 (PEP 599).
    """
    platforms = [f"manylinux_2_{minor}_aarch64" for minor in range(34, 16, -1)]
    platforms += ["manylinux2014_aarch64", "linux_aarch64"]
    accepted = packaging_tags.cpython_tags(python_version=(3, 14), platforms=platforms)
    compatible = packaging_tags.compatible_tags(
        python_version=(3, 14), interpreter="cp314", platforms=platforms
    )
    return {str(tag) for tag in [*accepted, *compatible]}


def check_asset(zip_path: Path, manifest: dict[str, Any]) -> None:
    """The asset holds the handler sources and the pinned wheels, built for Lambda arm64."""
    pins = requirement_pins()
    assert set(pins) == {"cryptography", "cffi", "pycparser", "tzdata"}
    assert manifest["requirements_sha256"] == hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    assert manifest["pins"] == pins
    accepted = lambda_python_314_arm64_tags()
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        handlers = {n: archive.read(n) for n in names if n.startswith("handlers/")}
        assert handlers == repo_handler_sources()
        infos = sorted({n.split("/")[0] for n in names if ".dist-info/" in n})
        versions = dict(i.removesuffix(".dist-info").rsplit("-", 1) for i in infos)
        assert versions == {name: pin["version"] for name, pin in pins.items()}
        for info in infos:
            wheel = archive.read(f"{info}/WHEEL").decode()
            tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if "Tag:" in line]
            assert set(tags) & accepted, f"{info}: {tags} not for Lambda arm64 / CPython 3.14"
        shared = [n for n in names if n.endswith(".so")]
        assert "cryptography/hazmat/bindings/_rust.abi3.so" in shared
        assert "_cffi_backend.cpython-314-aarch64-linux-gnu.so" in shared
        for name in shared:  # ELF header: e_machine is the 2 bytes at offset 18 (little endian)
            header = archive.read(name)[:20]
            assert header[:4] == b"\x7fELF", name
            assert int.from_bytes(header[18:20], "little") == EM_AARCH64, name
    check_pure_python_imports(zip_path, pins)


def check_pure_python_imports(zip_path: Path, pins: dict[str, dict[str, Any]]) -> None:
    """Import what can be imported here from the zip (Python's zipimport, isolated mode).

    The aarch64 extension modules (cryptography's Rust bindings, ``_cffi_backend``) cannot be
    loaded on this x86_64 machine: their ELF headers are checked instead. ``cryptography``'s
    package and ``pycparser`` (pure Python) are imported and used.
    """
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import cryptography, pycparser, pycparser.c_parser\n"
        "pycparser.c_parser.CParser().parse('int x;')\n"
        "print(cryptography.__version__, cryptography.__file__)\n"
        "print(pycparser.__version__, pycparser.__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, str(zip_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    (crypto, crypto_file), (parser, parser_file) = (
        line.split() for line in done.stdout.splitlines()
    )
    assert (crypto, parser) == (pins["cryptography"]["version"], pins["pycparser"]["version"])
    assert crypto_file.startswith(f"{zip_path}/") and parser_file.startswith(f"{zip_path}/")


#: Run with only the stdlib and the zip (``-I -S``: no site-packages, where a ``tzdata`` of the
#: test environment could be) and no system time zone database (``PYTHONTZPATH`` is an empty
#: directory, so zoneinfo's only source is the ``tzdata`` package, read from the zip through
#: importlib.resources). Prints tzdata's file and the reconciler's phase at 05:30 UTC on a
#: Monday in January and in July.
_TIME_ZONES = """\
import sys; sys.path.insert(0, sys.argv[1])
import datetime as dt, zoneinfo
assert zoneinfo.TZPATH == (sys.argv[2],), zoneinfo.TZPATH  # the empty directory only
berlin = zoneinfo.ZoneInfo("Europe/Berlin")
import tzdata
from handlers.schedule.hours import Hours, phase
hours = Hours("Europe/Berlin", "MON-FRI", "07:00", "20:00")
utc = dt.timezone.utc
print(tzdata.__file__)
print(dt.datetime(2026, 1, 5, 5, 30, tzinfo=utc).astimezone(berlin).utcoffset())
print(phase(hours, dt.datetime(2026, 1, 5, 5, 30, tzinfo=utc)))
print(phase(hours, dt.datetime(2026, 7, 6, 5, 30, tzinfo=utc)))
"""


def run_time_zones_from_zip(zip_path: Path, no_tz_dir: Path) -> subprocess.CompletedProcess[str]:
    """The subprocess of :data:`_TIME_ZONES` on ``zip_path`` (an empty ``no_tz_dir``)."""
    assert no_tz_dir.is_dir() and not any(no_tz_dir.iterdir())
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", _TIME_ZONES, str(zip_path), str(no_tz_dir)],
        capture_output=True,
        text=True,
        env={"PYTHONTZPATH": str(no_tz_dir), "PATH": "/usr/bin:/bin"},
    )


def check_time_zones_from_zip(zip_path: Path, no_tz_dir: Path) -> None:
    """The reconciler's hours work from the zip alone, without a system time zone database.

    Oracle: Berlin is UTC+1 in January and UTC+2 in July (CET/CEST), so 05:30 UTC on a
    Monday is 06:30 local in January (before a 07:00 start: asleep) and 07:30 in July (awake).
    """
    done = run_time_zones_from_zip(zip_path, no_tz_dir)
    assert done.returncode == 0, done.stderr
    tzdata_file, january_offset, january, july = done.stdout.split()
    assert tzdata_file.startswith(f"{zip_path}/"), tzdata_file
    assert january_offset == "1:00:00"
    assert (january, july) == ("asleep", "awake")
