"""Lambda asset for ``constructs_cvpn/handlers``, bundled locally (no Docker).

The asset's root holds the ``handlers`` package (so handler strings read
``handlers.<module>.index.on_event``) next to ``cryptography`` and its dependencies (``cffi``,
``pycparser``), installed from binary wheels built for the function's platform:

- arm64 -> ``manylinux_2_34_aarch64`` / ``manylinux_2_28_aarch64`` / ``manylinux2014_aarch64``
- x86_64 -> the same tags for ``x86_64``
- CPython of the runtime (``python3.14`` -> ``--python-version 3.14``), ``--only-binary=:all:``.
  ``cryptography`` ships ``cp311-abi3`` wheels (good for 3.11+), ``cffi`` per-version wheels.

Pinned and hash-checked: the wheels come from ``lambda_requirements.txt`` (next to this file),
every package with ``==`` and the sha256 of each Linux wheel it may use, installed with
``--require-hashes``: a wheel whose bytes do not match (a tampered cache, mirror or index) is
refused. The file is generated from ``uv.lock`` (the versions the handler tests run against);
to refresh it after ``uv lock --upgrade-package cryptography``::

    python -m constructs_cvpn.bundling uv.lock > constructs_cvpn/lambda_requirements.txt

(a test fails while the two disagree).

Wheels are downloaded once into a cache (``$CVPN_WHEEL_CACHE``, default
``~/.cache/constructs-cvpn/wheels/<arch>-cp<version>``); a repeat synth installs from that
cache without network access. The installer is ``$CVPN_PIP`` (a command line, e.g.
``"python3 -m pip"`` or ``"uv pip"``), else this interpreter's pip (``python -m pip``), else
``uv pip`` (``$UV`` or ``uv`` on ``PATH``: a venv made by uv has no pip), else ``pip3``/``pip``
on ``PATH``. The wheels are installed when :func:`handlers_code` is called, so a failure
raises :class:`BundlingError` there, with a one-line message that says how to fix it.

Skipping the wheels (unit tests, quick synths): set the environment variable
``CVPN_SKIP_BUNDLING=1`` or the CDK context ``cvpn:skipBundling=true`` (pass ``scope`` to
:func:`handlers_code` for the context to be read). The asset then holds only the handler code
and its hash differs from a full bundle, so it can never be mistaken for one. Do not deploy
such an asset: the PKI handler needs ``cryptography``.

The asset hash covers the handler sources, every byte of every installed wheel
(``cryptography``, ``cffi``, ``pycparser``), the platform and Python version and the skip
flag: a changed wheel or a switch of architecture re-bundles.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

__all__ = [
    "CRYPTOGRAPHY_VERSION",
    "HANDLERS_DIR",
    "REQUIREMENTS",
    "SKIP_CONTEXT_KEY",
    "SKIP_ENV_VAR",
    "BundlingError",
    "LocalHandlersBundler",
    "cache_dir",
    "handlers_code",
    "install_wheels",
    "platform_tags",
    "requirements_from_lock",
    "tree_hash",
]

HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"
"""The handler package copied into the asset as ``handlers/``."""
REQUIREMENTS = Path(__file__).resolve().parent / "lambda_requirements.txt"
"""Pinned, hash-checked requirements of the handler asset (generated from uv.lock)."""
LOCKED_PACKAGES = ("cryptography", "cffi", "pycparser")
"""The handler's third-party packages: cryptography and its dependencies."""
SKIP_ENV_VAR = "CVPN_SKIP_BUNDLING"
SKIP_CONTEXT_KEY = "cvpn:skipBundling"
CACHE_ENV_VAR = "CVPN_WHEEL_CACHE"
PIP_ENV_VAR = "CVPN_PIP"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "tests", "test_*.py")
# What an installer adds beside the wheels' files (console scripts, its own records, uv's lock
# file): not shipped and not hashed, so pip and uv produce the same asset.
_INSTALLER_FILES = ("bin", ".lock", "INSTALLER", "RECORD", "REQUESTED", "direct_url.json")


def _ignore_wheels(directory: str, names: list[str]) -> set[str]:
    """``copytree`` ignore: what :func:`tree_hash` skips (so the hash is of what ships)."""
    return {name for name in names if _skipped(name)}


