"""Template tests of the config export and the generated-PKI resources of ClientVpn."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError

SERVER = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SECRET = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:cvpn/client-AbCdEf"


def _ref(stack: Stack, construct: Any) -> str:
    return str(stack.resolve(stack.get_logical_id(construct.node.default_child)))


@pytest.fixture(scope="module")
def mutual() -> tuple[Stack, ClientVpn, Template]:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Export")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=vpc,
        cidr="10.100.0.0/22",
        server_certificate_arn=SERVER,
        client_certificate_arn=CLIENT,
        client_credentials_secret=secretsmanager.Secret.from_secret_complete_arn(
            stack, "Credentials", SECRET
        ),
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
        config_version="2",
    )
    vpn.grant_read_config(iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal()))
    return stack, vpn, Template.from_stack(stack)


def test_bucket_is_locked_down(mutual: tuple[Stack, ClientVpn, Template]) -> None:
    stack, vpn, template = mutual
    bucket_id = _ref(stack, vpn.config_bucket)
    bucket = template.to_json()["Resources"][bucket_id]
    assert bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["BucketKeyEnabled"] is True
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [_ref(stack, vpn.encryption_key), "Arn"]
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "config-bucket/"
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_custom_resource_properties_and_timeout(
    mutual: tuple[Stack, ClientVpn, Template],
) -> None:
    stack, vpn, template = mutual
    endpoint = _ref(stack, vpn.endpoint)
    (resource,) = template.find_resources("Custom::ClientVpnConfigExport").values()
    props = resource["Properties"]
    assert props["ServiceTimeout"] == "300"
    assert props["EndpointId"] == {"Ref": endpoint}
    assert props["Key"] == {"Fn::Join": ["", ["client-config/", {"Ref": endpoint}, "/client.ovpn"]]}
    assert props["CredentialsSecretArn"] == SECRET
    assert props["ConfigVersion"] == "2"
    assert props["Port"] == "443"
    assert props["TransportProtocol"] == "udp"
    assert props["ServerCertificateArn"] == SERVER
    associations = template.find_resources("AWS::EC2::ClientVpnTargetNetworkAssociation")
    assert len(associations) == 2
    assert set(associations) <= set(resource["DependsOn"])
    assert "PRIVATE KEY" not in json.dumps(template.to_json())


def test_handler_policy_names_single_arns(mutual: tuple[Stack, ClientVpn, Template]) -> None:
    stack, vpn, template = mutual
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp("ConfigExport")}}
    )
    handler = [
        p for p in policies.values() if "framework" not in json.dumps(p["Properties"]["Roles"])
    ]
    (policy,) = handler
    statements = {
        json.dumps(sorted(s["Action"]) if isinstance(s["Action"], list) else s["Action"]): s[
            "Resource"
        ]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    endpoint = _ref(stack, vpn.endpoint)
    export = statements['"ec2:ExportClientVpnClientConfiguration"']
    assert export["Fn::Join"][1][-2:] == [":client-vpn-endpoint/", {"Ref": endpoint}]
    objects = statements['["s3:DeleteObject", "s3:PutObject"]']
    assert objects["Fn::Join"][1][-1] == "/client.ovpn"
    assert statements['["kms:Decrypt", "kms:GenerateDataKey"]'] == {
        "Fn::GetAtt": [_ref(stack, vpn.encryption_key), "Arn"]
    }
    assert (
        statements['["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]'] == SECRET
    )
    assert "*" not in json.dumps({k: v for k, v in statements.items() if "logs:" not in k})


def test_function_runtime_and_limits(mutual: tuple[Stack, ClientVpn, Template]) -> None:
    _, _, template = mutual
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handlers.export_config.index.on_event",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Timeout": 120,
            "MemorySize": 256,
        },
    )


def test_outputs_and_grant(mutual: tuple[Stack, ClientVpn, Template]) -> None:
    _, _, template = mutual
    outputs = template.to_json()["Outputs"]
    names = {key[:-8] for key in outputs}
    assert {
        "VpnConfigBucketName",
        "VpnConfigKey",
        "VpnConfigS3Uri",
        "VpnConfigDownloadCommand",
    } <= names
    command = next(v for k, v in outputs.items() if k.startswith("VpnConfigDownloadCommand"))
    assert command["Value"]["Fn::Join"][1][0] == "aws s3 cp s3://"
    reader = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp("Reader")}}
    )
    (policy,) = reader.values()
    actions = json.dumps(policy["Properties"]["PolicyDocument"])
    assert "s3:GetObject" in actions
    assert "kms:Decrypt" in actions
    assert "s3:PutObject" not in actions


def test_generated_pki_resources() -> None:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Pki")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    vpn = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    vpn.add_user("bob")
    vpn.grant_read_user_config("bob", iam.Role(stack, "Bob", assumed_by=iam.AccountRootPrincipal()))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::ClientVpnUsers", {"Users": ["alice", "bob"], "ServiceTimeout": "1200"}
    )
    template.resource_count_is("Custom::ClientVpnConfigExport", 0)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "handlers.pki.index.on_event", "Timeout": 900, "MemorySize": 1769},
    )
    assert vpn.user_config_key("bob").endswith("users/bob.ovpn")
    with pytest.raises(ClientVpnConfigError, match="Pki/Vpn: users: duplicate user 'bob'"):
        vpn.add_user("bob")
    with pytest.raises(ClientVpnConfigError, match="not a safe user name"):
        vpn.add_user("../etc")
