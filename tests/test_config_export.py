"""Template tests of the config export and the generated-PKI resources of ClientVpn."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from constructs_cvpn import AuthorizationRule, ClientVpn, ClientVpnConfigError
from constructs_cvpn.handler_function import HandlerFunction

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
    # Off: with a bucket key KMS sees the bucket's ARN as the encryption context, and a
    # grant could not be limited to one object.
    assert encryption["BucketKeyEnabled"] is False
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
    # Not under the endpoint id: a replaced endpoint's file is re-exported in place.
    assert props["Key"] == "client-config/ExportVpn1BD06FD6/client.ovpn"
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
    (policy,) = policies.values()
    statements = {
        json.dumps(sorted(s["Action"]) if isinstance(s["Action"], list) else s["Action"]): s[
            "Resource"
        ]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    endpoint = _ref(stack, vpn.endpoint)
    export = statements['"ec2:ExportClientVpnClientConfiguration"']
    assert export["Fn::Join"][1][-2:] == [":client-vpn-endpoint/", {"Ref": endpoint}]
    objects = statements['["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject"]']
    assert objects["Fn::Join"][1][-1] == "/client-config/ExportVpn1BD06FD6/client.ovpn"
    assert statements['"s3:ListBucketVersions"'] == {
        "Fn::GetAtt": [_ref(stack, vpn.config_bucket), "Arn"]
    }
    (listing,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "s3:ListBucketVersions"
    ]
    assert listing["Condition"] == {
        "StringEquals": {"s3:prefix": "client-config/ExportVpn1BD06FD6/client.ovpn"}
    }
    # Writing with SSE-KMS needs a data key only; the handler never reads the file back.
    assert statements['"kms:GenerateDataKey"'] == {
        "Fn::GetAtt": [_ref(stack, vpn.encryption_key), "Arn"]
    }
    assert "kms:Decrypt" not in json.dumps(policy)
    assert (
        statements['["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]'] == SECRET
    )
    assert "*" not in json.dumps({k: v for k, v in statements.items() if "logs:" not in k})


def test_function_runtime_and_limits(mutual: tuple[Stack, ClientVpn, Template]) -> None:
    _, _, template = mutual
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handlers.export_config.index.handler",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Timeout": 120,
            "MemorySize": 256,
        },
    )


def test_outputs_and_grant(mutual: tuple[Stack, ClientVpn, Template]) -> None:
    stack, vpn, template = mutual
    outputs = template.to_json()["Outputs"]
    names = {key[:-8] for key in outputs}
    assert {
        "VpnConfigBucketName",
        "VpnConfigKey",
        "VpnConfigS3Uri",
        "VpnConfigDownloadCommand",
    } <= names
    bucket = {"Ref": _ref(stack, vpn.config_bucket)}
    key = "client-config/ExportVpn1BD06FD6/client.ovpn"
    by_name = {k[:-8]: v["Value"] for k, v in outputs.items()}
    assert by_name["VpnConfigKey"] == key
    assert by_name["VpnConfigS3Uri"] == {"Fn::Join": ["", ["s3://", bucket, f"/{key}"]]}
    assert by_name["VpnConfigDownloadCommand"] == {
        "Fn::Join": ["", ["aws s3 cp s3://", bucket, f"/{key} ./client.ovpn"]]
    }
    assert vpn.config_object_key == key


def test_grant_read_config_reaches_the_one_file(
    mutual: tuple[Stack, ClientVpn, Template],
) -> None:
    stack, vpn, template = mutual
    object_arn = {
        "Fn::Join": [
            "",
            [
                {"Fn::GetAtt": [_ref(stack, vpn.config_bucket), "Arn"]},
                "/client-config/ExportVpn1BD06FD6/client.ovpn",
            ],
        ]
    }
    assert _grant_statements(template, "Reader") == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": object_arn},
        {
            "Action": "kms:Decrypt",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {
                        "Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                    },
                    "kms:EncryptionContext:aws:s3:arn": object_arn,
                }
            },
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_ref(stack, vpn.encryption_key), "Arn"]},
        },
    ]


def _grant_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """The statements of the one policy attached to the role ``role_id*`` (a grantee)."""
    (role,) = [
        logical
        for logical in template.find_resources("AWS::IAM::Role")
        if logical.startswith(role_id)
    ]
    inline = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert inline == []  # an inline policy is a cdk-nag finding (NIST IAMNoInlinePolicy)
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


# -- generated PKI ----------------------------------------------------------------------

STACK_UUID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


def pki_vpn(**props: Any) -> tuple[Stack, ClientVpn]:
    """A generated-PKI VPN in a stack "Pki" of its own App: ``Names.unique_id`` of the VPN
    (the S3 key segment) depends on the construct path only, as in a real app."""
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Pki")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    return stack, ClientVpn(stack, "Vpn", vpc=vpc, **{"cidr": "10.100.0.0/22", **props})


@pytest.fixture(scope="module")
def pki() -> tuple[Stack, ClientVpn, Template]:
    stack, vpn = pki_vpn(users=["alice"])
    vpn.add_user("bob")
    vpn.grant_read_user_config("bob", iam.Role(stack, "Bob", assumed_by=iam.AccountRootPrincipal()))
    return stack, vpn, Template.from_stack(stack)


def only(template: Template, type_: str) -> tuple[str, dict[str, Any]]:
    (item,) = template.find_resources(type_).items()
    return item


def test_generated_pki_resources(pki: tuple[Stack, ClientVpn, Template]) -> None:
    _, vpn, template = pki
    template.has_resource_properties(
        "Custom::ClientVpnUsers", {"Users": ["alice", "bob"], "ServiceTimeout": "840"}
    )
    template.resource_count_is("Custom::ClientVpnConfigExport", 0)
    assert vpn.user_config_key("bob") == "client-config/PkiVpn182244F3/users/bob.ovpn"
    with pytest.raises(ClientVpnConfigError, match="Pki/Vpn: users: duplicate user 'bob'"):
        vpn.add_user("bob")
    with pytest.raises(ClientVpnConfigError, match="not a safe user name"):
        vpn.add_user("../etc")


def test_the_handlers_answer_cloudformation_themselves(
    pki: tuple[Stack, ClientVpn, Template],
) -> None:
    """Two functions, no Provider framework: each custom resource's ServiceToken is its
    handler's ARN; no async retries (a late retry could act after a rollback); the
    resources' ServiceTimeout (14 min) outlives the handlers (10 and 12 min), which answer
    before their own timeout."""
    _, _, template = pki
    functions = template.find_resources("AWS::Lambda::Function")
    handlers = {
        (f["Properties"]["Handler"], f["Properties"]["Timeout"], f["Properties"]["MemorySize"])
        for f in functions.values()
        if f["Properties"]["Handler"].startswith("handlers.")
    }
    assert handlers == {
        ("handlers.pki.index.handler", 720, 1769),
        ("handlers.pki.index.handler", 600, 256),
    }
    assert not [f for f in functions.values() if "framework" in f["Properties"]["Handler"]]
    handler_ids = {
        logical_id
        for logical_id, f in functions.items()
        if f["Properties"]["Handler"] == "handlers.pki.index.handler"
    }
    for type_ in ("Custom::ClientVpnCertificateAuthority", "Custom::ClientVpnUsers"):
        (resource,) = template.find_resources(type_).values()
        token = resource["Properties"]["ServiceToken"]
        assert token["Fn::GetAtt"][0] in handler_ids and token["Fn::GetAtt"][1] == "Arn"
        assert resource["Properties"]["ServiceTimeout"] == str(14 * 60)
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 2
    assert {c["Properties"]["MaximumRetryAttempts"] for c in configs.values()} == {0}
    assert {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()} == handler_ids


def test_users_resource_properties(pki: tuple[Stack, ClientVpn, Template]) -> None:
    stack, vpn, template = pki
    _, users = only(template, "Custom::ClientVpnUsers")
    authority, _ = only(template, "Custom::ClientVpnCertificateAuthority")
    props = users["Properties"]
    assert {k: v for k, v in props.items() if k not in ("ServiceToken",)} == {
        "ServiceTimeout": "840",
        "Kind": "Users",
        "EndpointId": {"Ref": _ref(stack, vpn.endpoint)},
        "Users": ["alice", "bob"],
        "Bucket": {"Ref": _ref(stack, vpn.config_bucket)},
        "Prefix": "client-config/PkiVpn182244F3/",
        "StateKey": "client-config/PkiVpn182244F3/state.json",
        "KmsKeyArn": {"Fn::GetAtt": [_ref(stack, vpn.encryption_key), "Arn"]},
        "CaSecretArn": {"Ref": authority},
        "ClientValidityDays": "825",
        "RenewBeforeDays": "30",
        "MetricDimension": "PkiVpn182244F3",
        # Full tunnel, IPv4 traffic: AWS's IPv6 leak block goes into every file.
        "BlockIpv6Leak": "true",
        "Triggers": {
            "ServerCertificateArn": {"Fn::GetAtt": [authority, "ServerCertificateArn"]},
            "ClientCertificateArn": {"Fn::GetAtt": [authority, "ClientRootCertificateArn"]},
            "Authentication": "[]",
            "Port": "443",
            "TransportProtocol": "udp",
            "ConfigVersion": "",
        },
    }
    outputs = {k[:-8]: v["Value"] for k, v in template.to_json()["Outputs"].items()}
    assert outputs["VpnUserConfigPrefix"] == "client-config/PkiVpn182244F3/users/"


def test_user_prefix_survives_endpoint_replacement() -> None:
    """A new client CIDR replaces the endpoint; the keys do not change with it."""
    for cidr in ("10.100.0.0/22", "10.104.0.0/22"):
        stack, _ = pki_vpn(cidr=cidr)
        _, users = only(Template.from_stack(stack), "Custom::ClientVpnUsers")
        assert users["Properties"]["Prefix"] == "client-config/PkiVpn182244F3/"
        assert users["Properties"]["StateKey"] == "client-config/PkiVpn182244F3/state.json"


@pytest.mark.parametrize(
    ("change", "trigger", "value"),
    [
        ({"port": ec2.VpnPort.OPENVPN}, "Port", "1194"),
        ({"transport_protocol": ec2.TransportProtocol.TCP}, "TransportProtocol", "tcp"),
        ({"config_version": "2"}, "ConfigVersion", "2"),
    ],
    ids=["port", "transport", "config_version"],
)
def test_changes_that_alter_a_users_file_update_the_users_resource(
    pki: tuple[Stack, ClientVpn, Template], change: dict[str, Any], trigger: str, value: str
) -> None:
    _, _, before = pki
    stack, _ = pki_vpn(users=["alice", "bob"], **change)
    after = Template.from_stack(stack)
    (old,) = before.find_resources("Custom::ClientVpnUsers").values()
    (new,) = after.find_resources("Custom::ClientVpnUsers").values()
    assert new["Properties"]["Triggers"][trigger] == value
    assert new["Properties"] != old["Properties"]
    changed = {k for k in new["Properties"] if new["Properties"][k] != old["Properties"][k]}
    assert changed == {"Triggers"}


def test_authority_resource_properties(pki: tuple[Stack, ClientVpn, Template]) -> None:
    _, _, template = pki
    _, authority = only(template, "Custom::ClientVpnCertificateAuthority")
    props = authority["Properties"]
    assert {k: v for k, v in props.items() if k != "ServiceToken"} == {
        "ServiceTimeout": "840",
        "Kind": "Authority",
        "CaSecretPrefix": "client-vpn/PkiVpn182244F3/ca",
        # The CA secret has its own key, not the config key.
        "KmsKeyArn": {"Fn::GetAtt": ["VpnCertificateAuthorityCaKey7B88442A", "Arn"]},
        # The secret's resource policy denies its value to every other principal.
        "ReaderRoleArns": [
            {"Fn::GetAtt": ["VpnCertificateAuthorityHandlerRoleED2F3969", "Arn"]},
            {"Fn::GetAtt": ["VpnUsersHandlerRoleC71AF3CE", "Arn"]},
        ],
        "CaValidityDays": "3650",
        "ServerValidityDays": "825",
        "RenewBeforeDays": "30",
        "MetricDimension": "PkiVpn182244F3",
        # Who may delete the secret or change its policy: the CA role and the break-glass
        # principal (the account root).
        "GuardAdminArns": [
            {"Fn::GetAtt": ["VpnCertificateAuthorityHandlerRoleED2F3969", "Arn"]},
            {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":iam::",
                        {"Ref": "AWS::AccountId"},
                        ":root",
                    ],
                ]
            },
        ],
    }


def _statements(template: Template, role_path: str) -> list[dict[str, Any]]:
    policies = template.find_resources(
        "AWS::IAM::Policy",
        {"Properties": {"PolicyName": Match.string_like_regexp(f"^{role_path}RoleDefaultPolicy")}},
    )
    (policy,) = policies.values()
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return [
        {**s, "Action": sorted(s["Action"]) if isinstance(s["Action"], list) else s["Action"]}
        for s in statements
        if "logs:PutLogEvents" not in s["Action"]
    ]


def _arn(service: str, resource: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":{service}:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                resource,
            ],
        ]
    }


DESCRIBE_OWN_STACK = {
    "Action": ["cloudformation:DescribeStackResource", "cloudformation:DescribeStacks"],
    "Effect": "Allow",
    "Resource": {"Ref": "AWS::StackId"},
}


def test_authority_policy(pki: tuple[Stack, ClientVpn, Template]) -> None:
    _, _, template = pki
    certificates = _arn("acm", ":certificate/*")
    assert _statements(template, "VpnCertificateAuthorityHandler") == [
        {
            "Action": [
                "secretsmanager:CreateSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutResourcePolicy",
                "secretsmanager:PutSecretValue",
                "secretsmanager:RestoreSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UpdateSecret",
            ],
            "Effect": "Allow",
            # <prefix>-<16 hex>-<Secrets Manager's 6 characters>, exactly.
            "Resource": _arn(
                "secretsmanager", ":secret:client-vpn/PkiVpn182244F3/ca-????????????????-??????"
            ),
        },
        {
            # (a) first import: only with our tag (naming one of this CA's secrets), and
            # no other tag key. ACM authorizes an import with Tags as AddTagsToCertificate
            # too, so tagging is allowed under exactly these conditions (a request tag).
            "Action": ["acm:AddTagsToCertificate", "acm:ImportCertificate"],
            "Condition": {
                "StringLike": {
                    "aws:RequestTag/constructs-cvpn:ca-secret": "client-vpn/PkiVpn182244F3/ca-*"
                },
                "ForAllValues:StringEquals": {"aws:TagKeys": ["constructs-cvpn:ca-secret"]},
            },
            "Effect": "Allow",
            "Resource": certificates,
        },
        {
            # (b) re-import, delete, issuer check: only a certificate already tagged so.
            "Action": ["acm:DeleteCertificate", "acm:GetCertificate", "acm:ImportCertificate"],
            "Condition": {
                "StringLike": {
                    "aws:ResourceTag/constructs-cvpn:ca-secret": "client-vpn/PkiVpn182244F3/ca-*"
                }
            },
            "Effect": "Allow",
            "Resource": certificates,
        },
        # A Delete with a generated physical id finds its Create's secret by name and tags
        # (issue 19); ListSecrets has no resource-level permissions and returns no values.
        {"Action": "secretsmanager:ListSecrets", "Effect": "Allow", "Resource": "*"},
        # (c) look-ups; ListCertificates has no resource-level permissions.
        {"Action": "acm:ListCertificates", "Effect": "Allow", "Resource": "*"},
        {
            "Action": ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
            "Effect": "Allow",
            "Resource": certificates,
        },
        DESCRIBE_OWN_STACK,
    ]
    # Tagging only with the RequestTag/TagKeys conditions of (a), never unconditioned.
    (tagging,) = [
        s
        for s in _statements(template, "VpnCertificateAuthorityHandler")
        if "acm:AddTagsToCertificate" in s["Action"]
    ]
    assert set(tagging["Condition"]) == {"StringLike", "ForAllValues:StringEquals"}


def test_ca_key_policy(pki: tuple[Stack, ClientVpn, Template]) -> None:
    """Only the two handler roles may use the CA key, and only through Secrets Manager."""
    _, _, template = pki
    key = template.to_json()["Resources"]["VpnCertificateAuthorityCaKey7B88442A"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["DeletionPolicy"] == "Retain"
    assert key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    secrets_manager = {
        "Fn::Join": ["", ["secretsmanager.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }
    account = {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
        ]
    }
    assert key["Properties"]["KeyPolicy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKeyOnly",
                "Effect": "Allow",
                "Principal": {"AWS": account},
                "Action": [
                    "kms:CancelKeyDeletion",
                    "kms:CreateAlias",
                    "kms:DeleteAlias",
                    "kms:DescribeKey",
                    "kms:DisableKey",
                    "kms:DisableKeyRotation",
                    "kms:EnableKey",
                    "kms:EnableKeyRotation",
                    "kms:GetKeyPolicy",
                    "kms:GetKeyRotationStatus",
                    "kms:ListGrants",
                    "kms:ListKeyPolicies",
                    "kms:ListKeyRotations",
                    "kms:ListResourceTags",
                    "kms:PutKeyPolicy",
                    "kms:RevokeGrant",
                    "kms:RotateKeyOnDemand",
                    "kms:ScheduleKeyDeletion",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:UpdateAlias",
                    "kms:UpdateKeyDescription",
                ],
                "Resource": "*",
            },
            {
                "Sid": "DenyGrantsExceptForAwsResources",
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
            },
            {
                "Sid": "CaHandlerUsesTheKeyThroughSecretsManager",
                "Effect": "Allow",
                "Principal": {
                    "AWS": {"Fn::GetAtt": ["VpnCertificateAuthorityHandlerRoleED2F3969", "Arn"]}
                },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": secrets_manager}},
            },
            {
                "Sid": "ReadsTheCaSecretThroughSecretsManagerPkiVpnUsersHandlerRole89383322",
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::GetAtt": ["VpnUsersHandlerRoleC71AF3CE", "Arn"]}},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": secrets_manager}},
            },
        ],
    }
    # The role policies do not name the CA key at all: its key policy alone decides.
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "VpnCertificateAuthorityCaKey7B88442A" not in policies


def test_config_key_denies_grants_and_no_role_decrypts_the_ca_with_it(
    pki: tuple[Stack, ClientVpn, Template],
) -> None:
    stack, vpn, template = pki
    config_key = template.to_json()["Resources"][_ref(stack, vpn.encryption_key)]
    assert {
        "Sid": "DenyGrantsExceptForAwsResourcesPkiVpn182244F3",
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
    } in config_key["Properties"]["KeyPolicy"]["Statement"]
    # The CA handler writes no file: it has no statement on the config key.
    assert _ref(stack, vpn.encryption_key) not in json.dumps(
        _statements(template, "VpnCertificateAuthorityHandler")
    )


def test_grant_read_user_config_reaches_one_users_file(
    pki: tuple[Stack, ClientVpn, Template],
) -> None:
    stack, vpn, template = pki
    object_arn = {
        "Fn::Join": [
            "",
            [
                {"Fn::GetAtt": [_ref(stack, vpn.config_bucket), "Arn"]},
                "/client-config/PkiVpn182244F3/users/bob.ovpn",
            ],
        ]
    }
    assert _grant_statements(template, "Bob") == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": object_arn},
        {
            "Action": "kms:Decrypt",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {
                        "Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                    },
                    "kms:EncryptionContext:aws:s3:arn": object_arn,
                }
            },
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_ref(stack, vpn.encryption_key), "Arn"]},
        },
    ]


def test_users_policy(pki: tuple[Stack, ClientVpn, Template]) -> None:
    stack, vpn, template = pki
    bucket_arn = {"Fn::GetAtt": [_ref(stack, vpn.config_bucket), "Arn"]}
    (authority,) = template.find_resources("Custom::ClientVpnCertificateAuthority")
    assert _statements(template, "VpnUsersHandler") == [
        {
            "Action": [
                "ec2:DescribeClientVpnConnections",
                # read the endpoint's CRL: import only when it lacks a serial (issue 19)
                "ec2:ExportClientVpnClientCertificateRevocationList",
                "ec2:ExportClientVpnClientConfiguration",
                "ec2:ImportClientVpnClientCertificateRevocationList",
                "ec2:TerminateClientVpnConnections",
            ],
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":ec2:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":client-vpn-endpoint/",
                        {"Ref": _ref(stack, vpn.endpoint)},
                    ],
                ]
            },
        },
        {
            "Action": [
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:GetObject",
                "s3:PutObject",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [bucket_arn, "/client-config/PkiVpn182244F3/*"]]},
        },
        {
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Condition": {"StringLike": {"s3:prefix": "client-config/PkiVpn182244F3/*"}},
            "Effect": "Allow",
            "Resource": bucket_arn,
        },
        {
            "Action": "secretsmanager:GetSecretValue",
            "Effect": "Allow",
            "Resource": {"Ref": authority},
        },
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_ref(stack, vpn.encryption_key), "Arn"]},
        },
        # A Delete is obeyed only while CloudFormation deletes the resource (issue 18).
        DESCRIBE_OWN_STACK,
    ]


def _input(join: Any) -> Any:
    """A rule target's ``Input`` (an ``Fn::Join`` around JSON) as data, tokens kept as dicts."""
    parts = join["Fn::Join"][1]
    markers = {f"@@{i}@@": part for i, part in enumerate(parts) if not isinstance(part, str)}
    text = "".join(p if isinstance(p, str) else f"@@{parts.index(p)}@@" for p in parts)

    def restore(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: restore(v) for k, v in value.items()}
        if isinstance(value, list):
            return [restore(v) for v in value]
        return markers.get(value, value)

    return restore(json.loads(text))


