"""parliament (duo-labs' IAM linter) on every IAM policy of every example stack.

Every ``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy`` and every role's inline policy in
the three example templates (synthesized in-process without bundling, as in
``test_example_stacks``) is analyzed with its intrinsic functions replaced by plausible
concrete values (account 123456789012, eu-west-1, an ARN of the right shape for each
referenced resource: parliament checks each action's resource types against the ARN
formats of its IAM definition, which it cannot do on a ``Fn::Join``).

The library's own policies (construct path under ``<stack>/Vpn/``) may have no finding of
severity MEDIUM or above, except those in :data:`ALLOWED` (each with the reason). Policies
of the example stacks' own resources (the VPC's flow-log role, CDK's default security
group restriction) are analyzed and reported (``-s`` shows every finding) but not
asserted.

What parliament cannot check: conditions' meaning (it checks that a condition key exists
for the action, not what its value allows), resource policies (key, bucket and secret
policies are not IAM identity policies and are not analyzed here), and actions newer than
its bundled IAM definition (parliament 1.6.4: April 2025; an unknown action is itself a
finding). No network is used: the IAM definition ships in the wheel.

parliament imports ``pkg_resources`` to find that definition; setuptools 81+ no longer ships
it, so a minimal stand-in (``resource_filename`` over ``importlib.resources``) is put in
place for the import only, when the real one is missing.
"""

from __future__ import annotations

import importlib
import importlib.resources
import json
import os
import sys
import types
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.lifecycle.harness import Refs, resolve

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("CvpnMutualFullTunnel", "CvpnSamlSplitTunnel", "CvpnGeneratedPki", "CvpnOfficeHours")
GRANTS = "CvpnGrants"
"""Not an example stack: a grantee role with ``grant_read_user_config`` and
``grant_read_config`` (the examples grant nothing), to lint the grant's managed policy."""
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
ACCOUNT = "123456789012"
REGION = "eu-west-1"
SEVERE = ("MEDIUM", "HIGH", "CRITICAL")
# parliament 1.6.4's regexes are not raw strings (compiled once, on import).
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")

ALLOWED: dict[tuple[str, str, tuple[str, ...]], str] = {
    (
        "/Vpn/CertificateAuthority/Handler/Role/DefaultPolicy/Resource",
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        ("secretsmanager:putresourcepolicy",),
    ): "the CA handler attaches the resource policy that denies the CA secret's value to "
    "every principal but the two PKI handler roles (issue 10); the statement is scoped to "
    "this CA's secret ARN pattern (<CaSecretPrefix>-????????????????-??????), so the role "
    "can change the policy of no other secret",
}
"""(policy path suffix, finding issue, the actions parliament names) -> why it is accepted.
Only findings that AWS offers no way around; each entry must match in some stack."""


def _parliament() -> Any:
    """Import parliament with its community auditors' severities loaded (what its CLI's
    ``--include-community-auditors`` does)."""
    if "parliament" in sys.modules:
        return sys.modules["parliament"]
    module = _import_parliament()
    module.override_config(
        str(importlib.resources.files("parliament") / "community_auditors" / "config_override.yaml")
    )
    return module


def _import_parliament() -> Any:
    """Stand in for ``pkg_resources`` if setuptools does not ship it."""
    try:
        importlib.import_module("pkg_resources")
        return importlib.import_module("parliament")
    except ImportError:
        pass
    shim = types.ModuleType("pkg_resources")

    def resource_filename(package: str, name: str) -> str:
        return str(importlib.resources.files(package) / name)

    shim.resource_filename = resource_filename  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim
    try:
        return importlib.import_module("parliament")
    finally:
        del sys.modules["pkg_resources"]


# --------------------------------------------------------------------------------------
# The templates and their policies, made concrete
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    os.environ["CVPN_SKIP_BUNDLING"] = "1"
    from aws_cdk import App

    from stacks.example_app import build_app

    out = tmp_path_factory.mktemp("cdk.out")
    app = App(
        outdir=str(out),
        context={**CONTEXT, "cvpn:skipBundling": True, "aws:cdk:enable-path-metadata": True},
    )
    build_app(app)
    assembly = app.synth()
    found = {name: assembly.get_stack_by_name(name).template for name in STACKS}
    grants = App(
        outdir=str(tmp_path_factory.mktemp("cdk.out")),
        context={"cvpn:skipBundling": True, "aws:cdk:enable-path-metadata": True},
    )
    _grants_stack(grants)  # its own app: the example app's cdk-nag packs are not its subject
    found[GRANTS] = grants.synth().get_stack_by_name(GRANTS).template
    return found


