"""Shared test set-up: run jsii on the Node.js pinned in package.json."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NODE_BIN = ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir():
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
