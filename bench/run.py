"""Benchmarks for constructs-cvpn: synth time, template scaling, handler cost, test wall time.

Run from the repo root with ``make bench`` (= ``python bench/run.py``). Writes bench/RESULTS.md.
``--no-tests`` skips the test-suite run. All figures are medians, never best runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# jsii needs the Node.js pinned in package.json; synths must not pip-download Lambda wheels.
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("CVPN_SKIP_BUNDLING", "1")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REGION = "eu-west-1"
SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
CLIENT_CIDR = "10.100.0.0/22"
MAX_TEMPLATE_BYTES = 1_000_000  # CloudFormation template body (from S3), 1 MB
MAX_RESOURCES = 500

FRESH_RUNS = 5
INPROC_RUNS = 5
SCALE_RUNS = 3
WARMUP_ROUNDS = 3
HANDLER_RUNS = 50
PKI_RUNS = 30


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def spread(samples: list[float]) -> str:
    """Median with the observed range, in ms."""
    return (
        f"{median_ms(samples):.0f} ms (range {min(samples) * 1000:.0f}-{max(samples) * 1000:.0f})"
    )


# --- CDK apps -------------------------------------------------------------------------------


def build(kind: str, *, n_rules: int = 1, users: int = 0) -> tuple[Any, Any]:
    """An App with one stack: a VPC plus either ClientVpn or a bare L2 ClientVpnEndpoint."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    import constructs_cvpn as cvpn

    app = cdk.App()
    stack = cdk.Stack(app, "Bench")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    if kind == "l2":
        ec2.ClientVpnEndpoint(
            stack,
            "Endpoint",
            vpc=vpc,
            cidr=CLIENT_CIDR,
            server_certificate_arn=SERVER_ARN,
            client_certificate_arn=CLIENT_ARN,
        ).add_authorization_rule("Rule", cidr="10.0.0.0/16")
        return app, stack
    rules = [cvpn.AuthorizationRule(cidr="10.0.0.0/16", all_users=True)]
    routes: list[Any] = []
    if n_rules > 1 or kind == "scale":
        rules = [
            cvpn.AuthorizationRule(cidr=f"172.{16 + i // 256}.{i % 256}.0/24", all_users=True)
            for i in range(n_rules)
        ]
        routes = [cvpn.Route(cidr=f"172.{16 + i // 256}.{i % 256}.0/24") for i in range(n_rules)]
    if kind == "pki":
        cvpn.ClientVpn(
            stack,
            "Vpn",
            vpc=vpc,
            cidr=CLIENT_CIDR,
            config_export=False,
            authorization_rules=rules,
            users=[f"user{i}" for i in range(users)],
        )
    else:
        cvpn.ClientVpn(
            stack,
            "Vpn",
            vpc=vpc,
            cidr=CLIENT_CIDR,
            server_certificate_arn=SERVER_ARN,
            client_certificate_arn=CLIENT_ARN,
            config_export=False,
            authorization_rules=rules,
            routes=routes,
        )
    return app, stack


def synth(kind: str, **kw: int) -> tuple[float, int, int]:
    """Build + synth in this process: (seconds, template bytes as written, resource count)."""
    start = time.perf_counter()
    app, stack = build(kind, **kw)
    assembly = app.synth()
    elapsed = time.perf_counter() - start
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    path = Path(artifact.template_full_path)
    template = json.loads(path.read_text())
    return elapsed, path.stat().st_size, len(template["Resources"])


def child(kind: str) -> None:
    """Fresh-process synth: print the wall-clock time at which app.synth() finished."""
    app, _ = build(kind)
    app.synth()
    print(f"SYNTH_DONE {time.time():.6f}")


def fresh_synth(kind: str) -> float:
    start = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"SYNTH_DONE (\S+)", out)
    assert match, out
    return float(match.group(1)) - start


# --- handlers -------------------------------------------------------------------------------


