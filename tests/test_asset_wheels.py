"""The handler asset's pinned wheels (``constructs_cvpn.asset_wheels``): pins and installers.

One module fixture runs the real pip download for arm64 / CPython 3.14 into a temporary wheel
cache (network: the package index); the uv install is compared with it. The other tests use
small wheels made here, or no network at all.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from constructs_cvpn import asset_build, asset_wheels

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


def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        monkeypatch.setenv(var, NO_INDEX)
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "none"))
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "2")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@pytest.fixture(scope="module")
def pip_install(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(installed tree, wheel cache): the pinned wheels downloaded by pip into a new cache."""
    cache = tmp_path_factory.mktemp("wheels")
    target = tmp_path_factory.mktemp("pip-installed")
    mp = pytest.MonkeyPatch()
    mp.setenv(asset_wheels.CACHE_ENV_VAR, str(cache))
    mp.setenv(asset_wheels.PIP_ENV_VAR, _pip())
    try:
        asset_wheels.install_wheels(target, arch="aarch64", python_version="3.14")
    finally:
        mp.undo()
    return target, cache


def _tree(root: Path) -> dict[str, bytes]:
    """Every shipped file under ``root`` (the asset build skips installer records)."""
    skipped = {"bin", ".lock", "INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and not skipped & set(p.relative_to(root).parts)
        and "__pycache__" not in p.parts
    }


def test_pip_installs_the_pinned_aarch64_wheels(pip_install: tuple[Path, Path]) -> None:
    target, _ = pip_install
    pins = dict(re.findall(r"^([a-z]+)==(\S+)", asset_wheels.REQUIREMENTS.read_text(), re.M))
    for name, version in pins.items():
        assert (target / f"{name}-{version}.dist-info").is_dir(), name
    assert list((target / "cryptography" / "hazmat" / "bindings").glob("_rust.abi3.so"))
    assert list(target.glob("_cffi_backend.cpython-314-aarch64-linux-gnu.so"))


