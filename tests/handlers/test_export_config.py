"""Tests for the config-export custom-resource handler.

EC2 Client VPN calls go through ``botocore.stub.Stubber`` (moto has no Client VPN support);
S3, KMS and Secrets Manager are moto.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_cvpn.handlers import pinned
from constructs_cvpn.handlers.export_config import aws, index
from constructs_cvpn.handlers.export_config.aws import (
    AccessDeniedError,
    EndpointNotFoundError,
    ExportConfigError,
    InvalidPropertiesError,
    SecretError,
    ThrottledError,
)
from tests.certs import Issued, make_ca, make_client

FIXTURES = Path(__file__).parent / "fixtures"
REGION: Final = "eu-west-1"
ENDPOINT = "cvpn-endpoint-0123456789abcdef0"
HOST = f"{ENDPOINT}.prod.clientvpn.{REGION}.amazonaws.com"
BUCKET = "client-config-bucket"
KEY = f"client-config/{ENDPOINT}/client.ovpn"
EXPORT = "export_client_vpn_client_configuration"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


@pytest.fixture(scope="module")
def client(ca: Issued) -> Issued:
    return make_client(ca)


@dataclass
class Env:
    s3: Any
    secrets: Any
    ec2: Stubber
    kms_key_arn: str

    def expect_export(self, text: str, endpoint: str = ENDPOINT) -> None:
        self.ec2.add_response(
            EXPORT, {"ClientConfiguration": text}, {"ClientVpnEndpointId": endpoint}
        )

    def secret(self, value: str, name: str = "vpn/client") -> str:
        arn: str = self.secrets.create_secret(Name=name, SecretString=value)["ARN"]
        return arn

    def credentials_secret(self, issued: Issued) -> str:
        return self.secret(
            json.dumps({"certificate": issued.cert_pem, "private_key": issued.key_pem})
        )

    def props(self, **extra: str) -> dict[str, str]:
        return {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
            "EndpointId": ENDPOINT,
            "Bucket": BUCKET,
            "Key": KEY,
            "KmsKeyArn": self.kms_key_arn,
            "ConfigVersion": "1",
            "Port": "443",
            "TransportProtocol": "udp",
            **extra,
        }

    def body(self, key: str = KEY) -> bytes:
        data: bytes = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return data


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        kms_key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        ec2 = boto3.client("ec2", region_name=REGION)
        stubber = Stubber(ec2)
        monkeypatch.setattr(aws, "ec2_client", lambda: ec2)
        with stubber:
            yield Env(s3, boto3.client("secretsmanager", region_name=REGION), stubber, kms_key_arn)
            stubber.assert_no_pending_responses()


def create(props: dict[str, str]) -> dict[str, Any]:
    return index.on_event({"RequestType": "Create", "ResourceProperties": props})


def update(
    props: dict[str, str], physical_id: str, old: dict[str, str] | None = None
) -> dict[str, Any]:
    return index.on_event(
        {
            "RequestType": "Update",
            "PhysicalResourceId": physical_id,
            "ResourceProperties": props,
            "OldResourceProperties": old if old is not None else props,
        }
    )


def delete(physical_id: str, props: dict[str, str] | None = None) -> dict[str, Any]:
    return index.on_event(
        {"RequestType": "Delete", "PhysicalResourceId": physical_id, "ResourceProperties": props}
    )


def inline(config: str, issued: Issued) -> str:
    """What the handler must write: cert and key right after </ca>, nothing else changed."""
    assert config.count("</ca>\n") == 1
    block = f"<cert>\n{issued.cert_pem}</cert>\n<key>\n{issued.key_pem}</key>\n"
    return config.replace("</ca>\n", f"</ca>\n{block}")


# --- Create / Update ------------------------------------------------------------------------


def test_mutual_with_inline_credentials_exact_bytes(env: Env, client: Issued) -> None:
    config = fixture("mutual.ovpn")
    env.expect_export(config)
    secret = env.credentials_secret(client)

    result = create(env.props(CredentialsSecretArn=secret, SecretVersion="v1"))

    body = env.body()
    expected = inline(config, client)
    assert body == expected.encode()
    assert body.decode().startswith(config.split("</ca>\n")[0] + "</ca>\n<cert>\n")
    assert body.decode().endswith(f"{client.key_pem}</key>\n\nreneg-sec 0\n")
    assert result == {
        "PhysicalResourceId": f"s3://{BUCKET}/{KEY}",
        "Data": {
            "Bucket": BUCKET,
            "Key": KEY,
            "VersionId": "",
            "Sha256": hashlib.sha256(expected.encode()).hexdigest(),
        },
    }


def test_object_is_kms_encrypted_with_the_given_key(env: Env) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    create(env.props())
    head = env.s3.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == env.kms_key_arn
    assert head["ContentType"] == index.CONTENT_TYPE == "application/x-openvpn-profile"


@pytest.mark.parametrize("name", ["active_directory.ovpn", "saml.ovpn", "mutual.ovpn"])
def test_export_without_secret_is_written_unchanged(env: Env, name: str) -> None:
    config = fixture(name)
    env.expect_export(config)
    result = create(env.props())
    assert env.body() == config.encode()
    assert result["Data"]["Sha256"] == hashlib.sha256(config.encode()).hexdigest()


def test_fixture_auth_lines() -> None:
    assert "auth-user-pass" not in fixture("mutual.ovpn")
    ad = fixture("active_directory.ovpn")
    assert "\nauth-user-pass\n" in ad
    assert "auth-federate" not in ad
    saml = fixture("saml.ovpn")
    assert "\nauth-user-pass\nauth-federate\n" in saml


def test_random_label(env: Env) -> None:
    config = fixture("saml.ovpn")
    env.expect_export(config)
    create(env.props(RemoteRandomLabel="true"))
    text = env.body().decode()
    remote = re.findall(r"^remote .*$", text, re.MULTILINE)
    assert len(remote) == 1
    match = re.fullmatch(rf"remote ([0-9a-f]{{12}})\.{re.escape(HOST)} 443", remote[0])
    assert match is not None
    assert text.replace(f"{match.group(1)}.", "", 1) == config


def test_random_label_differs_between_exports(env: Env) -> None:
    labels = set()
    for _ in range(2):
        env.expect_export(fixture("mutual.ovpn"))
        create(env.props(RemoteRandomLabel="TRUE"))
        found = re.search(r"^remote ([0-9a-f]{12})\.", env.body().decode(), re.MULTILINE)
        assert found is not None
        labels.add(found.group(1))
    assert len(labels) == 2


def test_random_label_with_credentials(env: Env, client: Issued) -> None:
    config = fixture("mutual.ovpn")
    env.expect_export(config)
    create(env.props(RemoteRandomLabel="true", CredentialsSecretArn=env.credentials_secret(client)))
    text = re.sub(r"^remote [0-9a-f]{12}\.", "remote ", env.body().decode(), flags=re.MULTILINE)
    assert text == inline(config, client)


@pytest.mark.parametrize("value", ["false", "False", ""])
def test_random_label_off(env: Env, value: str) -> None:
    config = fixture("mutual.ovpn")
    env.expect_export(config)
    create(env.props(RemoteRandomLabel=value))
    assert env.body() == config.encode()


# AWS Client VPN administrator guide, "IPv6 considerations": the three lines that route
# all currently allocated IPv6 traffic into an IPv4-only tunnel (written here, not imported).
LEAK_BLOCK = (
    "ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1\nroute-ipv6 2000::/3\nroute-ipv6 fc00::/7\n"
)


def test_ipv6_leak_block_is_appended_after_the_other_edits(env: Env, client: Issued) -> None:
    config = fixture("mutual.ovpn")
    env.expect_export(config)
    secret = env.credentials_secret(client)
    create(env.props(BlockIpv6Leak="true", CredentialsSecretArn=secret))
    assert env.body().decode() == inline(config, client) + LEAK_BLOCK


@pytest.mark.parametrize("value", ["false", ""])
def test_ipv6_leak_block_off(env: Env, value: str) -> None:
    config = fixture("saml.ovpn")
    env.expect_export(config)
    create(env.props(BlockIpv6Leak=value))
    assert env.body() == config.encode()


def test_ipv6_leak_block_on_an_export_that_routes_ipv6_fails(env: Env) -> None:
    env.expect_export(fixture("saml.ovpn") + "route-ipv6 ::/0\n")
    with pytest.raises(ExportConfigError, match="already configures IPv6 routing"):
        create(env.props(BlockIpv6Leak="true"))


def test_data_has_only_four_keys_and_no_pem(env: Env, client: Issued) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    result = create(env.props(CredentialsSecretArn=env.credentials_secret(client)))
    assert set(result) == {"PhysicalResourceId", "Data"}
    assert set(result["Data"]) == {"Bucket", "Key", "VersionId", "Sha256"}
    assert all(isinstance(v, str) for v in result["Data"].values())
    dumped = json.dumps(result)
    assert "BEGIN" not in dumped
    assert "remote" not in dumped
    assert len(dumped) < 4096


def test_idempotent_create_and_update(env: Env, client: Issued) -> None:
    env.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    secret = env.credentials_secret(client)
    props = env.props(CredentialsSecretArn=secret)
    results = []
    for call in range(3):
        env.expect_export(fixture("mutual.ovpn"))
        results.append(create(props) if call == 0 else update(props, f"s3://{BUCKET}/{KEY}"))

    assert len({r["PhysicalResourceId"] for r in results}) == 1
    assert len({r["Data"]["Sha256"] for r in results}) == 1
    version_ids = [r["Data"]["VersionId"] for r in results]
    assert all(version_ids) and len(set(version_ids)) == 3  # the object was replaced each time
    # Older versions hold the inlined key too: only the latest is left.
    listed = env.s3.list_object_versions(Bucket=BUCKET, Prefix=KEY)
    assert [v["VersionId"] for v in listed["Versions"]] == [version_ids[-1]]
    assert "DeleteMarkers" not in listed
    latest = env.s3.head_object(Bucket=BUCKET, Key=KEY)
    assert latest["VersionId"] == version_ids[-1]
    assert hashlib.sha256(env.body()).hexdigest() == results[0]["Data"]["Sha256"]


def test_update_to_a_new_key_is_refused_and_its_rollback_accepted(env: Env) -> None:
    # CloudFormation would delete the old object under the new policy, which names only the
    # new key: the Delete would be denied and the old file (maybe with a key) would stay.
    env.expect_export(fixture("mutual.ovpn"))
    first = create(env.props())
    moved = env.props(Key="other/client.ovpn")
    with pytest.raises(
        InvalidPropertiesError, match=r"cannot move from s3://.*config_export=False"
    ):
        update(moved, first["PhysicalResourceId"], old=env.props())
    assert env.s3.list_objects_v2(Bucket=BUCKET, Prefix="other/").get("KeyCount") == 0
    # The rollback: back to the original key, which still holds this resource's file.
    env.expect_export(fixture("mutual.ovpn"))
    back = update(env.props(), first["PhysicalResourceId"], old=moved)
    assert back["PhysicalResourceId"] == first["PhysicalResourceId"]


def test_crlf_export_keeps_crlf(env: Env, client: Issued) -> None:
    config = fixture("mutual.ovpn").replace("\n", "\r\n")
    env.expect_export(config)
    create(env.props(CredentialsSecretArn=env.credentials_secret(client)))
    crlf = inline(fixture("mutual.ovpn"), client).replace("\n", "\r\n")
    assert env.body() == crlf.encode()


# --- Delete ---------------------------------------------------------------------------------


def test_delete_removes_only_its_object(env: Env) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    physical_id = create(env.props())["PhysicalResourceId"]
    env.s3.put_object(Bucket=BUCKET, Key=f"{KEY}.bak", Body=b"keep")
    env.s3.put_object(Bucket=BUCKET, Key="client-config/other.ovpn", Body=b"keep")

    assert delete(physical_id, env.props()) == {"PhysicalResourceId": physical_id, "Data": {}}

    keys = [o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert sorted(keys) == sorted([f"{KEY}.bak", "client-config/other.ovpn"])


def test_delete_uses_physical_id_not_properties(env: Env) -> None:
    env.s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"current")
    env.s3.put_object(Bucket=BUCKET, Key="old/client.ovpn", Body=b"old")
    delete(f"s3://{BUCKET}/old/client.ovpn", env.props())
    keys = [o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [KEY]


def test_delete_missing_object(env: Env) -> None:
    physical_id = f"s3://{BUCKET}/never/written.ovpn"
    assert delete(physical_id) == {"PhysicalResourceId": physical_id, "Data": {}}


def test_delete_missing_bucket(env: Env) -> None:
    physical_id = "s3://no-such-bucket-4711/client.ovpn"
    assert delete(physical_id) == {"PhysicalResourceId": physical_id, "Data": {}}


#: Physical ids that are not this handler's ``s3://<bucket>/<key>``: the first as
#: CloudFormation generates one after a Create that never answered (DESIGN.md "Day two").
NOT_OURS = [
    "ClientVpnStack-ConfigExport-1A2B3C4D5E6F",
    "",
    "s3://",
    f"s3://{BUCKET}",
    f"s3://{BUCKET}/",
    f"S3://{BUCKET}/{KEY}",
]


@pytest.mark.parametrize("physical_id", NOT_OURS)
def test_delete_of_a_generated_id_removes_every_version_the_properties_name(
    env: Env, physical_id: str
) -> None:
    """A Create killed after its PutObject never answered: CloudFormation's rollback Delete
    carries an id it generated. Catches a Delete that trusts only the id it returned."""
    env.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"client key inside", b"client key again"):
        env.s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    env.s3.put_object(Bucket=BUCKET, Key=f"{KEY}.bak", Body=b"not ours")

    assert delete(physical_id, env.props()) == {"PhysicalResourceId": physical_id, "Data": {}}

    listed = env.s3.list_object_versions(Bucket=BUCKET)
    assert [v["Key"] for v in listed.get("Versions", [])] == [f"{KEY}.bak"]
    assert "DeleteMarkers" not in listed


def test_delete_of_a_generated_id_without_bucket_or_key_is_a_noop(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"untouched")

    def no_s3() -> Any:
        raise AssertionError("S3 must not be called")

    monkeypatch.setattr(aws, "s3_client", no_s3)
    assert delete(NOT_OURS[0]) == {"PhysicalResourceId": NOT_OURS[0], "Data": {}}
    assert env.body() == b"untouched"


@pytest.mark.parametrize(
    ("status", "current", "removed"),
    [
        ("DELETE_IN_PROGRESS", NOT_OURS[0], True),  # the rollback of the killed Create
        ("UPDATE_COMPLETE", f"s3://{BUCKET}/{KEY}", False),  # a forgery during a clean-up
    ],
)
def test_pinned_delete_of_a_generated_id_needs_the_resource_deleted_under_it(
    env: Env, monkeypatch: pytest.MonkeyPatch, status: str, current: str, removed: bool
) -> None:
    """Pinned, a Delete of an id the resource does not have is admitted during a stack's
    clean-up phase (the old id of a replacement). Catches a generated-id Delete that removes
    the live object then: it must see the resource DELETE_IN_PROGRESS under that id."""
    stack_id = "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1"
    config = {
        "StackId": stack_id,
        "LogicalResourceId": "Export",
        "Pinned": {"Bucket": BUCKET, "Key": KEY},
    }
    monkeypatch.setenv(pinned.ENV, json.dumps(config))
    asked: list[tuple[str, str]] = []

    def describe(stack: str, logical_id: str) -> dict[str, str]:
        asked.append((stack, logical_id))
        return {"ResourceStatus": status, "PhysicalResourceId": current}

    monkeypatch.setattr(aws, "describe_stack_resource", describe)
    monkeypatch.setattr(aws, "stack_status", lambda s: "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    env.s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"client key inside")
    pinned.forget()
    try:
        event = {
            "RequestType": "Delete",
            "StackId": stack_id,
            "LogicalResourceId": "Export",
            "PhysicalResourceId": NOT_OURS[0],
            "ResourceProperties": env.props(),
        }
        assert index.on_event(event)["PhysicalResourceId"] == NOT_OURS[0]
    finally:
        pinned.forget()
    assert asked and set(asked) == {(stack_id, "Export")}
    keys = [o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == ([] if removed else [KEY])


def stubbed_s3(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    s3 = boto3.client("s3", region_name=REGION)
    stubber = Stubber(s3)
    stubber.activate()
    monkeypatch.setattr(aws, "s3_client", lambda: s3)
    return stubber


@pytest.mark.parametrize("code", ["NoSuchKey", "NoSuchBucket", "404"])
def test_delete_treats_not_found_codes_as_success(
    env: Env, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    s3 = stubbed_s3(monkeypatch)
    s3.add_client_error("list_object_versions", service_error_code=code, http_status_code=404)
    assert delete(f"s3://{BUCKET}/{KEY}")["PhysicalResourceId"] == f"s3://{BUCKET}/{KEY}"
    s3.assert_no_pending_responses()


def test_delete_access_denied_fails(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = stubbed_s3(monkeypatch)
    s3.add_client_error(
        "list_object_versions", service_error_code="AccessDenied", http_status_code=403
    )
    with pytest.raises(AccessDeniedError, match=r"s3:ListBucketVersions / s3:DeleteObjectVersion"):
        delete(f"s3://{BUCKET}/{KEY}")


def test_delete_removes_every_version_and_marker(env: Env, client: Issued) -> None:
    env.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"old key inside", b"older key inside"):
        env.s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    env.s3.delete_object(Bucket=BUCKET, Key=KEY)  # a delete marker on top
    env.s3.put_object(Bucket=BUCKET, Key=f"{KEY}.bak", Body=b"not ours")
    delete(f"s3://{BUCKET}/{KEY}")
    listed = env.s3.list_object_versions(Bucket=BUCKET)
    assert [v["Key"] for v in listed.get("Versions", [])] == [f"{KEY}.bak"]
    assert "DeleteMarkers" not in listed


# --- failures -------------------------------------------------------------------------------


def test_endpoint_not_found(env: Env) -> None:
    env.ec2.add_client_error(
        EXPORT,
        service_error_code="InvalidClientVpnEndpointId.NotFound",
        service_message=f"The Client VPN endpoint ID '{ENDPOINT}' does not exist",
        http_status_code=400,
    )
    with pytest.raises(EndpointNotFoundError, match=f"{ENDPOINT} not found"):
        create(env.props())
    assert "Contents" not in env.s3.list_objects_v2(Bucket=BUCKET)


@pytest.mark.parametrize("code", ["UnauthorizedOperation", "AccessDenied"])
def test_export_access_denied_names_the_action(env: Env, code: str) -> None:
    env.ec2.add_client_error(
        EXPORT, service_error_code=code, service_message="not authorized", http_status_code=403
    )
    with pytest.raises(
        AccessDeniedError, match=r"may not perform ec2:ExportClientVpnClientConfiguration"
    ) as info:
        create(env.props())
    assert code in str(info.value)


def test_export_throttled_after_retries(env: Env) -> None:
    env.ec2.add_client_error(EXPORT, service_error_code="RequestLimitExceeded")
    with pytest.raises(ThrottledError, match="still throttled after 5 retries"):
        create(env.props())


def test_export_other_error(env: Env) -> None:
    env.ec2.add_client_error(
        EXPORT, service_error_code="InternalError", service_message="", http_status_code=500
    )
    with pytest.raises(ExportConfigError, match=r"failed \(InternalError\)$"):
        create(env.props())


def test_export_empty_configuration(env: Env) -> None:
    env.expect_export("  \n")
    with pytest.raises(ExportConfigError, match="empty configuration"):
        create(env.props())


def test_export_without_ca_cannot_take_credentials(env: Env, client: Issued) -> None:
    env.expect_export("client\nremote x.example.com 443\n")
    with pytest.raises(ExportConfigError, match=r"cannot be edited: .*no </ca>"):
        create(env.props(CredentialsSecretArn=env.credentials_secret(client)))


def test_export_without_remote_cannot_be_randomized(env: Env) -> None:
    env.expect_export(fixture("mutual.ovpn").replace(f"remote {HOST} 443\n", ""))
    with pytest.raises(ExportConfigError, match="no remote line"):
        create(env.props(RemoteRandomLabel="true"))


def test_put_access_denied(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    s3 = stubbed_s3(monkeypatch)
    s3.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(AccessDeniedError, match=r"s3:PutObject \(and kms:GenerateDataKey\)"):
        create(env.props())


def test_put_to_missing_bucket(env: Env) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    with pytest.raises(ExportConfigError, match=r"s3:PutObject .* failed \(NoSuchBucket"):
        create(env.props(Bucket="no-such-bucket-4711"))


def test_secret_missing(env: Env) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:vpn/none-AbCdEf"
    with pytest.raises(SecretError, match=f"secret {re.escape(arn)} not found"):
        create(env.props(CredentialsSecretArn=arn))


def test_secret_access_denied(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    sm = boto3.client("secretsmanager", region_name=REGION)
    stubber = Stubber(sm)
    stubber.activate()
    stubber.add_client_error("get_secret_value", service_error_code="AccessDeniedException")
    monkeypatch.setattr(aws, "secrets_client", lambda: sm)
    with pytest.raises(AccessDeniedError, match="secretsmanager:GetSecretValue"):
        create(env.props(CredentialsSecretArn="vpn/client"))


def test_binary_secret(env: Env) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    arn = env.secrets.create_secret(Name="vpn/bin", SecretBinary=b"\x00\x01")["ARN"]
    with pytest.raises(SecretError, match="no SecretString"):
        create(env.props(CredentialsSecretArn=arn))


def malformed_cases(client: Issued, other: Issued) -> list[tuple[str, str]]:
    def as_json(**fields: Any) -> str:
        return json.dumps(fields)

    return [
        (client.key_pem, "is not JSON"),
        (json.dumps([client.cert_pem, client.key_pem]), "not a JSON object"),
        (as_json(certificate=client.cert_pem), "lacks string field.s. private_key"),
        (as_json(private_key=client.key_pem), "lacks string field.s. certificate"),
        (as_json(certificate=client.cert_pem, private_key=None), "private_key"),
        (as_json(certificate="junk", private_key=client.key_pem), "not in PEM format"),
        (as_json(certificate=client.cert_pem, private_key="junk"), "not in PEM format"),
        (as_json(certificate=client.cert_pem, private_key=other.key_pem), "does not match"),
        (
            as_json(certificate=client.key_pem, private_key=client.key_pem),
            "only CERTIFICATE PEM blocks",
        ),
    ]


def test_secret_malformed(env: Env, ca: Issued, client: Issued) -> None:
    other = make_client(ca, "other.vpn.example.com")
    for number, (value, message) in enumerate(malformed_cases(client, other)):
        env.expect_export(fixture("mutual.ovpn"))
        arn = env.secret(value, name=f"vpn/bad-{number}")
        with pytest.raises(SecretError, match=message) as info:
            create(env.props(CredentialsSecretArn=arn))
        text = str(info.value)
        assert arn in text
        assert "BEGIN" not in text
        assert info.value.__cause__ is None
        shown = "".join(traceback.format_exception(info.value))
        assert "BEGIN" not in shown
        assert client.key_pem.splitlines()[1] not in shown
    assert "Contents" not in env.s3.list_objects_v2(Bucket=BUCKET)


# --- properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["EndpointId", "Bucket", "Key", "KmsKeyArn"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_required_properties(env: Env, name: str, value: str | None) -> None:
    props: dict[str, Any] = env.props()
    if value is None:
        del props[name]
    else:
        props[name] = value
    with pytest.raises(InvalidPropertiesError, match=f"ResourceProperties.{name} is required"):
        index.on_event({"RequestType": "Create", "ResourceProperties": props})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"EndpointId": "vpc-0123456789abcdef0"}, "not a Client VPN endpoint id"),
        ({"Key": "/client.ovpn"}, "must not start or end with '/'"),
        ({"Key": "client-config/"}, "must not start or end with '/'"),
        ({"RemoteRandomLabel": "yes"}, "must be 'true' or 'false'"),
    ],
)
def test_invalid_properties(env: Env, extra: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidPropertiesError, match=message):
        create(env.props(**extra))


def test_boolean_random_label_property(env: Env) -> None:
    env.expect_export(fixture("mutual.ovpn"))
    props: dict[str, Any] = env.props()
    props["RemoteRandomLabel"] = True
    index.on_event({"RequestType": "Create", "ResourceProperties": props})
    assert re.search(r"^remote [0-9a-f]{12}\.", env.body().decode(), re.MULTILINE)
    env.expect_export(fixture("mutual.ovpn"))
    props["RemoteRandomLabel"] = False
    index.on_event({"RequestType": "Create", "ResourceProperties": props})
    assert env.body() == fixture("mutual.ovpn").encode()


def test_unsupported_request_type() -> None:
    with pytest.raises(InvalidPropertiesError, match="unsupported RequestType 'Replace'"):
        index.on_event({"RequestType": "Replace", "ResourceProperties": {}})


# --- logs -----------------------------------------------------------------------------------


def test_logs_name_only_endpoint_bucket_key_sha(
    env: Env, client: Issued, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env.expect_export(fixture("mutual.ovpn"))
    result = create(env.props(CredentialsSecretArn=env.credentials_secret(client)))
    delete(result["PhysicalResourceId"])
    delete(result["PhysicalResourceId"])
    delete("request-id")

    handler_logs = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("constructs_cvpn")
    )
    assert ENDPOINT in handler_logs
    assert result["Data"]["Sha256"] in handler_logs
    assert f"s3://{BUCKET}/{KEY}" in handler_logs
    assert "nothing to delete" in handler_logs
    everything = caplog.text + handler_logs
    assert "BEGIN" not in everything
    assert "PRIVATE KEY" not in everything
    assert client.key_pem.splitlines()[1] not in everything
    assert "remote-cert-tls" not in everything


# --- clients --------------------------------------------------------------------------------


def test_clients_use_retry_and_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for factory, service in [
        (aws.ec2_client, "ec2"),
        (aws.s3_client, "s3"),
        (aws.secrets_client, "secretsmanager"),
    ]:
        made = factory()
        assert made.meta.service_model.service_name == service
        config: Any = made.meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": 6}
        assert config.connect_timeout == 5
        assert config.read_timeout == 20


# --- Lambda packaging -----------------------------------------------------------------------


def test_imports_as_top_level_handlers_package_without_cdk() -> None:
    """The asset is deployed so that ``handlers`` is a top-level package (relative imports)."""
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys\n"
        f"sys.path[0] = {str(root / 'constructs_cvpn')!r}\n"
        "import handlers.export_config.index as m\n"
        "assert callable(m.on_event)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('aws_cdk', 'constructs', 'constructs_cvpn', 'jsii', 'moto'))\n"
        "print('BAD', bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root / "constructs_cvpn",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "BAD []"
