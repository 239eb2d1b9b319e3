"""The client-configs room: the config bucket, its access-log bucket, and what waits for what.

Explicit assertions for behaviour that only the example-stack snapshots guarded (where
``--snapshot-update`` accepts any change). The expected values are written here from the
spec (DESIGN.md, the ``config_bucket`` docstring, the S3 user guide on server access
logging), not read from the code under test. Each test names the bugs it catches.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from constructs_cvpn import AuthorizationRule, ClientVpn, Route
from tests.graph import ancestors_of

SERVER = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
ENV = Environment(account="111111111111", region="eu-west-1")
THREE_AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
ASSOCIATION = "AWS::EC2::ClientVpnTargetNetworkAssociation"


def _stack(name: str, **props: Any) -> tuple[ClientVpn, dict[str, Any]]:
    """A ClientVpn in a VPC of three AZs (pinned), and its template's resources."""
    app = App(
        context={
            "cvpn:skipBundling": True,
            "availability-zones:account=111111111111:region=eu-west-1": THREE_AZS,
        }
    )
    stack = Stack(app, name, env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=3, nat_gateways=1)
    vpn = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", **props)
    return vpn, Template.from_stack(stack).to_json()["Resources"]


@pytest.fixture(scope="module")
def mutual() -> tuple[ClientVpn, dict[str, Any]]:
    return _stack(
        "Mutual",
        server_certificate_arn=SERVER,
        client_certificate_arn=CLIENT,
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
        routes=[Route(cidr="192.168.0.0/16")],
    )


@pytest.fixture(scope="module")
def pki() -> tuple[ClientVpn, dict[str, Any]]:
    return _stack("Pki", users=["alice", "bob"])


