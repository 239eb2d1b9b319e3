"""The handlers' Lambda asset: built once (``asset_build``), used as it is by synth (``bundling``).

One module fixture builds the real arm64 / CPython 3.14 asset (from the wheel cache that
``make setup`` filled, or the package index); the others install small fake wheels, or none.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_cvpn import asset_build, bundling, handler_function
from constructs_cvpn.asset_build import Target
from tests.asset_checks import (
    check_asset,
    check_time_zones_from_zip,
    requirement_pins,
    run_time_zones_from_zip,
)

ROOT = Path(__file__).resolve().parent.parent
ARM = Target("aarch64", "3.14")


@pytest.fixture(autouse=True)
def _fresh_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test resolves the asset itself (bundling keeps one per process and target)."""
    monkeypatch.setattr(bundling, "_RESOLVED", {})


@pytest.fixture(scope="module")
def real_asset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("asset")
    manifest = asset_build.build(ARM, out)
    return out / f"{ARM.name}.zip", manifest


def test_real_asset_holds_the_handlers_and_the_pinned_arm64_wheels(
    real_asset: tuple[Path, dict[str, Any]],
) -> None:
    zip_path, manifest = real_asset
    check_asset(zip_path, manifest)
    pins = {name: pin["version"] for name, pin in requirement_pins().items()}
    assert {name: wheel["version"] for name, wheel in manifest["wheels"].items()} == pins
    assert manifest["handlers_sha256"] == asset_build.handlers_sha256()


def test_the_reconciler_has_time_zones_without_a_system_database(
    real_asset: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """tzdata is in the asset, and zoneinfo finds Europe/Berlin in it when the runtime has no
    /usr/share/zoneinfo (Lambda's AL2023 images started without one: see asset_wheels)."""
    zip_path, _ = real_asset
    with zipfile.ZipFile(zip_path) as archive:
        assert "tzdata/zoneinfo/Europe/Berlin" in archive.namelist()
    (tmp_path / "no-tz").mkdir()
    check_time_zones_from_zip(zip_path, tmp_path / "no-tz")
    # The same run on the asset without tzdata fails: the check depends on it.
    stripped = tmp_path / "without-tzdata.zip"
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(stripped, "w") as target:
        for info in source.infolist():
            if not info.filename.startswith("tzdata"):
                target.writestr(info, source.read(info))
    failed = run_time_zones_from_zip(stripped, tmp_path / "no-tz")
    assert failed.returncode != 0
    assert "ZoneInfoNotFoundError" in failed.stderr and "Europe/Berlin" in failed.stderr


def test_zip_is_reproducible_no_byte_code_no_installer_records(
    real_asset: tuple[Path, dict[str, Any]],
) -> None:
    zip_path, manifest = real_asset
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and len(names) == manifest["files"]
    assert not [n for n in names if n.endswith((".pyc", ".pyo")) or "__pycache__" in n]
    assert not [n for n in names if n.rsplit("/", 1)[-1] in ("RECORD", "INSTALLER")]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} <= {0o644, 0o755}


