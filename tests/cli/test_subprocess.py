"""The installed ``cvpn`` console script, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CVPN = Path(sys.executable).parent / "cvpn"


def clean_env() -> dict[str, str]:
    """This process's environment without any AWS set-up (no credentials, no profile)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        COLUMNS="120",
    )
    return env


def test_help_lists_commands_and_exit_codes() -> None:
    done = subprocess.run([str(CVPN), "--help"], env=clean_env(), capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    for command in ("status", "config", "connections", "wait"):
        assert command in done.stdout
    flat = " ".join(done.stdout.split())
    assert "Exit codes: 0 ok; 1 AWS error" in flat
    assert "3 not found" in flat
    assert "4 timeout (wait); 5 refused" in flat


def test_no_credentials_is_one_line_and_exit_1() -> None:
    done = subprocess.run(
        [str(CVPN), "status", "--endpoint-id", "cvpn-endpoint-0123", "--region", "eu-west-1"],
        env=clean_env(),
        capture_output=True,
        text=True,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("cvpn: error:")]
    assert errors == [
        "cvpn: error: no AWS credentials found: configure a profile (`aws configure` or "
        "`aws sso login`) and pass --profile, or set AWS_PROFILE / AWS_ACCESS_KEY_ID"
    ]
    assert done.stderr.endswith(errors[0] + "\n")
