"""``cvpn status`` for the generated PKI: days to expiry, the last runs, the revocations.

Read from what the construct already writes, with read-only calls:

- the users' certificates (serial, expiry) and the revocations made with ``cvpn revoke`` /
  ``cvpn rotate`` (who asked, when, why): the users state object
  ``<prefix>state.json`` next to ``<prefix>users/`` (the stack's ``UserConfigPrefix``
  output); its ``LastModified`` is the users function's last run (every run, deploy or
  renewal, takes the state's lease and so writes it). S3 GetObject with the stack's account
  as ``ExpectedBucketOwner``; the state holds no private key;
- the server certificate: ACM ``DescribeCertificate`` of the endpoint's server certificate
  (``NotAfter``), and the CA: the chain imported with it (``GetCertificate`` returns it; the
  handler imports the CA certificate as the chain);
- the last renewal report: the newest ``constructs-cvpn`` / ``DaysToExpiry`` datapoint of
  this VPN (CloudWatch ``GetMetricStatistics``, hourly sample counts over two days): both
  certificate functions log it on every run, renewals every 12 hours included.

What cannot be read (no permission, no object yet) is reported as such; the rest is shown.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from constructs_cvpn.cli.discovery import VpnOutputs
from constructs_cvpn.cli.errors import error_code
from constructs_cvpn.cli.text import cell

#: The construct's metric (``constructs_cvpn.handlers.pki.metrics``).
METRIC_NAMESPACE = "constructs-cvpn"
METRIC_NAME = "DaysToExpiry"


def state_key(user_config_prefix: str) -> str:
    """``<prefix>state.json`` from ``<prefix>users/``."""
    return user_config_prefix.removesuffix("users/") + "state.json"


def vpn_id(user_config_prefix: str) -> str:
    """The ``Vpn`` dimension: the last segment of ``<config_prefix>/<vpn id>/``."""
    return user_config_prefix.removesuffix("users/").rstrip("/").rsplit("/", 1)[-1]


def _expiry(not_after: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    return {
        "not_after": not_after.isoformat(),
        "days_left": round((not_after - now).total_seconds() / 86400, 1),
    }


def _failed(err: ClientError) -> dict[str, str]:
    return {"error": error_code(err) or "error"}


def _server_and_ca(acm: Any, arn: str, now: dt.datetime) -> dict[str, Any]:
    from cryptography import x509

    try:
        described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        chain = acm.get_certificate(CertificateArn=arn).get("CertificateChain", "")
    except ClientError as err:
        failed = _failed(err)
        return {"server": failed, "ca": failed}
    result: dict[str, Any] = {"server": _expiry(described["NotAfter"], now), "ca": None}
    if chain:
        ca = x509.load_pem_x509_certificates(chain.encode())[-1]
        result["ca"] = _expiry(ca.not_valid_after_utc, now)
    return result


def _state(s3: Any, outputs: VpnOutputs, owner: str | None) -> tuple[dict[str, Any], Any]:
    assert outputs.config_bucket is not None and outputs.user_config_prefix is not None
    extra = {"ExpectedBucketOwner": owner} if owner else {}
    response = s3.get_object(
        Bucket=outputs.config_bucket, Key=state_key(outputs.user_config_prefix), **extra
    )
    return json.loads(response["Body"].read()), response["LastModified"]


def _last_report(cloudwatch: Any, dimension: str, now: dt.datetime) -> dt.datetime | None:
    points = cloudwatch.get_metric_statistics(
        Namespace=METRIC_NAMESPACE,
        MetricName=METRIC_NAME,
        Dimensions=[{"Name": "Vpn", "Value": dimension}],
        StartTime=now - dt.timedelta(days=2),
        EndTime=now,
        Period=3600,
        Statistics=["SampleCount"],
    ).get("Datapoints", [])
    return max((p["Timestamp"] for p in points), default=None)


def collect_certificates(
    *,
    outputs: VpnOutputs,
    server_certificate_arn: str | None,
    s3: Callable[[], Any],
    acm: Callable[[], Any],
    cloudwatch: Callable[[], Any],
    owner: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The generated PKI's section of ``cvpn status`` (JSON-ready)."""
    result: dict[str, Any] = {"server": None, "ca": None}
    if server_certificate_arn:
        result.update(_server_and_ca(acm(), server_certificate_arn, now))
    users: list[dict[str, Any]] = []
    revocations: list[dict[str, Any]] = []
    try:
        state, modified = _state(s3(), outputs, owner)
        for name, record in sorted(state.get("users", {}).items()):
            not_after = dt.datetime.fromisoformat(record["not_after"])
            users.append({"user": name, "serial": record["serial"], **_expiry(not_after, now)})
        for name, note in sorted(state.get("revoked", {}).items()):
            revocations.append({"user": name, **note})
        result["users_state_written"] = modified.isoformat()
    except ClientError as err:
        result["users_error"] = error_code(err) or "error"
    result["users"] = users
    result["revocations"] = revocations
    try:
        dimension = vpn_id(outputs.user_config_prefix or "")
        last = _last_report(cloudwatch(), dimension, now)
        result["last_renewal_report"] = last.isoformat() if last else None
    except ClientError as err:
        result["last_renewal_report"] = None
        result["metric_error"] = error_code(err) or "error"
    return result


def _days(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "-"
    if "error" in entry:
        return f"unreadable ({entry['error']})"
    return f"{entry['days_left']} days (until {entry['not_after']})"


def print_certificates(console: Console, data: dict[str, Any]) -> None:
    """Days to expiry of the CA, the server and each user; the last runs; revocations."""
    table = Table(title="Generated certificates", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("CA", cell(_days(data["ca"])))
    table.add_row("Server certificate", cell(_days(data["server"])))
    table.add_row(
        "Users function last ran",
        cell(data.get("users_state_written") or f"unknown ({data.get('users_error', '-')})"),
    )
    table.add_row(
        "Last renewal report",
        cell(data.get("last_renewal_report") or "none in the last 2 days"),
    )
    console.print(table)
    users = Table(title="User certificates")
    for column in ("User", "Serial", "Days left", "Expires"):
        users.add_column(column, overflow="fold")
    for row in data["users"]:
        users.add_row(
            cell(row["user"]), cell(row["serial"]), cell(row["days_left"]), cell(row["not_after"])
        )
    console.print(users if data["users"] else "No user certificates.")
    if data["revocations"]:
        revoked = Table(title="Revoked with cvpn revoke / rotate")
        for column in ("User", "Action", "When", "Requested by (unverified)", "Reason"):
            revoked.add_column(column, overflow="fold")
        for row in data["revocations"]:
            revoked.add_row(
                cell(row["user"]),
                cell(row.get("action", "")),
                cell(row.get("at", "")),
                cell(row.get("requested_by", "")),
                cell(row.get("reason", "")),
            )
        console.print(revoked)
