"""The logs-and-keys room: every log group the construct creates, and who may write to it.

The connection log group has its own tests in ``test_client_vpn.py``; these cover the log
groups of the custom-resource handler functions (which answer CloudFormation themselves:
there is no Provider framework function), which only the example-stack snapshots guarded.
Expected values from DESIGN.md ("Secure defaults": customer-managed KMS key, retention set)
and the construct's docstrings (retained, one year, named ``<prefix>/<stack uuid>/...``).
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from constructs_cvpn import AuthorizationRule, ClientVpn

SERVER = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
STACK_UUID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
ONE_YEAR = 365


def _resources(name: str, **props: Any) -> tuple[ClientVpn, dict[str, Any]]:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, name)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    vpn = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", **props)
    return vpn, Template.from_stack(stack).to_json()["Resources"]


@pytest.fixture(scope="module", params=["pki", "export"])
def layout(request: pytest.FixtureRequest) -> tuple[ClientVpn, dict[str, Any], list[str]]:
    """A VPN with the generated PKI (two handlers) or with the config export (one), and the
    log-group name suffixes its handlers must have."""
    if request.param == "pki":
        vpn, resources = _resources("Pki", users=["alice"])
        return vpn, resources, ["certificate-authority", "users"]
    vpn, resources = _resources(
        "Export",
        server_certificate_arn=SERVER,
        client_certificate_arn=CLIENT,
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
    )
    return vpn, resources, ["config-export"]


def _of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    return {n: r for n, r in resources.items() if r["Type"] == type_}


def test_every_handler_log_group_is_encrypted_retained_and_kept_a_year(
    layout: tuple[ClientVpn, dict[str, Any], list[str]],
) -> None:
    """Catches: a handler log group without the VPN's KMS key (the handlers
    log certificate serials and user names), with a shorter or no retention, destroyed with
    the stack, or named without the stack's uuid (a destroyed and redeployed stack would
    then fail on its retained predecessor: "already exists")."""
    vpn, resources, handlers = layout
    stack = Stack.of(vpn)
    key = stack.resolve(vpn.encryption_key.key_arn)
    prefix = f"/aws/client-vpn/{stack.stack_name}-Vpn-"
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    suffixes = sorted([""] + [f"/{h}" for h in handlers])
    assert len(groups) == len(suffixes)  # the connection log group and one per handler
    seen = []
    for name, group in groups.items():
        assert group["DeletionPolicy"] == "Retain", name
        assert group["UpdateReplacePolicy"] == "Retain", name
        props = group["Properties"]
        assert props["KmsKeyId"] == key, name
        assert props["RetentionInDays"] == ONE_YEAR, name
        first, uuid, *rest = props["LogGroupName"]["Fn::Join"][1]
        assert first.startswith(prefix) and first.endswith("/"), name
        assert uuid == STACK_UUID, name
        seen.append("".join(rest))
    assert sorted(seen) == suffixes


def test_each_function_logs_to_its_own_group_and_may_write_only_there(
    layout: tuple[ClientVpn, dict[str, Any], list[str]],
) -> None:
    """Catches: a handler role without the right to write its logs (the function runs but
    its log group stays empty: no record of what a certificate run did), a grant on another
    or on every log group, and a function that logs to a group of Lambda's default name
    (unencrypted, kept forever, outside the key policy's pattern)."""
    _, resources, handlers = layout
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    functions = _of_type(resources, "AWS::Lambda::Function")
    # One function per handler (the VPC's own custom resource for the default security
    # group is the CDK's, not ours).
    ours = {n: f for n, f in functions.items() if n.startswith("Vpn")}
    assert len(ours) == len(handlers)
    assert all("LoggingConfig" in f["Properties"] for f in ours.values())
    used = [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in ours.values()]
    assert len(set(used)) == len(used)
    assert set(used) <= set(groups)

    for name, function in ours.items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        policies = [
            p
            for p in _of_type(resources, "AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
        ]
        statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
        log_statements = [s for s in statements if "logs:" in str(s["Action"])]
        assert log_statements == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [group, "Arn"]},
            }
        ], name
