"""Edge cases of the rules' helpers and checks, on hand-written templates.

ClientVpn-AuthorizeAllGroups: the README and the rule's docstring say a rule is non-compliant
when it grants all groups access to a VPC's CIDR, written as ``Fn::GetAtt [<VPC>, CidrBlock]``.
CloudFormation accepts ``Fn::GetAtt`` as a list ``[LogicalId, Attr]`` or as the string
``"LogicalId.Attr"``; both name the same attribute. Other attributes of the VPC
(``DefaultSecurityGroup``...), the ``CidrBlock`` of something that is not a VPC (a subnet), a
``Ref`` (the VPC id, not a CIDR) and malformed values are not a VPC CIDR.

ClientVpn-SecurityGroupOpenIngress: only an ingress object whose ``CidrIp`` is 0.0.0.0/0 or whose
``CidrIpv6`` is ::/0 is open (AWS::EC2::SecurityGroup Ingress property); an entry that is not an
object admits nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from cdk_nag import NagRuleCompliance

from constructs_cvpn.nag.rules import authorize_all_groups, security_group_ingress
from constructs_cvpn.nag.template import Template

SAML = "arn:aws:iam::123456789012:saml-provider/idp"


def all_groups_template(target: Any, **extra: Any) -> Template:
    """A SAML endpoint, its VPC (10.0.0.0/16), a subnet and one all-groups rule to ``target``."""
    resources: dict[str, Any] = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Subnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"},
        },
        "Endpoint": {
            "Type": "AWS::EC2::ClientVpnEndpoint",
            "Properties": {
                "AuthenticationOptions": [
                    {
                        "Type": "federated-authentication",
                        "FederatedAuthentication": {"SAMLProviderArn": SAML},
                    }
                ],
                "VpcId": {"Ref": "Vpc"},
            },
        },
        "Rule": {
            "Type": "AWS::EC2::ClientVpnAuthorizationRule",
            "Properties": {
                "ClientVpnEndpointId": {"Ref": "Endpoint"},
                "AuthorizeAllGroups": True,
                "TargetNetworkCidr": target,
            },
        },
        **extra,
    }
    return Template({"Parameters": {"Cidr": {"Type": "String"}}, "Resources": resources})


def verdict(target: Any) -> NagRuleCompliance:
    template = all_groups_template(target)
    return authorize_all_groups.check(template["Rule"], template)


@pytest.mark.parametrize(
    "target",
    [
        {"Fn::GetAtt": ["Vpc", "CidrBlock"]},
        {"Fn::GetAtt": "Vpc.CidrBlock"},  # short string form, same attribute
        "10.0.0.0/16",  # the literal value of that attribute
    ],
)
def test_all_groups_to_the_vpc_cidr_is_non_compliant(target: Any) -> None:
    assert authorize_all_groups._is_vpc_cidr(target, all_groups_template(target)) is True
    assert verdict(target) == NagRuleCompliance.NON_COMPLIANT


@pytest.mark.parametrize(
    "target",
    [
        {"Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]},  # another attribute of the VPC
        {"Fn::GetAtt": "Vpc.DefaultSecurityGroup"},
        {"Fn::GetAtt": "Vpc.CidrBlockAssociations"},
        {"Fn::GetAtt": ["Subnet", "CidrBlock"]},  # a CidrBlock, but of a subnet
        {"Fn::GetAtt": "Subnet.CidrBlock"},
        {"Fn::GetAtt": ["Missing", "CidrBlock"]},  # not a resource of the template
        {"Fn::GetAtt": "Cidr.CidrBlock"},  # a parameter
        {"Fn::GetAtt": ["Vpc"]},  # malformed: no attribute
        {"Fn::GetAtt": "Vpc"},  # malformed string form: no attribute
        {"Fn::GetAtt": "Vpc."},
        {"Fn::GetAtt": []},
        {"Ref": "Vpc"},  # the VPC id, not a CIDR
        {"Ref": "Cidr"},  # a parameter: not known at synth time
        {"Fn::Select": [0, {"Fn::GetAtt": ["Vpc", "CidrBlockAssociations"]}]},
        "10.0.1.0/24",  # a literal that is not a VPC CIDR
        None,  # no target at all
        7,
        ["10.0.0.0/16"],
    ],
)
def test_anything_but_the_vpc_cidr_is_not_a_vpc_cidr(target: Any) -> None:
    assert authorize_all_groups._is_vpc_cidr(target, all_groups_template(target)) is False
    assert verdict(target) == NagRuleCompliance.COMPLIANT


@pytest.mark.parametrize("entry", [None, "0.0.0.0/0", "::/0", ["0.0.0.0/0"], 0])
def test_an_ingress_entry_that_is_not_an_object_is_not_open(entry: Any) -> None:
    assert security_group_ingress._is_open(entry) is False


def test_a_group_whose_only_ingress_entry_is_not_an_object_is_compliant() -> None:
    template = Template(
        {
            "Resources": {
                "Sg": {
                    "Type": "AWS::EC2::SecurityGroup",
                    "Properties": {"GroupDescription": "endpoint", "SecurityGroupIngress": [None]},
                },
                "Endpoint": {
                    "Type": "AWS::EC2::ClientVpnEndpoint",
                    "Properties": {"SecurityGroupIds": [{"Fn::GetAtt": "Sg.GroupId"}]},
                },
            }
        }
    )
    assert (
        security_group_ingress.check(template["Endpoint"], template) == NagRuleCompliance.COMPLIANT
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"}, True),
        ({"CidrIpv6": "::/0", "IpProtocol": "-1"}, True),
        ({"CidrIp": "10.0.0.0/16", "IpProtocol": "-1"}, False),
        ({"SourceSecurityGroupId": "sg-1", "IpProtocol": "-1"}, False),
    ],
)
def test_an_ingress_object_is_open_only_to_the_whole_internet(
    entry: dict[str, Any], expected: bool
) -> None:
    assert security_group_ingress._is_open(entry) is expected
