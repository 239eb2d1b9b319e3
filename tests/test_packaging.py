"""The package as a user gets it: a wheel built from this repo, installed in a fresh venv.

Builds the wheel with ``uv build`` (its build hook ships the handlers' Lambda asset), checks
the shipped asset against the pins and the handler sources, installs the wheel offline
(``UV_OFFLINE=1``: every dependency from uv's cache) in two fresh venvs, and synthesizes a
small app with the generated PKI in each with no network: Python's sockets refused by a
``sitecustomize``, the whole process tree in a network namespace of its own where
``unshare -rn`` is allowed, an empty ``HOME`` and empty caches, no package index and an
installer that cannot run. The asset hash is the same in both. Then checks that ``cvpn``
prints the one-line hint to install the ``cli`` extra, installs ``constructs-cvpn[cli]`` and
runs ``cvpn --help``, and runs every README example (tests/test_readme.py) against the
installed wheel. About a minute with a warm uv cache, so it runs in ``make test``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.asset_checks import check_asset

ROOT = Path(__file__).resolve().parent.parent
SKIP = "CVPN_SKIP_BUNDLING"
"""Never passed on: the synth here uses the real handler asset."""
UV = Path(os.environ.get("UV", ROOT / ".tools" / "bin" / "uv"))
ASSET = "constructs_cvpn/_lambda/handlers-aarch64-cp314"
"""The shipped asset (zip and manifest) in the wheel: arm64, Python 3.14."""
# Loaded by every Python process of the offline synth (PYTHONPATH): refuses IP connections
# and name look-ups, so that a download attempt fails loudly instead of being skipped.
NO_NETWORK = """
import socket

def _refused(*args, **kwargs):
    raise OSError("network access refused by the constructs-cvpn packaging test")

