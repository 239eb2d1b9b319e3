"""Day-two benchmark of the Users handler: 1,000 users through Create, config changes, renewal.

Run from the repo root: ``python bench/day_two.py [--users N]`` (``make bench`` runs it too).
Writes bench/DAY_TWO.md. S3, KMS and Secrets Manager are moto (in-process, so S3 calls cost
far less than in AWS; the figures bound the CPU work, which dominates: one RSA 2048 key per
issued user); EC2 Client VPN is a small fake that returns an export per endpoint and keeps
every imported CRL. Real keys, real certificates, no pool.

Measured with N users (default 1,000): Create; a config change (port 443 -> 1194:
re-render only); an endpoint replacement (new endpoint id); a renewal (the clock moved past
the renewal point of every certificate). With 50 users: the CRL's size after 10 config
changes (must stay 0: re-rendering revokes nothing) and after removing 10 users then 10
more config changes (must stay 10). moto serves S3 in-process and is much slower per call
than S3 (tens of ms per object with SSE-KMS and versioning), so the figures are an upper
bound for the S3 part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1"
)

import boto3  # noqa: E402
from cryptography import x509  # noqa: E402
from moto import mock_aws  # noqa: E402

from constructs_cvpn.handlers.pki import aws, clock, index  # noqa: E402
from constructs_cvpn.handlers.pki.state import CaBundle  # noqa: E402
from tests.pki.conftest import _patch_moto_s3_versions  # noqa: E402

REGION = "eu-west-1"
BUCKET = "bench-configs"
#: Lambda's limit for one invocation; the Users handler's own timeout is 12 minutes.
LAMBDA_LIMIT_S = 900


class FakeClientVpn:
    """Export per endpoint (port configurable) and every CRL import."""

    def __init__(self, ca_pem: str) -> None:
        self.ca_pem = ca_pem.strip()
        self.port = 443
        self.crls: list[x509.CertificateRevocationList] = []

    def export_client_vpn_client_configuration(self, ClientVpnEndpointId: str) -> dict[str, Any]:
        host = f"{ClientVpnEndpointId}.prod.clientvpn.{REGION}.amazonaws.com"
        text = (
            f"client\ndev tun\nproto udp\nremote {host} {self.port}\nremote-random-hostname\n"
            "resolv-retry infinite\nnobind\nremote-cert-tls server\ncipher AES-256-GCM\nverb 3\n"
            f"<ca>\n{self.ca_pem}\n</ca>\n\n\nreneg-sec 0\n"
        )
        return {"ClientConfiguration": text}

    def import_client_vpn_client_certificate_revocation_list(self, **kw: str) -> dict[str, Any]:
        self.crls.append(x509.load_pem_x509_crl(kw["CertificateRevocationList"].encode()))
        return {"Return": True}


def _setup() -> tuple[FakeClientVpn, dict[str, Any]]:
    """moto resources, the CA, the fake EC2 and the Users properties (no users yet).

    moto's ListObjectVersions deep-copies every version in the bucket per call (quadratic
    in users, gigabytes of memory at 1,000 users); the tests' patch, which gives it only the
    keys under the prefix, keeps the figures about the handler.
    """
    from moto.s3 import models

    models.S3Backend.list_object_versions = _patch_moto_s3_versions()  # type: ignore[method-assign]
    aws.reset()
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    boto3.client("s3", region_name=REGION).put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    ca = index.on_event(
        {
            "RequestType": "Create",
            "RequestId": "bench",
            "ResourceProperties": {
                "Kind": "Authority",
                "CaSecretPrefix": "client-vpn/bench/ca",
                "KmsKeyArn": key,
            },
        }
    )
    secret = ca["PhysicalResourceId"]
    sm = boto3.client("secretsmanager", region_name=REGION)
    bundle = CaBundle.from_json(sm.get_secret_value(SecretId=secret)["SecretString"])
    fake = FakeClientVpn(bundle.ca_cert_pem)
    aws.set_client("ec2", fake)
    props = {
        "Kind": "Users",
        "EndpointId": "cvpn-endpoint-00000000000000001",
        "Users": [],
        "Bucket": BUCKET,
        "Prefix": "client-config/Bench/",
        "StateKey": "client-config/Bench/state.json",
        "KmsKeyArn": key,
        "CaSecretArn": secret,
    }
    return fake, props


def _call(request: str, props: dict[str, Any]) -> tuple[float, str]:
    start = time.perf_counter()
    out = index.on_event({"RequestType": request, "ResourceProperties": props})
    data = out["Data"]
    counts = ("Issued", "Renewed", "Rerendered", "Removed", "RevokedTotal")
    return time.perf_counter() - start, ", ".join(f"{k} {data[k]}" for k in counts)


def run(users: int) -> list[tuple[str, str]]:
    """Create, config change, replacement and renewal of ``users`` users."""
    rows: list[tuple[str, str]] = []
    with mock_aws():
        fake, base = _setup()
        props = {**base, "Users": [f"user{i:04d}" for i in range(users)]}
        seconds, data = _call("Create", props)
        rows.append((f"Create, {users} users (keys + files)", f"{seconds:.1f} s: {data}"))
        fake.port = 1194
        seconds, data = _call("Update", props)
        rows.append(("Config change (port 1194): re-render only", f"{seconds:.1f} s: {data}"))
        props["EndpointId"] = "cvpn-endpoint-00000000000000002"
        seconds, data = _call("Update", props)
        rows.append(("Endpoint replaced: re-render only", f"{seconds:.1f} s: {data}"))
        real_now = clock.now
        later = real_now() + dt.timedelta(days=800)
        clock.now = lambda: later  # type: ignore[assignment]
        try:
            seconds, data = _call("Renew", props)
        finally:
            clock.now = real_now  # type: ignore[assignment]
        rows.append((f"Renewal, {users} users (800 days later)", f"{seconds:.1f} s: {data}"))
        rows.append(("CRL imports in all of the above", str(len(fake.crls))))
        aws.reset()
    return rows


def crl_growth(users: int = 50) -> list[tuple[str, str]]:
    """CRL entries after 10 config changes, then after 10 removals and 10 more changes."""
    rows: list[tuple[str, str]] = []
    with mock_aws():
        fake, base = _setup()
        names = [f"user{i:04d}" for i in range(users)]
        props = {**base, "Users": names}
        _call("Create", props)
        for port in range(10):
            fake.port = 2000 + port
            _call("Update", props)
        rows.append((f"CRL entries after 10 config changes ({users} users)", str(_crl_size(fake))))
        props["Users"] = names[10:]
        _call("Update", props)
        for port in range(10):
            fake.port = 3000 + port
            _call("Update", props)
        rows.append(
            ("CRL entries after removing 10 users, then 10 config changes", str(_crl_size(fake)))
        )
        rows.append(("CRL imports in all (one: the removal)", str(len(fake.crls))))
        aws.reset()
    return rows


def _crl_size(fake: FakeClientVpn) -> int:
    return len(list(fake.crls[-1])) if fake.crls else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    rows = run(args.users) + crl_growth()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    lines = [
        "# Day-two benchmark (Users handler)",
        "",
        "`python bench/day_two.py` writes this file. moto for S3/KMS/Secrets Manager (in",
        "process, with its version listing patched as in the tests), a fake EC2 Client VPN, real",
        "RSA 2048 keys. One core of this machine is about one Lambda vCPU (1,769 MB). Key",
        "generation dominates Create and renewal (about 45 ms a key); re-rendering reads and",
        "rewrites each file with its own key. The limit enforced at synth is 2,000 users: twice",
        "the Create measured here stays far inside the handler's 720 s, which stops with its",
        "progress saved 90 s before the end if S3 is much slower than here.",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; commit {commit}",
        f"- nproc {os.cpu_count()}; Python {platform.python_version()}",
        f"- Lambda's limit per invocation: {LAMBDA_LIMIT_S} s; the Users handler's timeout: 720 s",
        "",
        "| Measurement | Result |",
        "| --- | --- |",
        *(f"| {a} | {b} |" for a, b in rows),
        "",
    ]
    (ROOT / "bench" / "DAY_TWO.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
