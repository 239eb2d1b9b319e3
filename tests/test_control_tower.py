"""AWS Control Tower proactive controls on every example template.

The rules and the ``cfn-guard`` binary are the ones that ``cdklabs.cdk-validator-cfnguard``
(a dev dependency) ships inside its jsii bundle. The test runs that binary itself, with every
bundled Control Tower rule, and reads cfn-guard's raw per-rule results: the CDK plugin only
reports a success flag, and one acknowledged finding can flip that flag for the whole report.
Nothing is acknowledged here; the rules the library cannot satisfy are listed in ``ALLOWED``
with the reason (the README's Security section repeats the list).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnResource, Stack

from constructs_cvpn import ClientVpn
from stacks.example_app import build_app

ROOT = Path(__file__).resolve().parent.parent
STACKS = (
    "CvpnMutualFullTunnel",
    "CvpnSamlSplitTunnel",
    "CvpnGeneratedPki",
    "CvpnDualStackTransitGateway",
    "CvpnOfficeHours",
)
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

#: Control Tower rules that a ClientVpn's resources do not satisfy, each with the resources
#: (paths under the ClientVpn construct, fnmatch patterns) and the reason. Literal on
#: purpose: any other finding on the library's resources fails the test.
ALLOWED: dict[str, tuple[tuple[str, ...], str]] = {
    "CT.LAMBDA.PR.3": (
        ("*/Function/Resource",),
        "The handlers only call AWS APIs (EC2, ACM, S3, KMS, Secrets Manager) and "
        "CloudFormation's response URL. In a VPC they would need a NAT gateway or six "
        "interface endpoints in the user's VPC; the construct does not own that VPC.",
    ),
    "CT.CLOUDWATCH.PR.1": (
        ("CertificateExpiryAlarm/Resource", "CaExpiryAlarm/Resource"),
        "The construct cannot know whom to notify. The user adds the action in their app: "
        "vpn.expiry_alarm.add_alarm_action(SnsAction(topic)) and "
        "vpn.ca_expiry_alarm.add_alarm_action(...) satisfy the control.",
    ),
    "CT.S3.PR.2": (
        ("ConfigAccessLogs/Resource",),
        "The server-access-log bucket would have to log to itself or to yet another bucket. "
        "The configuration bucket logs to it.",
    ),
    "CT.S3.PR.10": (
        ("ConfigAccessLogs/Resource",),
        "S3 delivers server access logs only to a bucket encrypted with SSE-S3 (AES256): "
        "SSE-KMS is not supported for the log destination bucket.",
    ),
    "CT.S3.PR.9": (
        ("ConfigBucket/Resource", "ConfigAccessLogs/Resource"),
        "Object Lock forbids deleting object versions during retention. Revoking a user must "
        "delete every version of their file (with the private key), and the lifecycle rules "
        "expire old versions and logs.",
    ),
    "CT.S3.PR.4": (
        ("ConfigBucket/Resource", "ConfigAccessLogs/Resource"),
        "Nothing consumes the buckets' events: the construct writes the files itself and the "
        "CLI reads them on demand.",
    ),
}

#: Rules that must pass on the library's resources in every stack where they apply.
REQUIRED_PASS = (
    "CT.KMS.PR.1",  # key rotation
    "CT.KMS.PR.3",  # Deny kms:CreateGrant unless for an AWS resource or by an AWS service
    "CT.S3.PR.1",  # bucket-level public access block
    "CT.S3.PR.8",  # TLS only
    "CT.S3.PR.11",  # versioning
    "CT.CLOUDWATCH.PR.2",  # log retention
    "CT.CLOUDWATCH.PR.3",  # log groups encrypted with KMS
)


# --- cfn-guard and the bundled rules -----------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    binary: Path
    rules: Path
    #: top-level guard rule name -> Control Tower control id (``CT.KMS.PR.3``)
    control_ids: dict[str, str]


def _bundle() -> Path:
    spec = importlib.util.find_spec("cdklabs.cdk_validator_cfnguard")
    assert spec is not None and spec.submodule_search_locations, "dev dependency missing"
    package = Path(next(iter(spec.submodule_search_locations)))
    (tgz,) = (package / "_jsii").glob("*.jsii.tgz")
    return tgz


def _platform() -> tuple[str, str]:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
    arch = machine.get(platform.machine().lower())
    if system is None or arch is None:
        message = f"the bundled cfn-guard has no build for {platform.platform()}"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI's machine must run the controls, never skip them
        pytest.skip(message)
    return system, arch


def _control_ids(rules: Path) -> dict[str, str]:
    ids: dict[str, str] = {}
    for file in sorted(rules.rglob("*.guard")):
        text = file.read_text()
        names = set(re.findall(r"^rule (\w+) when is_cfn_template", text, re.MULTILINE))
        found = set(re.findall(r"\[(CT\.[A-Z0-9-]+\.PR\.\d+)\]", text))
        # a few rule files carry no id in their message: the file name is ct-<service>-pr-<n>
        control = found.pop() if len(found) == 1 else file.stem.upper().replace("-PR-", ".PR.")
        control = control.replace("CT-", "CT.", 1)
        for name in names:
            assert name not in ids, f"guard rule {name} defined twice"
            ids[name] = control
    return ids


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    system, arch = _platform()
    target = tmp_path_factory.mktemp("cfnguard")
    with tarfile.open(_bundle()) as archive:
        archive.extractall(target, filter="data")
    binary = target / "package" / "bin" / system / arch / "cfn-guard"
    binary.chmod(0o755)
    rules = target / "package" / "rules" / "control-tower" / "cfn-guard"
    return Guard(binary, rules, _control_ids(rules))


@dataclass
class Results:
    """One template's results: control id -> status, and the failing logical ids."""

    status: dict[str, str] = field(default_factory=dict)  # PASS, FAIL or SKIP
    failing: dict[str, set[str]] = field(default_factory=dict)


