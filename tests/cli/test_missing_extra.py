"""Without the ``cli`` extra: ``cvpn`` says how to install it; the construct needs none of it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from constructs_cvpn.cli import missing_extra_hint


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
    assert result.stderr == (
        f"cvpn: error: the cvpn command needs the 'cli' extra (missing module: {module}); "
        "install it with: pip install 'constructs-cvpn[cli]'\n"
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