def _one(resources: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    (item,) = [(n, r) for n, r in resources.items() if r["Type"] == type_]
    return item


def _buckets(resources: dict[str, Any]) -> tuple[str, str]:
    """The logical ids of the config bucket and of its access-log bucket."""
    logging = [
        (n, r["Properties"]["LoggingConfiguration"])
        for n, r in resources.items()
        if r["Type"] == "AWS::S3::Bucket" and "LoggingConfiguration" in r["Properties"]
    ]
    (config, target), *rest = logging
    assert rest == []
    return config, target["DestinationBucketName"]["Ref"]


def _policy(resources: dict[str, Any], bucket: str) -> list[dict[str, Any]]:
    (policy,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _arn(bucket: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [bucket, "Arn"]}


def _tls_only(bucket: str) -> dict[str, Any]:
    return {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": [_arn(bucket), {"Fn::Join": ["", [_arn(bucket), "/*"]]}],
    }


PRIVATE = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


@pytest.mark.parametrize("layout", ["mutual", "pki"])
def test_access_log_bucket_policy_admits_only_s3_logging_for_the_config_bucket(
    layout: str, request: pytest.FixtureRequest
) -> None:
    """Catches: the log-delivery statement without ``aws:SourceAccount`` or ``aws:SourceArn``
    (any bucket of any account could write logs here: the confused-deputy case the S3 guide
    warns about), the wrong principal (``s3.amazonaws.com`` instead of
    ``logging.s3.amazonaws.com``), the whole bucket instead of the ``config-bucket/`` prefix,
    and a lost TLS-only deny."""
    _, resources = request.getfixturevalue(layout)
    config, logs = _buckets(resources)
    assert _policy(resources, logs) == [
        _tls_only(logs),
        {
            "Action": "s3:PutObject",
            "Condition": {
                "ArnLike": {"aws:SourceArn": _arn(config)},
                "StringEquals": {"aws:SourceAccount": "111111111111"},
            },
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Resource": {"Fn::Join": ["", [_arn(logs), "/config-bucket/*"]]},
            "Sid": "AllowS3ServerAccessLogs",
        },
    ]
    assert resources[config]["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logs},
        "LogFilePrefix": "config-bucket/",
    }


def test_access_log_bucket_settings(pki: tuple[ClientVpn, dict[str, Any]]) -> None:
    """Private, TLS-only (above), versioned, owner-enforced, SSE-S3 (the only encryption S3
    log delivery supports), logs kept a year, retained on stack deletion.

    Catches: a public-access block loosened, versioning or ownership controls dropped, KMS
    encryption (log delivery would fail), a shorter or missing expiry, and a bucket
    destroyed with the stack (the access record of who downloaded a key gone with it)."""
    _, resources = pki
    _, logs = _buckets(resources)
    bucket = resources[logs]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    assert bucket["Properties"] == {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        },
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    "ExpirationInDays": 365,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                    "Status": "Enabled",
                }
            ]
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "PublicAccessBlockConfiguration": PRIVATE,
        "VersioningConfiguration": {"Status": "Enabled"},
    }


def test_config_bucket_settings_with_the_generated_pki(
    pki: tuple[ClientVpn, dict[str, Any]],
) -> None:
    """The bucket holding every user's private key: private, TLS-only, versioned, SSE-KMS
    with the VPN's key and *no* bucket key (the object ARN is the KMS encryption context, so
    a grant can reach one file), noncurrent versions gone after 90 days, owner-enforced,
    retained.

    Catches each setting lost or changed, and a bucket policy that allows anything."""
    vpn, resources = pki
    config, _ = _buckets(resources)
    bucket = resources[config]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    key = Stack.of(vpn).resolve(vpn.encryption_key.key_arn)
    assert key["Fn::GetAtt"][0].startswith("VpnKey")
    props = dict(bucket["Properties"])
    props.pop("LoggingConfiguration")  # see the access-log test
    assert props == {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "BucketKeyEnabled": False,
                    "ServerSideEncryptionByDefault": {
                        "KMSMasterKeyID": key,
                        "SSEAlgorithm": "aws:kms",
                    },
                }
            ]
        },
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                    "Status": "Enabled",
                }
            ]
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "PublicAccessBlockConfiguration": PRIVATE,
        "VersioningConfiguration": {"Status": "Enabled"},
    }
    policy = _policy(resources, config)
    assert policy[0] == _tls_only(config)
    # The rest close the VPN's prefix (tests/lifecycle/test_invoke_attacks.py evaluates them);
    # none of them allows anything.
    assert [s["Effect"] for s in policy] == ["Deny"] * 4
    names = ("DenyWritesButTheHandlers", "DenyWritesWithoutTheVpnKey", "DenyReadsButTheReaders")
    assert all(s["Sid"].startswith(n) for s, n in zip(policy[1:], names, strict=True))


@pytest.mark.parametrize(
    ("layout", "waiting_type"),
    [("mutual", "Custom::ClientVpnConfigExport"), ("pki", "Custom::ClientVpnUsers")],
)
def test_the_files_are_written_after_every_association(
    layout: str, waiting_type: str, request: pytest.FixtureRequest
) -> None:
    """Exporting before the endpoint has a target network gives a file for an endpoint that
    cannot be reached yet, and for the users resource also a CRL import on a pending
    endpoint. Catches: the export or the users resource not waiting, or waiting for one
    association only (three AZs here)."""
    _, resources = request.getfixturevalue(layout)
    associations = {n for n, r in resources.items() if r["Type"] == ASSOCIATION}
    assert len(associations) == 3
    waiting, _ = _one(resources, waiting_type)
    assert associations <= ancestors_of(resources)[waiting]


@pytest.mark.parametrize("layout", ["mutual", "pki"])
def test_a_queued_event_starts_only_while_cloudformation_still_waits(
    layout: str, request: pytest.FixtureRequest
) -> None:
    """Lambda keeps a throttled asynchronous event up to ``MaximumEventAgeInSeconds``
    (default 6 hours, at least 60 s). Catches a handler whose event could start later than
    ``ServiceTimeout`` minus its own timeout: a run CloudFormation no longer waits for
    (issue 18)."""
    _, resources = request.getfixturevalue(layout)
    configs = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    custom = [r for r in resources.values() if r["Type"].startswith("Custom::")]
    assert custom
    for resource in custom:
        function = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        config = configs[function]
        timeout = resources[function]["Properties"]["Timeout"]
        age = config["MaximumEventAgeInSeconds"]
        assert config["MaximumRetryAttempts"] == 0
        assert 60 <= age <= int(resource["Properties"]["ServiceTimeout"]) - timeout
