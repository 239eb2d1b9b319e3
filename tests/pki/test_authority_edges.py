"""``Kind=Authority`` at the edges: property ranges, physical ids that are not secret ARNs, a
renewal of a deleted secret, and what Delete schedules.

moto (the PKI conftest) for Secrets Manager, KMS and ACM. Oracles: the handler's docstring
(``CaValidityDays`` 1-36500, ``ServerValidityDays`` 1-3650, ``RenewBeforeDays`` 0-3650,
refused before any AWS call; the physical id is a Secrets Manager secret ARN), the Secrets
Manager API reference (``DeleteSecret``: ``RecoveryWindowInDays`` 7-30, default 30; a
secret's ARN ends in ``-`` and six random characters; ``DescribeSecret`` shows
``DeletedDate`` for a secret scheduled for deletion) and the server certificate's subject.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from constructs_cvpn.handlers.pki import authority, certs
from constructs_cvpn.handlers.pki.props import PropertyError

from .conftest import REGION, Clock, authority_props, read_bundle
from .test_authority import _create, _emf_lines, _update

NOT_A_SECRET = "arn:aws:s3:::cvpn-configs"  # an ARN, of another service


@pytest.mark.parametrize(
    ("name", "accepted", "refused"),
    [
        ("CaValidityDays", ["1", "36500"], ["0", "36501"]),
        ("ServerValidityDays", ["1", "3650"], ["0", "3651"]),
        ("RenewBeforeDays", ["0", "3650"], ["-1", "3651"]),
    ],
)
def test_day_counts_take_both_ends_of_their_range_and_nothing_past(
    name: str, accepted: list[str], refused: list[str]
) -> None:
    """Checked before any AWS call: a value in range gets as far as the physical id check."""
    for value in accepted:
        with pytest.raises(PropertyError, match="not a Secrets Manager secret ARN"):
            authority.create_or_update({**authority_props("k"), name: value}, physical_id="x")
    for value in refused:
        with pytest.raises(PropertyError, match=name):
            authority.create_or_update({**authority_props("k"), name: value}, physical_id="x")


def test_an_arn_of_another_service_is_no_physical_id(kms_key: str) -> None:
    with pytest.raises(PropertyError, match="not a Secrets Manager secret ARN"):
        _update(kms_key, NOT_A_SECRET)


def test_renewing_a_secret_that_is_gone_does_nothing(kms_key: str) -> None:
    arn = _create(kms_key)["PhysicalResourceId"]
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert authority.create_or_update(authority_props(kms_key), physical_id=arn, renew=True) == (
        arn,
        {},
    )


def test_a_renewal_is_not_the_default(kms_key: str) -> None:
    """Only a Renew is quiet about a deleted secret; an Update of one fails."""
    arn = _create(kms_key)["PhysicalResourceId"]
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as raised:
        authority.create_or_update(authority_props(kms_key), physical_id=arn)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_delete_schedules_the_secret_with_the_longest_recovery_window(kms_key: str) -> None:
    """30 days, Secrets Manager's longest (and default) window: the CA key stays recoverable
    for as long as the service allows after a stack deletion."""
    arn = _create(kms_key)["PhysicalResourceId"]
    calls: list[dict[str, Any]] = []
    sm = authority.client("secretsmanager")
    sm.meta.events.register(
        "provide-client-params.secrets-manager.DeleteSecret",
        lambda params, **_: calls.append(dict(params)),
    )
    authority.delete(arn, authority_props(kms_key))
    assert [c.get("RecoveryWindowInDays") for c in calls] == [30]
    described = boto3.client("secretsmanager", region_name=REGION).describe_secret(SecretId=arn)
    assert isinstance(described.get("DeletedDate"), dt.datetime)


def test_delete_finds_the_certificates_by_the_secret_name_without_its_suffix(
    kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = _create(kms_key)["PhysicalResourceId"]
    asked: list[str] = []
    monkeypatch.setattr(authority.acm, "tagged_certificates", lambda n: asked.append(n) or [])
    authority.delete(arn, authority_props(kms_key))
    name = arn.split(":secret:", 1)[1]
    assert asked == [name[: -len("-XXXXXX")]]


def test_the_ca_metric_counts_days_of_86400_seconds(
    kms_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """At the longest CA lifetime a day's length shows: 36,500 days is 0.42 days short if a
    day were 86,401 seconds."""
    before = dt.datetime.now(dt.UTC)
    _create(kms_key, CaValidityDays="36500", MetricDimension="Vpn1")
    after = dt.datetime.now(dt.UTC)
    _line, ca_line = _emf_lines(capsys.readouterr().out)
    ca = certs.cert_from_pem(read_bundle().ca_cert_pem)
    low, high = ((ca.not_valid_after_utc - t).total_seconds() / 86400 for t in (after, before))
    assert low - 0.005 <= ca_line["CaDaysToExpiry"] <= high + 0.005


@pytest.mark.parametrize(("days_left", "renewed"), [(30.5, False), (29.5, True)])
def test_without_renew_before_days_the_window_is_30_days(
    kms_key: str, clock: Clock, days_left: float, renewed: bool
) -> None:
    pid = _create(kms_key)["PhysicalResourceId"]
    server = certs.cert_from_pem(read_bundle().server_cert_pem)
    props = authority_props(kms_key)
    props.pop("RenewBeforeDays", None)
    clock.advance((server.not_valid_after_utc - clock.now()).total_seconds() / 86400 - days_left)
    authority.create_or_update(props, physical_id=pid)
    assert (read_bundle().server_cert_pem != certs.cert_to_pem(server)) is renewed


def test_a_delete_with_an_arn_of_another_service_reads_no_secret(kms_key: str) -> None:
    """Such an id is CloudFormation's own (the Create never answered): what this resource
    made is found by its tags, never by reading that id as a secret."""
    calls: list[str] = []
    authority.client("secretsmanager").meta.events.register(
        "provide-client-params.secrets-manager.*",
        lambda params, model, **_: calls.append(f"{model.name} {params.get('SecretId', '')}"),
    )
    authority.delete(NOT_A_SECRET, authority_props(kms_key))
    assert not [c for c in calls if NOT_A_SECRET in c]


def test_a_lost_arn_is_found_again_by_the_serial_not_by_the_issuer_alone(kms_key: str) -> None:
    """An import whose ARN was never saved (the run died after ImportCertificate): the retry
    looks for this CA's tagged certificate *with the current serial*. Another certificate of
    the same CA (an older server certificate, tagged too) must not be taken and overwritten:
    the current one would be left in ACM with the server key and no owner."""
    out = _create(kms_key)
    arn, current = out["PhysicalResourceId"], out["Data"]["ServerCertificateArn"]
    bundle = read_bundle()
    ca = certs.Issued(
        key=certs.key_from_pem(bundle.ca_key_pem), cert=certs.cert_from_pem(bundle.ca_cert_pem)
    )
    older = certs.issue_server_cert(ca, "server.older.example", validity_days=10)
    acm_client = boto3.client("acm", region_name=REGION)
    name = arn.split(":secret:", 1)[1][: -len("-XXXXXX")]
    other = acm_client.import_certificate(
        Certificate=certs.cert_to_pem(older.cert).encode(),
        PrivateKey=certs.key_to_pem(older.key).encode(),
        CertificateChain=bundle.ca_cert_pem.encode(),
        Tags=[{"Key": "constructs-cvpn:ca-secret", "Value": name}],
    )["CertificateArn"]
    bundle.server_certificate_arn = ""  # the lost ARN
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=arn, SecretString=bundle.to_json()
    )

    again = _update(kms_key, arn)

    assert again["Data"]["ServerCertificateArn"] == current
    older_now = acm_client.describe_certificate(CertificateArn=other)["Certificate"]
    assert older_now["Serial"].replace(":", "").lower().lstrip("0") == (
        f"{older.cert.serial_number:x}"
    ), "the other certificate was overwritten"
