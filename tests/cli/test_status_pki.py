"""``cvpn status --stack`` with the generated PKI: days to expiry, last runs, revocations.

S3, ACM and CloudWatch are stubbed (botocore Stubber: requests and responses are checked
against the service models). The users state is shaped as ``handlers.pki.state.UsersState``
writes it; the CA is a real certificate, its expiry read back from the certificate itself.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from typer.testing import CliRunner

from constructs_cvpn.cli import create_app
from constructs_cvpn.handlers.pki import certs
from tests.cli.conftest import (
    ACCOUNT,
    BUCKET,
    CERT_ARN,
    ENDPOINT_ID,
    REGION,
    STACK,
    WIDE,
    FakeAws,
    _client,
    vpn_outputs,
)
from tests.cli.test_status import expect_status_calls

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
PREFIX = f"client-config/{ENDPOINT_ID}/users/"  # the conftest's UserConfigPrefix output
STATE_KEY = f"client-config/{ENDPOINT_ID}/state.json"
SERVER_ARN = f"{CERT_ARN}/server"


@dataclass
class PkiAws(FakeAws):
    extra: dict[str, Any] = field(default_factory=dict)
    stubs: dict[str, Stubber] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        for service in ("s3", "acm", "cloudwatch"):
            self.extra[service] = _client(service)
            self.stubs[service] = Stubber(self.extra[service])
            self.stubs[service].activate()

    def s3(self) -> Any:
        return self.extra["s3"]

    def acm(self) -> Any:
        return self.extra["acm"]

    def cloudwatch(self) -> Any:
        return self.extra["cloudwatch"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[PkiAws]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    fake = PkiAws()
    yield fake
    for stub in (fake.ec2_stub, fake.cfn_stub, *fake.stubs.values()):
        stub.assert_no_pending_responses()


def state_document() -> bytes:
    return json.dumps(
        {
            "version": 2,
            "users": {
                "alice": {
                    "serial": "0a1b",
                    "cert_pem": "-",
                    "not_after": "2027-01-05T12:00:00+00:00",  # 30 days after NOW
                    "config_sha256": "x",
                    "pending": False,
                    "previous": [],
                },
                "bob": {
                    "serial": "0c2d",
                    "cert_pem": "-",
                    "not_after": "2026-12-08T00:00:00+00:00",  # 1.5 days after NOW
                    "config_sha256": "x",
                    "pending": False,
                    "previous": [],
                },
            },
            "revoked": {
                "carol": {
                    "action": "revoke",
                    "at": "2026-12-05T02:00:00+00:00",
                    "requested_by": "arn:aws:sts::123456789012:assumed-role/oncall/dana",
                    "reason": "lost laptop",
                    "serials": ["0e3f"],
                    "blocked": True,
                }
            },
        }
    ).encode()


def expect_pki(aws: PkiAws, ca: Any, *, state_error: str | None = None) -> None:
    aws.stubs["acm"].add_response(
        "describe_certificate",
        {"Certificate": {"CertificateArn": SERVER_ARN, "NotAfter": NOW + dt.timedelta(days=90)}},
        {"CertificateArn": SERVER_ARN},
    )
    aws.stubs["acm"].add_response(
        "get_certificate",
        {"Certificate": "server-pem", "CertificateChain": certs.cert_to_pem(ca.cert)},
        {"CertificateArn": SERVER_ARN},
    )
    body = state_document()
    if state_error:
        aws.stubs["s3"].add_client_error("get_object", state_error, http_status_code=403)
    else:
        aws.stubs["s3"].add_response(
            "get_object",
            {
                "Body": StreamingBody(io.BytesIO(body), len(body)),
                "LastModified": dt.datetime(2026, 12, 6, 0, 0, 5, tzinfo=dt.UTC),
            },
            {"Bucket": BUCKET, "Key": STATE_KEY, "ExpectedBucketOwner": ACCOUNT},
        )
    aws.stubs["cloudwatch"].add_response(
        "get_metric_statistics",
        {
            "Datapoints": [
                {"Timestamp": dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC), "SampleCount": 2.0},
                {"Timestamp": dt.datetime(2026, 12, 6, 0, tzinfo=dt.UTC), "SampleCount": 2.0},
            ]
        },
        {
            "Namespace": "constructs-cvpn",
            "MetricName": "DaysToExpiry",
            # The Vpn dimension: the segment before users/ of the UserConfigPrefix output.
            "Dimensions": [{"Name": "Vpn", "Value": ENDPOINT_ID}],
            "StartTime": NOW - dt.timedelta(days=2),
            "EndTime": NOW,
            "Period": 3600,
            "Statistics": ["SampleCount"],
        },
    )


def run(aws: PkiAws, *args: str) -> Any:
    app = create_app(aws.factory, sleep=aws.sleep, clock=aws.clock, now=lambda: NOW)
    return CliRunner().invoke(app, list(args), env=WIDE)


@pytest.fixture(scope="module")
def ca() -> Any:
    return certs.create_ca(validity_days=3650, now=NOW)


def test_status_json_has_days_to_expiry_last_runs_and_revocations(aws: PkiAws, ca: Any) -> None:
    aws.expect_stack(vpn_outputs())
    expect_status_calls(aws)
    expect_pki(aws, ca)

    result = run(aws, "status", "--stack", STACK, "--json")

    assert result.exit_code == 0, result.output
    pki = json.loads(result.stdout)["certificates"]
    ca_days = (ca.cert.not_valid_after_utc - NOW).total_seconds() / 86400
    assert pki["ca"]["days_left"] == round(ca_days, 1)
    assert pki["server"] == {"not_after": "2027-03-06T12:00:00+00:00", "days_left": 90.0}
    assert [(u["user"], u["days_left"]) for u in pki["users"]] == [("alice", 30.0), ("bob", 1.5)]
    assert pki["users_state_written"] == "2026-12-06T00:00:05+00:00"
    assert pki["last_renewal_report"] == "2026-12-06T00:00:00+00:00"
    assert pki["revocations"] == [
        {
            "user": "carol",
            "action": "revoke",
            "at": "2026-12-05T02:00:00+00:00",
            "requested_by": "arn:aws:sts::123456789012:assumed-role/oncall/dana",
            "reason": "lost laptop",
            "serials": ["0e3f"],
            "blocked": True,
        }
    ]


def test_status_tables_show_the_pki(aws: PkiAws, ca: Any) -> None:
    aws.expect_stack(vpn_outputs())
    expect_status_calls(aws)
    expect_pki(aws, ca)

    result = run(aws, "status", "--stack", STACK)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "90.0 days (until 2027-03-06T12:00:00+00:00)" in out
    (bob,) = [line for line in out.splitlines() if "│ bob" in line]
    assert "1.5" in bob
    (carol,) = [line for line in out.splitlines() if "│ carol" in line]
    assert "lost laptop" in carol and "oncall/dana" in carol


def test_unreadable_state_is_reported_not_fatal(aws: PkiAws, ca: Any) -> None:
    aws.expect_stack(vpn_outputs())
    expect_status_calls(aws)
    expect_pki(aws, ca, state_error="AccessDenied")

    result = run(aws, "status", "--stack", STACK, "--json")

    assert result.exit_code == 0, result.output
    pki = json.loads(result.stdout)["certificates"]
    assert pki["users_error"] == "AccessDenied"
    assert pki["users"] == []
    assert pki["server"]["days_left"] == 90.0
