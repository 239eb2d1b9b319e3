"""The Lambda asset of ``constructs_cvpn/handlers``, as synth uses it: prebuilt, never rebuilt.

The asset (the handler code and the pinned ``cryptography``/``cffi``/``pycparser`` wheels for
the function's platform, see ``asset_build.py`` and ``asset_wheels.py``) is built once:

- **installed package**: when the wheel was built (``hatch_build.py``), shipped in it under
  ``constructs_cvpn/_lambda/`` and used as it is: no installer, no network, no hashing of its
  bytes (the manifest's asset hash is passed to CDK as a custom hash, so CDK's staging only
  copies the zip into ``cdk.out``, once per hash);
- **development checkout** (no ``_lambda/`` beside this file, a ``pyproject.toml`` above
  it): in ``.build/lambda/`` by ``make setup``, rebuilt here on demand when it is missing or
  stale (other pins or handler sources than it records). The first build downloads the
  wheels (once, into the wheel cache).

The asset hash is a sha256 of the asset's contents: identical on every machine for the same
pins and handler sources, so a snapshot or ``cdk diff`` shows a Lambda change only when the
code or a wheel changed.

Skipping the wheels (unit tests, quick synths): set the environment variable
``CVPN_SKIP_BUNDLING=1`` or the CDK context ``cvpn:skipBundling=true`` (pass ``scope`` to
:func:`handlers_code` for the context to be read). The asset then holds only the handler
code, built into a temporary directory once per process; its hash differs from the full
asset's, so it can never be mistaken for it. Do not deploy such an asset: the PKI handler
needs ``cryptography``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from aws_cdk import (
    Annotations,
    AssetHashType,
    AssetStaging,
    CfnResource,
    FileAssetPackaging,
    Stack,
)
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .asset_build import DEV_DIR, HANDLERS_DIR, TARGETS, Target, build, ensure, read_manifest
from .asset_wheels import CRYPTOGRAPHY_VERSION, REQUIREMENTS, SKIP_ENV_VAR, BundlingError

__all__ = [
    "CRYPTOGRAPHY_VERSION",
    "HANDLERS_DIR",
    "PACKAGED_DIR",
    "REQUIREMENTS",
    "SKIP_CONTEXT_KEY",
    "SKIP_ENV_VAR",
    "BundlingError",
    "asset_for",
    "handlers_code",
    "warn_if_not_deployable",
]

PACKAGED_DIR = Path(__file__).resolve().parent / "_lambda"
"""The prebuilt assets in an installed package (absent in a development checkout)."""
SKIP_CONTEXT_KEY = "cvpn:skipBundling"
#: The context the CDK CLI sets for asset metadata on resources (aws-cdk-lib's cx-api
#: ``ASSET_RESOURCE_METADATA_ENABLED_CONTEXT``).
ASSET_METADATA_CONTEXT = "aws:cdk:enable-asset-metadata"
_CHECKOUT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_RESOLVED: dict[Target, tuple[Path, str]] = {}


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


def _handlers_only(target: Target) -> Path:
    """A per-process directory for the handlers-only asset (removed at exit)."""
    where = Path(tempfile.mkdtemp(prefix="cvpn-handlers-"))
    atexit.register(shutil.rmtree, where, True)
    build(target, where)
    return where


def asset_for(target: Target) -> tuple[Path, str]:
    """(zip, asset hash) of ``target``: shipped, built in the checkout, or handlers only.

    Resolved once per process and target.

    Raises:
        BundlingError: the installed package has no asset for ``target``, or building it in
            a checkout failed (e.g. no access to the package index for the first build).
    """
    if target in _RESOLVED:
        return _RESOLVED[target]
    if not target.wheels:
        where = _handlers_only(target)
        manifest = read_manifest(where, target)
    elif PACKAGED_DIR.is_dir():
        manifest = read_manifest(PACKAGED_DIR, target)
        where = PACKAGED_DIR
        if manifest is None:
            shipped = ", ".join(t.name for t in TARGETS)
            raise BundlingError(
                f"this constructs-cvpn package ships the handler asset for {shipped}, not for "
                f"{target.arch} / Python {target.python}: use the architecture and runtime of "
                f"constructs_cvpn.handler_function, or set {SKIP_ENV_VAR}=1 (not deployable)."
            )
    elif _CHECKOUT.is_file():
        where = DEV_DIR
        manifest = ensure(target, DEV_DIR)[1]
    else:
        raise BundlingError(
            f"this constructs-cvpn installation has no prebuilt handler asset ({PACKAGED_DIR} "
            "is missing): reinstall it from a wheel built by its build hook (pip install "
            f"constructs-cvpn), or set {SKIP_ENV_VAR}=1 to synthesize without it."
        )
    assert manifest is not None
    _RESOLVED[target] = (where / f"{target.name}.zip", manifest["asset_hash"])
    return _RESOLVED[target]


def _skip_requested(scope: Construct | None) -> bool:
    if os.environ.get(SKIP_ENV_VAR, "").lower() in ("1", "true", "yes"):
        return True
    if scope is not None:
        value: Any = scope.node.try_get_context(SKIP_CONTEXT_KEY)
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

    A zip used as it is (custom asset hash, no bundling): see :class:`_PrebuiltCode`.

    Args:
        scope: read the ``cvpn:skipBundling`` context from here (optional).
        skip_wheels: force (True) or forbid (False) skipping ``cryptography``; default: skip
            when ``CVPN_SKIP_BUNDLING=1`` or the context flag is true.

    Raises:
        BundlingError: unsupported architecture or non-Python runtime, no asset for this
            platform, or (in a checkout) building it failed.
    """
    skip = _skip_requested(scope) if skip_wheels is None else skip_wheels
    target = Target(_arch(architecture), _python_version(runtime), wheels=not skip)
    return _PrebuiltCode(*asset_for(target))