@pytest.mark.parametrize(
    ("resource_type", "function"),
    [
        ("Custom::ClientVpnCertificateAuthority", "VpnCertificateAuthorityHandlerFunction"),
        ("Custom::ClientVpnUsers", "VpnUsersHandlerFunction"),
    ],
)
def test_renewal_schedule_sends_only_the_request_type_and_physical_id(
    pki: tuple[Stack, ClientVpn, Template], resource_type: str, function: str
) -> None:
    _, _, template = pki
    resource_id, _ = only(template, resource_type)
    rules = [
        r
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0].startswith(function)
    ]
    (rule,) = rules
    assert rule["Properties"]["ScheduleExpression"] == "rate(12 hours)"
    assert rule["Properties"]["State"] == "ENABLED"
    (target,) = rule["Properties"]["Targets"]
    event = _input(target["Input"])
    # Everything else comes from the function's pinned configuration (issue 18): whoever
    # may put targets on the rule chooses nothing but the physical id.
    assert event == {"RequestType": "Renew", "PhysicalResourceId": {"Ref": resource_id}}
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "FunctionName": target["Arn"],
        },
    )


def test_expiry_alarm(pki: tuple[Stack, ClientVpn, Template]) -> None:
    stack, vpn, template = pki
    ((alarm_id, alarm),) = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "DaysToExpiry"}}
    ).items()
    assert vpn.expiry_alarm is not None
    assert stack.resolve(stack.get_logical_id(vpn.expiry_alarm.node.default_child)) == alarm_id  # type: ignore[arg-type]
    assert alarm_id.startswith("VpnCertificateExpiryAlarm")
    props = alarm["Properties"]
    assert {k: v for k, v in props.items() if k != "AlarmDescription"} == {
        "Namespace": "constructs-cvpn",
        "MetricName": "DaysToExpiry",
        "Dimensions": [{"Name": "Vpn", "Value": "PkiVpn182244F3"}],
        "Statistic": "Minimum",
        "Period": 86400,
        "ComparisonOperator": "LessThanThreshold",
        "Threshold": 14,
        "EvaluationPeriods": 2,
        "DatapointsToAlarm": 2,
        "TreatMissingData": "breaching",
    }
    assert "AlarmActions" not in props  # the application adds its own


