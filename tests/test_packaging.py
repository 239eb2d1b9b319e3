"""The package as a user gets it: a wheel built from this repo, installed in a fresh venv.

Builds the wheel with ``uv build``, installs it with the README's install line (no extra),
synthesizes a small app that uses the construct (real handler bundling: the wheel must carry
``lambda_requirements.txt``), checks that ``cvpn`` then prints the one-line hint to install
the ``cli`` extra, installs ``constructs-cvpn[cli]`` and runs ``cvpn --help``.

Then runs every README example (tests/test_readme.py) against that installed wheel. About
30 s with a warm uv cache (the packages are linked from it), so it runs in ``make test``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = "CVPN_SKIP_BUNDLING"
"""Never passed on: the synth here bundles the handlers for real."""
UV = Path(os.environ.get("UV", ROOT / ".tools" / "bin" / "uv"))

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
    """A fresh venv (this Python) with the wheel installed by the README's line."""
    venv = parent / "user"
    run(UV, "venv", "--quiet", "--python", sys.executable, venv, cwd=parent)
    run(UV, "pip", "install", "--quiet", wheel, cwd=parent, env={"VIRTUAL_ENV": str(venv)})
    return venv


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Iterator[Path]:
    """Shared by the tests that install nothing more into it (no extra)."""
    yield _new_venv(tmp_path_factory.mktemp("venv"), wheel)


def test_wheel_holds_the_package_and_the_handler_requirements(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()

    assert "constructs_cvpn/lambda_requirements.txt" in names
    assert "constructs_cvpn/py.typed" in names
    assert "constructs_cvpn/handlers/ovpn.py" in names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    assert "Provides-Extra: cli" in metadata
    assert "Requires-Dist: typer>=0.20; extra == 'cli'" in metadata
    assert "Requires-Dist: boto3>=1.40; extra == 'cli'" in metadata
    assert "Requires-Dist: aws-cdk-lib<3,>=2.269.0" in metadata


def test_installed_wheel_synthesizes_a_user_app_without_the_cli_extra(
    venv: Path, tmp_path: Path
) -> None:
    python = venv / "bin" / "python"
    (tmp_path / "app.py").write_text(APP)
    node = ROOT / "node_modules" / ".bin"
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{node}{os.pathsep}{UV.parent}{os.pathsep}"
        + os.environ.get("PATH", ""),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "PYTHONPATH": "",
    }

    run(python, "app.py", cwd=tmp_path, env=env)

    template = json.loads((tmp_path / "cdk.out" / "UserStack.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::EC2::ClientVpnEndpoint" in types
    origin = run(
        python, "-c", "import constructs_cvpn; print(constructs_cvpn.__file__)", cwd=tmp_path
    )
    assert origin.startswith(str(venv))
    missing = run(
        python,
        "-c",
        "import importlib.util as u; "
        "print([u.find_spec(m) for m in ('typer', 'rich', 'boto3', 'cryptography')])",
        cwd=tmp_path,
    )
    assert missing == "[None, None, None, None]\n"  # the construct needs none of them
    assets = list((tmp_path / "cdk.out").glob("asset.*/cryptography"))
    assert assets, "the handler asset has no bundled cryptography"


def test_cvpn_hints_at_the_extra_then_works_with_it(wheel: Path, tmp_path: Path) -> None:
    venv = _new_venv(tmp_path, wheel)  # its own: it installs the extra
    cvpn = venv / "bin" / "cvpn"
    without = subprocess.run(
        [cvpn, "--help"], capture_output=True, text=True, timeout=120, check=False
    )

    assert without.returncode == 1
    assert without.stderr == (
        "cvpn: error: the cvpn command needs the 'cli' extra (missing module: typer); "
        "install it with: pip install 'constructs-cvpn[cli]'\n"
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
