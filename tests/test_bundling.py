"""Local bundling of the handlers asset (``constructs_cvpn.bundling``), without Docker.

One test runs the real pip download for arm64 into a temporary wheel cache and checks the
asset; the others use ``skip_wheels`` or call :func:`install_wheels` directly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_cvpn import bundling


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
    mp.delenv(bundling.SKIP_ENV_VAR, raising=False)
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
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "none"))
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    with pytest.raises(bundling.BundlingError, match="could not download cryptography==") as info:
        bundling.install_wheels(tmp_path / "out", arch="x86_64", python_version="3.14")
    assert "manylinux_2_34_x86_64" in str(info.value)
    assert bundling.SKIP_ENV_VAR in str(info.value)


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
