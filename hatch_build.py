"""Wheel build hook: build the handlers' Lambda asset once and ship it in the wheel.

hatchling runs this for every wheel (``uv build``, ``pip install .``, a build from the sdist),
not for editable installs (a development checkout builds ``.build/lambda/`` itself). It runs
``constructs_cvpn/asset_build.py`` (standard library only: no aws-cdk-lib in the isolated
build environment) for each shipped target, reusing ``.build/lambda/`` when it is fresh and
its zip still hashes to its manifest, and adds ``<name>.zip`` and ``<name>.json`` to the wheel
under ``constructs_cvpn/_lambda/``. Building needs the wheel cache or the package index.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class LambdaAssetHook(BuildHookInterface):
    """Adds ``constructs_cvpn/_lambda/<target>.zip`` and ``.json`` to every standard wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        sys.path.insert(0, self.root)
        try:
            from constructs_cvpn import asset_build
        finally:
            sys.path.remove(self.root)
        out_dir = Path(self.root) / ".build" / "lambda"
        for target in asset_build.TARGETS:
            zip_path, _ = asset_build.ensure(target, out_dir, verify=True)
            for path in (zip_path, zip_path.with_suffix(".json")):
                build_data["force_include"][str(path)] = f"constructs_cvpn/_lambda/{path.name}"
