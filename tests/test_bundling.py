"""Local bundling of the handlers asset (``constructs_cvpn.bundling``), without Docker.

One test runs the real pip download for arm64 into a temporary wheel cache and checks the
asset, one the same with ``uv pip``; the others use ``skip_wheels``, small wheels made here,
or call :func:`install_wheels` directly.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_cvpn import bundling

ROOT = Path(__file__).resolve().parent.parent
NO_INDEX = "http://127.0.0.1:9/simple"


def _pip() -> str:
    """A pip command: the project venv (made by uv) has none; make's .tools venv has one."""
    for found in (shutil.which("pip3"), shutil.which("pip"), str(ROOT / ".tools/bin/pip")):
        if found and Path(found).exists():
            return found
    pytest.fail("no pip: run make setup")


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools/bin/uv")
    if not Path(found).exists():
        pytest.fail("no uv: run make setup")
    return found


@pytest.fixture(autouse=True)
def _fresh_wheels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test prepares its own wheels (the module keeps one set per process)."""
    monkeypatch.setattr(bundling, "_PREPARED", {})


def _function(
    stack: cdk.Stack, id: str, arch: lambda_.Architecture, **kwargs: Any
) -> lambda_.Function:
    return lambda_.Function(
        stack,
        id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=arch,
        handler="handlers.pki.index.on_event",
        code=bundling.handlers_code(arch, lambda_.Runtime.PYTHON_3_14, **kwargs),
    )


def _asset_dir(outdir: Path, stack: cdk.Stack, logical_prefix: str) -> Path:
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    for logical_id, resource in template["Resources"].items():
        if logical_id.startswith(logical_prefix) and resource["Type"] == "AWS::Lambda::Function":
            key = resource["Properties"]["Code"]["S3Key"]
            return outdir / f"asset.{key.removesuffix('.zip')}"
    raise AssertionError(f"no function {logical_prefix}")


def _wheel_tag(asset: Path, dist: str) -> list[str]:
    (info,) = asset.glob(f"{dist}-*.dist-info")
    lines = (info / "WHEEL").read_text().splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]


@pytest.fixture(scope="module")
def real_bundle(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, float, Path]]:
    """Synthesize one arm64 function with the real bundling; yield (asset, seconds, cache)."""
    cache = tmp_path_factory.mktemp("wheels")
    outdir = tmp_path_factory.mktemp("cdkout")
    mp = pytest.MonkeyPatch()
    mp.setenv(bundling.CACHE_ENV_VAR, str(cache))
    mp.setenv(bundling.PIP_ENV_VAR, _pip())
    mp.delenv(bundling.SKIP_ENV_VAR, raising=False)
    mp.setattr(bundling, "_PREPARED", {})
    try:
        app = cdk.App(outdir=str(outdir))
        stack = cdk.Stack(app, "Bundled")
        start = time.perf_counter()
        _function(stack, "Fn", lambda_.Architecture.ARM_64, skip_wheels=False)
        elapsed = time.perf_counter() - start
        app.synth()
        yield _asset_dir(outdir, stack, "Fn"), elapsed, cache
    finally:
        mp.undo()


def test_real_bundle_has_handlers_and_aarch64_cryptography(
    real_bundle: tuple[Path, float, Path],
) -> None:
    asset, _, _ = real_bundle
    assert (asset / "handlers" / "__init__.py").is_file()
    assert (asset / "handlers" / "pki" / "index.py").is_file()
    assert (asset / "handlers" / "ovpn.py").is_file()
    assert not list(asset.joinpath("handlers").rglob("__pycache__"))
    assert not list(asset.joinpath("handlers").rglob("*.pyc"))
    assert (asset / f"cryptography-{bundling.CRYPTOGRAPHY_VERSION}.dist-info").is_dir()
    tags = _wheel_tag(asset, "cryptography")
    assert tags and all(t.startswith("cp311-abi3-manylinux") for t in tags)
    assert all(t.endswith("_aarch64") for t in tags)
    assert all(t.endswith("_aarch64") for t in _wheel_tag(asset, "cffi"))
    assert "cp314" in _wheel_tag(asset, "cffi")[0]
    assert list((asset / "cryptography" / "hazmat" / "bindings").glob("_rust.abi3.so"))


def test_repeat_install_uses_the_cache_without_network(
    real_bundle: tuple[Path, float, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first_seconds, wheels = real_bundle
    monkeypatch.setenv(bundling.CACHE_ENV_VAR, str(wheels))
    monkeypatch.setenv(bundling.PIP_ENV_VAR, _pip())
    assert bundling.cache_dir("aarch64", "3.14") == wheels / "aarch64-cp314"
    cached = sorted(p.name for p in bundling.cache_dir("aarch64", "3.14").iterdir())
    assert any(n.startswith("cryptography-") for n in cached)
    # No index reachable: only the cache can satisfy the install.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "none"))
    start = time.perf_counter()
    bundling.install_wheels(tmp_path / "out", arch="aarch64", python_version="3.14")
    print(f"first bundle {first_seconds:.1f}s, cached install {time.perf_counter() - start:.1f}s")
    assert (tmp_path / "out" / "cryptography").is_dir()
    assert sorted(p.name for p in bundling.cache_dir("aarch64", "3.14").iterdir()) == cached


def test_download_failure_raises_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(bundling.CACHE_ENV_VAR, str(tmp_path / "empty-cache"))
    monkeypatch.setenv(bundling.PIP_ENV_VAR, _pip())
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "none"))
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    with pytest.raises(bundling.BundlingError, match="could not download the wheels") as info:
        bundling.install_wheels(tmp_path / "out", arch="x86_64", python_version="3.14")
    assert "manylinux_2_34_x86_64" in str(info.value)
    assert bundling.SKIP_ENV_VAR in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_pip_command_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bundling.CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setenv(bundling.PIP_ENV_VAR, str(tmp_path / "no-such-pip"))
    with pytest.raises(bundling.BundlingError, match="could not run"):
        bundling.install_wheels(tmp_path / "out", arch="aarch64", python_version="3.14")


def test_skipped_bundle_has_only_handlers_and_hash_depends_on_arch(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Skipped")
    _function(stack, "Arm", lambda_.Architecture.ARM_64, skip_wheels=True)
    _function(stack, "X86", lambda_.Architecture.X86_64, skip_wheels=True)
    app.synth()
    arm = _asset_dir(tmp_path, stack, "Arm")
    x86 = _asset_dir(tmp_path, stack, "X86")
    assert arm != x86
    assert sorted(p.name for p in arm.iterdir()) == ["handlers"]
    assert (arm / "handlers" / "pki" / "certs.py").is_file()


def test_skip_by_context_flag_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bundling.SKIP_ENV_VAR, raising=False)
    app = cdk.App(outdir=str(tmp_path), context={bundling.SKIP_CONTEXT_KEY: "true"})
    stack = cdk.Stack(app, "Ctx")
    code = bundling.handlers_code(
        lambda_.Architecture.ARM_64, lambda_.Runtime.PYTHON_3_14, scope=stack
    )
    monkeypatch.setenv(bundling.SKIP_ENV_VAR, "1")
    by_env = bundling.handlers_code(lambda_.Architecture.ARM_64, lambda_.Runtime.PYTHON_3_14)
    bound = code.bind(stack)
    bound_env = by_env.bind(cdk.Stack(app, "Env"))
    assert bound.s3_location is not None and bound_env.s3_location is not None
    assert bound.s3_location.object_key == bound_env.s3_location.object_key
    assert sorted(p.name for p in tmp_path.glob("asset.*/*")) == ["handlers"]


def test_non_python_runtime_is_rejected() -> None:
    with pytest.raises(bundling.BundlingError, match="not a Python runtime"):
        bundling.handlers_code(lambda_.Architecture.ARM_64, lambda_.Runtime.NODEJS_22_X)


# --- pinned, hash-checked wheels (issue 10, item 7) ---------------------------------------------


def _make_wheel(directory: Path, name: str = "cvpnprobe", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"VALUE = 1\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        monkeypatch.setenv(var, NO_INDEX)
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "2")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_wheel_whose_hash_does_not_match_is_refused(
    installer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _offline(monkeypatch, tmp_path)
    monkeypatch.setenv(bundling.CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setenv(bundling.PIP_ENV_VAR, _pip() if installer == "pip" else f"{_uv()} pip")
    wheel = _make_wheel(bundling.cache_dir("aarch64", "3.14"))
    good = _sha256(wheel)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"cvpnprobe==1.0 --hash=sha256:{'0' * 64}\n")
    with pytest.raises(bundling.BundlingError, match="refused a wheel") as info:
        bundling.install_wheels(
            tmp_path / "bad", arch="aarch64", python_version="3.14", requirements=requirements
        )
    assert "\n" not in str(info.value)
    assert not (tmp_path / "bad" / "cvpnprobe").exists()
    requirements.write_text(f"cvpnprobe==1.0 --hash=sha256:{good}\n")
    bundling.install_wheels(
        tmp_path / "good", arch="aarch64", python_version="3.14", requirements=requirements
    )
    assert (tmp_path / "good" / "cvpnprobe" / "__init__.py").is_file()


def test_requirements_file_is_generated_from_uv_lock() -> None:
    """lambda_requirements.txt is what uv.lock says (refresh: see the module docstring)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    assert bundling.REQUIREMENTS.read_text() == bundling.requirements_from_lock(lock)
    assert bundling.main([str(ROOT / "uv.lock")]) == 0


