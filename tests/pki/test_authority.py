"""``Kind=Authority``: CA secret per Create request, server certificate in ACM, renewal, delete.

Expected names and tags are written here from the contract, not imported from the handler:
the secret is ``<CaSecretPrefix>-<sha256(RequestId)[:16]>``, the ACM certificate carries
``constructs-cvpn:ca-secret = <secret name>``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from constructs_cvpn.handlers.pki import acm as pki_acm
from constructs_cvpn.handlers.pki import aws, certs, index
from constructs_cvpn.handlers.pki.props import PropertyError

from .. import certs as factory
from .conftest import (
    READER_ROLES,
    REGION,
    REQUEST_ID,
    SECRET_PREFIX,
    Clock,
    authority_props,
    read_bundle,
    secret_name,
)

ACM_TAG = "constructs-cvpn:ca-secret"
REQUEST_TAG = "constructs-cvpn:ca-request"
DEFAULT_SERVER_NAME = "server.cvpn-test-ca.cvpn.internal"


def _event(
    request: str, props: dict[str, Any], pid: str | None = None, request_id: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {"RequestType": request, "ResourceProperties": props}
    if pid is not None:
        event["PhysicalResourceId"] = pid
    if request_id is not None:
        event["RequestId"] = request_id
    return event


def _acm() -> Any:
    return boto3.client("acm", region_name=REGION)


def _sm() -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


def _acm_arns() -> list[str]:
    return [c["CertificateArn"] for c in _acm().list_certificates()["CertificateSummaryList"]]


def _acm_cert(arn: str) -> x509.Certificate:
    pem = _acm().get_certificate(CertificateArn=arn)["Certificate"]
    return x509.load_pem_x509_certificate(pem.encode())


def _create(kms_key: str, request_id: str = REQUEST_ID, **extra: str) -> dict[str, Any]:
    props = authority_props(kms_key, **extra)
    return index.on_event(_event("Create", props, request_id=request_id))


def _update(kms_key: str, pid: str, request: str = "Update", **extra: str) -> dict[str, Any]:
    return index.on_event(_event(request, authority_props(kms_key, **extra), pid))


def _count_imports() -> list[dict[str, Any]]:
    """Record the parameters of every ImportCertificate the handler sends."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append({k: v for k, v in params.items() if k != "PrivateKey"})

    aws.client("acm").meta.events.register("provide-client-params.acm.ImportCertificate", record)
    return calls


def _emf_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            lines.append(json.loads(line))
    return lines


def test_create_names_secret_from_request_id_and_imports_server_cert(kms_key: str) -> None:
    out = _create(kms_key)
    name = f"{SECRET_PREFIX}-{hashlib.sha256(REQUEST_ID.encode()).hexdigest()[:16]}"
    data = out["Data"]
    assert set(data) == {"ServerCertificateArn", "ClientRootCertificateArn"}
    arn = data["ServerCertificateArn"]
    assert data["ClientRootCertificateArn"] == arn  # same CA: the server cert is the root chain
    assert "PRIVATE KEY" not in json.dumps(out)

    described = _sm().describe_secret(SecretId=name)
    assert out["PhysicalResourceId"] == described["ARN"]
    assert described["Name"] == name
    assert described["KmsKeyId"] == kms_key
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags[REQUEST_TAG] == hashlib.sha256(REQUEST_ID.encode()).hexdigest()[:16]

    bundle = read_bundle(name)
    assert bundle.server_certificate_arn == arn
    assert _acm_arns() == [arn]
    got = _acm().get_certificate(CertificateArn=arn)
    assert got["Certificate"].strip() == bundle.server_cert_pem.strip()
    assert bundle.ca_cert_pem.strip() in got["CertificateChain"]
    acm_tags = _acm().list_tags_for_certificate(CertificateArn=arn)["Tags"]
    assert {"Key": ACM_TAG, "Value": name} in acm_tags

    server = _acm_cert(arn)
    cn = server.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == DEFAULT_SERVER_NAME
    ca = x509.load_pem_x509_certificate(bundle.ca_cert_pem.encode())
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)
    assert certs.key_from_pem(bundle.server_key_pem).public_key().public_numbers() == (
        server.public_key().public_numbers()  # type: ignore[union-attr]
    )