def test_no_expiry_alarm_without_the_generated_pki(
    mutual: tuple[Stack, ClientVpn, Template],
) -> None:
    _, vpn, template = mutual
    assert vpn.expiry_alarm is None
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    template.resource_count_is("AWS::Events::Rule", 0)


def test_every_log_group_is_covered_by_the_key_policy(
    pki: tuple[Stack, ClientVpn, Template],
) -> None:
    """Three retained groups, each named <prefix>/<stack uuid>[/<handler>]: unique per stack
    instance (destroy then deploy works) and inside the key policy's ArnLike pattern."""
    _, _, template = pki
    prefix = "/aws/client-vpn/Pki-Vpn-182244F3/"
    names = sorted(
        json.dumps(g["Properties"]["LogGroupName"])
        for g in template.find_resources("AWS::Logs::LogGroup").values()
    )
    expected = sorted(
        json.dumps({"Fn::Join": ["", [prefix, STACK_UUID, *([suffix] if suffix else [])]]})
        for suffix in (
            None,
            "/certificate-authority",
            "/users",
        )
    )
    assert names == expected
    key = template.to_json()["Resources"]["VpnKey98BB9EAA"]
    (statement,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "AllowCloudWatchLogsForClientVpnLogGroupsPkiVpn182244F3"
    ]
    arn = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn["Fn::Join"][1][-1] == ":log-group:/aws/client-vpn/Pki-Vpn-182244F3*"


def test_a_handler_may_not_run_longer_than_12_minutes() -> None:
    """Lambda stops a function at 15 minutes; a handler gets at most 12, so that it has
    time to save its progress and answer CloudFormation."""
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Timeout")
    with pytest.raises(ValueError, match="handler timeout 13 minutes is over 12 minutes"):
        HandlerFunction(
            stack,
            "Handler",
            handler="handlers.pki.index.handler",
            description="too slow",
            encryption_key=kms.Key(stack, "Key"),
            log_group_name="/aws/client-vpn/too-slow",
            service_timeout=Duration.minutes(14),
            timeout=Duration.minutes(13),
        )