_connect = socket.socket.connect
def _connect_local_only(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refused()
    return _connect(self, address)

socket.socket.connect = _connect_local_only
socket.socket.connect_ex = _connect_local_only
socket.getaddrinfo = _refused
socket.create_connection = _refused
"""

APP = """
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs_cvpn import AuthorizationRule, ClientVpn

app = App()
stack = Stack(app, "UserStack", env={"account": "123456789012", "region": "eu-west-1"})
vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
vpn = ClientVpn(
    stack,
    "Vpn",
    vpc=vpc,
    cidr="10.100.0.0/22",
    users=["alice"],
    authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
)
database = ec2.SecurityGroup(stack, "Database", vpc=vpc)
database.connections.allow_from(vpn.connections, ec2.Port.tcp(5432))
role = iam.Role(stack, "Alice", assumed_by=iam.AccountRootPrincipal())
vpn.grant_read_user_config("alice", role)
app.synth()
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={k: v for k, v in {**os.environ, **(env or {})}.items() if k != SKIP},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert UV.exists(), f"{UV} missing: run `make setup` first"
    dist = tmp_path_factory.mktemp("dist")
    run(UV, "build", "--wheel", "--quiet", "--out-dir", dist, ROOT, cwd=ROOT)
    (built,) = dist.glob("constructs_cvpn-*.whl")
    return built


def _new_venv(parent: Path, wheel: Path) -> Path:
    """A fresh venv (this Python) with the wheel installed by the README's line, offline."""
    venv = parent / "user"
    run(UV, "venv", "--quiet", "--python", sys.executable, venv, cwd=parent)
    env = {"VIRTUAL_ENV": str(venv), "UV_OFFLINE": "1"}
    run(UV, "pip", "install", "--quiet", wheel, cwd=parent, env=env)
    return venv


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Iterator[Path]:
    """Shared by the tests that install nothing more into it (no extra)."""
    yield _new_venv(tmp_path_factory.mktemp("venv"), wheel)


def test_wheel_holds_the_package_and_the_handler_asset(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()

    assert "constructs_cvpn/lambda_requirements.txt" in names
    assert "constructs_cvpn/py.typed" in names
    assert "constructs_cvpn/handlers/ovpn.py" in names
    assert f"{ASSET}.zip" in names and f"{ASSET}.json" in names
    assert not [n for n in names if n.startswith(("tests/", ".build/")) or "__pycache__" in n]
    assert "hatch_build.py" not in names
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    assert "Provides-Extra: cli" in metadata
    assert "Requires-Dist: typer>=0.20; extra == 'cli'" in metadata
    assert "Requires-Dist: boto3>=1.40; extra == 'cli'" in metadata
    assert "Requires-Dist: aws-cdk-lib<3,>=2.269.0" in metadata


def test_shipped_asset_agrees_with_the_pins_and_the_handler_sources(
    wheel: Path, tmp_path: Path
) -> None:
    """The manifest and the zip in the wheel: pins, hashes, sources, arm64 / cp314 tags."""
    with zipfile.ZipFile(wheel) as archive:
        manifest = json.loads(archive.read(f"{ASSET}.json"))
        (tmp_path / "asset.zip").write_bytes(archive.read(f"{ASSET}.zip"))
    check_asset(tmp_path / "asset.zip", manifest)


def test_wheel_grows_by_no_more_than_the_asset(wheel: Path, tmp_path: Path) -> None:
    """Against the same wheel built without the hook (hatchling's HATCH_BUILD_NO_HOOKS)."""
    run(
        UV, "build", "--wheel", "--quiet", "--out-dir", tmp_path, ROOT,
        cwd=ROOT, env={"HATCH_BUILD_NO_HOOKS": "true"},
    )  # fmt: skip
    (bare,) = tmp_path.glob("constructs_cvpn-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        asset = sum(archive.getinfo(f"{ASSET}{suffix}").file_size for suffix in (".zip", ".json"))
    assert f"{ASSET}.zip" not in zipfile.ZipFile(bare).namelist()
    grown = wheel.stat().st_size - bare.stat().st_size
    print(f"wheel {wheel.stat().st_size:,} B, without the asset {bare.stat().st_size:,} B, ")
    print(f"grown {grown:,} B; asset {asset:,} B")
    # Two more zip entries and two RECORD lines: a few hundred bytes beyond the files.
    assert grown <= asset + 1024


def test_a_wheel_built_from_the_sdist_ships_the_same_asset(wheel: Path, tmp_path: Path) -> None:
    """A second, independent build (the sdist has no .build/): same contents, same hash."""
    run(UV, "build", "--quiet", "--out-dir", tmp_path, ROOT, cwd=ROOT)
    (sdist,) = tmp_path.glob("constructs_cvpn-*.tar.gz")
    (again,) = tmp_path.glob("constructs_cvpn-*.whl")

    def shipped(path: Path) -> tuple[str, dict[str, bytes]]:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(f"{ASSET}.json"))
            (tmp_path / "asset.zip").write_bytes(archive.read(f"{ASSET}.zip"))
        with zipfile.ZipFile(tmp_path / "asset.zip") as asset:
            return manifest["asset_hash"], {n: asset.read(n) for n in asset.namelist()}

    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    assert not [n for n in names if "/.build/" in n or "/_lambda/" in n]
    assert any(n.endswith("/hatch_build.py") for n in names)
    assert shipped(again) == shipped(wheel)


def _offline_synth(venv: Path, work: Path) -> tuple[dict[str, str], Path]:
    """Synthesize APP in ``work`` with no network, no caches, no installer.

    Returns ({function logical id: S3 key}, cdk.out).
    """
    work.mkdir(parents=True, exist_ok=True)
    (work / "app.py").write_text(APP)
    guard = work / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NO_NETWORK)
    node = ROOT / "node_modules" / ".bin"
    jsii_cache = Path.home() / ".cache" / "aws" / "jsii" / "package-cache"
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{node}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(work / "home"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "CVPN_WHEEL_CACHE": str(work / "wheels"),
        "CVPN_PIP": str(work / "no-installer"),  # any install attempt fails
        "PIP_NO_INDEX": "1",
        "UV_OFFLINE": "1",
        "CDK_OUTDIR": str(work / "cdk.out"),
        "PYTHONPATH": str(guard),
        # jsii's own unpacked copy of the npm packages inside the installed wheels (offline);
        # shared so that each venv does not unpack 200 MB again.
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(jsii_cache),
    }
    (work / "home").mkdir()
    python = str(venv / "bin" / "python")
    probe = "import socket; socket.create_connection(('127.0.0.1', 9))"
    refused = subprocess.run(
        [python, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert "refused by the constructs-cvpn packaging test" in refused.stderr  # guard is on
    isolated = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    prefix = ["unshare", "-rn"] if shutil.which("unshare") and isolated.returncode == 0 else []
    print(f"offline synth: sockets refused{', own network namespace' if prefix else ''}")
    done = subprocess.run(
        [*prefix, python, "app.py"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (work / "wheels").exists() and not (work / "cache").exists()
    assert list((work / "home").iterdir()) == []
    template = json.loads((work / "cdk.out" / "UserStack.template.json").read_text())
    keys = {
        logical_id: resource["Properties"]["Code"]["S3Key"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and "S3Key" in resource["Properties"]["Code"]
    }
    return keys, work / "cdk.out"


@pytest.fixture(scope="module")
def offline_synth(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    keys, out = _offline_synth(venv, tmp_path_factory.mktemp("offline"))
    template = json.loads((out / "UserStack.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::EC2::ClientVpnEndpoint" in types
    shipped = next(venv.glob(f"lib/python*/site-packages/{ASSET}.zip")).read_bytes()
    for key in keys.values():  # what CDK staged is the shipped zip, byte for byte
        staged = (out / f"asset.{key}").read_bytes()
        assert hashlib.sha256(staged).digest() == hashlib.sha256(shipped).digest()
    return keys


def test_installed_wheel_synthesizes_the_generated_pki_offline_without_the_cli_extra(
    venv: Path, offline_synth: dict[str, str], tmp_path: Path
) -> None:
    assert len(offline_synth) >= 2  # the two PKI handlers (and the VPC's own function)
    origin = run(
        venv / "bin" / "python",
        "-c",
        "import constructs_cvpn; print(constructs_cvpn.__file__)",
        cwd=tmp_path,
    )
    assert origin.startswith(str(venv))
    missing = run(
        venv / "bin" / "python",
        "-c",
        "import importlib.util as u; "
        "print([u.find_spec(m) for m in ('typer', 'rich', 'boto3', 'cryptography')])",
        cwd=tmp_path,
    )
    assert missing == "[None, None, None, None]\n"  # the construct needs none of them


def test_asset_hash_is_the_same_in_a_second_fresh_environment(
    wheel: Path, offline_synth: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "second").mkdir()
    other = _new_venv(tmp_path / "second", wheel)
    keys, _ = _offline_synth(other, tmp_path / "work")
    assert keys == offline_synth
    assert len(set(keys.values())) == 1  # the PKI handlers share the one asset


def test_cvpn_hints_at_the_extra_then_works_with_it(wheel: Path, tmp_path: Path) -> None:
    venv = _new_venv(tmp_path, wheel)  # its own: it installs the extra
    cvpn = venv / "bin" / "cvpn"
    without = subprocess.run(
        [cvpn, "--help"], capture_output=True, text=True, timeout=120, check=False
    )

    assert without.returncode == 1
    assert without.stderr == (  # the extra from the wheel this venv was installed from
        "cvpn: error: the cvpn command needs the 'cli' extra (missing module: typer); "
        f"install it with: pip install 'constructs-cvpn[cli] @ {wheel.as_uri()}'\n"
    )

    env = {"VIRTUAL_ENV": str(venv)}
    run(
        UV,
        "pip",
        "install",
        "--quiet",
        f"constructs-cvpn[cli] @ {wheel.as_uri()}",
        cwd=tmp_path,
        env=env,
    )
    usage = run(cvpn, "config", "get", "--help", cwd=tmp_path, env={"COLUMNS": "200"})

    assert "--cert" in usage


def test_installed_wheel_runs_every_readme_example(venv: Path, tmp_path: Path) -> None:
    """The README's own examples, against the installed wheel (not this checkout)."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text())
    runner = (ROOT / "tests" / "test_readme.py").read_text()
    (tmp_path / "tests" / "test_readme.py").write_text(runner)
    env = {
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{ROOT / 'node_modules' / '.bin'}{os.pathsep}"
        + os.environ.get("PATH", ""),
        "PYTHONPATH": "",
    }
    run(UV, "pip", "install", "--quiet", "pytest", cwd=tmp_path, env=env)
    out = run(
        venv / "bin" / "python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "tests/test_readme.py",
        cwd=tmp_path,
        env=env,
    )
    blocks = (ROOT / "README.md").read_text().count("```python")
    assert f"{blocks + 1} passed" in out, out[-2000:]  # each block, and "has examples"
    origin = run(
        venv / "bin" / "python",
        "-c",
        "import constructs_cvpn; print(constructs_cvpn.__file__)",
        cwd=tmp_path,
        env=env,
    )
    assert origin.startswith(str(venv))


# The type stubs (boto3-stubs: mypy_boto3_*) are a dev dependency: neither a user's venv nor the
# Lambda runtime has them, so every import of them must sit under `if TYPE_CHECKING:`.
NO_STUBS = """
import importlib, pkgutil, sys
import constructs_cvpn

class NoStubs:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("mypy_boto3"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoStubs())
names = [m.name for m in pkgutil.walk_packages(constructs_cvpn.__path__, "constructs_cvpn.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_no_module_imports_the_type_stubs_at_run_time() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_STUBS],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), SKIP: "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) > 40  # every module was imported, not an empty walk