def test_create_guards_the_secret_with_a_resource_policy(kms_key: str) -> None:
    """Catches: the deny missing an action or a reader, or ``BlockPublicPolicy`` off (moto
    does not keep that flag, so the request is checked: Secrets Manager then accepts a
    policy that opens the CA's key to every principal)."""
    sent: list[dict[str, Any]] = []
    aws.client("secretsmanager").meta.events.register(
        "provide-client-params.secretsmanager.PutResourcePolicy",
        lambda params, **_: sent.append(dict(params)),
    )
    out = _create(kms_key)
    assert [p["BlockPublicPolicy"] for p in sent] == [True]
    got = _sm().get_resource_policy(SecretId=out["PhysicalResourceId"])
    statement, admin = json.loads(got["ResourcePolicy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert sorted(statement["Action"]) == [
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecret",
    ]
    assert statement["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": READER_ROLES}}
    # Without GuardAdminArns the readers also administer (a function the construct
    # deploys always sends them: the CA role and the break-glass principal).
    assert (admin["Effect"], admin["Principal"]) == ("Deny", "*")
    assert sorted(admin["Action"]) == [
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:DeleteSecret",
        "secretsmanager:PutResourcePolicy",
    ]
    assert admin["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": READER_ROLES}}


@pytest.mark.parametrize("readers", [None, [], "arn:aws:iam::123456789012:role/x"])
def test_create_without_reader_roles_is_refused(kms_key: str, readers: Any) -> None:
    props = authority_props(kms_key)
    if readers is None:
        del props["ReaderRoleArns"]
    else:
        props["ReaderRoleArns"] = readers
    with pytest.raises(PropertyError, match="ReaderRoleArns"):
        index.on_event(_event("Create", props, request_id=REQUEST_ID))
    assert _sm().list_secrets(IncludePlannedDeletion=True)["SecretList"] == []


def test_create_without_request_id_is_refused(kms_key: str) -> None:
    with pytest.raises(PropertyError, match="RequestId"):
        index.on_event(_event("Create", authority_props(kms_key)))
    assert _sm().list_secrets()["SecretList"] == []


def test_retry_of_same_create_reuses_its_secret_and_certificate(kms_key: str) -> None:
    first = _create(kms_key)
    before = read_bundle()
    imports = _count_imports()
    again = _create(kms_key)
    assert again == first
    assert read_bundle() == before
    assert imports == []  # no second import
    assert _acm_arns() == [first["Data"]["ServerCertificateArn"]]
    assert len(_sm().list_secrets()["SecretList"]) == 1


def test_creates_with_different_request_ids_make_different_cas(kms_key: str) -> None:
    one = _create(kms_key, request_id="request-one")
    two = _create(kms_key, request_id="request-two")
    assert one["PhysicalResourceId"] != two["PhysicalResourceId"]
    assert one["Data"]["ServerCertificateArn"] != two["Data"]["ServerCertificateArn"]
    a, b = read_bundle(secret_name("request-one")), read_bundle(secret_name("request-two"))
    assert a.ca_cert_pem != b.ca_cert_pem and a.ca_key_pem != b.ca_key_pem
    assert sorted(_acm_arns()) == sorted(
        [one["Data"]["ServerCertificateArn"], two["Data"]["ServerCertificateArn"]]
    )


@pytest.mark.parametrize("squat", ["no-tag", "other-kms-key", "no-kms-key", "other-marker"])
def test_existing_secret_not_created_by_this_request_is_refused(kms_key: str, squat: str) -> None:
    marker = hashlib.sha256(REQUEST_ID.encode()).hexdigest()[:16]
    kwargs: dict[str, Any] = {"Name": secret_name(), "SecretString": "hunter2-not-a-bundle"}
    if squat == "no-tag":
        kwargs["KmsKeyId"] = kms_key
    elif squat == "other-kms-key":
        other = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        kwargs.update(KmsKeyId=other, Tags=[{"Key": REQUEST_TAG, "Value": marker}])
    elif squat == "no-kms-key":
        kwargs["Tags"] = [{"Key": REQUEST_TAG, "Value": marker}]
    else:
        kwargs.update(KmsKeyId=kms_key, Tags=[{"Key": REQUEST_TAG, "Value": "0" * 16}])
    _sm().create_secret(**kwargs)

    with pytest.raises(RuntimeError, match="refusing to use the existing secret") as info:
        _create(kms_key)
    assert "hunter2" not in str(info.value)
    assert _sm().get_secret_value(SecretId=secret_name())["SecretString"] == (
        "hunter2-not-a-bundle"
    )
    assert _acm_arns() == []