def _resource_ids(node: Any) -> Iterator[str]:
    """Logical ids of every ``/Resources/<id>/...`` path in a cfn-guard check tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "path" and isinstance(value, str) and value.startswith("/Resources/"):
                yield value.split("/")[2]
            else:
                yield from _resource_ids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _resource_ids(value)


def run_guard(guard: Guard, template: Path) -> Results:
    # fmt: off
    command = [str(guard.binary), "validate", "--rules", str(guard.rules),
               "--data", str(template), "--output-format", "json", "--show-summary", "none",
               "--structured"]
    # fmt: on
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    # 0: all compliant; 19: some rule not compliant (5 in older releases); anything else broke
    assert proc.returncode in (0, 5, 19), proc.stderr
    (report,) = json.loads(proc.stdout)
    results = Results()
    for name in report["not_applicable"]:
        results.status[guard.control_ids[name]] = "SKIP"
    for name in report["compliant"]:
        results.status[guard.control_ids[name]] = "PASS"
    for entry in report["not_compliant"]:
        rule = entry["Rule"]
        control = guard.control_ids[rule["name"]]
        results.status[control] = "FAIL"
        results.failing.setdefault(control, set()).update(_resource_ids(rule["checks"]))
    return results


# --- the example app ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    #: stack name -> {logical id: path of the resource under its ClientVpn}
    library: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The example app, synthesized once (without the cryptography wheels: see test_bundling)."""
    out = tmp_path_factory.mktemp("cdk.out")
    app = App(outdir=str(out), context={**CONTEXT, "cvpn:skipBundling": True})
    build_app(app)
    app.synth()
    library: dict[str, dict[str, str]] = {}
    for stack in app.node.children:
        if not isinstance(stack, Stack):
            continue
        ids = library.setdefault(stack.stack_name, {})
        for vpn in stack.node.find_all():
            if not isinstance(vpn, ClientVpn):
                continue
            for node in vpn.node.find_all():
                if isinstance(node, CfnResource):
                    relative = node.node.path.removeprefix(vpn.node.path + "/")
                    ids[stack.get_logical_id(node)] = relative
    return Synthesized(out, library)


@pytest.fixture(scope="module")
def results(guard: Guard, synthesized: Synthesized) -> dict[str, Results]:
    return {name: run_guard(guard, synthesized.outdir / f"{name}.template.json") for name in STACKS}


