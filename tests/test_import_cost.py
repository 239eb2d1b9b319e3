"""Import cost (issue 14): an app that builds a ClientVpn loads only what ClientVpn needs.

The PKI (cryptography, the Lambda and custom-resource modules of aws-cdk-lib), cdk-nag, the
CLI (typer, rich) load on use. Each case runs in a fresh interpreter and reads
``sys.modules``: in this process pytest and the other test modules have loaded everything.
A planted eager import (e.g. ``from .pki import CertificateAuthority`` at the top of
``client_configs.py``, which loads ``aws_cdk.aws_lambda``) fails these tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What issue 14 names as loaded on use only: PKI, nag, CLI.
ON_USE_ONLY = (
    "cdk_nag",
    "cryptography",
    "aws_cdk.aws_lambda",
    "aws_cdk.custom_resources",
    "typer",
    "rich",
)

#: A ClientVpn with given certificates and the export off (nothing in it needs a handler):
#: what is loaded after the imports, and after building and synthesizing it.
CLIENT_VPN = """
import constructs_cvpn
from constructs_cvpn import ClientVpn, ClientVpnConfigError
mark("import")

from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from constructs_cvpn import AuthorizationRule

app = App()
stack = Stack(app, "Stack")
vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
ClientVpn(
    stack,
    "Vpn",
    vpc=vpc,
    cidr="10.100.0.0/22",
    server_certificate_arn="arn:aws:acm:eu-west-1:111111111111:certificate/"
    "00000000-0000-4000-8000-000000000001",
    client_certificate_arn="arn:aws:acm:eu-west-1:111111111111:certificate/"
    "00000000-0000-4000-8000-000000000002",
    config_export=False,
    authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
)
app.synth()
mark("synth")
"""

#: The same VPC with the bare L2 endpoint: what any Client VPN app loads anyway.
L2 = """
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2

app = App()
stack = Stack(app, "Stack")
vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
ec2.ClientVpnEndpoint(
    stack,
    "Endpoint",
    vpc=vpc,
    cidr="10.100.0.0/22",
    server_certificate_arn="arn:aws:acm:eu-west-1:111111111111:certificate/"
    "00000000-0000-4000-8000-000000000001",
    client_certificate_arn="arn:aws:acm:eu-west-1:111111111111:certificate/"
    "00000000-0000-4000-8000-000000000002",
).add_authorization_rule("Rule", cidr="10.0.0.0/16")
app.synth()
mark("synth")
"""

#: What ClientVpn adds by design beyond the L2 (README "Default settings"): a KMS key
#: and a connection log group of its own.
BY_DESIGN = {
    "aws_cdk.aws_kms",
    "aws_cdk.aws_logs",
    "aws_cdk.interfaces.aws_kms",
    "aws_cdk.interfaces.aws_logs",
}

#: Runs before the code: ``mark(label)`` records ``sys.modules`` at that point.
PROBE = """
import json as _json
import sys as _sys

_seen = {}


def mark(label):
    _seen[label] = sorted(_sys.modules)
"""


def modules_at(code: str) -> dict[str, set[str]]:
    """What a fresh interpreter running ``code`` had loaded at each ``mark``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", f"{PROBE}\n{code}\nprint(_json.dumps(_seen))\n"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return {label: set(modules) for label, modules in seen.items()}


def aws_cdk_submodules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("aws_cdk.") and "._" not in m}


@pytest.fixture(scope="module")
def client_vpn() -> dict[str, set[str]]:
    return modules_at(CLIENT_VPN)


@pytest.mark.parametrize("when", ["import", "synth"])
def test_client_vpn_loads_no_pki_nag_or_cli_module(
    client_vpn: dict[str, set[str]], when: str
) -> None:
    """After ``from constructs_cvpn import ClientVpn``, and after building and synthesizing."""
    assert sorted(client_vpn[when] & set(ON_USE_ONLY)) == []


def test_client_vpn_loads_no_aws_cdk_submodule_the_l2_app_does_not_beyond_key_and_logs(
    client_vpn: dict[str, set[str]],
) -> None:
    """Catches what the list above does not name: S3, Secrets Manager, CloudWatch, events."""
    extra = aws_cdk_submodules(client_vpn["synth"]) - aws_cdk_submodules(modules_at(L2)["synth"])
    assert extra <= BY_DESIGN, sorted(extra - BY_DESIGN)


def test_the_probe_sees_a_module_loaded_on_use() -> None:
    """The probe is not blind: importing the nag pack loads cdk_nag."""
    assert "cdk_nag" in modules_at("import constructs_cvpn.nag\nmark('nag')")["nag"]


STDLIB = sys.stdlib_module_names


def test_importing_the_package_loads_nothing_else() -> None:
    """The README: "`import constructs_cvpn` loads nothing" (no aws-cdk-lib, no construct
    module until a name is used)."""
    seen = modules_at("mark('before')\nimport constructs_cvpn\nmark('after')")
    loaded = {m for m in seen["after"] - seen["before"] if m.split(".")[0] not in STDLIB}
    assert loaded == {"constructs_cvpn"}, sorted(loaded)
