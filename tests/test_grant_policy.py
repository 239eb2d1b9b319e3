"""The customer-managed policy a Role's, User's or Group's read grant lands in
(``grants.py``): one per principal, holding exactly the grant, within IAM's limits."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from constructs import Construct

from constructs_cvpn import ClientVpn

#: IAM's limit on a policy's description (CreatePolicy: Description, at most 1,000 characters).
IAM_DESCRIPTION_MAX = 1000


def _managed_policies(stack: Stack) -> dict[str, dict[str, Any]]:
    found = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    return {k: v["Properties"] for k, v in found.items()}


def _vpn(scope: Construct) -> ClientVpn:
    stack = Stack.of(scope)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    return ClientVpn(scope, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice", "bob"])


def test_a_roles_grants_land_in_one_managed_policy_attached_to_it() -> None:
    stack = Stack(App(context={"cvpn:skipBundling": True}), "Grants")
    vpn = _vpn(stack)
    role = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    for user in ("alice", "bob"):
        assert vpn.grant_read_user_config(user, role).success
    (policy,) = _managed_policies(stack).values()
    assert policy["Roles"] == [{"Ref": stack.get_logical_id(role.node.default_child)}]  # type: ignore[arg-type]
    actions = [s["Action"] for s in policy["PolicyDocument"]["Statement"]]
    assert sorted(actions) == ["kms:Decrypt"] * 2 + ["s3:GetObject"] * 2
    assert policy["Description"] == "Read client configurations of Client VPN Grants/Vpn"


def test_a_description_past_iams_limit_keeps_the_paths_end() -> None:
    stack = Stack(App(context={"cvpn:skipBundling": True}), "Long")
    deep = Construct(stack, "d" * 990)  # a construct path past what IAM takes
    vpn = _vpn(deep)
    vpn.grant_read_user_config("alice", iam.User(stack, "Reader"))
    (policy,) = _managed_policies(stack).values()
    whole = f"Read client configurations of Client VPN Long/{'d' * 990}/Vpn"
    assert len(whole) > IAM_DESCRIPTION_MAX
    # The path loses its start, not its end: "...", then as much of its end as fits.
    start = "Read client configurations of Client VPN ..."
    assert policy["Description"] == start + whole[len(start) - IAM_DESCRIPTION_MAX :]
    assert len(policy["Description"]) == IAM_DESCRIPTION_MAX