def _skipped(name: str) -> bool:
    return name == "__pycache__" or name.endswith((".pyc", ".pyo")) or name in _INSTALLER_FILES


_PIP_TIMEOUT = 600
# Linux wheels a Lambda function can use: CPython 3.11+ (or abi3) or pure Python, manylinux,
# aarch64 or x86_64, not free-threaded.
_LAMBDA_WHEEL = re.compile(
    r"-(?:cp3(?:1[1-9])-(?:cp31[1-9]|abi3)-[^-]*manylinux[^-]*_(?:aarch64|x86_64)"
    r"|py3-none-any)\.whl$"
)


class BundlingError(RuntimeError):
    """Local bundling of the handler asset failed; the message says how to fix it.

    The message is always one line (pip's output is folded into it), so that it reads as one
    line at the end of a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def requirements_from_lock(lock: Mapping[str, Any]) -> str:
    """The text of ``lambda_requirements.txt`` for a parsed ``uv.lock``.

    Every package in :data:`LOCKED_PACKAGES` pinned with ``==`` and the sha256 of each of its
    Linux wheels that a Python Lambda function can use.
    """
    lines = [
        "# Generated from uv.lock: python -m constructs_cvpn.bundling uv.lock"
        " > constructs_cvpn/lambda_requirements.txt",
        "# The handler asset's wheels, installed with --require-hashes (do not edit by hand).",
    ]
    packages = {p["name"]: p for p in lock["package"]}
    for name in LOCKED_PACKAGES:
        package = packages[name]
        hashes = sorted(
            w["hash"] for w in package.get("wheels", []) if _LAMBDA_WHEEL.search(w["url"])
        )
        if not hashes:
            raise BundlingError(f"uv.lock has no Lambda wheel of {name} {package['version']}")
        lines.append(f"{name}=={package['version']} \\")
        lines += [f"    --hash={h} \\" for h in hashes[:-1]] + [f"    --hash={hashes[-1]}"]
    return "\n".join(lines) + "\n"


def _pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.MULTILINE))


CRYPTOGRAPHY_VERSION = _pins(REQUIREMENTS.read_text())["cryptography"]
"""The pinned ``cryptography`` (from ``lambda_requirements.txt``, i.e. uv.lock)."""


def _arch(architecture: lambda_.Architecture) -> str:
    name = architecture.name
    if name == lambda_.Architecture.ARM_64.name:
        return "aarch64"
    if name == lambda_.Architecture.X86_64.name:
        return "x86_64"
    raise BundlingError(f"unsupported Lambda architecture {name!r}: use ARM_64 or X86_64")


def _python_version(runtime: lambda_.Runtime) -> str:
    name = runtime.name
    if not name.startswith("python3."):
        raise BundlingError(f"runtime {name!r} is not a Python runtime")
    return name.removeprefix("python")


def platform_tags(arch: str) -> list[str]:
    """pip ``--platform`` values for ``arch`` (``aarch64`` or ``x86_64``), newest first.

    Lambda's Python 3.12+ runtimes run Amazon Linux 2023 (glibc 2.34). Older pips do not
    expand a manylinux tag to older ones, so each accepted tag is listed.
    """
    return [f"manylinux_2_34_{arch}", f"manylinux_2_28_{arch}", f"manylinux2014_{arch}"]


def cache_dir(arch: str, python_version: str) -> Path:
    """Wheel cache of one platform: ``$CVPN_WHEEL_CACHE`` or ``~/.cache/constructs-cvpn/wheels``."""
    root = os.environ.get(CACHE_ENV_VAR) or str(
        Path.home() / ".cache" / "constructs-cvpn" / "wheels"
    )
    return Path(root) / f"{arch}-cp{python_version.replace('.', '')}"


def _is_uv(command: list[str]) -> bool:
    return Path(command[0]).name in ("uv", "uv.exe")


def _pip_command() -> list[str]:
    configured = os.environ.get(PIP_ENV_VAR)
    if configured:
        return shlex.split(configured)
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv:
        return [uv, "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    raise BundlingError(
        "cannot bundle the constructs-cvpn handlers: neither pip nor uv was found. Install pip "
        f"or uv, or set {PIP_ENV_VAR} to an installer command (e.g. 'python3 -m pip'), or set "
        f"{SKIP_ENV_VAR}=1 to synthesize without the cryptography wheels (not deployable)."
    )


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BundlingError(f"could not run {shlex.join(cmd[:3])}: {err}") from err


def _said(proc: subprocess.CompletedProcess[str]) -> str:
    """The last lines of an installer's error output, on one line."""
    lines = [line.strip() for line in proc.stderr.strip().splitlines() if line.strip()]
    return " | ".join(lines[-4:]) or f"exit code {proc.returncode}"