def test_update_without_change_keeps_everything(kms_key: str) -> None:
    first = _create(kms_key)
    before = read_bundle()
    imports = _count_imports()
    out = _update(kms_key, first["PhysicalResourceId"])
    assert out == first
    assert read_bundle() == before
    assert imports == []
    assert len(_acm_arns()) == 1


def test_update_renews_near_expiry_under_same_arn_and_same_ca(kms_key: str) -> None:
    first = _create(kms_key, ServerValidityDays="20")
    before = read_bundle()
    arn = first["Data"]["ServerCertificateArn"]
    serial_before = _acm_cert(arn).serial_number
    # 20-day certificate, renew 30 days before expiry: re-issued and re-imported.
    out = _update(kms_key, first["PhysicalResourceId"], RenewBeforeDays="30")
    after = read_bundle()
    assert out["Data"]["ServerCertificateArn"] == arn
    assert _acm_arns() == [arn]
    assert after.ca_cert_pem == before.ca_cert_pem and after.ca_key_pem == before.ca_key_pem
    assert after.server_cert_pem != before.server_cert_pem
    renewed = _acm_cert(arn)
    assert renewed.serial_number != serial_before
    assert renewed.serial_number == certs.cert_from_pem(after.server_cert_pem).serial_number
    assert (renewed.not_valid_after_utc - renewed.not_valid_before_utc).days == 825
    tags = _acm().list_tags_for_certificate(CertificateArn=arn)["Tags"]
    assert {"Key": ACM_TAG, "Value": secret_name()} in tags


