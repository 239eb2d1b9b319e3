"""The example app as CI sees it: cdk-nag, cfn-lint and snapshots of both stacks."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint

from constructs_cvpn.cli.discovery import parse_outputs
from constructs_cvpn.testing import stable_template
from stacks.example_app import build_app
from stacks.report import ANNOTATIONS_PLUGIN, FULL_LIST, summary
from tests.graph import ancestors_of, longest_chain, max_concurrent

ROOT = Path(__file__).resolve().parent.parent
STACKS = (
    "CvpnMutualFullTunnel",
    "CvpnSamlSplitTunnel",
    "CvpnGeneratedPki",
    "CvpnDualStackTransitGateway",
    "CvpnOfficeHours",
)
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
NAG_PACKS = ("AwsSolutions", "NIST.800.53.R5", "ClientVpn")


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthesize the example app once (without the cryptography wheels: see test_bundling)."""
    out = tmp_path_factory.mktemp("cdk.out")
    app = App(outdir=str(out), context={**CONTEXT, "cvpn:skipBundling": True})
    build_app(app)
    app.synth()  # raises on any unacknowledged cdk-nag error
    return out


def _template(outdir: Path, name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((outdir / f"{name}.template.json").read_text())
    return body


def test_cdk_nag_reports_no_unacknowledged_finding(outdir: Path) -> None:
    report = json.loads((outdir / "validation-report.json").read_text())
    violations = [
        v
        for r in report["pluginReports"]
        if r["pluginName"] != ANNOTATIONS_PLUGIN  # construct warnings (cdk.json flag)
        for v in r.get("violations", [])
    ]
    assert violations == []


def test_the_only_construct_warning_is_the_skipped_bundling_of_this_test(outdir: Path) -> None:
    """Annotations land in the validation report (@aws-cdk/core:annotationsInValidationReport)."""
    report = json.loads((outdir / "validation-report.json").read_text())
    [annotations] = [r for r in report["pluginReports"] if r["pluginName"] == ANNOTATIONS_PLUGIN]
    assert {v["ruleName"] for v in annotations["violations"]} == {
        "Annotation::constructs-cvpn:bundlingSkipped"
    }


#: Where cdk.json differs from ``cdk init``, and why.
FLAG_DEVIATIONS: dict[str, Any] = {
    # cdk init: "weak" (Fn::GetStackOutput). The example app has no cross-stack reference;
    # the cross-stack grant tests (tests/nag/test_grants.py) borrow this context and pin
    # Fn::ImportValue exports, so the flag stays configured at the CDK's default.
    "@aws-cdk/core:defaultCrossStackReferences": "strong",
}


def test_cdk_json_sets_the_flags_of_a_new_cdk_init_app() -> None:
    """Every flag ``cdk init`` writes for the installed aws-cdk-lib, with its value."""
    [assembly] = Path(aws_cdk.__file__).parent.glob("_jsii/aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(assembly) as tar:
        member = tar.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        recommended = json.load(member)
    flags = {k: v for k, v in CONTEXT.items() if not k.startswith("cvpn:")}
    assert flags == {**recommended, **FLAG_DEVIATIONS}
    assert set(FLAG_DEVIATIONS) <= set(recommended)


def test_make_synth_prints_a_summary_and_writes_the_full_list(outdir: Path) -> None:
    lines = summary(outdir)
    assert len(lines) < 40
    [nag] = [line for line in lines if line.startswith("cdk-nag ")]
    assert nag.startswith(
        "cdk-nag (AwsSolutions, NIST.800.53.R5, ClientVpn): 0 unacknowledged findings,"
    )
    assert f"{outdir / FULL_LIST}" in nag
    # 2 per stack with a shared export (flow logs, export function), 3 with the generated
    # PKI (flow logs, two functions), 4 with the office hours (flow logs, export function,
    # reconciler, scheduler role): 2 + 2 + 3 + 3 + 4.
    assert "   14  NIST.800.53.R5-IAMNoInlinePolicy" in lines
    full = (outdir / FULL_LIST).read_text().splitlines()
    acknowledged = re.search(r"(\d+) acknowledged", nag)
    assert acknowledged is not None
    assert len(full) == int(acknowledged.group(1))
    assert all(" on /Cvpn" in line and ": " in line for line in full)


def test_make_synth_states_each_vpns_association_hours_and_their_price(outdir: Path) -> None:
    """Each example VPN is associated in two AZs: 2 x 730 h at $0.10 (us-east-1 list price);
    the office-hours one on weekdays 07:00-20:00 only: 5 x 13 = 65 of 168 hours a week, so
    2 x 65 x 730 / 168 = 564.9 association-hours a month ($56.49), 61 % fewer."""
    lines = summary(outdir)
    start = lines.index(next(line for line in lines if line.startswith("Client VPN association")))
    assert "$0.10 per association-hour" in lines[start]
    assert "read 2026-11-26" in lines[start]
    per_vpn = lines[start + 1 : start + 1 + len(STACKS)]
    assert per_vpn == [
        "  /CvpnOfficeHours/Vpn/Endpoint: 2 associations scheduled MON-FRI 07:00-20:00 "
        "Europe/Berlin: 65 of 168 h a week = 565 association-hours/month = $56.49/month "
        "(24/7: 1,460 = $146.00; 61 % fewer)"
        if name == "CvpnOfficeHours"
        else f"  /{name}/Vpn/Endpoint: 2 associations x 730 h = 1,460 "
        "association-hours/month = $146.00/month"
        for name in sorted(STACKS)
    ]


def test_every_acknowledgement_names_one_finding_with_a_reason(outdir: Path) -> None:
    acknowledged = []
    for name in STACKS:
        metadata = json.loads((outdir / f"{name}.metadata.json").read_text())
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    acknowledged += [
                        (path, rule, reason)
                        for rule, reason in entry["data"].items()
                        if any(pack in rule for pack in NAG_PACKS)
                    ]
    assert len(acknowledged) >= 10
    for path, rule, reason in acknowledged:
        assert "*" not in rule.split("[")[0], (path, rule)
        assert len(reason) >= 40, (path, rule, reason)


@pytest.mark.parametrize("name", STACKS)
def test_cfn_lint_finds_no_error(outdir: Path, name: str) -> None:
    text = (outdir / f"{name}.template.json").read_text()
    matches = lint(text, config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


@pytest.mark.parametrize("name", STACKS)
def test_snapshot(outdir: Path, name: str, snapshot: Any) -> None:
    assert stable_template(_template(outdir, name)) == snapshot


#: Control Tower CT.KMS.PR.3, in the shape its cfn-guard rule requires (BoolIfExists on
#: both keys, "false" as strings, Deny kms:CreateGrant to every principal on "*").
CT_KMS_PR_3 = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:CreateGrant",
    "Resource": "*",
    "Condition": {
        "BoolIfExists": {
            "kms:GrantIsForAWSResource": "false",
            "aws:PrincipalIsAWSService": "false",
        }
    },
}


@pytest.mark.parametrize("name", STACKS)
def test_every_key_denies_grants_that_are_not_for_aws_resources(outdir: Path, name: str) -> None:
    keys = {
        logical: r["Properties"]["KeyPolicy"]["Statement"]
        for logical, r in _template(outdir, name)["Resources"].items()
        if r["Type"] == "AWS::KMS::Key"
    }
    assert keys
    for logical, statements in keys.items():
        denies = [
            {k: v for k, v in s.items() if k != "Sid"} for s in statements if s["Effect"] == "Deny"
        ]
        assert denies == [CT_KMS_PR_3], logical


def test_the_generated_pki_has_two_keys_and_only_the_config_key_lets_the_account_use_it(
    outdir: Path,
) -> None:
    resources = _template(outdir, "CvpnGeneratedPki")["Resources"]
    uses = {
        logical: sorted(
            json.dumps(s["Action"])
            for s in r["Properties"]["KeyPolicy"]["Statement"]
            if s["Effect"] == "Allow" and "root" in json.dumps(s["Principal"])
        )
        for logical, r in resources.items()
        if r["Type"] == "AWS::KMS::Key"
    }
    assert sorted(uses) == [
        "FlowLogsKey895A70D5",  # the example VPC's
        "VpnCertificateAuthorityCaKey7B88442A",
        "VpnKey98BB9EAA",
    ]
    assert uses["VpnKey98BB9EAA"] == ['"kms:*"']  # the CDK's default for a key it creates
    ca = json.loads(uses["VpnCertificateAuthorityCaKey7B88442A"][0])
    for forbidden in (
        "kms:*",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:CreateGrant",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ):
        assert forbidden not in ca


#: Properties that name a resource physically (a second resource of that name cannot exist).
NAME_PROPERTIES = ("LogGroupName", "BucketName", "Name", "AliasName", "TopicName", "QueueName")


@pytest.mark.parametrize("name", STACKS)
def test_no_retained_resource_has_a_fixed_name(outdir: Path, name: str) -> None:
    """Destroy then deploy: a retained resource stays behind, so its name must not come back.

    Each retained resource either has no name (CloudFormation generates one) or a name
    that contains the stack id, which is new for every stack instance.
    """
    resources = _template(outdir, name)["Resources"]
    retained = {
        logical: r
        for logical, r in resources.items()
        if "Retain" in (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy"))
    }
    assert retained  # keys, buckets and log groups are retained
    named = {
        logical: r["Properties"][prop]
        for logical, r in retained.items()
        for prop in NAME_PROPERTIES
        if prop in r.get("Properties", {})
    }
    fixed = {logical: value for logical, value in named.items() if isinstance(value, str)}
    assert fixed == {}
    for logical, value in named.items():
        assert {"Ref": "AWS::StackId"} in _leaves(value), logical


def _leaves(value: Any) -> list[Any]:
    """Every dict without nested containers, and every string, inside ``value``."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        nested = [v for v in value.values() if isinstance(v, (dict, list))]
        if not nested:
            return [value]
        return [leaf for v in nested for leaf in _leaves(v)]
    return [value]


def test_generated_pki_stack_has_three_log_groups_named_per_stack_instance(outdir: Path) -> None:
    groups = [
        r
        for r in _template(outdir, "CvpnGeneratedPki")["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" in r["Properties"]
    ]
    # connection logs, the CA function's and the users function's (no framework functions)
    assert len(groups) == 3


def test_mutual_stack_is_full_tunnel_with_internet_access(outdir: Path) -> None:
    template = Template.from_json(_template(outdir, "CvpnMutualFullTunnel"))
    template.has_resource_properties(
        "AWS::EC2::ClientVpnEndpoint",
        {
            "SplitTunnel": False,
            "AuthenticationOptions": [
                {"Type": "certificate-authentication", "MutualAuthentication": Match.any_value()}
            ],
            "ServerCertificateArn": CONTEXT["cvpn:serverCertificateArn"],
        },
    )
    routes = template.find_resources(
        "AWS::EC2::ClientVpnRoute", {"Properties": {"DestinationCidrBlock": "0.0.0.0/0"}}
    )
    assert len(routes) == 2  # one per associated subnet (two AZs)
    template.has_resource_properties(
        "Custom::ClientVpnConfigExport",
        {"CredentialsSecretArn": CONTEXT["cvpn:clientCredentialsSecretArn"]},
    )


def test_saml_stack_uses_groups_portal_and_split_tunnel(outdir: Path) -> None:
    template = Template.from_json(_template(outdir, "CvpnSamlSplitTunnel"))
    template.has_resource_properties(
        "AWS::EC2::ClientVpnEndpoint",
        {
            "SplitTunnel": True,
            "SelfServicePortal": "enabled",
            "TransportProtocol": "tcp",
            "AuthenticationOptions": [
                {
                    "Type": "federated-authentication",
                    "FederatedAuthentication": {
                        "SAMLProviderArn": CONTEXT["cvpn:samlProviderArn"],
                        "SelfServiceSAMLProviderArn": CONTEXT["cvpn:selfServiceSamlProviderArn"],
                    },
                }
            ],
        },
    )
    rules = template.find_resources("AWS::EC2::ClientVpnAuthorizationRule")
    groups = sorted(r["Properties"].get("AccessGroupId", "*") for r in rules.values())
    assert groups == ["engineering", "ops", "ops"]
    assert all(r["Properties"].get("AuthorizeAllGroups") is not True for r in rules.values())


def test_context_overrides_the_placeholder_arns() -> None:
    arn = "arn:aws:acm:us-east-1:222222222222:certificate/11111111-2222-4333-8444-555555555555"
    app = App(context={**CONTEXT, "cvpn:skipBundling": True, "cvpn:serverCertificateArn": arn})
    build_app(app)
    stack = app.node.find_child("CvpnSamlSplitTunnel")
    assert isinstance(stack, Stack)
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::ClientVpnEndpoint", {"ServerCertificateArn": arn}
    )


@pytest.mark.parametrize(
    ("name", "shared", "per_user"),
    [
        ("CvpnMutualFullTunnel", True, False),
        ("CvpnSamlSplitTunnel", True, False),
        ("CvpnGeneratedPki", False, True),
    ],
)
def test_outputs_follow_the_cvpn_discovery_contract(
    outdir: Path, name: str, shared: bool, per_user: bool
) -> None:
    """`cvpn` finds the endpoint and the config location from these outputs."""
    outputs = [
        {"OutputKey": key, "OutputValue": f"value-of-{key}"}
        for key in _template(outdir, name)["Outputs"]
    ]
    vpns = parse_outputs(name, outputs)  # type: ignore[arg-type]
    assert list(vpns) == ["Vpn"]
    vpn = vpns["Vpn"]
    assert vpn.endpoint_id.startswith("value-of-VpnEndpointId")
    assert vpn.config_bucket is not None
    assert (vpn.config_key is not None) is shared
    assert (vpn.user_config_prefix is not None) is per_user


def test_generated_pki_stack_issues_three_users(outdir: Path) -> None:
    template = Template.from_json(_template(outdir, "CvpnGeneratedPki"))
    template.has_resource_properties(
        "Custom::ClientVpnUsers", {"Kind": "Users", "Users": ["alice", "bob", "carol"]}
    )
    authority = template.find_resources("Custom::ClientVpnCertificateAuthority")
    assert len(authority) == 1
    (authority_id,) = authority
    template.has_resource_properties(
        "AWS::EC2::ClientVpnEndpoint",
        {
            "ServerCertificateArn": {"Fn::GetAtt": [authority_id, "ServerCertificateArn"]},
            "AuthenticationOptions": [
                {
                    "Type": "certificate-authentication",
                    "MutualAuthentication": {
                        "ClientRootCertificateChainArn": {
                            "Fn::GetAtt": [authority_id, "ClientRootCertificateArn"]
                        }
                    },
                }
            ],
        },
    )
    text = json.dumps(_template(outdir, "CvpnGeneratedPki"))
    assert "PRIVATE KEY" not in text


RULE = "AWS::EC2::ClientVpnAuthorizationRule"
ROUTE = "AWS::EC2::ClientVpnRoute"
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"


@pytest.mark.parametrize("name", STACKS)
def test_endpoint_changes_stay_within_the_concurrency_limit(outdir: Path, name: str) -> None:
    """From the template alone: what CloudFormation could run at once on the endpoint."""
    resources = _template(outdir, name)["Resources"]
    rules_and_routes = max_concurrent(resources, {RULE, ROUTE})
    everything = max_concurrent(resources, {RULE, ROUTE, ASSOCIATION})
    chain = longest_chain(resources, {RULE, ROUTE, ASSOCIATION})
    print(f"{name}: at most {everything} endpoint changes at once, longest chain {chain}")
    # Client VPN runs at most 10 operations on an endpoint at once (quota, not adjustable);
    # the construct plans for 6 associations (AZs), leaving 4 lanes for rules and routes.
    # Written here, not imported: a lower limit in the code, or one lane, would pass too.
    assert rules_and_routes <= 10 - 6
    assert everything <= 10
    associations = {n for n, r in resources.items() if r["Type"] == ASSOCIATION}
    ancestors = ancestors_of(resources)
    for route, resource in resources.items():
        if resource["Type"] == ROUTE:
            assert associations <= ancestors[route], route


def test_the_transit_gateway_example(outdir: Path) -> None:
    """Attached to the stack's transit gateway in the region's first two AZs, no VPC."""
    resources = _template(outdir, "CvpnDualStackTransitGateway")["Resources"]

    def of(kind: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in resources.values() if r["Type"] == kind]

    [tgw_id] = [lid for lid, r in resources.items() if r["Type"] == "AWS::EC2::TransitGateway"]
    [endpoint] = of("AWS::EC2::ClientVpnEndpoint")
    assert endpoint["TransitGatewayConfiguration"] == {"TransitGatewayId": {"Ref": tgw_id}}
    assert "VpcId" not in endpoint and "SecurityGroupIds" not in endpoint
    zones = sorted((a["AvailabilityZone"] for a in of(ASSOCIATION)), key=json.dumps)
    assert zones == [{"Fn::Select": [i, {"Fn::GetAZs": ""}]} for i in (0, 1)]
    # Dual-stack both ways (the EC2 API's value "dual-stack"), an IPv4 client block.
    assert endpoint["EndpointIpAddressType"] == endpoint["TrafficIpAddressType"] == "dual-stack"
    assert endpoint["ClientCidrBlock"] == "10.160.0.0/22"
    [vpc_id] = [lid for lid, r in resources.items() if r["Type"] == "AWS::EC2::VPC"]
    ipv6_block = {"Fn::Select": [0, {"Fn::GetAtt": [vpc_id, "Ipv6CidrBlocks"]}]}
    routes = of("AWS::EC2::ClientVpnRoute")
    assert [r["DestinationCidrBlock"] for r in routes] == [
        {"Fn::GetAtt": [vpc_id, "CidrBlock"]},
        ipv6_block,
    ]
    assert all("TargetVpcSubnetId" not in route for route in routes)
    rules = [r["TargetNetworkCidr"] for r in of("AWS::EC2::ClientVpnAuthorizationRule")]
    assert ipv6_block in rules
    ingress = [
        {k: rule.get(k) for k in ("CidrIp", "FromPort", "ToPort")}
        for group in of("AWS::EC2::SecurityGroup")
        for rule in group.get("SecurityGroupIngress", [])
    ]
    assert {"CidrIp": "10.160.0.0/22", "FromPort": 443, "ToPort": 443} in ingress