def install_wheels(
    target: Path, *, arch: str, python_version: str, requirements: Path = REQUIREMENTS
) -> None:
    """Install the pinned wheels for ``arch``/CPython ``python_version`` into ``target``.

    Every wheel must match a hash in ``requirements`` (``--require-hashes``). pip installs
    from the wheel cache without network access; only when that fails are the wheels
    downloaded (once) into the cache and the install repeated. ``uv pip`` installs from the
    cache or uv's own cache offline first, then from the index.

    Raises:
        BundlingError: no installer, a wheel whose hash does not match, the download failed
            (no network / no index access), or no wheel exists for the platform.
    """
    pip = _pip_command()
    cache = cache_dir(arch, python_version)
    cache.mkdir(parents=True, exist_ok=True)
    what = f"the wheels pinned in {requirements.name}"
    pinned = ["--require-hashes", "-r", str(requirements)]
    if _is_uv(pip):
        # fmt: off
        common = [
            "install", "--target", str(target), "--python-platform", f"{arch}-manylinux_2_34",
            "--python-version", python_version, "--only-binary", ":all:", "--no-compile",
            "--quiet", "--find-links", str(cache), *pinned,
        ]
        # fmt: on
        offline = _run([*pip, *common, "--offline"])
        if offline.returncode == 0:
            return
        if "hash mismatch" in offline.stderr.lower():
            raise BundlingError(
                f"refused a wheel: its sha256 is not the one pinned in {requirements}: "
                f"uv said: {_said(offline)}. Delete {cache} and synthesize again."
            )
        done = _run([*pip, *common])
        if done.returncode != 0:
            raise BundlingError(
                f"could not install {what} for {arch} / CPython {python_version} with uv: "
                f"uv said: {_said(done)}. Check network access to the package index, or put "
                f"the wheels in {cache}; set {SKIP_ENV_VAR}=1 to synthesize without them."
            )
        return
    platform_args: list[str] = []
    for tag in platform_tags(arch):
        platform_args += ["--platform", tag]
    # fmt: off
    common = [
        "--only-binary=:all:", *platform_args, "--implementation", "cp",
        "--python-version", python_version, "--disable-pip-version-check",
    ]
    install = [
        *pip, "install", "--no-index", "--find-links", str(cache), *common,
        "--target", str(target), "--no-compile", "--quiet", *pinned,
    ]
    # fmt: on
    first = _run(install)
    if first.returncode == 0:
        return
    if "DO NOT MATCH THE HASHES" in first.stderr:
        raise BundlingError(
            f"refused a wheel in {cache}: its sha256 is not the one pinned in {requirements}: "
            f"pip said: {_said(first)}. Delete {cache} and synthesize again."
        )
    download = [*pip, "download", "--dest", str(cache), *common, "--quiet", *pinned]
    fetched = _run(download)
    if fetched.returncode != 0:
        raise BundlingError(
            f"could not download {what} for {', '.join(platform_tags(arch))} / CPython "
            f"{python_version} into {cache}: pip said: {_said(fetched)}. Check network access "
            "to the package index (or pip's index configuration), or put the wheels in "
            f"{cache}; set {SKIP_ENV_VAR}=1 to synthesize without them."
        )
    done = _run(install)
    if done.returncode != 0:
        raise BundlingError(
            f"could not install {what} from {cache} into the asset: pip said: {_said(done)}. "
            f"Delete {cache} and synthesize again."
        )


