"""The generated PKI's section of ``cvpn status``: rounding, unreadable parts, the tables.

The clients are real botocore clients behind a Stubber (requests and responses checked
against the service models); nothing is sent. The table view is compared with the example
output in the README ("Certificates in ``cvpn status``"), which documents it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from rich.console import Console

from constructs_cvpn.cli.certificates import collect_certificates, print_certificates
from constructs_cvpn.cli.discovery import VpnOutputs
from tests.cli.conftest import ACCOUNT, BUCKET, CERT_ARN, ENDPOINT_ID, STACK, USER_PREFIX, _client

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
STATE_KEY = f"client-config/{ENDPOINT_ID}/state.json"
SERVER_ARN = f"{CERT_ARN}/server"
OUTPUTS = VpnOutputs(
    stack=STACK,
    prefix="Vpn",
    endpoint_id=ENDPOINT_ID,
    config_bucket=BUCKET,
    user_config_prefix=USER_PREFIX,
    account=ACCOUNT,
)


class Stubs:
    """S3, ACM and CloudWatch clients, each behind an active Stubber."""

    def __init__(self) -> None:
        self.clients = {name: _client(name) for name in ("s3", "acm", "cloudwatch")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def collect(self, server_arn: str | None = SERVER_ARN) -> dict[str, Any]:
        return collect_certificates(
            outputs=OUTPUTS,
            server_certificate_arn=server_arn,
            s3=lambda: self.clients["s3"],
            acm=lambda: self.clients["acm"],
            cloudwatch=lambda: self.clients["cloudwatch"],
            owner=ACCOUNT,
            now=NOW,
        )

    def state(self, users: dict[str, str]) -> None:
        """Queue the users state object: ``users`` maps a name to its ``not_after``."""
        body = json.dumps(
            {
                "version": 2,
                "users": {
                    name: {"serial": f"{i:04x}", "not_after": not_after}
                    for i, (name, not_after) in enumerate(sorted(users.items()))
                },
                "revoked": {},
            }
        ).encode()
        self.stubs["s3"].add_response(
            "get_object",
            {
                "Body": StreamingBody(io.BytesIO(body), len(body)),
                "LastModified": dt.datetime(2026, 12, 6, 0, 0, 5, tzinfo=dt.UTC),
            },
            {"Bucket": BUCKET, "Key": STATE_KEY, "ExpectedBucketOwner": ACCOUNT},
        )

    def metric(self, *timestamps: dt.datetime) -> None:
        self.stubs["cloudwatch"].add_response(
            "get_metric_statistics",
            {"Datapoints": [{"Timestamp": t, "SampleCount": 2.0} for t in timestamps]},
        )


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    fake = Stubs()
    yield fake
    for stub in fake.stubs.values():
        stub.assert_no_pending_responses()


def at(**delta: float) -> str:
    return (NOW + dt.timedelta(**delta)).isoformat()


def test_days_left_is_rounded_to_one_decimal_at_the_half_tenth(stubs: Stubs) -> None:
    # 1 day + 4319 s = 1.049988 days -> 1.0; 1 day + 4321 s = 1.050012 days -> 1.1
    # (computed by hand: 4319 / 86400 = 0.049988, 4321 / 86400 = 0.050012).
    stubs.state({"below": at(days=1, seconds=4319), "above": at(days=1, seconds=4321)})
    stubs.metric()

    data = stubs.collect(server_arn=None)

    assert {u["user"]: u["days_left"] for u in data["users"]} == {"above": 1.1, "below": 1.0}


def test_unreadable_server_certificate_is_reported_with_the_error_code(stubs: Stubs) -> None:
    stubs.stubs["acm"].add_client_error(
        "describe_certificate", "AccessDeniedException", http_status_code=400
    )
    stubs.state({"alice": at(days=30)})
    stubs.metric(NOW - dt.timedelta(hours=12))

    data = stubs.collect()

    assert data["server"] == {"error": "AccessDeniedException"}
    assert data["ca"] == {"error": "AccessDeniedException"}
    # the rest still reads (README: "A part you may not read is shown as unreadable")
    assert [u["user"] for u in data["users"]] == ["alice"]
    console = Console(file=io.StringIO(), width=200)
    print_certificates(console, data)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "unreadable (AccessDeniedException)" in out


def test_unreadable_metric_is_reported_and_the_rest_still_shows(stubs: Stubs) -> None:
    stubs.stubs["acm"].add_response(
        "describe_certificate",
        {"Certificate": {"CertificateArn": SERVER_ARN, "NotAfter": NOW + dt.timedelta(days=90)}},
        {"CertificateArn": SERVER_ARN},
    )
    stubs.stubs["acm"].add_response(
        "get_certificate", {"Certificate": "server-pem"}, {"CertificateArn": SERVER_ARN}
    )
    stubs.state({"alice": at(days=30)})
    stubs.stubs["cloudwatch"].add_client_error(
        "get_metric_statistics", "AccessDenied", http_status_code=403
    )

    data = stubs.collect()

    assert data["metric_error"] == "AccessDenied"
    assert data["last_renewal_report"] is None
    assert data["server"]["days_left"] == 90.0
    assert [(u["user"], u["days_left"]) for u in data["users"]] == [("alice", 30.0)]


def readme_example() -> list[str]:
    """The tables of the README's ``cvpn status`` example, from the first title on."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Certificates in `cvpn status`", 1)[1]
    block = section.split("```console", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == "Generated certificates")
    return [line.strip() for line in lines[first:]]


def test_tables_match_the_readme_example() -> None:
    # The values of the README example, as collect_certificates returns them.
    data: dict[str, Any] = {
        "ca": {"not_after": "2036-12-03T11:55:00+00:00", "days_left": 3650.0},
        "server": {"not_after": "2027-03-06T12:00:00+00:00", "days_left": 90.0},
        "users_state_written": "2026-12-06T00:00:05+00:00",
        "last_renewal_report": "2026-12-06T00:00:00+00:00",
        "users": [
            {"user": "alice", "serial": "0a1b", "days_left": 30.0, "not_after": at(days=30)},
            {"user": "bob", "serial": "0c2d", "days_left": 1.5, "not_after": at(hours=36)},
        ],
        "revocations": [
            {
                "user": "carol",
                "action": "revoke",
                "at": "2026-12-05T02:00:00+00:00",
                "requested_by": "arn:aws:sts::123456789012:assumed-role/oncall/dana",
                "reason": "lost laptop",
            }
        ],
    }
    console = Console(file=io.StringIO(), width=200, color_system=None)

    print_certificates(console, data)

    out = console.file.getvalue()  # type: ignore[attr-defined]
    # line by line; titles are centred over the console's width, so indentation is ignored
    assert [line.strip() for line in out.splitlines()] == readme_example()


def test_missing_state_and_report_say_so_in_the_table() -> None:
    data: dict[str, Any] = {
        "ca": None,
        "server": None,
        "users_error": "NoSuchKey",
        "last_renewal_report": None,
        "users": [],
        "revocations": [],
    }
    console = Console(file=io.StringIO(), width=200, color_system=None)

    print_certificates(console, data)

    out = console.file.getvalue()  # type: ignore[attr-defined]
    (ran,) = [line for line in out.splitlines() if "Users function last ran" in line]
    assert "unknown (NoSuchKey)" in ran
    (report,) = [line for line in out.splitlines() if "Last renewal report" in line]
    assert "2026" not in report and "None" not in report
    assert "No user certificates." in out