def bench_export_handler() -> float:
    import boto3
    from botocore.stub import Stubber
    from moto import mock_aws

    from constructs_cvpn.handlers.export_config import aws, index
    from constructs_cvpn.handlers.pki import certs

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ[name] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = REGION
    config = (ROOT / "tests" / "handlers" / "fixtures" / "mutual.ovpn").read_text()
    ca = certs.create_ca()
    user = certs.issue_client_cert(ca, "bench")
    endpoint = "cvpn-endpoint-0123456789abcdef0"
    bucket = "client-config-bucket"
    samples: list[float] = []
    original = aws.ec2_client
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        kms_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="vpn/client",
            SecretString=json.dumps(
                {
                    "certificate": certs.cert_to_pem(user.cert),
                    "private_key": certs.key_to_pem(user.key),
                }
            ),
        )["ARN"]
        ec2 = boto3.client("ec2", region_name=REGION)
        stubber = Stubber(ec2)
        aws.ec2_client = lambda: ec2  # type: ignore[assignment]
        props = {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
            "EndpointId": endpoint,
            "Bucket": bucket,
            "Key": f"client-config/{endpoint}/client.ovpn",
            "KmsKeyArn": kms_arn,
            "ConfigVersion": "1",
            "Port": "443",
            "TransportProtocol": "udp",
            "CredentialsSecretArn": secret,
        }
        try:
            with stubber:
                for i in range(HANDLER_RUNS + 3):  # 3 warm-up calls
                    stubber.add_response(
                        "export_client_vpn_client_configuration",
                        {"ClientConfiguration": config},
                        {"ClientVpnEndpointId": endpoint},
                    )
                    start = time.perf_counter()
                    index.on_event({"RequestType": "Create", "ResourceProperties": props})
                    if i >= 3:
                        samples.append(time.perf_counter() - start)
                stubber.assert_no_pending_responses()
        finally:
            aws.ec2_client = original  # type: ignore[method-assign]
    return median_ms(samples)


def bench_pki() -> tuple[float, float]:
    from constructs_cvpn.handlers.pki import certs

    ca = certs.create_ca()
    issue: list[float] = []
    keygen: list[float] = []
    for i in range(PKI_RUNS):
        start = time.perf_counter()
        certs.issue_client_cert(ca, f"user{i}")
        issue.append(time.perf_counter() - start)
        start = time.perf_counter()
        certs.generate_key()
        keygen.append(time.perf_counter() - start)
    return median_ms(issue), median_ms(keygen)


def run_tests() -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    summary = lines[-1].strip("= ") if lines else f"no summary (exit {proc.returncode})"
    return elapsed, summary


# --- report ---------------------------------------------------------------------------------