def test_a_second_build_is_byte_identical(
    real_asset: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Another build (handler files with other times) gives the same bytes and hash."""
    zip_path, manifest = real_asset
    handlers = tmp_path / "handlers"
    shutil.copytree(ROOT / "constructs_cvpn" / "handlers", handlers)
    for path in handlers.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    again = asset_build.build(ARM, tmp_path / "out", handlers=handlers)
    assert again == manifest
    assert (tmp_path / "out" / f"{ARM.name}.zip").read_bytes() == zip_path.read_bytes()
    assert asset_build.zip_hash(ARM, zip_path) == manifest["asset_hash"]


# --- built from fake wheels (no network) -------------------------------------------------------

FAKE_WHEELS = {
    "cryptography/__init__.py": "crypto",
    "cffi/__init__.py": "cffi",
    "_cffi_backend.cpython-314-aarch64-linux-gnu.so": "backend",
    "pycparser/__init__.py": "pycparser",
    "pycparser-3.12.dist-info/METADATA": "Name: pycparser",
    "pycparser-3.12.dist-info/WHEEL": "Tag: py3-none-any",
    "pycparser-3.12.dist-info/RECORD": "installer record",
    "pycparser-3.12.dist-info/INSTALLER": "pip",
    "bin/cffi-gen-src": "#!/usr/bin/python",
    ".lock": "",
}


@dataclass
class FakeInstaller:
    """Installs FAKE_WHEELS with ``changes`` applied; records each install's target."""

    changes: dict[str, str] = field(default_factory=dict)
    calls: list[Path] = field(default_factory=list)

    def __call__(self, target: Path, **_: Any) -> None:
        self.calls.append(target)
        for rel, text in {**FAKE_WHEELS, **self.changes}.items():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_text(text)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeInstaller:
    installer = FakeInstaller()
    monkeypatch.setattr(asset_build, "install_wheels", installer)
    return installer


def _fake_build(out: Path, **kwargs: Any) -> tuple[bytes, dict[str, Any]]:
    manifest = asset_build.build(ARM, out, **kwargs)
    return (out / f"{ARM.name}.zip").read_bytes(), manifest


@pytest.mark.parametrize(
    "changed",
    [
        "cryptography/__init__.py",
        "cffi/__init__.py",
        "_cffi_backend.cpython-314-aarch64-linux-gnu.so",
        "pycparser-3.12.dist-info/METADATA",
    ],
)
def test_asset_hash_changes_with_any_shipped_byte(
    changed: str, fake: FakeInstaller, tmp_path: Path
) -> None:
    _, first = _fake_build(tmp_path / "a")
    _, same = _fake_build(tmp_path / "b")
    fake.changes[changed] = FAKE_WHEELS[changed] + " changed"
    _, other = _fake_build(tmp_path / "c")
    assert same["asset_hash"] == first["asset_hash"]
    assert other["asset_hash"] != first["asset_hash"]


def test_installer_files_are_neither_hashed_nor_shipped(
    fake: FakeInstaller, tmp_path: Path
) -> None:
    """pip and uv write different RECORD/INSTALLER files and scripts: they do not ship."""
    data, first = _fake_build(tmp_path / "a")
    fake.changes["pycparser-3.12.dist-info/RECORD"] = "another installer"
    fake.changes["pycparser-3.12.dist-info/INSTALLER"] = "uv"
    again, second = _fake_build(tmp_path / "b")
    assert again == data and second["asset_hash"] == first["asset_hash"]
    names = zipfile.ZipFile(tmp_path / "a" / f"{ARM.name}.zip").namelist()
    assert "cffi/__init__.py" in names and "pycparser-3.12.dist-info/METADATA" in names
    assert not [n for n in names if n.startswith("bin/") or n.endswith(("RECORD", ".lock"))]
    assert first["wheels"] == {"pycparser": {"version": "3.12", "tags": ["py3-none-any"]}}


def test_stale_assets_are_rebuilt_and_fresh_ones_kept(fake: FakeInstaller, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    shutil.copy(asset_build.REQUIREMENTS, requirements)
    handlers = tmp_path / "handlers"
    shutil.copytree(asset_build.HANDLERS_DIR, handlers)
    sources = {"requirements": requirements, "handlers": handlers}
    out = tmp_path / "out"

    zip_path, manifest = asset_build.ensure(ARM, out, **sources)
    assert len(fake.calls) == 1
    assert asset_build.ensure(ARM, out, **sources) == (zip_path, manifest)
    assert len(fake.calls) == 1

    (handlers / "ovpn.py").write_text((handlers / "ovpn.py").read_text() + "\n# edited\n")
    assert not asset_build.is_fresh(manifest, **sources)
    _, after_edit = asset_build.ensure(ARM, out, **sources)
    assert len(fake.calls) == 2 and after_edit["asset_hash"] != manifest["asset_hash"]

    requirements.write_text(requirements.read_text().replace("3.12", "3.13"))
    assert not asset_build.is_fresh(after_edit, **sources)
    asset_build.ensure(ARM, out, **sources)
    assert len(fake.calls) == 3

    latest = json.loads((out / f"{ARM.name}.json").read_text())
    assert asset_build.is_fresh(latest, **sources)
    assert not asset_build.is_fresh({**latest, "format": asset_build.FORMAT - 1}, **sources)

    with zipfile.ZipFile(zip_path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(zip_path, "w") as archive:  # tampered: one byte of cryptography
        for info, data in entries:
            archive.writestr(info, data.replace(b"crypto", b"Crypto"))
    asset_build.ensure(ARM, out, **sources)
    assert len(fake.calls) == 3  # a synth trusts its checkout ...
    asset_build.ensure(ARM, out, verify=True, **sources)
    assert len(fake.calls) == 4  # ... the build hook does not
    assert asset_build.zip_hash(ARM, zip_path) == latest["asset_hash"]


# --- synth: the asset used as it is --------------------------------------------------------------


def _function(stack: cdk.Stack, id: str, arch: lambda_.Architecture, **kwargs: Any) -> None:
    lambda_.Function(
        stack,
        id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=arch,
        handler="handlers.pki.index.on_event",
        code=bundling.handlers_code(arch, lambda_.Runtime.PYTHON_3_14, **kwargs),
    )


def _staged(outdir: Path, stack: cdk.Stack, logical_prefix: str) -> Path:
    """The file CDK staged for a function (the S3 key names it)."""
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    for logical_id, resource in template["Resources"].items():
        if logical_id.startswith(logical_prefix) and resource["Type"] == "AWS::Lambda::Function":
            return outdir / f"asset.{resource['Properties']['Code']['S3Key']}"
    raise AssertionError(f"no function {logical_prefix}")


def _synth_one(tmp_path: Path, tag: str, **kwargs: Any) -> Path:
    app = cdk.App(outdir=str(tmp_path / f"out-{tag}"))
    stack = cdk.Stack(app, f"S{tag}")
    _function(stack, "Fn", lambda_.Architecture.ARM_64, **kwargs)
    app.synth()
    return _staged(tmp_path / f"out-{tag}", stack, "Fn")


def _shipped(where: Path, fake_hash: str) -> Path:
    """A packaged _lambda/ directory: a zip and a manifest (stale by a checkout's rules)."""
    where.mkdir(parents=True)
    with zipfile.ZipFile(where / f"{ARM.name}.zip", "w") as archive:
        archive.writestr("handlers/__init__.py", "")
    manifest = {"format": 1, "asset_hash": fake_hash, "handlers_sha256": "0" * 64, "files": 1}
    (where / f"{ARM.name}.json").write_text(json.dumps(manifest))
    return where


@pytest.fixture
def no_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("synth must not build the asset here")

    monkeypatch.setattr(asset_build, "install_wheels", refuse)
    monkeypatch.setattr(bundling, "ensure", refuse)


def test_a_shipped_asset_is_used_as_it_is(
    no_builds: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundling, "PACKAGED_DIR", _shipped(tmp_path / "site-a", "a" * 64))
    staged = _synth_one(tmp_path, "a", skip_wheels=False)
    assert staged.read_bytes() == (tmp_path / "site-a" / f"{ARM.name}.zip").read_bytes()

    # The key follows the manifest's hash, not where the package is installed.
    monkeypatch.setattr(bundling, "PACKAGED_DIR", _shipped(tmp_path / "site-b", "a" * 64))
    monkeypatch.setattr(bundling, "_RESOLVED", {})
    assert _synth_one(tmp_path, "b", skip_wheels=False).name == staged.name
    monkeypatch.setattr(bundling, "PACKAGED_DIR", _shipped(tmp_path / "site-c", "c" * 64))
    monkeypatch.setattr(bundling, "_RESOLVED", {})
    assert _synth_one(tmp_path, "c", skip_wheels=False).name != staged.name


@pytest.mark.parametrize("metadata", [True, False])
def test_the_function_code_is_what_code_from_asset_gives(
    no_builds: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, metadata: bool
) -> None:
    """The prebuilt code (staged without an s3_assets.Asset) renders the same Code property
    and, under the CDK CLI's asset-metadata context, the same aws:asset:* metadata as
    aws-cdk-lib's own Code.from_asset of the same zip and hash."""
    monkeypatch.setattr(bundling, "PACKAGED_DIR", _shipped(tmp_path / "site", "a" * 64))
    app = cdk.App(outdir=str(tmp_path / "out"), context={bundling.ASSET_METADATA_CONTEXT: metadata})
    stack = cdk.Stack(app, "Meta")
    _function(stack, "Ours", lambda_.Architecture.ARM_64, skip_wheels=False)
    zip_path, asset_hash = bundling.asset_for(ARM)
    theirs = lambda_.Code.from_asset(
        str(zip_path), asset_hash=asset_hash, asset_hash_type=cdk.AssetHashType.CUSTOM
    )
    lambda_.Function(
        stack,
        "Theirs",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="handlers.pki.index.on_event",
        code=theirs,
    )
    resources = app.synth().get_stack_by_name("Meta").template["Resources"]
    functions = {lid[:4]: r for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}

    def asset_metadata(resource: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in resource.get("Metadata", {}).items() if k.startswith("aws:asset")}

    assert functions["Ours"]["Properties"]["Code"] == functions["Thei"]["Properties"]["Code"]
    assert asset_metadata(functions["Ours"]) == asset_metadata(functions["Thei"])
    assert bool(asset_metadata(functions["Ours"])) is metadata


def test_a_package_without_the_platform_says_which_it_ships(
    no_builds: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundling, "PACKAGED_DIR", _shipped(tmp_path / "site", "a" * 64))
    monkeypatch.delenv(bundling.SKIP_ENV_VAR, raising=False)
    with pytest.raises(bundling.BundlingError, match="ships the handler asset for") as info:
        bundling.handlers_code(lambda_.Architecture.X86_64, lambda_.Runtime.PYTHON_3_14)
    assert ARM.name in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setattr(bundling, "PACKAGED_DIR", tmp_path / "none")
    monkeypatch.setattr(bundling, "_CHECKOUT", tmp_path / "none" / "pyproject.toml")
    with pytest.raises(bundling.BundlingError, match="no prebuilt handler asset"):
        bundling.handlers_code(lambda_.Architecture.ARM_64, lambda_.Runtime.PYTHON_3_14)


def test_a_checkout_builds_its_asset_once_then_uses_it(
    fake: FakeInstaller, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundling, "PACKAGED_DIR", tmp_path / "no-package")
    monkeypatch.setattr(bundling, "DEV_DIR", tmp_path / ".build")
    staged = _synth_one(tmp_path, "a", skip_wheels=False)
    assert len(fake.calls) == 1
    assert staged.read_bytes() == (tmp_path / ".build" / f"{ARM.name}.zip").read_bytes()
    monkeypatch.setattr(bundling, "_RESOLVED", {})  # a new process
    assert _synth_one(tmp_path, "b", skip_wheels=False).name == staged.name
    assert len(fake.calls) == 1


def test_skipped_asset_has_only_handlers_and_its_hash_depends_on_arch(
    no_builds: None, tmp_path: Path
) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Skipped")
    _function(stack, "Arm", lambda_.Architecture.ARM_64, skip_wheels=True)
    _function(stack, "X86", lambda_.Architecture.X86_64, skip_wheels=True)
    app.synth()
    arm = _staged(tmp_path, stack, "Arm")
    assert arm != _staged(tmp_path, stack, "X86")
    names = zipfile.ZipFile(arm).namelist()
    assert {n.split("/")[0] for n in names} == {"handlers"}
    assert "handlers/pki/certs.py" in names


def test_skip_by_context_flag_and_env(
    no_builds: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    (staged,) = tmp_path.glob("asset.*.zip")
    assert {n.split("/")[0] for n in zipfile.ZipFile(staged).namelist()} == {"handlers"}


def test_non_python_runtime_is_rejected() -> None:
    with pytest.raises(bundling.BundlingError, match="not a Python runtime"):
        bundling.handlers_code(lambda_.Architecture.ARM_64, lambda_.Runtime.NODEJS_22_X)


def test_the_package_ships_the_handler_functions_platform() -> None:
    arch = {"arm64": "aarch64", "x86_64": "x86_64"}[handler_function.ARCHITECTURE.name]
    python = handler_function.RUNTIME.name.removeprefix("python")
    assert Target(arch, python) in asset_build.TARGETS
