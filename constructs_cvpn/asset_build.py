"""The handlers' Lambda asset, built once: a reproducible zip and its manifest.

Standard library only: the wheel's build hook (``hatch_build.py``) runs this in the isolated
build environment (no aws-cdk-lib there), and ships the result in the wheel under
``constructs_cvpn/_lambda/``; a synth from the installed package uses it as it is
(``bundling.py``). A development checkout builds the same asset into ``.build/lambda/``
(``make setup``, or on demand when it is missing or stale).

The zip's root is the function's code root (handler strings read
``handlers.<module>.index.on_event``): ``handlers/`` (``constructs_cvpn/handlers`` without
tests and byte code) beside the pinned wheels (``asset_wheels.py``) installed for the target.

Reproducible: entries sorted by name, every timestamp 1980-01-01 00:00, modes 0644 (0755
where the installed file is executable), no byte code, no installer records. The **asset
hash** is a sha256 over the target and every entry's name, mode and bytes, not over the
zip's compressed bytes (another zlib may compress differently): the same pins and handler
sources give the same hash on every machine, and any changed byte gives another.

The manifest (``<name>.json`` beside ``<name>.zip``) records the format, the target, the
asset hash, the sha256 of ``lambda_requirements.txt`` with the pins and hashes it held, the
sha256 of the handler sources, and the version and tags of each installed wheel. An asset is
**fresh** when format, requirements and handler sources match the current ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .asset_wheels import (
    REQUIREMENTS,
    BundlingError,
    install_wheels,
    pinned,
    requirements_from_lock,
)

__all__ = [
    "DEV_DIR",
    "FORMAT",
    "HANDLERS_DIR",
    "TARGETS",
    "Target",
    "build",
    "ensure",
    "handlers_sha256",
    "is_fresh",
    "read_manifest",
    "zip_hash",
]

HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"
"""The handler package copied into the asset as ``handlers/``."""
DEV_DIR = Path(__file__).resolve().parent.parent / ".build" / "lambda"
"""Where a development checkout keeps its asset (git-ignored)."""
FORMAT = 1
"""Version of the build recipe: a change of it makes every existing asset stale."""
_EPOCH = (1980, 1, 1, 0, 0, 0)
# What an installer adds beside the wheels' files (console scripts, its own records, uv's lock
# file): not shipped, so pip and uv produce the same asset.
_INSTALLER_FILES = frozenset(
    {"bin", ".lock", "INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}
)


@dataclass(frozen=True)
class Target:
    """A Lambda platform: ``arch`` (``aarch64`` / ``x86_64``) and CPython ``python`` (``3.14``)."""

    arch: str
    python: str
    wheels: bool = True
    """False: only the handler code (``CVPN_SKIP_BUNDLING``; not deployable)."""

    @property
    def name(self) -> str:
        """File stem, e.g. ``handlers-aarch64-cp314``."""
        base = f"handlers-{self.arch}-cp{self.python.replace('.', '')}"
        return base if self.wheels else f"{base}-nowheels"


TARGETS = (Target("aarch64", "3.14"),)
"""What the package ships: the platform of ``handler_function.py`` (arm64, python3.14)."""


def _skipped(rel: Path) -> bool:
    return any(
        part == "__pycache__" or part.endswith((".pyc", ".pyo")) or part in _INSTALLER_FILES
        for part in rel.parts
    )


def _handler_files(handlers: Path) -> Iterator[tuple[str, Path]]:
    """(name in the asset, file) of the handler sources: no tests, no byte code."""
    for path in sorted(handlers.rglob("*")):
        rel = path.relative_to(handlers)
        if path.is_dir() or _skipped(rel) or "tests" in rel.parts:
            continue
        if path.name.startswith("test_"):
            continue
        yield f"handlers/{rel.as_posix()}", path


def handlers_sha256(handlers: Path = HANDLERS_DIR) -> str:
    """sha256 of the handler sources that go into the asset (names and bytes)."""
    digest = hashlib.sha256()
    for name, path in _handler_files(handlers):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _entries(staging: Path, handlers: Path) -> list[tuple[str, int, Path]]:
    """(name, mode, file) of everything the asset holds, sorted by name."""
    found = [(name, 0o644, path) for name, path in _handler_files(handlers)]
    for path in staging.rglob("*"):
        rel = path.relative_to(staging)
        if path.is_file() and not _skipped(rel):
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            found.append((rel.as_posix(), mode, path))
    return sorted(found)


def _digest(target: Target, entries: Iterable[tuple[str, int, bytes]]) -> str:
    digest = hashlib.sha256(f"constructs-cvpn lambda asset|{target.name}\n".encode())
    for name, mode, data in entries:
        digest.update(f"{name}\0{mode:o}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def zip_hash(target: Target, zip_path: Path) -> str:
    """The asset hash of a built zip, recomputed from its entries (see the module doc)."""
    with zipfile.ZipFile(zip_path) as archive:
        infos = sorted(archive.infolist(), key=lambda i: i.filename)
        return _digest(
            target,
            ((i.filename, (i.external_attr >> 16) & 0o777, archive.read(i)) for i in infos),
        )


def _write_zip(zip_path: Path, entries: list[tuple[str, int, Path]]) -> None:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, mode, path in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.create_system = 3  # Unix, so that external_attr carries the mode
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)


def _wheel_tags(staging: Path) -> dict[str, dict[str, Any]]:
    """{distribution: {"version", "tags"}} from each installed ``*.dist-info``."""
    found: dict[str, dict[str, Any]] = {}
    for info in sorted(staging.glob("*.dist-info")):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        lines = (info / "WHEEL").read_text().splitlines()
        tags = sorted(line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:"))
        found[name.lower().replace("_", "-")] = {"version": version, "tags": tags}
    return found


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` atomically (a reader sees the old file or the new one)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def build(
    target: Target,
    out_dir: Path,
    *,
    requirements: Path = REQUIREMENTS,
    handlers: Path = HANDLERS_DIR,
) -> dict[str, Any]:
    """Build ``<out_dir>/<target.name>.zip`` and its manifest; return the manifest.

    Raises:
        BundlingError: the wheels could not be installed (see ``install_wheels``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    requirements_text = requirements.read_bytes()
    sources = handlers_sha256(handlers)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".staging-") as tmp:
        staging = Path(tmp) / "wheels"
        staging.mkdir()
        if target.wheels:
            install_wheels(
                staging, arch=target.arch, python_version=target.python, requirements=requirements
            )
        entries = _entries(staging, handlers)
        asset_hash = _digest(target, ((n, m, p.read_bytes()) for n, m, p in entries))
        zip_tmp = Path(tmp) / "asset.zip"
        _write_zip(zip_tmp, entries)
        manifest = {
            "format": FORMAT,
            "name": target.name,
            "arch": target.arch,
            "python": target.python,
            "with_wheels": target.wheels,
            "asset_hash": asset_hash,
            "requirements_sha256": hashlib.sha256(requirements_text).hexdigest(),
            "pins": pinned(requirements_text.decode()) if target.wheels else {},
            "handlers_sha256": sources,
            "wheels": _wheel_tags(staging),
            "files": len(entries),
        }
        os.replace(zip_tmp, out_dir / f"{target.name}.zip")
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    _replace(out_dir / f"{target.name}.json", text.encode())
    return manifest