def test_repeat_install_uses_the_cache_without_network(
    pip_install: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, wheels = pip_install
    monkeypatch.setenv(asset_wheels.CACHE_ENV_VAR, str(wheels))
    monkeypatch.setenv(asset_wheels.PIP_ENV_VAR, _pip())
    assert asset_wheels.cache_dir("aarch64", "3.14") == wheels / "aarch64-cp314"
    cached = sorted(p.name for p in asset_wheels.cache_dir("aarch64", "3.14").iterdir())
    assert any(n.startswith("cryptography-") for n in cached)
    _offline(monkeypatch, tmp_path)  # no index reachable: only the cache can satisfy it
    asset_wheels.install_wheels(tmp_path / "out", arch="aarch64", python_version="3.14")
    assert (tmp_path / "out" / "cryptography").is_dir()
    assert sorted(p.name for p in asset_wheels.cache_dir("aarch64", "3.14").iterdir()) == cached


def test_real_uv_install_gives_the_same_files_as_pip(
    pip_install: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, _ = pip_install
    monkeypatch.setenv(asset_wheels.CACHE_ENV_VAR, str(tmp_path / "empty"))
    monkeypatch.setenv(asset_wheels.PIP_ENV_VAR, f"{_uv()} pip")
    asset_wheels.install_wheels(tmp_path / "uv", arch="aarch64", python_version="3.14")
    assert _tree(tmp_path / "uv") == _tree(target)


def test_download_failure_raises_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(asset_wheels.CACHE_ENV_VAR, str(tmp_path / "empty-cache"))
    monkeypatch.setenv(asset_wheels.PIP_ENV_VAR, _pip())
    _offline(monkeypatch, tmp_path)
    with pytest.raises(asset_wheels.BundlingError, match="could not download the wheels") as info:
        asset_wheels.install_wheels(tmp_path / "out", arch="x86_64", python_version="3.14")
    assert "manylinux_2_34_x86_64" in str(info.value)
    assert asset_wheels.SKIP_ENV_VAR in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_pip_command_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(asset_wheels.CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setenv(asset_wheels.PIP_ENV_VAR, str(tmp_path / "no-such-pip"))
    with pytest.raises(asset_wheels.BundlingError, match="could not run"):
        asset_wheels.install_wheels(tmp_path / "out", arch="aarch64", python_version="3.14")


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


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_wheel_whose_hash_does_not_match_is_refused(
    installer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _offline(monkeypatch, tmp_path)
    monkeypatch.delenv("PIP_FIND_LINKS")
    monkeypatch.setenv(asset_wheels.CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setenv(asset_wheels.PIP_ENV_VAR, _pip() if installer == "pip" else f"{_uv()} pip")
    wheel = _make_wheel(asset_wheels.cache_dir("aarch64", "3.14"))
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"cvpnprobe==1.0 --hash=sha256:{'0' * 64}\n")
    with pytest.raises(asset_wheels.BundlingError, match="refused a wheel") as info:
        asset_wheels.install_wheels(
            tmp_path / "bad", arch="aarch64", python_version="3.14", requirements=requirements
        )
    assert "\n" not in str(info.value)
    assert not (tmp_path / "bad" / "cvpnprobe").exists()
    requirements.write_text(f"cvpnprobe==1.0 --hash=sha256:{good}\n")
    asset_wheels.install_wheels(
        tmp_path / "good", arch="aarch64", python_version="3.14", requirements=requirements
    )
    assert (tmp_path / "good" / "cvpnprobe" / "__init__.py").is_file()


def test_requirements_file_is_generated_from_uv_lock(capsys: pytest.CaptureFixture[str]) -> None:
    """lambda_requirements.txt is what uv.lock says (refresh: see asset_wheels' docstring)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    assert asset_wheels.REQUIREMENTS.read_text() == asset_wheels.requirements_from_lock(lock)
    assert asset_build.main(["requirements", str(ROOT / "uv.lock")]) == 0
    assert capsys.readouterr().out == asset_wheels.REQUIREMENTS.read_text()


def test_every_package_is_pinned_with_hashes() -> None:
    text = asset_wheels.REQUIREMENTS.read_text()
    # Parsed here, not with asset_wheels.pinned: CRYPTOGRAPHY_VERSION is read with it, so
    # comparing the two would hold for any parser.
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.MULTILINE))
    assert set(pins) == {"cryptography", "cffi", "pycparser", "tzdata"}
    assert pins["cryptography"] == asset_wheels.CRYPTOGRAPHY_VERSION
    locked = {
        p["name"]: p["version"]
        for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
        if p["name"] in pins
    }
    assert pins == locked  # the versions the handler tests run against
    blocks = text.split("==")[1:]
    assert all("--hash=sha256:" in block for block in blocks)
    parsed = asset_wheels.pinned(text)
    assert {name: p["version"] for name, p in parsed.items()} == pins
    for name, block in zip(pins, blocks, strict=True):
        assert parsed[name]["hashes"] == sorted(re.findall(r"--hash=(\S+)", block))


def test_lock_without_a_lambda_wheel_is_refused() -> None:
    lock = {
        "package": [
            {"name": n, "version": "1", "wheels": [{"url": "x-1-cp311-cp311-win_amd64.whl"}]}
            for n in asset_wheels.LOCKED_PACKAGES
        ]
    }
    with pytest.raises(asset_wheels.BundlingError, match="no Lambda wheel of cryptography"):
        asset_wheels.requirements_from_lock(lock)


# --- installer fallback and errors (issue 11, item 7) -------------------------------------------


def test_uv_pip_is_used_when_the_venv_has_no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = asset_wheels.importlib.util.find_spec
    monkeypatch.setattr(
        asset_wheels.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pip" else real_find_spec(name, *a),
    )
    monkeypatch.delenv(asset_wheels.PIP_ENV_VAR, raising=False)
    monkeypatch.setenv("UV", "/opt/uv/bin/uv")
    assert asset_wheels._pip_command() == ["/opt/uv/bin/uv", "pip"]
    monkeypatch.delenv("UV")
    monkeypatch.setenv("PATH", str(Path(_uv()).parent))
    assert asset_wheels._pip_command() == [str(Path(_uv()).parent / "uv"), "pip"]
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(asset_wheels.BundlingError, match="neither pip nor uv"):
        asset_wheels._pip_command()


def test_venv_pip_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(asset_wheels.PIP_ENV_VAR, raising=False)
    monkeypatch.setattr(asset_wheels.importlib.util, "find_spec", lambda name, *a: object())
    assert asset_wheels._pip_command() == [sys.executable, "-m", "pip"]


def test_bundling_error_is_one_line() -> None:
    assert str(asset_wheels.BundlingError("pip said:\n  ERROR: x\n\nfix it")) == (
        "pip said: ERROR: x fix it"
    )
