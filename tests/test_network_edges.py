"""Security groups the app brings: the endpoint takes them all, the first is
``vpn.security_group``, and the construct adds no rule to any of them.

Oracles: the README's props table (``security_groups``: "bring your own"), ``ClientVpn``'s
``security_group`` attribute ("the first group given") and the EC2 API reference
(``SecurityGroupIds`` of the endpoint).
"""

from __future__ import annotations

from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from constructs_cvpn import AuthorizationRule, ClientVpn


def test_groups_the_app_brings_are_used_as_given() -> None:
    stack = Stack(App(context={"cvpn:skipBundling": True}), "Groups")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    first = ec2.SecurityGroup(stack, "First", vpc=vpc, allow_all_outbound=False)
    second = ec2.SecurityGroup(stack, "Second", vpc=vpc, allow_all_outbound=False)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        users=["alice"],
        security_groups=[first, second],
        authorization_rules=[AuthorizationRule(cidr="172.16.0.0/16", all_users=True)],
        internet_access=True,
    )
    assert vpn.security_group is first
    template = Template.from_stack(stack)
    (endpoint,) = template.find_resources("AWS::EC2::ClientVpnEndpoint").values()
    ids = [stack.get_logical_id(g.node.default_child) for g in (first, second)]  # type: ignore[arg-type]
    assert endpoint["Properties"]["SecurityGroupIds"] == [
        {"Fn::GetAtt": [i, "GroupId"]} for i in ids
    ]
    # no egress for the authorized destinations or the internet: the groups are the app's
    assert template.find_resources("AWS::EC2::SecurityGroupEgress") == {}
    for group in template.find_resources("AWS::EC2::SecurityGroup").values():
        egress = group["Properties"].get("SecurityGroupEgress", [])
        assert all(rule.get("CidrIp") == "255.255.255.255/32" for rule in egress), egress
