"""Day-two benchmark of the Users handler: 1,000 users through Create, config changes, renewal.

Run from the repo root: ``python bench/day_two.py [--users N]`` (``make bench`` runs it too).
Writes bench/DAY_TWO.md. S3, KMS and Secrets Manager are moto (in-process, so S3 calls cost
far less than in AWS; the figures bound the CPU work, which dominates: one RSA 2048 key per
issued user); EC2 Client VPN is a small fake that returns an export per endpoint and keeps
every imported CRL. Real keys, real certificates, no pool.

Measured: Create; a config change (port 443 -> 1194: re-render only); an endpoint
replacement (new endpoint id); a renewal (the clock moved past the renewal point of every
certificate); the CRL's size after 10 config changes (must stay 0: re-rendering revokes
nothing) and after removing 10 users then 10 more config changes (must stay 10).
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


def run(users: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with mock_aws():
        aws.reset()
        key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
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
        bundle = CaBundle.from_json(
            boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=secret)[
                "SecretString"
            ]
        )
        fake = FakeClientVpn(bundle.ca_cert_pem)
        aws.set_client("ec2", fake)
        names = [f"user{i:04d}" for i in range(users)]
        props = {
            "Kind": "Users",
            "EndpointId": "cvpn-endpoint-00000000000000001",
            "Users": names,
            "Bucket": BUCKET,
            "Prefix": "client-config/Bench/",
            "StateKey": "client-config/Bench/state.json",
            "KmsKeyArn": key,
            "CaSecretArn": secret,
        }

        def call(request: str, p: dict[str, Any]) -> tuple[float, str]:
            start = time.perf_counter()
            out = index.on_event({"RequestType": request, "ResourceProperties": p})
            data = out["Data"]
            counts = ("Issued", "Renewed", "Rerendered", "Removed", "RevokedTotal")
            return time.perf_counter() - start, ", ".join(f"{k} {data[k]}" for k in counts)

        seconds, data = call("Create", props)
        rows.append((f"Create, {users} users (keys + files)", f"{seconds:.1f} s: {data}"))
        fake.port = 1194
        seconds, data = call("Update", props)
        rows.append(("Config change (port 1194): re-render only", f"{seconds:.1f} s: {data}"))
        replaced = {**props, "EndpointId": "cvpn-endpoint-00000000000000002"}
        seconds, data = call("Update", replaced)
        rows.append(("Endpoint replaced: re-render only", f"{seconds:.1f} s: {data}"))
        for port in range(10):
            fake.port = 2000 + port
            call("Update", replaced)
        rows.append(("CRL entries after 10 more config changes", str(_crl_size(fake))))
        fewer = {**replaced, "Users": names[10:]}
        call("Update", fewer)
        for port in range(10):
            fake.port = 3000 + port
            call("Update", fewer)
        rows.append(
            ("CRL entries after removing 10 users, then 10 config changes", str(_crl_size(fake)))
        )
        real_now = clock.now
        later = real_now() + dt.timedelta(days=800)
        clock.now = lambda: later  # type: ignore[assignment]
        try:
            seconds, data = call("Renew", fewer)
        finally:
            clock.now = real_now  # type: ignore[assignment]
        rows.append((f"Renewal of {users - 10} users (800 days later)", f"{seconds:.1f} s: {data}"))
        rows.append(("CRL imports in all", str(len(fake.crls))))
        aws.reset()
    return rows


def _crl_size(fake: FakeClientVpn) -> int:
    return len(list(fake.crls[-1])) if fake.crls else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    rows = run(args.users)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    lines = [
        "# Day-two benchmark (Users handler)",
        "",
        "`python bench/day_two.py` writes this file. moto for S3/KMS/Secrets Manager",
        "(in-process: S3 calls are far cheaper than in AWS), a fake EC2 Client VPN, real RSA",
        "2048 keys. One core of this machine is about one Lambda vCPU (1,769 MB).",
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
