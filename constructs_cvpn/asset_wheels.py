"""The handler asset's third-party wheels: pins, and their installation for a Lambda platform.

Standard library only: the wheel's build hook (``hatch_build.py``) runs this in the isolated
build environment, where aws-cdk-lib is not installed.

The wheels are ``cryptography`` and its dependencies (``cffi``, ``pycparser``), binary wheels
for the function's platform, and ``tzdata`` (pure Python, the IANA time zone database):
``zoneinfo`` falls back to it where the system has no database. Lambda's Amazon Linux 2023
images are built from AL2023-minimal (aws/aws-lambda-base-images#59) and ``provided.al2023``
shipped without ``/usr/share/zoneinfo`` (aws/aws-lambda-dotnet#1620,
amazonlinux/amazon-linux-2023#615); whether the python3.14 runtime has one is not documented,
so the schedule reconciler carries its own rather than fail ``ZoneInfo("Europe/Berlin")``:

- aarch64 -> ``manylinux_2_34_aarch64`` / ``manylinux_2_28_aarch64`` / ``manylinux2014_aarch64``
- x86_64 -> the same tags for ``x86_64``
- CPython of the runtime (``python3.14`` -> ``--python-version 3.14``), ``--only-binary=:all:``.
  ``cryptography`` ships ``cp311-abi3`` wheels (good for 3.11+), ``cffi`` per-version wheels.

Pinned and hash-checked: ``lambda_requirements.txt`` (next to this file) pins every package
with ``==`` and the sha256 of each Linux wheel it may use; they are installed with
``--require-hashes``, so a wheel whose bytes do not match (a tampered cache, mirror or index)
is refused. The file is generated from ``uv.lock`` (the versions the handler tests run
against); to refresh it after ``uv lock --upgrade-package cryptography``::

    python -m constructs_cvpn.asset_build requirements uv.lock \\
        > constructs_cvpn/lambda_requirements.txt

(a test fails while the two disagree).

Wheels are downloaded once into a cache (``$CVPN_WHEEL_CACHE``, default
``~/.cache/constructs-cvpn/wheels/<arch>-cp<version>``); a repeat build installs from that
cache without network access. The installer is ``$CVPN_PIP`` (a command line, e.g.
``"python3 -m pip"`` or ``"uv pip"``), else this interpreter's pip (``python -m pip``), else
``uv pip`` (``$UV`` or ``uv`` on ``PATH``: a venv made by uv has no pip), else
``pip3``/``pip`` on ``PATH``. Only the asset build installs wheels (``make setup``, the
wheel's build hook, or a development checkout whose asset is missing or stale): a synth from
an installed package never does.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE_ENV_VAR",
    "CRYPTOGRAPHY_VERSION",
    "LOCKED_PACKAGES",
    "PIP_ENV_VAR",
    "REQUIREMENTS",
    "SKIP_ENV_VAR",
    "BundlingError",
    "cache_dir",
    "install_wheels",
    "pinned",
    "platform_tags",
    "requirements_from_lock",
]

REQUIREMENTS = Path(__file__).resolve().parent / "lambda_requirements.txt"
"""Pinned, hash-checked requirements of the handler asset (generated from uv.lock)."""
LOCKED_PACKAGES = ("cryptography", "cffi", "pycparser", "tzdata")
"""The handler's third-party packages: cryptography and its dependencies, and tzdata (the
``lambda`` dependency group of pyproject.toml)."""
SKIP_ENV_VAR = "CVPN_SKIP_BUNDLING"
CACHE_ENV_VAR = "CVPN_WHEEL_CACHE"
PIP_ENV_VAR = "CVPN_PIP"
_PIP_TIMEOUT = 600
# Linux wheels a Lambda function can use: CPython 3.11+ (or abi3) or pure Python, manylinux,
# aarch64 or x86_64, not free-threaded.
_LAMBDA_WHEEL = re.compile(
    r"-(?:cp3(?:1[1-9])-(?:cp31[1-9]|abi3)-[^-]*manylinux[^-]*_(?:aarch64|x86_64)"
    r"|(?:py2\.)?py3-none-any)\.whl$"
)


class BundlingError(RuntimeError):
    """Building the handler asset failed; the message says how to fix it.

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
        "# Generated from uv.lock: python -m constructs_cvpn.asset_build requirements uv.lock"
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


def pinned(text: str) -> dict[str, dict[str, Any]]:
    """``{name: {"version": ..., "hashes": [...]}}`` of a requirements text, hashes sorted."""
    found: dict[str, dict[str, Any]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9_.-]+==)", "\n" + text):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if match:
            hashes = sorted(re.findall(r"--hash=(\S+)", block))
            found[match[1]] = {"version": match[2], "hashes": hashes}
    return found


CRYPTOGRAPHY_VERSION: str = pinned(REQUIREMENTS.read_text())["cryptography"]["version"]
"""The pinned ``cryptography`` (from ``lambda_requirements.txt``, i.e. uv.lock)."""


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
        "cannot build the constructs-cvpn handler asset: neither pip nor uv was found. Install "
        f"pip or uv, or set {PIP_ENV_VAR} to an installer command (e.g. 'python3 -m pip'), or "
        f"set {SKIP_ENV_VAR}=1 to synthesize without the cryptography wheels (not deployable)."
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
    pins = ["--require-hashes", "-r", str(requirements)]
    if _is_uv(pip):
        # fmt: off
        common = [
            "install", "--target", str(target), "--python-platform", f"{arch}-manylinux_2_34",
            "--python-version", python_version, "--only-binary", ":all:", "--no-compile",
            "--quiet", "--find-links", str(cache), *pins,
        ]
        # fmt: on
        offline = _run([*pip, *common, "--offline"])
        if offline.returncode == 0:
            return
        if "hash mismatch" in offline.stderr.lower():
            raise BundlingError(
                f"refused a wheel: its sha256 is not the one pinned in {requirements}: "
                f"uv said: {_said(offline)}. Delete {cache} and build again."
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
        "--target", str(target), "--no-compile", "--quiet", *pins,
    ]
    # fmt: on
    first = _run(install)
    if first.returncode == 0:
        return
    if "DO NOT MATCH THE HASHES" in first.stderr:
        raise BundlingError(
            f"refused a wheel in {cache}: its sha256 is not the one pinned in {requirements}: "
            f"pip said: {_said(first)}. Delete {cache} and build again."
        )
    download = [*pip, "download", "--dest", str(cache), *common, "--quiet", *pins]
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
            f"Delete {cache} and build again."
        )