def _library_findings(results: Results, library: dict[str, str]) -> dict[str, dict[str, str]]:
    """control id -> {logical id: path under the ClientVpn} of failing library resources."""
    findings: dict[str, dict[str, str]] = {}
    for control, ids in results.failing.items():
        ours = {i: library[i] for i in ids if i in library}
        if ours:
            findings[control] = ours
    return findings


def _allowed(control: str, path: str) -> bool:
    patterns = ALLOWED.get(control, ((), ""))[0]
    return any(fnmatchcase(path, pattern) for pattern in patterns)


# --- tests -------------------------------------------------------------------------------------


def test_the_bundled_rules_are_the_control_tower_set(guard: Guard) -> None:
    assert len(guard.control_ids) >= 200
    assert {"CT.KMS.PR.3", "CT.LAMBDA.PR.3", "CT.S3.PR.1"} <= set(guard.control_ids.values())


def test_guard_reports_a_violation_it_is_shown(guard: Guard, tmp_path: Path) -> None:
    """A key without rotation or grant statement fails: the harness is not vacuous."""
    template = tmp_path / "bad.template.json"
    key = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": []}}}
    template.write_text(json.dumps({"Resources": {"Key": key}}))
    results = run_guard(guard, template)
    assert results.status["CT.KMS.PR.1"] == "FAIL"
    assert results.failing["CT.KMS.PR.3"] == {"Key"}
    assert results.status["CT.LAMBDA.PR.3"] == "SKIP"


#: The one statement shape that CT.KMS.PR.3 accepts (the construct adds it to its keys).
GRANT_DENY = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:CreateGrant",
    "Resource": "*",
    "Condition": {
        "BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}
    },
}


@pytest.mark.parametrize(
    ("condition", "status"),
    [
        (GRANT_DENY["Condition"], "PASS"),
        ({"Bool": {"kms:GrantIsForAWSResource": "false"}}, "FAIL"),
        ({"BoolIfExists": {"kms:GrantIsForAWSResource": "false"}}, "FAIL"),
    ],
)
def test_ct_kms_pr_3_accepts_only_the_bool_if_exists_statement(
    guard: Guard, tmp_path: Path, condition: dict[str, Any], status: str
) -> None:
    template = tmp_path / "key.template.json"
    policy = {"Statement": [{**GRANT_DENY, "Condition": condition}]}
    key = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy}}
    template.write_text(json.dumps({"Resources": {"Key": key}}))
    assert run_guard(guard, template).status["CT.KMS.PR.3"] == status


@pytest.mark.parametrize("name", STACKS)
def test_no_control_fails_on_the_library_beyond_the_allow_list(
    name: str, results: dict[str, Results], synthesized: Synthesized
) -> None:
    library = synthesized.library[name]
    assert len(library) >= 10, "no ClientVpn found in the stack"
    findings = _library_findings(results[name], library)
    unexpected = {
        control: sorted(path for path in paths.values() if not _allowed(control, path))
        for control, paths in findings.items()
    }
    assert {control: paths for control, paths in unexpected.items() if paths} == {}


@pytest.mark.parametrize("name", STACKS)
@pytest.mark.parametrize("control", REQUIRED_PASS)
def test_required_control_passes_on_the_library(
    name: str, control: str, results: dict[str, Results], synthesized: Synthesized
) -> None:
    """Each control in REQUIRED_PASS applies to the stack and no library resource fails it."""
    result = results[name]
    assert result.status[control] in ("PASS", "FAIL")  # applicable to every example stack
    ours = result.failing.get(control, set()) & set(synthesized.library[name])
    assert ours == set()


def test_every_allowed_rule_is_still_needed(
    results: dict[str, Results], synthesized: Synthesized
) -> None:
    """The allow-list names only findings that occur: an entry the library now satisfies goes."""
    seen: set[str] = set()
    for name in STACKS:
        seen |= set(_library_findings(results[name], synthesized.library[name]))
    assert set(ALLOWED) - seen == set()
    for control, (patterns, reason) in ALLOWED.items():
        assert patterns and len(reason) >= 60, control