def environment() -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "constructs_cvpn"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Commit: {rev}{' + uncommitted changes in constructs_cvpn/' if dirty else ''}",
        f"- nproc: {os.cpu_count()}; CPU: {cpu}",
        f"- Python {platform.python_version()}, Node.js {node}",
        "- Machine shared with other engineers' work: expect noise; medians, not best runs.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite run")
    parser.add_argument("--child", choices=["clientvpn", "l2"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    rows: list[tuple[str, str]] = []

    # 1. Fresh-process synth, alternating.
    fresh: dict[str, list[float]] = {"clientvpn": [], "l2": []}
    for _ in range(FRESH_RUNS):
        for kind in ("clientvpn", "l2"):
            fresh[kind].append(fresh_synth(kind))
    cv, l2 = median_ms(fresh["clientvpn"]), median_ms(fresh["l2"])
    rows += [
        (f"Fresh-process synth, ClientVpn (median of {FRESH_RUNS})", spread(fresh["clientvpn"])),
        (
            f"Fresh-process synth, L2 ClientVpnEndpoint (median of {FRESH_RUNS})",
            spread(fresh["l2"]),
        ),
        ("Fresh-process ratio ClientVpn / L2", f"{cv / l2:.2f}x"),
    ]

    # In-process, after warm-up.
    inproc: dict[str, list[float]] = {"clientvpn": [], "l2": []}
    for _ in range(WARMUP_ROUNDS):  # node's JIT keeps speeding up jsii for a few synths
        for kind in ("clientvpn", "l2"):
            synth(kind)
    for _ in range(INPROC_RUNS):
        for kind in ("clientvpn", "l2"):
            inproc[kind].append(synth(kind)[0])
    icv, il2 = median_ms(inproc["clientvpn"]), median_ms(inproc["l2"])
    rows += [
        (f"In-process synth, ClientVpn (median of {INPROC_RUNS})", spread(inproc["clientvpn"])),
        (f"In-process synth, L2 ClientVpnEndpoint (median of {INPROC_RUNS})", spread(inproc["l2"])),
        ("In-process ratio ClientVpn / L2", f"{icv / il2:.2f}x"),
    ]

    # 2. Scaling.
    cases: list[tuple[str, int, int]] = []
    for n in (1, 20, 50):
        runs = [synth("scale", n_rules=n) for _ in range(SCALE_RUNS)]
        t = median_ms([r[0] for r in runs])
        size, res = runs[0][1], runs[0][2]
        rows.append(
            (
                f"{n} rules + {n} routes: synth (median of {SCALE_RUNS}) / template / resources",
                f"{t:.0f} ms / {size:,} B / {res}",
            )
        )
        cases.append((f"{n} rules + {n} routes", size, res))
    for n in (1, 100, 1000):
        _, size, res = synth("pki", users=n)
        rows.append((f"Generated PKI, {n} users: template / resources", f"{size:,} B / {res}"))
        cases.append((f"PKI {n} users", size, res))
    for label, size, res in cases:
        assert size < MAX_TEMPLATE_BYTES, f"{label}: template {size} B >= {MAX_TEMPLATE_BYTES}"
        assert res < MAX_RESOURCES, f"{label}: {res} resources >= {MAX_RESOURCES}"
    big = max(cases, key=lambda c: c[1])
    many = max(cases, key=lambda c: c[2])
    margin = (
        f"largest template ({big[0]}) {big[1]:,} B = {big[1] / MAX_TEMPLATE_BYTES:.1%} of 1 MB; "
        f"most resources ({many[0]}) {many[2]} of {MAX_RESOURCES}, "
        f"{MAX_RESOURCES - many[2]} to spare"
    )
    print(f"CloudFormation limits OK: {margin}")
    rows.append(("CloudFormation limits (asserted)", margin))

    # 3. Handlers.
    rows.append(
        (
            f"Export handler Create per config, moto + Stubber (median of {HANDLER_RUNS})",
            f"{bench_export_handler():.1f} ms",
        )
    )
    issue, keygen = bench_pki()
    rows += [
        (f"RSA 2048 key + client cert issue per user (median of {PKI_RUNS})", f"{issue:.0f} ms"),
        (f"RSA 2048 key generation alone (median of {PKI_RUNS})", f"{keygen:.0f} ms"),
    ]

    # 4. Test suite.
    if not args.no_tests:
        wall, summary = run_tests()
        rows.append(("Test suite wall time (pytest -q, one run)", f"{wall:.1f} s ({summary})"))
    else:
        rows.append(("Test suite wall time", "skipped (--no-tests)"))

    table = ["| Measurement | Result |", "| --- | --- |"]
    table += [f"| {name} | {value} |" for name, value in rows]
    print("\n".join(table))
    text = [
        "# Benchmarks",
        "",
        "Re-run with `make bench` (or `python bench/run.py --no-tests` to skip the test suite);",
        "the script overwrites this file. Synths run with `CVPN_SKIP_BUNDLING=1`. Fresh-process",
        "synth = wall time from subprocess start to `app.synth()` returning (jsii start-up",
        "included), alternating ClientVpn and L2. The ClientVpn app uses mutual auth with ACM",
        "ARNs, `config_export=False` and one all-users rule; the L2 app is the same",
        "`Vpc(max_azs=2)` with a bare `ClientVpnEndpoint` and one authorization rule.",
        "Template size is the file as written to the cloud assembly. In-process synths follow",
        f"{WARMUP_ROUNDS} warm-up rounds of each app. RSA key generation time is random (prime",
        "search), so the key-only median can exceed the key + certificate median. The machine",
        "is shared with other engineers' work, so in-process figures in particular are noisy",
        "(see the ranges); compare ratios, not single runs. Templates over 51,200 B cannot be",
        "passed inline to CloudFormation; `cdk deploy` uploads them via the bootstrap bucket,",
        "where the 1 MB limit applies.",
        "",
        *environment(),
        "",
        *table,
        "",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
