"""``ec2.Vpc.from_lookup``: the first synthesis (no context) and the one after the lookup.

Before the CDK CLI has looked the VPC up, ``from_lookup`` returns a placeholder VPC
(``vpc-12345``, CIDR ``1.2.3.4/5``) and records the lookup as missing context; the CLI runs
the lookup only if that synthesis succeeds. ``ClientVpn`` must not refuse the placeholder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Annotations, Match, Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError, Route

ENV = Environment(account="111111111111", region="eu-west-1")
VPC_ID = "vpc-0123456789abcdef0"
#: The context key the CDK records for this lookup (what ``cdk.context.json`` holds after it).
LOOKUP_KEY = (
    f"vpc-provider:account=111111111111:filter.vpc-id={VPC_ID}:region=eu-west-1"
    ":returnAsymmetricSubnets=true"
)


def _subnet(kind: str, az: str, n: int) -> dict[str, str]:
    code = {"Public": "a", "Private": "b"}[kind]  # ids in AWS's format (17 hex digits)
    return {
        "subnetId": f"subnet-{code}{n:016x}",
        "cidr": f"10.0.{n}.0/24",
        "availabilityZone": az,
        "routeTableId": f"rtb-{code}{n:016x}",
    }


#: What the vpc-provider answers (``cdk.context.json`` after ``cdk synth`` with credentials).
LOOKUP_RESULT: dict[str, Any] = {
    "vpcId": VPC_ID,
    "vpcCidrBlock": "10.0.0.0/16",
    "ownerAccountId": "111111111111",
    "availabilityZones": [],
    "subnetGroups": [
        {
            "name": "Public",
            "type": "Public",
            "subnets": [_subnet("Public", "eu-west-1a", 0), _subnet("Public", "eu-west-1b", 1)],
        },
        {
            "name": "Private",
            "type": "Private",
            "subnets": [_subnet("Private", "eu-west-1a", 2), _subnet("Private", "eu-west-1b", 3)],
        },
    ],
}


#: The private subnets of the lookup result: the default target networks.
PRIVATE_SUBNET_IDS = ["subnet-b0000000000000002", "subnet-b0000000000000003"]


def looked_up_app(context: dict[str, Any] | None = None, **props: Any) -> tuple[App, ClientVpn]:
    """A user's app: a VPC from the lookup and a ClientVpn with a rule to its CIDR."""
    app = App(context={"cvpn:skipBundling": True, **(context or {})})
    stack = Stack(app, "Vpn", env=ENV)
    vpc = ec2.Vpc.from_lookup(stack, "Vpc", vpc_id=VPC_ID)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr=props.pop("cidr", "10.100.0.0/22"),
        authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
        routes=props.pop("routes", [Route(cidr="172.16.0.0/16")]),
        **props,
    )
    return app, vpn


def test_without_context_the_app_synthesizes_with_the_missing_lookup() -> None:
    app, vpn = looked_up_app(internet_access=True)
    assembly = app.synth()  # no ClientVpnConfigError for the placeholder's 1.2.3.4/5
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    missing = manifest["missing"]
    assert [(m["provider"], m["key"]) for m in missing] == [("vpc-provider", LOOKUP_KEY)]
    assert missing[0]["props"]["filter"] == {"vpc-id": VPC_ID}
    Annotations.from_stack(Stack.of(vpn)).has_info(
        "/Vpn/Vpn", Match.string_like_regexp("Vpc.from_lookup's placeholder")
    )


def test_with_the_lookup_pinned_the_same_app_validates() -> None:
    app, vpn = looked_up_app({LOOKUP_KEY: LOOKUP_RESULT})
    assembly = app.synth()
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    assert "missing" not in manifest
    template = Template.from_stack(Stack.of(vpn))
    template.has_resource_properties(
        "AWS::EC2::ClientVpnAuthorizationRule", {"TargetNetworkCidr": "10.0.0.0/16"}
    )
    subnets = sorted(
        r["Properties"]["SubnetId"]
        for r in template.find_resources("AWS::EC2::ClientVpnTargetNetworkAssociation").values()
    )
    assert subnets == PRIVATE_SUBNET_IDS
    # No placeholder note any more; the only info left is the monthly cost every synth shows.
    infos = Annotations.from_stack(Stack.of(vpn)).find_info("*", Match.any_value())
    assert [str(i.entry.data).split(":")[0] for i in infos] == ["monthly fixed cost"]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cidr": "10.0.0.0/22"}, "overlaps VPC CIDR 10.0.0.0/16"),
        ({"cidr": "10.100.0.0/24"}, "is a /24"),
    ],
)
def test_with_the_lookup_pinned_a_bad_client_cidr_is_refused(
    props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientVpnConfigError, match=message):
        looked_up_app({LOOKUP_KEY: LOOKUP_RESULT}, **props)


def test_a_route_to_the_looked_up_vpc_cidr_is_refused() -> None:
    app = App(context={LOOKUP_KEY: LOOKUP_RESULT})
    stack = Stack(app, "Vpn", env=ENV)
    vpc = ec2.Vpc.from_lookup(stack, "Vpc", vpc_id=VPC_ID)
    with pytest.raises(ClientVpnConfigError, match="is the VPC's own CIDR"):
        ClientVpn(
            stack,
            "Vpn",
            vpc=vpc,
            cidr="10.100.0.0/22",
            config_export=False,
            server_certificate_arn=SERVER_ARN,
            client_certificate_arn=CLIENT_ARN,
            routes=[Route(cidr="10.0.0.0/16")],
        )


SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"


def test_without_context_a_bad_destination_is_still_refused() -> None:
    # Only the placeholder's own CIDR goes unchecked while the lookup is missing: any other
    # destination is the user's own value and checked as always.
    with pytest.raises(ClientVpnConfigError, match=r"^Vpn/Vpn: routes: '10\.0\.0\.0/33'"):
        looked_up_app(routes=[Route(cidr="10.0.0.0/33")])


@pytest.mark.parametrize("context", [{}, {LOOKUP_KEY: LOOKUP_RESULT}])
def test_the_placeholders_cidr_is_given_the_benefit_of_the_doubt(context: dict[str, Any]) -> None:
    # The rule to the VPC's CIDR covers the route once the lookup is in (10.0.0.0/16); before
    # it, the placeholder's 1.2.3.4/5 stands for a CIDR not known yet: no routeNotAuthorized
    # warning either time (a warning that goes away after the lookup would be noise).
    app, vpn = looked_up_app(context, routes=[Route(cidr="10.0.128.0/17")])
    app.synth()
    warnings = Annotations.from_stack(Stack.of(vpn)).find_warning("*", Match.any_value())
    assert not [w for w in warnings if "routeNotAuthorized" in str(w.entry.data)]
