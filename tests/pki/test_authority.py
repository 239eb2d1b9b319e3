"""``Kind=Authority``: CA secret, server certificate in ACM, update, delete, retries."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.x509.oid import NameOID

from constructs_cvpn.handlers.pki import authority, aws, certs, index
from constructs_cvpn.handlers.pki.props import PropertyError

from .conftest import REGION, SECRET_NAME, authority_props, read_bundle


def _event(request: str, props: dict[str, Any], pid: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"RequestType": request, "ResourceProperties": props}
    if pid is not None:
        event["PhysicalResourceId"] = pid
    return event


def _acm_arns() -> list[str]:
    acm = boto3.client("acm", region_name=REGION)
    return [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]


def _acm_cert(arn: str) -> x509.Certificate:
    acm = boto3.client("acm", region_name=REGION)
    return x509.load_pem_x509_certificate(
        acm.get_certificate(CertificateArn=arn)["Certificate"].encode()
    )


def _create(kms_key: str, **extra: str) -> dict[str, Any]:
    return index.on_event(_event("Create", authority_props(kms_key, **extra)))


def test_create_imports_server_cert_and_stores_ca_in_kms_secret(kms_key: str) -> None:
    out = _create(kms_key)
    data = out["Data"]
    assert set(data) == {"ServerCertificateArn", "ClientRootCertificateArn"}
    arn = data["ServerCertificateArn"]
    assert data["ClientRootCertificateArn"] == arn  # same CA: the server cert is the root chain
    assert "PRIVATE KEY" not in json.dumps(out)

    sm = boto3.client("secretsmanager", region_name=REGION)
    described = sm.describe_secret(SecretId=SECRET_NAME)
    assert out["PhysicalResourceId"] == described["ARN"]
    assert described["KmsKeyId"] == kms_key

    bundle = read_bundle()
    assert bundle.server_certificate_arn == arn
    assert _acm_arns() == [arn]
    acm = boto3.client("acm", region_name=REGION)
    got = acm.get_certificate(CertificateArn=arn)
    assert got["Certificate"].strip() == bundle.server_cert_pem.strip()
    assert bundle.ca_cert_pem.strip() in got["CertificateChain"]
    tags = acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]
    assert {"Key": authority.TAG_KEY, "Value": SECRET_NAME} in tags

    server = _acm_cert(arn)
    cn = server.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "server.cvpn-test-ca.cvpn.internal"
    ca = certs.cert_from_pem(bundle.ca_cert_pem)
    assert server.issuer == ca.subject
    assert certs.key_from_pem(bundle.server_key_pem).public_key().public_numbers() == (
        server.public_key().public_numbers()  # type: ignore[union-attr]
    )


def test_update_without_change_keeps_everything(kms_key: str) -> None:
    first = _create(kms_key)
    before = read_bundle()
    out = index.on_event(_event("Update", authority_props(kms_key), first["PhysicalResourceId"]))
    assert out == first
    assert read_bundle() == before
    assert len(_acm_arns()) == 1


def test_update_renews_near_expiry_under_same_arn_and_same_ca(kms_key: str) -> None:
    first = _create(kms_key, ServerValidityDays="20")
    before = read_bundle()
    arn = first["Data"]["ServerCertificateArn"]
    serial_before = _acm_cert(arn).serial_number
    # 20-day certificate, renew 30 days before expiry: re-issued and re-imported.
    out = index.on_event(
        _event(
            "Update", authority_props(kms_key, RenewBeforeDays="30"), first["PhysicalResourceId"]
        )
    )
    after = read_bundle()
    assert out["Data"]["ServerCertificateArn"] == arn
    assert _acm_arns() == [arn]
    assert after.ca_cert_pem == before.ca_cert_pem and after.ca_key_pem == before.ca_key_pem
    assert after.server_cert_pem != before.server_cert_pem
    renewed = _acm_cert(arn)
    assert renewed.serial_number != serial_before
    assert renewed.serial_number == certs.cert_from_pem(after.server_cert_pem).serial_number
    assert (renewed.not_valid_after_utc - renewed.not_valid_before_utc).days == 825


def test_update_server_name_reissues(kms_key: str) -> None:
    first = _create(kms_key)
    props = authority_props(kms_key, ServerName="vpn.corp.example")
    out = index.on_event(_event("Update", props, first["PhysicalResourceId"]))
    cert = _acm_cert(out["Data"]["ServerCertificateArn"])
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "vpn.corp.example"
    assert out["Data"] == first["Data"]


def test_retry_after_acm_import_failure_reuses_secret(
    kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    acm = aws.client("acm")
    real_import = acm.import_certificate
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": "LimitExceededException"}}, "ImportCertificate")
        return real_import(**kwargs)

    monkeypatch.setattr(acm, "import_certificate", flaky)
    with pytest.raises(RuntimeError, match="ImportCertificate failed: LimitExceededException"):
        _create(kms_key)
    half = read_bundle()
    assert half.server_cert_pem and not half.server_certificate_arn
    assert _acm_arns() == []

    out = _create(kms_key)
    done = read_bundle()
    assert done.ca_cert_pem == half.ca_cert_pem
    assert done.server_cert_pem == half.server_cert_pem  # the same cert was imported
    assert _acm_arns() == [out["Data"]["ServerCertificateArn"]]


def test_retry_after_arn_not_saved_finds_tagged_certificate(
    kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sm = aws.client("secretsmanager")
    real_put = sm.put_secret_value
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the first put saves the server cert, the second the ARN
            raise ClientError({"Error": {"Code": "InternalServiceError"}}, "PutSecretValue")
        return real_put(**kwargs)

    monkeypatch.setattr(sm, "put_secret_value", flaky)
    with pytest.raises(ClientError):
        _create(kms_key)
    assert len(_acm_arns()) == 1
    assert read_bundle().server_certificate_arn == ""

    out = _create(kms_key)
    assert _acm_arns() == [out["Data"]["ServerCertificateArn"]]
    assert read_bundle().server_certificate_arn == out["Data"]["ServerCertificateArn"]


def test_delete_removes_certificate_and_schedules_secret_deletion(kms_key: str) -> None:
    out = _create(kms_key, RecoveryWindowDays="7")
    pid = out["PhysicalResourceId"]
    props = authority_props(kms_key, RecoveryWindowDays="7")
    assert index.on_event(_event("Delete", props, pid)) == {"PhysicalResourceId": pid}
    assert _acm_arns() == []
    sm = boto3.client("secretsmanager", region_name=REGION)
    assert sm.describe_secret(SecretId=pid).get("DeletedDate") is not None
    # Deleting again (CloudFormation retries) succeeds.
    index.on_event(_event("Delete", props, pid))

    # Re-creating with the same name restores the secret (same ARN) and imports again.
    again = _create(kms_key)
    assert again["PhysicalResourceId"] == pid
    assert sm.describe_secret(SecretId=pid).get("DeletedDate") is None
    assert len(_acm_arns()) == 1


def test_recreate_after_delete_keeps_ca(kms_key: str) -> None:
    out = _create(kms_key)
    ca = read_bundle().ca_cert_pem
    index.on_event(_event("Delete", authority_props(kms_key), out["PhysicalResourceId"]))
    _create(kms_key)
    assert read_bundle().ca_cert_pem == ca


def test_delete_retained(kms_key: str) -> None:
    out = _create(kms_key)
    props = authority_props(kms_key, RetainOnDelete="true")
    index.on_event(_event("Delete", props, out["PhysicalResourceId"]))
    assert _acm_arns() == [out["Data"]["ServerCertificateArn"]]
    sm = boto3.client("secretsmanager", region_name=REGION)
    assert sm.describe_secret(SecretId=SECRET_NAME).get("DeletedDate") is None


def test_delete_with_certificate_in_use_leaves_it_and_warns(
    kms_key: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    out = _create(kms_key)
    acm = aws.client("acm")

    def in_use(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ResourceInUseException"}}, "DeleteCertificate")

    monkeypatch.setattr(acm, "delete_certificate", in_use)
    caplog.set_level(logging.INFO)
    props = authority_props(kms_key, InUseWaitSeconds="0")
    index.on_event(_event("Delete", props, out["PhysicalResourceId"]))
    assert "still in use" in caplog.text
    assert _acm_arns() == [out["Data"]["ServerCertificateArn"]]
    sm = boto3.client("secretsmanager", region_name=REGION)
    assert sm.describe_secret(SecretId=SECRET_NAME).get("DeletedDate") is not None


def test_delete_of_failed_create_does_nothing(kms_key: str) -> None:
    pid = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    assert index.on_event(_event("Delete", authority_props(kms_key), pid)) == {
        "PhysicalResourceId": pid
    }


def test_foreign_secret_is_refused_without_echoing_it(kms_key: str) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name=SECRET_NAME, SecretString="hunter2-not-a-bundle")
    with pytest.raises(ValueError, match="does not hold a constructs-cvpn CA bundle") as info:
        _create(kms_key)
    assert "hunter2" not in str(info.value)


def test_no_private_key_in_logs(kms_key: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="constructs_cvpn")
    out = _create(kms_key, ServerValidityDays="10")
    index.on_event(
        _event("Update", authority_props(kms_key, RenewBeforeDays="30"), out["PhysicalResourceId"])
    )
    assert "issued server certificate" in caplog.text
    assert "PRIVATE KEY" not in caplog.text


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"Kind": "Nope"}, "Kind must be one of"),
        ({"Kind": "Authority", "KmsKeyArn": "k"}, "CaSecretName is required"),
        (
            {"Kind": "Authority", "CaSecretName": "n", "KmsKeyArn": "k", "RenewBeforeDays": "x"},
            "RenewBeforeDays must be an integer",
        ),
    ],
)
def test_invalid_properties(aws_env: None, props: dict[str, str], message: str) -> None:
    with pytest.raises(PropertyError, match=message):
        index.on_event(_event("Create", props))