def test_every_package_is_pinned_with_hashes() -> None:
    text = bundling.REQUIREMENTS.read_text()
    # Parsed here, not with bundling._pins: CRYPTOGRAPHY_VERSION is _pins of this very file,
    # so comparing the two would hold for any parser.
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.MULTILINE))
    assert set(pins) == {"cryptography", "cffi", "pycparser"}
    assert pins["cryptography"] == bundling.CRYPTOGRAPHY_VERSION
    locked = {
        p["name"]: p["version"]
        for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
        if p["name"] in pins
    }
    assert pins == locked  # the versions the handler tests run against
    blocks = text.split("==")[1:]
    assert all("--hash=sha256:" in block for block in blocks)


def test_lock_without_a_lambda_wheel_is_refused() -> None:
    lock = {
        "package": [
            {"name": n, "version": "1", "wheels": [{"url": "x-1-cp311-cp311-win_amd64.whl"}]}
            for n in bundling.LOCKED_PACKAGES
        ]
    }
    with pytest.raises(bundling.BundlingError, match="no Lambda wheel of cryptography"):
        bundling.requirements_from_lock(lock)


def _fake_wheels(root: Path) -> Path:
    for rel, text in {
        "cryptography/__init__.py": "crypto",
        "cffi/__init__.py": "cffi",
        "_cffi_backend.cpython-314-aarch64-linux-gnu.so": "backend",
        "pycparser/__init__.py": "pycparser",
        "pycparser-3.12.dist-info/METADATA": "Name: pycparser",
        "pycparser-3.12.dist-info/RECORD": "installer record",
        "bin/cffi-gen-src": "#!/usr/bin/python",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _asset_key(tmp_path: Path, tag: str) -> str:
    app = cdk.App(outdir=str(tmp_path / f"out-{tag}"))
    stack = cdk.Stack(app, f"S{tag}")
    code = bundling.handlers_code(
        lambda_.Architecture.ARM_64, lambda_.Runtime.PYTHON_3_14, skip_wheels=False
    )
    bound = code.bind(stack)
    assert bound.s3_location is not None
    return bound.s3_location.object_key


@pytest.mark.parametrize(
    "changed",
    [
        "cryptography/__init__.py",
        "cffi/__init__.py",
        "_cffi_backend.cpython-314-aarch64-linux-gnu.so",
        "pycparser/__init__.py",
        "pycparser-3.12.dist-info/METADATA",
    ],
)
def test_asset_hash_changes_when_any_wheel_changes(
    changed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = _fake_wheels(tmp_path / "wheels")
    monkeypatch.setattr(bundling, "_prepare_wheels", lambda arch, version: wheels)
    first = _asset_key(tmp_path, "a")
    monkeypatch.setattr(bundling, "_PREPARED", {})
    assert _asset_key(tmp_path, "b") == first  # same bytes, same hash
    (wheels / changed).write_text((wheels / changed).read_text() + " changed")
    monkeypatch.setattr(bundling, "_PREPARED", {})
    assert _asset_key(tmp_path, "c") != first


def test_installer_files_are_neither_hashed_nor_shipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip and uv write different RECORD/INSTALLER files and scripts: they do not ship."""
    wheels = _fake_wheels(tmp_path / "wheels")
    before = bundling.tree_hash(wheels)
    (wheels / "pycparser-3.12.dist-info/RECORD").write_text("another installer")
    (wheels / "pycparser-3.12.dist-info/INSTALLER").write_text("uv")
    (wheels / ".lock").write_text("")
    assert bundling.tree_hash(wheels) == before
    monkeypatch.setattr(bundling, "_prepare_wheels", lambda arch, version: wheels)
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Shipped")
    _function(stack, "Fn", lambda_.Architecture.ARM_64, skip_wheels=False)
    app.synth()
    asset = _asset_dir(tmp_path / "out", stack, "Fn")
    assert (asset / "cffi" / "__init__.py").is_file()
    assert (asset / "pycparser-3.12.dist-info" / "METADATA").is_file()
    assert not (asset / "bin").exists()
    assert not (asset / "pycparser-3.12.dist-info" / "RECORD").exists()
    assert not (asset / ".lock").exists()


def test_real_uv_install_gives_the_same_wheels_as_pip(
    real_bundle: tuple[Path, float, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asset, _, _ = real_bundle
    monkeypatch.setenv(bundling.CACHE_ENV_VAR, str(tmp_path / "empty"))
    monkeypatch.setenv(bundling.PIP_ENV_VAR, f"{_uv()} pip")
    bundling.install_wheels(tmp_path / "uv", arch="aarch64", python_version="3.14")
    shipped = tmp_path / "shipped"
    shutil.copytree(asset, shipped, ignore=shutil.ignore_patterns("handlers"))
    assert bundling.tree_hash(tmp_path / "uv") == bundling.tree_hash(shipped)


# --- installer fallback and errors (issue 11, item 7) -------------------------------------------


def test_uv_pip_is_used_when_the_venv_has_no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = bundling.importlib.util.find_spec
    monkeypatch.setattr(
        bundling.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pip" else real_find_spec(name, *a),
    )
    monkeypatch.delenv(bundling.PIP_ENV_VAR, raising=False)
    monkeypatch.setenv("UV", "/opt/uv/bin/uv")
    assert bundling._pip_command() == ["/opt/uv/bin/uv", "pip"]
    monkeypatch.delenv("UV")
    monkeypatch.setenv("PATH", str(Path(_uv()).parent))
    assert bundling._pip_command() == [str(Path(_uv()).parent / "uv"), "pip"]
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(bundling.BundlingError, match="neither pip nor uv"):
        bundling._pip_command()


def test_venv_pip_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bundling.PIP_ENV_VAR, raising=False)
    monkeypatch.setattr(bundling.importlib.util, "find_spec", lambda name, *a: object())
    assert bundling._pip_command() == [sys.executable, "-m", "pip"]


def test_bundling_error_reaches_the_user_as_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raised by handlers_code itself (not from inside the jsii bundling callback)."""
    monkeypatch.setenv(bundling.CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setenv(bundling.PIP_ENV_VAR, str(tmp_path / "no-such-pip"))
    monkeypatch.delenv(bundling.SKIP_ENV_VAR, raising=False)
    with pytest.raises(bundling.BundlingError) as info:
        _asset_key(tmp_path, "err")
    assert type(info.value) is bundling.BundlingError
    assert "\n" not in str(info.value) and "could not run" in str(info.value)
    assert str(bundling.BundlingError("pip said:\n  ERROR: x\n\nfix it")) == (
        "pip said: ERROR: x fix it"
    )