def read_manifest(out_dir: Path, target: Target) -> dict[str, Any] | None:
    """The manifest of ``target`` in ``out_dir``, or None if there is none (or no zip)."""
    path = out_dir / f"{target.name}.json"
    if not path.is_file() or not (out_dir / f"{target.name}.zip").is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def is_fresh(
    manifest: dict[str, Any] | None,
    *,
    requirements: Path = REQUIREMENTS,
    handlers: Path = HANDLERS_DIR,
) -> bool:
    """Whether ``manifest`` was built by this recipe from these pins and handler sources."""
    return (
        manifest is not None
        and manifest.get("format") == FORMAT
        and manifest.get("requirements_sha256")
        == hashlib.sha256(requirements.read_bytes()).hexdigest()
        and manifest.get("handlers_sha256") == handlers_sha256(handlers)
    )


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """One builder at a time per directory (parallel test workers, make and synth)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure(
    target: Target,
    out_dir: Path = DEV_DIR,
    *,
    verify: bool = False,
    requirements: Path = REQUIREMENTS,
    handlers: Path = HANDLERS_DIR,
) -> tuple[Path, dict[str, Any]]:
    """(zip, manifest) of ``target`` in ``out_dir``, built first if missing or stale.

    ``verify``: also rebuild when the zip's entries do not hash to the manifest's asset hash
    (the build hook checks what it ships; a synth trusts its checkout).
    """
    zip_path = out_dir / f"{target.name}.zip"
    sources = {"requirements": requirements, "handlers": handlers}

    def usable(manifest: dict[str, Any] | None) -> bool:
        if not is_fresh(manifest, **sources):
            return False
        assert manifest is not None
        try:
            return not verify or zip_hash(target, zip_path) == manifest["asset_hash"]
        except zipfile.BadZipFile:
            return False

    manifest = read_manifest(out_dir, target)
    if not usable(manifest):
        with _locked(out_dir):
            manifest = read_manifest(out_dir, target)  # another process may have built it
            if not usable(manifest):
                manifest = build(target, out_dir, **sources)
    assert manifest is not None
    return zip_path, manifest


def main(argv: list[str]) -> int:
    """``python -m constructs_cvpn.asset_build``: ``build [DIR]`` or ``requirements UV_LOCK``.

    ``build`` builds each shipped target into ``DIR`` (default ``.build/lambda``) unless it is
    fresh; ``requirements`` prints ``lambda_requirements.txt`` for a ``uv.lock``.
    """
    if argv[:1] == ["requirements"] and len(argv) == 2:
        with open(argv[1], "rb") as lock:
            sys.stdout.write(requirements_from_lock(tomllib.load(lock)))
        return 0
    if argv[:1] == ["build"] and len(argv) <= 2:
        out_dir = Path(argv[1]) if len(argv) == 2 else DEV_DIR
        for target in TARGETS:
            try:
                zip_path, manifest = ensure(target, out_dir)
            except BundlingError as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
            print(f"{zip_path} ({zip_path.stat().st_size:,} B, {manifest['files']} files)")
        return 0
    print(
        "usage: python -m constructs_cvpn.asset_build build [DIR]\n"
        "       python -m constructs_cvpn.asset_build requirements uv.lock",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