def _grants_stack(app: Any) -> None:
    from aws_cdk import Stack
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_secretsmanager as secretsmanager

    from constructs_cvpn import AuthorizationRule, ClientVpn

    stack = Stack(app, GRANTS)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    rules = [AuthorizationRule(cidr="10.0.0.0/16", all_users=True)]
    pki = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        users=["alice", "bob"],
        authorization_rules=rules,
    )
    shared = ClientVpn(
        stack,
        "VpnShared",
        vpc=vpc,
        cidr="10.104.0.0/22",
        server_certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000001",
        client_certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000002",
        client_credentials_secret=secretsmanager.Secret.from_secret_complete_arn(
            stack, "Credentials", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:cvpn-AbCdEf"
        ),
        authorization_rules=rules,
    )
    role = iam.Role(stack, "Grantee", assumed_by=iam.AccountRootPrincipal())
    pki.grant_read_user_config("alice", role)
    pki.grant_read_user_config("bob", role)
    shared.grant_read_config(role)


def _name(logical_id: str) -> str:
    return logical_id.lower()[:48]


def concrete_refs(template: Mapping[str, Any]) -> Refs:
    """A plausible physical id (``Ref``) and ARN (``Fn::GetAtt ... Arn``) per resource.

    A resource type not listed here stays unresolved, and a policy naming it fails the
    test (:class:`~tests.lifecycle.harness.UnresolvedReference`): add its ARN shape."""
    refs = Refs()
    arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
    for lid, resource in template["Resources"].items():
        kind = resource["Type"]
        props = resource.get("Properties", {})
        name = _name(lid)
        if kind == "AWS::S3::Bucket":
            refs.refs[lid] = name
            refs.attrs[(lid, "Arn")] = f"arn:aws:s3:::{name}"
        elif kind == "AWS::KMS::Key":
            key_id = str(uuid.uuid5(uuid.NAMESPACE_OID, lid))
            refs.refs[lid] = key_id
            refs.attrs[(lid, "Arn")] = arn.format("kms", f"key/{key_id}")
        elif kind == "AWS::IAM::Role":
            refs.refs[lid] = name
            refs.attrs[(lid, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        elif kind == "AWS::Logs::LogGroup":
            group = props.get("LogGroupName")
            group = group if isinstance(group, str) else f"/aws/lambda/{name}"
            refs.refs[lid] = group
            refs.attrs[(lid, "Arn")] = arn.format("logs", f"log-group:{group}:*")
        elif kind == "AWS::Lambda::Function":
            refs.refs[lid] = name
            refs.attrs[(lid, "Arn")] = arn.format("lambda", f"function:{name}")
        elif kind == "AWS::EC2::ClientVpnEndpoint":
            refs.refs[lid] = "cvpn-endpoint-0123456789abcdef0"
        elif kind == "AWS::EC2::Subnet":  # the off-hours reconciler's subnet ARNs
            refs.refs[lid] = f"subnet-{uuid.uuid5(uuid.NAMESPACE_OID, lid).hex[:17]}"
        elif kind == "AWS::EC2::VPC":
            refs.refs[lid] = "vpc-0123456789abcdef0"
            refs.attrs[(lid, "DefaultSecurityGroup")] = "sg-0123456789abcdef0"
        elif kind == "AWS::SecretsManager::Secret":
            refs.refs[lid] = arn.format("secretsmanager", f"secret:{name}-AbCdEf")
        elif kind == "Custom::ClientVpnCertificateAuthority":
            prefix = props["CaSecretPrefix"]
            refs.refs[lid] = arn.format(
                "secretsmanager", f"secret:{prefix}-0123456789abcdef-AbCdEf"
            )
            cert = arn.format("acm", "certificate/00000000-0000-4000-8000-000000000001")
            refs.attrs[(lid, "ServerCertificateArn")] = cert
            refs.attrs[(lid, "ClientRootCertificateArn")] = cert
    return refs


class _Refs(Refs):
    def pseudo(self) -> dict[str, str]:
        return {**super().pseudo(), "AWS::AccountId": ACCOUNT, "AWS::Region": REGION}


@dataclass(frozen=True)
class PolicyDoc:
    stack: str
    path: str
    """The policy's construct path (``aws:cdk:path``), ``#<n>`` for a role's n-th inline one."""
    document: dict[str, Any]

    @property
    def ours(self) -> bool:
        if self.stack == GRANTS:
            return True  # everything in it is the construct's or its grants
        return self.path.startswith(f"{self.stack}/Vpn/")


def policies(stack: str, template: Mapping[str, Any]) -> Iterator[PolicyDoc]:
    base = concrete_refs(template)
    refs = _Refs(refs=base.refs, attrs=base.attrs)
    for lid, resource in template["Resources"].items():
        kind = resource["Type"]
        path = str(resource.get("Metadata", {}).get("aws:cdk:path", lid))
        props = resource.get("Properties", {})
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield PolicyDoc(stack, path, resolve(props["PolicyDocument"], refs))
        elif kind == "AWS::IAM::Role":
            for index, inline in enumerate(props.get("Policies", [])):
                yield PolicyDoc(stack, f"{path}#{index}", resolve(inline["PolicyDocument"], refs))


@dataclass(frozen=True)
class Found:
    issue: str
    severity: str
    detail: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        where = f" {list(self.actions)}" if self.actions else ""
        detail = f": {self.detail}" if self.detail not in ('""', "null") else ""
        return f"{self.severity} {self.issue}{where}{detail}"


def analyze(document: Mapping[str, Any]) -> list[Found]:
    parliament = _parliament()
    policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
    out = []
    for finding in policy.findings:
        if not finding.severity:
            finding = parliament.enhance_finding(finding)
        location = finding.location if isinstance(finding.location, dict) else {}
        actions = tuple(str(a) for a in location.get("actions", []) or [])
        out.append(Found(finding.issue, str(finding.severity), json.dumps(finding.detail), actions))
    return out


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def test_parliament_runs_offline_and_finds_a_known_bad_policy() -> None:
    """The linter works here: a policy with an unknown action and a resource mismatch is
    reported (otherwise a silent import or definition problem would pass everything)."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObjectt", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"},
        ],
    }
    issues = {f.issue for f in analyze(bad)}
    assert {"UNKNOWN_ACTION", "RESOURCE_MISMATCH"} <= issues, issues


@pytest.mark.parametrize("stack", (*STACKS, GRANTS))
def test_no_medium_or_higher_finding_on_the_librarys_policies(
    templates: dict[str, dict[str, Any]], stack: str
) -> None:
    docs = list(policies(stack, templates[stack]))
    ours = [d for d in docs if d.ours]
    assert ours, f"no policy of the construct found in {stack}"
    severe: list[str] = []
    print(f"\n== {stack}: {len(docs)} policies ({len(ours)} of the construct)")
    for doc in docs:
        found = analyze(doc.document)
        print(f"-- {doc.path}{'' if doc.ours else ' (example stack)'}: {len(found)} finding(s)")
        for f in found:
            print(f"   {f}{' (allowed)' if doc.ours and allowed(doc, f) else ''}")
        if doc.ours:
            severe += [
                f"{doc.path}: {f}" for f in found if f.severity in SEVERE and not allowed(doc, f)
            ]
    assert severe == []


def allowed(doc: PolicyDoc, found: Found) -> bool:
    return bool(matching(doc, found))


def matching(doc: PolicyDoc, found: Found) -> set[tuple[str, str, tuple[str, ...]]]:
    """The allow-list entries that accept ``found`` in ``doc``."""
    return {
        k
        for k in ALLOWED
        if doc.path.endswith(k[0]) and k[1] == found.issue and k[2] == found.actions
    }


def test_every_allowed_finding_still_occurs(templates: dict[str, dict[str, Any]]) -> None:
    """An allow-list entry that matches nothing any more is removed, not kept."""
    seen = set()
    for stack in (*STACKS, GRANTS):
        for doc in policies(stack, templates[stack]):
            if doc.ours:
                for f in analyze(doc.document):
                    seen |= matching(doc, f)
    assert set(ALLOWED) <= seen, set(ALLOWED) - seen


def test_the_concrete_arns_are_checked(templates: dict[str, dict[str, Any]]) -> None:
    """Control: the same policies with every resource swapped for an IAM role's ARN are
    reported (RESOURCE_MISMATCH): parliament did compare the actions with the concrete
    ARNs above, rather than skipping resources it could not read."""
    role = f"arn:aws:iam::{ACCOUNT}:role/not-a-match"
    checked = 0
    for stack in (*STACKS, GRANTS):
        for doc in policies(stack, templates[stack]):
            if not doc.ours:
                continue
            statements = [
                {**st, "Resource": role}
                for st in doc.document["Statement"]
                if st.get("Resource") != "*" and not str(st.get("Action", "")).startswith("iam:")
            ]
            if not statements:
                continue
            issues = {f.issue for f in analyze({"Version": "2012-10-17", "Statement": statements})}
            assert "RESOURCE_MISMATCH" in issues, (doc.path, issues)
            checked += 1
    assert checked >= 8
