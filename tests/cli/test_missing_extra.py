"""Without the ``cli`` extra: ``cvpn`` says how to install it; the construct needs none of it."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from constructs_cvpn import cli
from constructs_cvpn.cli import missing_extra_hint

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("module", ["typer", "rich"])
def test_cvpn_without_the_extra_prints_one_line_install_hint(module: str) -> None:
    result = run_python(
        f"import sys; sys.modules[{module!r}] = None\n"
        "sys.argv = ['cvpn', '--help']\n"
        "from constructs_cvpn.cli import main; main()"
    )

    assert result.returncode == 1
    assert result.stdout == ""
    # This checkout is installed editable (make setup): the hint installs the extra from it.
    assert result.stderr == (
        f"cvpn: error: the cvpn command needs the 'cli' extra (missing module: {module}); "
        f"install it with: pip install -e '{ROOT}[cli]'\n"
    )


def test_other_missing_modules_are_not_blamed_on_the_extra() -> None:
    assert missing_extra_hint(ModuleNotFoundError("x", name="yaml")) is None
    assert missing_extra_hint(ModuleNotFoundError("x", name="rich.console")) is not None


def test_construct_and_nag_pack_import_without_typer_or_rich() -> None:
    result = run_python(
        "import sys; sys.modules['typer'] = None; sys.modules['rich'] = None\n"
        "from constructs_cvpn import ClientVpn, ClientVpnConfigError\n"
        "from constructs_cvpn.nag import ClientVpnChecks\n"
        "print(ClientVpn.__name__, ClientVpnChecks.__name__)"
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "ClientVpn ClientVpnChecks\n"


class Installed:
    """A distribution as ``importlib.metadata`` gives it: its version and direct_url.json."""

    def __init__(self, direct_url: dict[str, object] | None, version: str = "0.1.0") -> None:
        self.version = version
        self._text = None if direct_url is None else json.dumps(direct_url)

    def read_text(self, name: str) -> str | None:
        return self._text if name == "direct_url.json" else None


@pytest.mark.parametrize(
    ("direct_url", "spec"),
    [
        # PEP 610 examples: a wheel file, a VCS URL, a local directory, an editable install
        (
            {
                "url": "file:///home/me/dist/constructs_cvpn-0.1.0-py3-none-any.whl",
                "archive_info": {},
            },
            "'constructs-cvpn[cli] @ file:///home/me/dist/constructs_cvpn-0.1.0-py3-none-any.whl'",
        ),
        (
            {
                "url": "https://git.example.com/platform/constructs-cvpn.git",
                "vcs_info": {"vcs": "git", "commit_id": "0123abcd", "requested_revision": "v1"},
            },
            "'constructs-cvpn[cli] @ git+https://git.example.com/platform/constructs-cvpn.git"
            "@0123abcd'",
        ),
        (
            {"url": "file:///srv/src/constructs-cvpn", "dir_info": {}},
            "'constructs-cvpn[cli] @ file:///srv/src/constructs-cvpn'",
        ),
        (
            {"url": "file:///srv/my%20src/cvpn", "dir_info": {"editable": True}},
            "-e '/srv/my src/cvpn[cli]'",
        ),
        (None, "'constructs-cvpn[cli]==0.1.0'"),
    ],
)
def test_the_hint_installs_from_where_the_package_came_from(
    monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, object] | None, spec: str
) -> None:
    monkeypatch.setattr(metadata, "distribution", lambda name: Installed(direct_url))

    hint = missing_extra_hint(ModuleNotFoundError("x", name="typer"))

    assert hint is not None and hint.endswith(f"install it with: pip install {spec}")
    assert "'constructs-cvpn[cli]'" not in hint  # never the bare, unpinned name


def test_not_installed_at_all_the_hint_names_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)

    assert cli.install_spec() == f"-e '{ROOT}[cli]'"