class _PrebuiltCode(lambda_.Code):
    """``Code.from_asset`` of a zip under a known hash, without an ``s3_assets.Asset``.

    The same staging (the zip copied into ``cdk.out`` as ``asset.<hash>.zip``) and the same
    entry in the stack's asset manifest as ``Code.from_asset``, registered with the stack's
    synthesizer directly: the ``Asset`` construct would also import its bucket, which loads
    CDK's table of region facts on every synth (about 0.1 s of the node process's CPU,
    measured with node's ``--cpu-prof``). Lambda's ``Function`` calls :meth:`bind`, then
    :meth:`bind_to_resource` with what it bound.
    """

    def __init__(self, zip_path: Path, asset_hash: str) -> None:
        super().__init__()
        self._zip_path = zip_path
        self._asset_hash = asset_hash
        self._staged_path = ""

    def bind_to_resource(
        self, resource: CfnResource, *, resource_property: str | None = None
    ) -> None:
        """The asset metadata ``Code.from_asset`` adds (SAM CLI reads it), when asked for."""
        if not resource.node.try_get_context(ASSET_METADATA_CONTEXT):
            return
        resource.add_metadata("aws:asset:path", self._staged_path)
        resource.add_metadata("aws:asset:is-bundled", False)
        resource.add_metadata("aws:asset:property", resource_property or "Code")

    def bind(self, scope: Construct) -> lambda_.CodeConfig:
        stack = Stack.of(scope)
        staging = AssetStaging(
            scope,
            "Code",
            source_path=str(self._zip_path),
            asset_hash=self._asset_hash,
            asset_hash_type=AssetHashType.CUSTOM,
        )
        self._staged_path = staging.relative_staged_path(stack)
        location = stack.synthesizer.add_file_asset(
            file_name=self._staged_path,
            packaging=FileAssetPackaging.FILE,
            source_hash=staging.asset_hash,
        )
        return lambda_.CodeConfig(
            s3_location=s3.Location(
                bucket_name=location.bucket_name, object_key=location.object_key
            )
        )


def warn_if_not_deployable(vpn: Construct) -> None:
    """Warn on each handler function under ``vpn`` whose asset was built without its wheels
    (``CVPN_SKIP_BUNDLING`` or the ``cvpn:skipBundling`` context): it cannot run."""
    from .handler_function import HandlerFunction

    if not _skip_requested(vpn):
        return
    for construct in vpn.node.find_all():
        if isinstance(construct, HandlerFunction):
            Annotations.of(construct.function).add_warning_v2(
                "constructs-cvpn:bundlingSkipped",
                f"this function's asset was built with {SKIP_ENV_VAR}=1 (or the context "
                f"{SKIP_CONTEXT_KEY}=true), without the cryptography wheels: fine for a "
                "synth or a test, but the function fails if this template is deployed",
            )