def test_scheduled_renew_reimports_under_same_arn_and_reports_days(
    kms_key: str, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _create(kms_key, MetricDimension="VpnA1B2")
    pid, arn = first["PhysicalResourceId"], first["Data"]["ServerCertificateArn"]
    old = _acm_cert(arn)
    capsys.readouterr()

    # Nothing due: a Renew imports nothing, still reports days to expiry.
    imports = _count_imports()
    assert _update(kms_key, pid, "Renew", MetricDimension="VpnA1B2") == first
    assert imports == []
    line, ca_line = _emf_lines(capsys.readouterr().out)
    assert 824 < line["DaysToExpiry"] <= 825
    assert "CaDaysToExpiry" in ca_line and "DaysToExpiry" not in ca_line

    clock.advance(800)  # 25 days left, within the default 30
    before = clock.now()
    out = _update(kms_key, pid, "Renew", MetricDimension="VpnA1B2")
    after = clock.now()
    assert out == {"PhysicalResourceId": pid, "Data": first["Data"]}
    assert _acm_arns() == [arn]
    assert [c.get("CertificateArn") for c in imports] == [arn]
    new = _acm_cert(arn)
    assert new.serial_number != old.serial_number
    assert new.serial_number == certs.cert_from_pem(read_bundle().server_cert_pem).serial_number
    # Issued "now", backdated 5 minutes for clock skew (certs.py).
    skew = dt.timedelta(minutes=5)
    assert before - skew - dt.timedelta(seconds=1) <= new.not_valid_before_utc <= after - skew
    assert new.issuer == old.issuer
    chain = _acm().get_certificate(CertificateArn=arn)["CertificateChain"]
    assert read_bundle().ca_cert_pem.strip() in chain

    line, _ca_line = _emf_lines(capsys.readouterr().out)
    assert line["Vpn"] == "VpnA1B2"
    # From the run's "now" (between before and after), in hundredths of a day.
    low, high = ((new.not_valid_after_utc - t).total_seconds() / 86400 for t in (after, before))
    assert low - 0.005 <= line["DaysToExpiry"] <= high + 0.005
    (metrics,) = line["_aws"]["CloudWatchMetrics"]
    assert metrics["Namespace"] == "constructs-cvpn"
    assert metrics["Dimensions"] == [["Vpn"]]
    assert [m["Name"] for m in metrics["Metrics"]] == ["DaysToExpiry"]


def test_days_to_expiry_is_capped_by_the_ca(
    kms_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = dt.datetime.now(dt.UTC)
    _create(kms_key, CaValidityDays="100", MetricDimension="Vpn1")
    after = dt.datetime.now(dt.UTC)
    line, ca_line = _emf_lines(capsys.readouterr().out)
    ca = certs.cert_from_pem(read_bundle().ca_cert_pem)
    low, high = ((ca.not_valid_after_utc - t).total_seconds() / 86400 for t in (after, before))
    assert low - 0.005 <= line["DaysToExpiry"] <= high + 0.005
    assert line["DaysToExpiry"] <= 100  # the server certificate ends with the CA
    # The CA's own days (its alarm fires months ahead): here the same end.
    assert low - 0.005 <= ca_line["CaDaysToExpiry"] <= high + 0.005
    assert ca_line["Vpn"] == "Vpn1"


def test_no_metric_line_without_dimension(kms_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    _create(kms_key)
    assert _emf_lines(capsys.readouterr().out) == []


@pytest.mark.parametrize("days", ["0", "3650"])
def test_renew_before_days_accepts_both_ends_of_its_range(kms_key: str, days: str) -> None:
    """``RenewBeforeDays`` is 0-3650 (the handler's documented range): both ends are valid,
    0 = renew only once expired, 3650 = renew on every run (the certificate lives 825 days)."""
    pid = _create(kms_key)["PhysicalResourceId"]
    before = read_bundle().server_cert_pem
    out = _update(kms_key, pid, RenewBeforeDays=days)
    assert out["PhysicalResourceId"] == pid
    assert (read_bundle().server_cert_pem != before) is (days == "3650")


def test_update_server_name_reissues(kms_key: str) -> None:
    first = _create(kms_key)
    out = _update(kms_key, first["PhysicalResourceId"], ServerName="vpn.corp.example")
    cert = _acm_cert(out["Data"]["ServerCertificateArn"])
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "vpn.corp.example"
    assert out["Data"] == first["Data"]


def test_update_with_another_kms_key_reencrypts_the_secret(kms_key: str) -> None:
    first = _create(kms_key)
    other = str(boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"])
    props = {**authority_props(other)}
    out = index.on_event(_event("Update", props, first["PhysicalResourceId"]))
    assert out == first
    assert _sm().describe_secret(SecretId=first["PhysicalResourceId"])["KmsKeyId"] == other


def test_update_with_a_physical_id_that_is_not_a_secret_arn(kms_key: str) -> None:
    with pytest.raises(PropertyError, match="not a Secrets Manager secret ARN"):
        _update(kms_key, "cvpn/test/ca")


def test_certificate_deleted_outside_is_imported_again(kms_key: str) -> None:
    first = _create(kms_key)
    _acm().delete_certificate(CertificateArn=first["Data"]["ServerCertificateArn"])
    out = _update(kms_key, first["PhysicalResourceId"])
    arn = out["Data"]["ServerCertificateArn"]
    assert _acm_arns() == [arn]
    assert arn != first["Data"]["ServerCertificateArn"]
    assert read_bundle().server_certificate_arn == arn


def _fail_import_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the handler's next ImportCertificate fail (once), before it reaches ACM."""
    acm = aws.client("acm")
    real_import = acm.import_certificate
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": "LimitExceededException"}}, "ImportCertificate")
        return real_import(**kwargs)

    monkeypatch.setattr(acm, "import_certificate", flaky)


def _fail_put(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """Make the handler's ``nth`` PutSecretValue from now on fail (once)."""
    sm = aws.client("secretsmanager")
    real_put = sm.put_secret_value
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == nth:
            raise ClientError({"Error": {"Code": "InternalServiceError"}}, "PutSecretValue")
        return real_put(**kwargs)

    monkeypatch.setattr(sm, "put_secret_value", flaky)


def _assert_no_secret_at_all(name: str) -> None:
    """Neither the secret nor a secret scheduled for deletion: deleted without recovery."""
    assert _sm().list_secrets(IncludePlannedDeletion=True)["SecretList"] == []
    with pytest.raises(ClientError) as info:
        _sm().describe_secret(SecretId=name)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


# A failed Create cleans up after itself: the function answers the rollback's Delete
# (physical id CREATE_FAILED) without calling on_event, so the handler never sees it.
@pytest.mark.parametrize(
    ("failure", "imported"),
    [
        ("import-claim-save", 0),  # first PutSecretValue (the import claim): before any import
        ("acm-import", 0),
        ("arn-save", 1),  # second PutSecretValue: the certificate is in ACM by then
    ],
)
def test_failed_create_leaves_no_secret_and_no_certificate(
    kms_key: str, monkeypatch: pytest.MonkeyPatch, failure: str, imported: int
) -> None:
    imports = _count_imports()
    if failure == "acm-import":
        _fail_import_once(monkeypatch)
        with pytest.raises(RuntimeError, match="ImportCertificate failed: LimitExceededException"):
            _create(kms_key)
    else:
        _fail_put(monkeypatch, 1 if failure == "import-claim-save" else 2)
        with pytest.raises(ClientError, match="InternalServiceError"):
            _create(kms_key)
    assert len(imports) == imported
    _assert_no_secret_at_all(secret_name())
    assert _acm_arns() == []


def test_failed_resource_policy_leaves_no_secret(
    kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sm = aws.client("secretsmanager")

    def denied(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "PutResourcePolicy")

    monkeypatch.setattr(sm, "put_resource_policy", denied)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        _create(kms_key)
    _assert_no_secret_at_all(secret_name())
    assert _acm_arns() == []


def test_failed_create_whose_clean_up_fails_reports_the_first_error(
    kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_import_once(monkeypatch)
    sm = aws.client("secretsmanager")

    def denied(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "DeleteSecret")

    monkeypatch.setattr(sm, "delete_secret", denied)
    with pytest.raises(RuntimeError, match="ImportCertificate failed: LimitExceededException"):
        _create(kms_key)


# Retries of an Update or a Renew that re-issues the server certificate: the secret stays,
# the certificate saved before the import is the one imported, under the same ACM ARN.
@pytest.mark.parametrize("change", ["server-name", "renewal"])
def test_retry_after_acm_import_failure_imports_the_saved_cert_under_the_same_arn(
    kms_key: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    first = _create(kms_key)
    pid, arn = first["PhysicalResourceId"], first["Data"]["ServerCertificateArn"]
    before = read_bundle()
    old_serial = _acm_cert(arn).serial_number
    if change == "server-name":
        request, extra = "Update", {"ServerName": "vpn.corp.example"}
    else:
        clock.advance(800)  # 25 days left, within the default 30
        request, extra = "Renew", {}

    _fail_import_once(monkeypatch)
    with pytest.raises(RuntimeError, match="ImportCertificate failed: LimitExceededException"):
        _update(kms_key, pid, request, **extra)
    half = read_bundle()
    assert _sm().describe_secret(SecretId=pid).get("DeletedDate") is None  # not discarded
    assert half.ca_cert_pem == before.ca_cert_pem and half.ca_key_pem == before.ca_key_pem
    assert half.server_cert_pem != before.server_cert_pem  # saved before the import
    assert half.server_certificate_arn == arn
    assert _acm_arns() == [arn]
    assert _acm_cert(arn).serial_number == old_serial  # ACM still serves the old one

    imports = _count_imports()
    out = _update(kms_key, pid, request, **extra)  # the retry
    assert out == {"PhysicalResourceId": pid, "Data": first["Data"]}
    assert read_bundle() == half  # the saved certificate, not a third one
    assert [c.get("CertificateArn") for c in imports] == [arn]
    assert _acm_arns() == [arn]
    served = _acm_cert(arn)
    assert served.serial_number == certs.cert_from_pem(half.server_cert_pem).serial_number
    assert served.serial_number != old_serial
    if change == "server-name":
        cn = served.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert cn == "vpn.corp.example"
    assert {"Key": ACM_TAG, "Value": secret_name()} in (
        _acm().list_tags_for_certificate(CertificateArn=arn)["Tags"]
    )
    assert len(_sm().list_secrets(IncludePlannedDeletion=True)["SecretList"]) == 1


def _import_foreign(tag_value: str) -> str:
    """A certificate from another CA carrying our tag (ours by name, not by serial)."""
    ca = factory.make_ca("someone else")
    server = factory.make_server(ca, "server.other.example")
    return str(
        _acm().import_certificate(
            Certificate=server.cert_pem.encode(),
            PrivateKey=server.key_pem.encode(),
            CertificateChain=ca.cert_pem.encode(),
            Tags=[{"Key": ACM_TAG, "Value": tag_value}],
        )["CertificateArn"]
    )


# An Update saves the ACM ARN only when it changes: when the certificate was deleted outside
# and is imported again. A retry after that save failed finds the certificate by tag, and
# only one with its own serial (a foreign certificate carrying the tag is listed first).
@pytest.mark.parametrize("foreign_tagged", [False, True])
def test_retry_after_arn_not_saved_finds_its_own_tagged_certificate(
    kms_key: str, monkeypatch: pytest.MonkeyPatch, foreign_tagged: bool
) -> None:
    first = _create(kms_key)
    pid, gone = first["PhysicalResourceId"], first["Data"]["ServerCertificateArn"]
    _acm().delete_certificate(CertificateArn=gone)
    foreign = _import_foreign(secret_name()) if foreign_tagged else ""
    foreign_serial = _acm_cert(foreign).serial_number if foreign else 0
    server_pem = read_bundle().server_cert_pem

    # The Update's saves: the import claim, then the new ARN (no re-issue). The second fails.
    _fail_put(monkeypatch, 2)
    with pytest.raises(ClientError, match="InternalServiceError"):
        _update(kms_key, pid)
    (ours,) = set(_acm_arns()) - {foreign}
    assert read_bundle().server_certificate_arn == gone  # not saved
    assert _sm().describe_secret(SecretId=pid).get("DeletedDate") is None  # not discarded

    imports = _count_imports()
    out = _update(kms_key, pid)  # the retry
    assert out == {
        "PhysicalResourceId": pid,
        "Data": {"ServerCertificateArn": ours, "ClientRootCertificateArn": ours},
    }
    assert imports == []
    done = read_bundle()
    assert done.server_certificate_arn == ours
    assert done.server_cert_pem == server_pem
    assert _acm_cert(ours).serial_number == certs.cert_from_pem(server_pem).serial_number
    assert sorted(_acm_arns()) == sorted(a for a in (ours, foreign) if a)
    if foreign:
        assert _acm_cert(foreign).serial_number == foreign_serial  # not overwritten either


def test_tagged_certificate_with_another_serial_is_never_reused(kms_key: str) -> None:
    foreign = _import_foreign(secret_name())
    foreign_serial = _acm_cert(foreign).serial_number
    out = _create(kms_key)
    arn = out["Data"]["ServerCertificateArn"]
    assert arn != foreign
    assert _acm_cert(arn).serial_number == (
        certs.cert_from_pem(read_bundle().server_cert_pem).serial_number
    )
    assert _acm_cert(foreign).serial_number == foreign_serial  # not overwritten either


def test_failed_create_deletes_only_its_own_tagged_certificate(
    kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    foreign = _import_foreign(secret_name())  # a tag anyone can set is no proof
    foreign_serial = _acm_cert(foreign).serial_number
    imports = _count_imports()
    _fail_put(monkeypatch, 2)  # the ARN save: our certificate is in ACM by then
    with pytest.raises(ClientError, match="InternalServiceError"):
        _create(kms_key)
    assert len(imports) == 1
    _assert_no_secret_at_all(secret_name())
    assert _acm_arns() == [foreign]
    assert _acm_cert(foreign).serial_number == foreign_serial


def test_delete_leaves_a_foreign_certificate_carrying_the_tag(kms_key: str) -> None:
    out = _create(kms_key)
    foreign = _import_foreign(secret_name())
    index.on_event(_event("Delete", authority_props(kms_key), out["PhysicalResourceId"]))
    assert _acm_arns() == [foreign]


def test_delete_removes_certificate_and_schedules_secret_deletion_in_30_days(
    kms_key: str,
) -> None:
    out = _create(kms_key)
    pid = out["PhysicalResourceId"]
    props = authority_props(kms_key, RecoveryWindowDays="7")  # no longer read
    before = dt.datetime.now(dt.UTC)
    assert index.on_event(_event("Delete", props, pid)) == {"PhysicalResourceId": pid}
    after = dt.datetime.now(dt.UTC)
    assert _acm_arns() == []
    deleted = _sm().describe_secret(SecretId=pid).get("DeletedDate")
    assert deleted is not None
    thirty = dt.timedelta(days=30)  # the handler's recovery window
    second = dt.timedelta(seconds=1)  # DeletedDate may be truncated to the second
    assert before + thirty - second <= deleted <= after + thirty + second
    # Deleting again (CloudFormation retries) succeeds.
    index.on_event(_event("Delete", props, pid))


def test_delete_removes_a_tagged_certificate_of_this_ca_that_the_secret_does_not_name(
    kms_key: str,
) -> None:
    """An import whose ARN was never saved (a run that died after ImportCertificate) is still
    this CA's: Delete finds it by the tag (the secret's name, without Secrets Manager's
    ``-XXXXXX`` suffix) and removes it with the saved one."""
    out = _create(kms_key)
    bundle = read_bundle()
    ca = factory.Issued(
        cert_pem=bundle.ca_cert_pem,
        key_pem=bundle.ca_key_pem,
        cert=x509.load_pem_x509_certificate(bundle.ca_cert_pem.encode()),
        key=serialization.load_pem_private_key(bundle.ca_key_pem.encode(), None),  # type: ignore[arg-type]
    )
    orphan = factory.make_server(ca, "server.orphan.cvpn.internal")
    _acm().import_certificate(
        Certificate=orphan.cert_pem.encode(),
        PrivateKey=orphan.key_pem.encode(),
        CertificateChain=bundle.ca_cert_pem.encode(),
        Tags=[{"Key": ACM_TAG, "Value": secret_name()}],
    )
    assert len(_acm_arns()) == 2
    index.on_event(_event("Delete", authority_props(kms_key), out["PhysicalResourceId"]))
    assert _acm_arns() == []


def test_update_with_other_reader_roles_rewrites_the_guard(kms_key: str) -> None:
    """New handler roles (a renamed stack) must be let in before the Update reads the secret."""
    pid = _create(kms_key)["PhysicalResourceId"]
    roles = [
        "arn:aws:iam::123456789012:role/cvpn-ca-handler-v2",
        "arn:aws:iam::123456789012:role/cvpn-users-handler-v2",
    ]
    _update(kms_key, pid, ReaderRoleArns=roles)
    policy = json.loads(_sm().get_resource_policy(SecretId=pid)["ResourcePolicy"])
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": roles}}


def test_recreate_after_delete_makes_a_new_ca(kms_key: str) -> None:
    out = _create(kms_key)
    old_ca = read_bundle().ca_cert_pem
    index.on_event(_event("Delete", authority_props(kms_key), out["PhysicalResourceId"]))
    again = _create(kms_key, request_id="another-request")
    assert again["PhysicalResourceId"] != out["PhysicalResourceId"]
    assert read_bundle(secret_name("another-request")).ca_cert_pem != old_ca
    described = _sm().describe_secret(SecretId=out["PhysicalResourceId"])
    assert described.get("DeletedDate") is not None  # the old CA stays deleted
    assert _acm_arns() == [again["Data"]["ServerCertificateArn"]]


def test_update_after_delete_restores_the_secret(kms_key: str) -> None:
    out = _create(kms_key)
    pid = out["PhysicalResourceId"]
    ca = read_bundle().ca_cert_pem
    index.on_event(_event("Delete", authority_props(kms_key), pid))
    again = _update(kms_key, pid)
    assert again["PhysicalResourceId"] == pid
    assert _sm().describe_secret(SecretId=pid).get("DeletedDate") is None
    assert read_bundle().ca_cert_pem == ca
    assert _acm_arns() == [again["Data"]["ServerCertificateArn"]]


def test_renew_after_delete_restores_nothing(kms_key: str) -> None:
    out = _create(kms_key)
    pid = out["PhysicalResourceId"]
    index.on_event(_event("Delete", authority_props(kms_key), pid))
    with contextlib.suppress(Exception):  # refusing is fine too; restoring is not
        _update(kms_key, pid, "Renew")
    assert _sm().describe_secret(SecretId=pid).get("DeletedDate") is not None
    assert _acm_arns() == []


def test_retain_on_delete_is_no_longer_read(kms_key: str) -> None:
    out = _create(kms_key)
    props = authority_props(kms_key, RetainOnDelete="true")
    index.on_event(_event("Delete", props, out["PhysicalResourceId"]))
    assert _acm_arns() == []
    assert _sm().describe_secret(SecretId=secret_name()).get("DeletedDate") is not None


def test_delete_with_certificate_in_use_leaves_it_without_the_server_key(
    kms_key: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Still in use after the wait: the certificate stays (ACM refuses), but a throwaway
    certificate with a key of its own is re-imported over it (issue 19: the server key
    stayed in ACM)."""
    out = _create(kms_key)
    server = x509.load_pem_x509_certificate(read_bundle().server_cert_pem.encode())
    acm = aws.client("acm")

    def in_use(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ResourceInUseException"}}, "DeleteCertificate")

    monkeypatch.setattr(acm, "delete_certificate", in_use)
    monkeypatch.setattr(pki_acm, "IN_USE_WAIT_SECONDS", 0)  # hard-coded 240 s otherwise
    caplog.set_level(logging.INFO)
    props = authority_props(kms_key, InUseWaitSeconds="600")  # no longer read
    index.on_event(_event("Delete", props, out["PhysicalResourceId"]))
    assert "still in use" in caplog.text
    arn = out["Data"]["ServerCertificateArn"]
    assert _acm_arns() == [arn]
    left = x509.load_pem_x509_certificate(
        _acm().get_certificate(CertificateArn=arn)["Certificate"].encode()
    )
    assert left.public_key() != server.public_key(), "the server's key pair is still in ACM"
    assert left.subject == server.subject, "same name: ACM re-import rules"
    assert _sm().describe_secret(SecretId=secret_name()).get("DeletedDate") is not None


def test_delete_of_failed_create_does_nothing(kms_key: str) -> None:
    pid = "constructs-cvpn::CREATE_FAILED"
    assert index.on_event(_event("Delete", authority_props(kms_key), pid)) == {
        "PhysicalResourceId": pid
    }


def test_no_private_key_in_logs(kms_key: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="constructs_cvpn")
    out = _create(kms_key, ServerValidityDays="10")
    _update(kms_key, out["PhysicalResourceId"], RenewBeforeDays="30")
    assert "issued server certificate" in caplog.text
    assert "PRIVATE KEY" not in caplog.text


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"ResourceProperties": {"Kind": "Nope"}}, "Kind must be one of"),
        (
            {"ResourceProperties": {"Kind": "Authority", "KmsKeyArn": "k"}},
            "CaSecretPrefix is required",
        ),
        (
            {
                "ResourceProperties": {
                    "Kind": "Authority",
                    "CaSecretPrefix": "n",
                    "KmsKeyArn": "k",
                    "RenewBeforeDays": "x",
                }
            },
            "RenewBeforeDays must be an integer",
        ),
        (
            {
                "RequestType": "Refresh",
                "ResourceProperties": {"Kind": "Authority", "CaSecretPrefix": "n"},
            },
            "unknown RequestType",
        ),
    ],
)
def test_invalid_properties(aws_env: None, event: dict[str, Any], message: str) -> None:
    with pytest.raises(PropertyError, match=message):
        index.on_event({"RequestType": "Create", "RequestId": "r", **event})
