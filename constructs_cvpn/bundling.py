"""Lambda asset for ``constructs_cvpn/handlers``, bundled locally (no Docker).

The asset's root holds the ``handlers`` package (so handler strings read
``handlers.<module>.index.on_event``) next to ``cryptography`` and its dependencies (``cffi``,
``pycparser``), installed from binary wheels built for the function's platform:

- arm64 -> ``manylinux_2_34_aarch64`` / ``manylinux_2_28_aarch64`` / ``manylinux2014_aarch64``
- x86_64 -> the same tags for ``x86_64``
- CPython of the runtime (``python3.14`` -> ``--python-version 3.14``), ``--only-binary=:all:``.
  ``cryptography`` ships ``cp311-abi3`` wheels (good for 3.11+), ``cffi`` per-version wheels.

Wheels are downloaded once into a cache (``$CVPN_WHEEL_CACHE``, default
``~/.cache/constructs-cvpn/wheels/<arch>-cp<version>``); a repeat synth installs from that
cache without network access. pip comes from ``$CVPN_PIP`` (a command line, e.g.
``"python3 -m pip"``), else from this interpreter (``python -m pip``), else ``pip3``/``pip`` on
``PATH``. If pip cannot do it, :class:`BundlingError` says what failed and how to fix it.

Skipping the wheels (unit tests, quick synths): set the environment variable
``CVPN_SKIP_BUNDLING=1`` or the CDK context ``cvpn:skipBundling=true`` (pass ``scope`` to
:func:`handlers_code` for the context to be read). The asset then holds only the handler code
and its hash differs from a full bundle, so it can never be mistaken for one. Do not deploy
such an asset: the PKI handler needs ``cryptography``.

The asset hash covers the handler sources, the ``cryptography`` version, the platform and
Python version and the skip flag: switching architecture re-bundles.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

__all__ = [
    "CRYPTOGRAPHY_VERSION",
    "HANDLERS_DIR",
    "SKIP_CONTEXT_KEY",
    "SKIP_ENV_VAR",
    "BundlingError",
    "LocalHandlersBundler",
    "cache_dir",
    "handlers_code",
    "install_wheels",
    "platform_tags",
]

HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"
"""The handler package copied into the asset as ``handlers/``."""
CRYPTOGRAPHY_VERSION = "50.0.2"
"""Pinned to the version in uv.lock (the one the handler tests run against)."""
SKIP_ENV_VAR = "CVPN_SKIP_BUNDLING"
SKIP_CONTEXT_KEY = "cvpn:skipBundling"
CACHE_ENV_VAR = "CVPN_WHEEL_CACHE"
PIP_ENV_VAR = "CVPN_PIP"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "tests", "test_*.py")
_PIP_TIMEOUT = 600


class BundlingError(RuntimeError):
    """Local bundling of the handler asset failed; the message says how to fix it."""


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


def _pip_command() -> list[str]:
    configured = os.environ.get(PIP_ENV_VAR)
    if configured:
        return shlex.split(configured)
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    raise BundlingError(
        "cannot bundle the constructs-cvpn handlers: pip was not found. Install pip in this "
        f"environment, or set {PIP_ENV_VAR} to a pip command (e.g. 'python3 -m pip'), or set "
        f"{SKIP_ENV_VAR}=1 to synthesize without the cryptography wheels (not deployable)."
    )


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BundlingError(f"could not run {shlex.join(cmd[:3])}: {err}") from err


def install_wheels(target: Path, *, arch: str, python_version: str) -> None:
    """Install ``cryptography`` (pinned) for ``arch``/CPython ``python_version`` into ``target``.

    Installs from the wheel cache without network access; only when that fails are the
    wheels downloaded (once) into the cache and the install repeated.

    Raises:
        BundlingError: pip is missing, the download failed (no network / no index access), or
            no wheel exists for the platform.
    """
    pip = _pip_command()
    cache = cache_dir(arch, python_version)
    cache.mkdir(parents=True, exist_ok=True)
    requirement = f"cryptography=={CRYPTOGRAPHY_VERSION}"
    platform_args: list[str] = []
    for tag in platform_tags(arch):
        platform_args += ["--platform", tag]
    common = [
        "--only-binary=:all:",
        *platform_args,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--disable-pip-version-check",
    ]
    install = [
        *pip,
        "install",
        "--no-index",
        "--find-links",
        str(cache),
        *common,
        "--target",
        str(target),
        "--no-compile",
        "--quiet",
        requirement,
    ]
    if _run(install).returncode == 0:
        return
    download = [*pip, "download", "--dest", str(cache), *common, "--quiet", requirement]
    fetched = _run(download)
    if fetched.returncode != 0:
        tail = "\n".join(fetched.stderr.strip().splitlines()[-5:])
        raise BundlingError(
            f"could not download {requirement} wheels for {', '.join(platform_tags(arch))} / "
            f"CPython {python_version} into {cache}: pip said:\n{tail}\n"
            "Check network access to the package index (or pip's index configuration), or "
            f"put the wheels in {cache}; set {SKIP_ENV_VAR}=1 to synthesize without them."
        )
    done = _run(install)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BundlingError(
            f"could not install {requirement} from {cache} into the asset: pip said:\n{tail}\n"
            f"Delete {cache} and synthesize again."
        )


@jsii.implements(ILocalBundling)
class LocalHandlersBundler:
    """``ILocalBundling``: copies ``handlers/`` and installs the wheels, without Docker."""

    def __init__(self, *, arch: str, python_version: str, skip_wheels: bool) -> None:
        self.arch = arch
        self.python_version = python_version
        self.skip_wheels = skip_wheels

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        """Bundle into ``output_dir``; always returns True (or raises :class:`BundlingError`)."""
        out = Path(output_dir)
        dest = out / "handlers"
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(HANDLERS_DIR, dest, ignore=_IGNORE)
        if not self.skip_wheels:
            install_wheels(out, arch=self.arch, python_version=self.python_version)
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

    Args:
        scope: read the ``cvpn:skipBundling`` context from here (optional).
        skip_wheels: force (True) or forbid (False) skipping ``cryptography``; default: skip
            when ``CVPN_SKIP_BUNDLING=1`` or the context flag is true.

    Raises:
        BundlingError: unsupported architecture or non-Python runtime (at call time), or pip
            failure (at synthesis).
    """
    arch = _arch(architecture)
    python_version = _python_version(runtime)
    skip = _skip_requested(scope) if skip_wheels is None else skip_wheels
    wheels = "none" if skip else f"cryptography=={CRYPTOGRAPHY_VERSION}"
    asset_hash = hashlib.sha256(
        f"{_source_hash()}|{wheels}|{arch}|cp{python_version}".encode()
    ).hexdigest()
    return lambda_.Code.from_asset(
        str(HANDLERS_DIR),
        asset_hash=asset_hash,
        asset_hash_type=AssetHashType.CUSTOM,
        exclude=["**/__pycache__", "**/*.pyc", "**/tests"],
        bundling=BundlingOptions(
            image=runtime.bundling_image,
            local=LocalHandlersBundler(arch=arch, python_version=python_version, skip_wheels=skip),
            command=["false"],  # Docker is never used: local bundling always succeeds or raises
        ),
    )
