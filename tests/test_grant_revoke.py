"""``vpn.grant_revoke``: exactly ``lambda:InvokeFunction`` on the users function; the output
the CLI finds it by; the users role may end sessions on this endpoint only."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_cvpn import ClientVpn, ClientVpnConfigError

SERVER = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def pki() -> tuple[Stack, ClientVpn, Template]:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Pki")
    vpn = ClientVpn(
        stack, "Vpn", vpc=ec2.Vpc(stack, "Vpc", max_azs=2), cidr="10.100.0.0/22", users=["a"]
    )
    oncall = iam.Role(stack, "Oncall", assumed_by=iam.AccountRootPrincipal())
    vpn.grant_revoke(oncall)
    return stack, vpn, Template.from_stack(stack)


def logical_id(template: Template, type_: str, prefix: str) -> str:
    (found,) = [i for i in template.find_resources(type_) if i.startswith(prefix)]
    return found


def test_grant_revoke_is_one_invoke_statement_on_the_users_function(pki: Any) -> None:
    _, _, template = pki
    users_function = logical_id(template, "AWS::Lambda::Function", "VpnUsersHandlerFunction")
    policies = [
        p["Properties"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"].get("Roles")
        == [{"Ref": logical_id(template, "AWS::IAM::Role", "Oncall")}]
    ]
    (policy,) = policies
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [users_function, "Arn"]},
        }
    ]


def test_the_cli_finds_the_users_function_by_its_output(pki: Any) -> None:
    _, _, template = pki
    users_function = logical_id(template, "AWS::Lambda::Function", "VpnUsersHandlerFunction")
    (output,) = [
        v for k, v in template.find_outputs("*").items() if k.startswith("VpnUsersFunctionName")
    ]
    assert output["Value"] == {"Ref": users_function}


def test_the_users_role_ends_sessions_on_this_endpoint_only(pki: Any) -> None:
    _, _, template = pki
    role = logical_id(template, "AWS::IAM::Role", "VpnUsersHandlerRole")
    endpoint = logical_id(template, "AWS::EC2::ClientVpnEndpoint", "VpnEndpoint")
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"].get("Roles") == [{"Ref": role}]
    ]
    (statement,) = [
        s for s in policy["Statement"] if "ec2:TerminateClientVpnConnections" in s["Action"]
    ]
    assert "ec2:DescribeClientVpnConnections" in statement["Action"]
    resource = statement["Resource"]["Fn::Join"][1]
    assert resource[-1] == {"Ref": endpoint}
    assert ":client-vpn-endpoint/" in resource[-2]


def test_grant_revoke_needs_the_generated_pki() -> None:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Given")
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=ec2.Vpc(stack, "Vpc", max_azs=2),
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER,
        config_export=False,
        user_based_authentication=ec2.ClientVpnUserBasedAuthentication.federated(
            iam.SamlProvider.from_saml_provider_arn(
                stack, "Idp", "arn:aws:iam::111111111111:saml-provider/idp"
            )
        ),
    )
    role = iam.Role(stack, "Oncall", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ClientVpnConfigError, match=r"Given/Vpn: grant_revoke: .*generated PKI"):
        vpn.grant_revoke(role)