def tree_hash(root: Path) -> str:
    """sha256 over every file under ``root`` (relative path and bytes), in a stable order.

    Skips what the bundler does not ship: byte code and the installer's own files.
    """
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or any(_skipped(part) for part in rel.parts):
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _prepare_wheels(arch: str, python_version: str) -> Path:
    """The pinned wheels installed for one platform, in a fresh temporary directory."""
    staging = Path(tempfile.mkdtemp(prefix="cvpn-wheels-"))
    atexit.register(shutil.rmtree, staging, True)
    try:
        install_wheels(staging, arch=arch, python_version=python_version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


_PREPARED: dict[tuple[str, str, str], tuple[Path, str]] = {}


def _wheels(arch: str, python_version: str) -> tuple[Path, str]:
    """(directory, tree hash) of the installed wheels; installed once per process."""
    key = (arch, python_version, hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest())
    if key not in _PREPARED or not _PREPARED[key][0].is_dir():
        staging = _prepare_wheels(arch, python_version)
        _PREPARED[key] = (staging, tree_hash(staging))
    return _PREPARED[key]


@jsii.implements(ILocalBundling)
class LocalHandlersBundler:
    """``ILocalBundling``: copies ``handlers/`` and the installed wheels, without Docker."""

    def __init__(
        self, *, arch: str, python_version: str, skip_wheels: bool, wheels: Path | None = None
    ) -> None:
        self.arch = arch
        self.python_version = python_version
        self.skip_wheels = skip_wheels
        self.wheels = wheels

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        """Bundle into ``output_dir``; always returns True (or raises :class:`BundlingError`)."""
        out = Path(output_dir)
        dest = out / "handlers"
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(HANDLERS_DIR, dest, ignore=_IGNORE)
        if self.skip_wheels:
            return True
        if self.wheels is None:
            install_wheels(out, arch=self.arch, python_version=self.python_version)
        else:
            shutil.copytree(self.wheels, out, dirs_exist_ok=True, ignore=_ignore_wheels)
        return True


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(HANDLERS_DIR.rglob("*")):
        rel = path.relative_to(HANDLERS_DIR)
        if path.is_dir() or any(p == "__pycache__" or p == "tests" for p in rel.parts):
            continue
        if path.suffix in (".pyc", ".pyo") or path.name.startswith("test_"):
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _skip_requested(scope: Construct | None) -> bool:
    if os.environ.get(SKIP_ENV_VAR, "").lower() in ("1", "true", "yes"):
        return True
    if scope is not None:
        value = scope.node.try_get_context(SKIP_CONTEXT_KEY)
        return value is True or str(value).lower() == "true"
    return False


def handlers_code(
    architecture: lambda_.Architecture,
    runtime: lambda_.Runtime,
    *,
    scope: Construct | None = None,
    skip_wheels: bool | None = None,
) -> lambda_.Code:
    """The handler asset for a function of ``architecture`` and (Python) ``runtime``.

    Unless skipped, the pinned wheels are installed here (once per process and platform), so
    that the asset hash can cover their bytes.

    Args:
        scope: read the ``cvpn:skipBundling`` context from here (optional).
        skip_wheels: force (True) or forbid (False) skipping ``cryptography``; default: skip
            when ``CVPN_SKIP_BUNDLING=1`` or the context flag is true.

    Raises:
        BundlingError: unsupported architecture or non-Python runtime, no installer, a wheel
            whose hash does not match, or a failed download.
    """
    arch = _arch(architecture)
    python_version = _python_version(runtime)
    skip = _skip_requested(scope) if skip_wheels is None else skip_wheels
    wheels: Path | None = None
    if skip:
        wheels_hash = "none"
    else:
        wheels, wheels_hash = _wheels(arch, python_version)
    asset_hash = hashlib.sha256(
        f"{_source_hash()}|{wheels_hash}|{arch}|cp{python_version}".encode()
    ).hexdigest()
    return lambda_.Code.from_asset(
        str(HANDLERS_DIR),
        asset_hash=asset_hash,
        asset_hash_type=AssetHashType.CUSTOM,
        exclude=["**/__pycache__", "**/*.pyc", "**/tests"],
        bundling=BundlingOptions(
            image=runtime.bundling_image,
            local=LocalHandlersBundler(
                arch=arch, python_version=python_version, skip_wheels=skip, wheels=wheels
            ),
            command=["false"],  # Docker is never used: local bundling always succeeds or raises
        ),
    )


def main(argv: list[str]) -> int:
    """``python -m constructs_cvpn.bundling uv.lock``: print ``lambda_requirements.txt``."""
    if len(argv) != 1:
        print("usage: python -m constructs_cvpn.bundling uv.lock", file=sys.stderr)
        return 2
    with open(argv[0], "rb") as lock:
        sys.stdout.write(requirements_from_lock(tomllib.load(lock)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
