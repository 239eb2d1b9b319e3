"""A construct path of any length or character still gives a template AWS takes.

Descriptions and names carry the ``ClientVpn``'s path; the resources limit them
(``maxLength`` in the CloudFormation resource schemas; a security group's description to
255 characters of a set). The oracles are two checks made by others: aws-cdk-lib's own
template validation (its ``validation-report.json``) and cfn-lint's rules on the template.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from cfnlint.api import ManualArgs, lint
from constructs import Construct

from constructs_cvpn import ClientVpn, OfficeHours
from constructs_cvpn.descriptions import security_group_description, with_path

#: A construct id of 990 characters: the VPN's path passes every limit of its resources.
LONG_ID = "d" * 990


def _vpn(scope: Construct, vpc: ec2.IVpc, cidr: str) -> ClientVpn:
    vpn = ClientVpn(
        scope,
        "Vpn",
        vpc=vpc,
        cidr=cidr,
        users=["alice"],
        schedule=OfficeHours(time_zone="UTC"),
    )
    vpn.add_dashboard()
    stack = Stack.of(scope)
    vpn.grant_read_user_config("alice", iam.User(stack, f"Reader{cidr[3:6]}"))
    vpn.grant_read_user_config(
        "alice", iam.Role(stack, f"Role{cidr[3:6]}", assumed_by=iam.AccountRootPrincipal())
    )
    return vpn


@pytest.fixture(scope="module")
def synthesized() -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Two VPNs whose paths differ only in their first character, and one whose path holds
    characters EC2 refuses in a security group's description: the template and the
    violations aws-cdk-lib's validation found."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, context={"cvpn:skipBundling": True})
        stack = Stack(app, "Long")
        vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
        _vpn(Construct(stack, "a" + LONG_ID), vpc, "10.100.0.0/22")
        _vpn(Construct(stack, "b" + LONG_ID), vpc, "10.104.0.0/22")
        _vpn(Construct(stack, "Team's VPN é"), vpc, "10.108.0.0/22")
        app.synth()
        template = json.loads((Path(outdir) / "Long.template.json").read_text())
        report = Path(outdir) / "validation-report.json"
        reports = json.loads(report.read_text())["pluginReports"] if report.exists() else []
        violations = [v for r in reports for v in r["violations"]]
        yield template, violations


def test_aws_cdks_template_validation_finds_nothing(
    synthesized: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    _, violations = synthesized
    assert [f"{v['ruleName']} {v['description']}" for v in violations] == []


def test_cfn_lint_finds_no_length_or_pattern_error(
    synthesized: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    template, _ = synthesized
    matches = lint(json.dumps(template), config=ManualArgs(regions=["eu-west-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []


def test_names_cut_to_fit_stay_unique(
    synthesized: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    template, _ = synthesized
    names = [
        r["Properties"]["Name"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Logs::QueryDefinition"
    ]
    assert len(names) == 9 and len(set(names)) == 9
    assert all(len(name) <= 255 for name in names)


def test_a_path_that_fits_is_kept_whole() -> None:
    assert with_path("Client VPN {path}: key", "App/Vpn", 30) == "Client VPN App/Vpn: key"
    assert len("Client VPN App/Vpn: key") == 23


def test_a_path_that_does_not_fit_keeps_its_end() -> None:
    path = "Stage/" + "x" * 50 + "/Team/Vpn"
    text = with_path("Client VPN {path}: key", path, 40)
    # 40 characters: "Client VPN " (11), "..." (3), the path's last 21, ": key" (5).
    assert text == "Client VPN ..." + path[-21:] + ": key"
    assert len(text) == 40 and text.endswith("/Team/Vpn: key")


def test_a_security_group_description_holds_only_what_ec2_takes() -> None:
    assert (
        security_group_description("App/Team's VPN é", "egress")
        == "Client VPN App/Team_s VPN _: egress"
    )
    long = security_group_description("S/" + "v" * 300, "egress to authorized networks")
    assert len(long) == 255 and long.startswith("Client VPN ...v")


def test_a_log_group_names_the_construct_in_at_most_200_characters(
    synthesized: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    # README: /aws/client-vpn/<construct>/<stack uuid>[/<handler>], <construct> at most 200
    # characters of the construct path, ending in a hash.
    template, _ = synthesized
    construct_parts = {
        r["Properties"]["LogGroupName"]["Fn::Join"][1][0].removeprefix("/aws/client-vpn/")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
    }
    assert len(construct_parts) == 3  # one per VPN, its handlers' groups below it
    long_ones = sorted(p.rstrip("/") for p in construct_parts if "dddd" in p)
    assert [len(p) for p in long_ones] == [200, 200]
    assert all(re.fullmatch("[0-9A-F]{8}", p[-8:]) for p in long_ones)
