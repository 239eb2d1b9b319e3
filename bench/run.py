"""Benchmarks for constructs-cvpn (issue 14): synth cost against the bare L2, deploy-time model.

Run from the repo root: ``python bench/run.py`` (``make bench`` runs it, then day_two.py).
Writes bench/RESULTS.md. 6.4 minutes on 2 cores at a load average of ~5 from other work, 19
at 10-12; less on idle cores (each section's time is recorded in RESULTS.md); ``--pairs``,
``--cold-pairs`` and ``--quick`` trade precision for time, ``--tests`` adds one run of the
test suite, ``--baseline-synth`` also times the fresh synth of the baseline commit. All
figures are medians, never best runs.

Sections: (1) fresh-process synth of the same VPC with ``ClientVpn`` (export off; export on
with and without the handler asset; the generated PKI; the floor: the PKI's resources as
plain ``CfnResource``) and with the bare L2, alternating;
(2) in-process construct and synth time; (3) what the ClientVpn app imports and what each
module costs (bench/imports.py); (4) resources and Lambda functions per example stack,
baseline commit and now (bench/stack_counts.py); (5) the deploy-time model
(bench/deploy_model.py); (6) template scaling against CloudFormation's limits; (7) handler
costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
# jsii needs the Node.js pinned in package.json; in-process synths skip the Lambda wheels.
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("CVPN_SKIP_BUNDLING", "1")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")

#: main before issue 14's restructure: the "before" of the example-stack counts and imports.
BASELINE = "075332e"
REGION = "eu-west-1"
MAX_TEMPLATE_BYTES = 1_000_000  # CloudFormation template body (from S3), 1 MB
MAX_RESOURCES = 500
#: Client VPN default quota: routes per target network association (adjustable).
MAX_ROUTES_PER_ASSOCIATION = 100

PAIRS = 7
#: Issue 14: a fresh-process synth of ClientVpn (export off) within 1.10x of the bare L2;
#: issue 24: the same for the generated PKI (CPU), with the real handler asset.
TARGET_RATIO = 1.10
COLD_PAIRS = 3
INPROC_RUNS = 7
WARMUP_ROUNDS = 3
IMPORT_RUNS = 3
SCALE_RUNS = 3
HANDLER_RUNS = 50
PKI_RUNS = 30
MODEL_COUNTS = (1, 20, 50, 200)
MODEL_AZS = (1, 2, 3, 4, 5, 6)
#: Fresh-process variants: (label, app kind, real handler asset).
VARIANTS = {
    "l2": ("L2 ClientVpnEndpoint", "l2", False),
    "off": ("ClientVpn, export off", "off", False),
    "on": ("ClientVpn, export on (CVPN_SKIP_BUNDLING=1)", "on", False),
    "bundled": ("ClientVpn, export on (prebuilt handler asset)", "on", True),
    "pki_skip": ("ClientVpn, generated PKI, 3 users (CVPN_SKIP_BUNDLING=1)", "pki", False),
    "pki": ("ClientVpn, generated PKI, 3 users (prebuilt handler asset)", "pki", True),
    "floor": (
        "Floor: the L2 app plus the generated PKI's other resources as plain CfnResource",
        "floor",
        False,
    ),
}
#: Private bytecode cache of the children in the "bytecode" mode (never the shared venv).
PYCACHE = Path(
    os.environ.get(
        "CVPN_BENCH_PYCACHE", Path.home() / ".cache" / "constructs-cvpn" / "bench-pycache"
    )
)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def spread(samples: list[float]) -> str:
    """Median with the observed range, in ms."""
    return (
        f"{median_ms(samples):.0f} ms (range {min(samples) * 1000:.0f}-{max(samples) * 1000:.0f})"
    )


@contextmanager
def section(name: str, timings: dict[str, float]) -> Iterator[None]:
    print(f"== {name} ...", flush=True)
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    print(f"== {name}: {timings[name]:.0f} s", flush=True)


# --- fresh-process synth ----------------------------------------------------------------------


def child_env(source: Path, *, bytecode: bool, bundling: bool = False) -> dict[str, str]:
    """Environment of a fresh child: ``source`` first on the path, bytecode mode, bundling."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("CVPN_SKIP_BUNDLING", None)
    if not bundling:
        env["CVPN_SKIP_BUNDLING"] = "1"
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def child(kind: str) -> None:
    """Fresh-process synth: print the wall-clock time at which app.synth() finished."""
    import apps

    with tempfile.TemporaryDirectory(prefix="cvpn-bench-out-") as out:
        os.environ["CDK_OUTDIR"] = out
        app, _ = apps.build(kind)
        app.synth()
        print(f"SYNTH_DONE {time.time():.6f}", flush=True)


def fresh_synth(kind: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds to the end of app.synth(), CPU seconds of the child and its node)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"SYNTH_DONE (\S+)", done.stdout)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"{kind}: {done.stderr.strip().splitlines()[-1:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(match.group(1)) - start, cpu


def fresh_rounds(
    names: list[str], pairs: int, source: Path, bytecode: bool
) -> dict[str, dict[str, list[float]]]:
    """``pairs`` rounds of every variant, order reversed every other round; one warm-up."""
    envs = {
        name: child_env(source, bytecode=bytecode, bundling=VARIANTS[name][2]) for name in names
    }
    samples: dict[str, dict[str, list[float]]] = {n: {"wall": [], "cpu": []} for n in names}
    for name in list(names):
        try:
            fresh_synth(VARIANTS[name][1], envs[name])  # warm-up: bytecode, wheel cache
        except RuntimeError as err:
            print(f"   {name} dropped: {err}")
            names.remove(name)
            samples.pop(name)
    for i in range(pairs):
        for name in names if i % 2 == 0 else list(reversed(names)):
            wall, cpu = fresh_synth(VARIANTS[name][1], envs[name])
            samples[name]["wall"].append(wall)
            samples[name]["cpu"].append(cpu)
        print(
            f"   round {i + 1}/{pairs}: "
            + ", ".join(f"{n} {samples[n]['wall'][-1]:.1f} s" for n in names),
            flush=True,
        )
    return samples


def write_floor_resources(into: Path) -> None:
    """The "floor" app's resources (bench/apps.py ``floor_resources``), for the children."""
    import apps

    templates = {}
    for kind in ("l2", "pki"):
        app, stack = apps.build(kind)
        artifact = app.synth().get_stack_artifact(stack.artifact_id)
        templates[kind] = json.loads(Path(artifact.template_full_path).read_text())["Resources"]
    into.write_text(json.dumps(apps.floor_resources(templates["l2"], templates["pki"])))
    os.environ[apps.FLOOR_ENV] = str(into)


def target_line(samples: dict[str, dict[str, list[float]]]) -> str:
    """Issues 14 and 24: export off and generated PKI within TARGET_RATIO of the L2."""
    lines = []
    for name, issue in (("off", "14"), ("pki", "24")):
        if name not in samples:
            continue
        verdicts = []
        for metric in ("wall", "cpu"):
            ratio = statistics.median(samples[name][metric]) / statistics.median(
                samples["l2"][metric]
            )
            verdicts.append(
                f"{metric} {ratio:.2f}x ({'met' if ratio <= TARGET_RATIO else 'not met'})"
            )
        lines.append(
            f"Issue {issue}'s target, {VARIANTS[name][0]} <= {TARGET_RATIO:.2f}x the L2: "
            f"{', '.join(verdicts)}."
        )
    if "floor" in samples:
        ratio = statistics.median(samples["floor"]["cpu"]) / statistics.median(samples["l2"]["cpu"])
        lines.append(
            f"The floor (the same resources with no construct logic): cpu {ratio:.2f}x the L2."
        )
    return "\n".join(lines)


def fresh_table(samples: dict[str, dict[str, list[float]]], title: str) -> list[str]:
    base = samples["l2"]
    rows = [
        f"| {title} | wall median (range) | ratio to L2 | median of per-pair ratios "
        "| CPU median | CPU ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in samples.items():
        ratio = statistics.median(s["wall"]) / statistics.median(base["wall"])
        pairwise = statistics.median(a / b for a, b in zip(s["wall"], base["wall"], strict=True))
        cpu_ratio = statistics.median(s["cpu"]) / statistics.median(base["cpu"])
        rows.append(
            f"| {VARIANTS[name][0]} | {spread(s['wall'])} | {ratio:.2f}x | {pairwise:.2f}x "
            f"| {median_ms(s['cpu']):.0f} ms | {cpu_ratio:.2f}x |"
        )
    return rows


# --- in-process ---------------------------------------------------------------------------


def construct_time(kind: str) -> float:
    """Seconds to construct ClientVpn (export off) or the L2 endpoint in a ready stack."""
    import apps

    _, stack, vpc = apps.new_stack()
    start = time.perf_counter()
    if kind == "l2":
        apps.l2_endpoint(stack, vpc)
    else:
        apps.client_vpn(stack, vpc)
    return time.perf_counter() - start


def synth(kind: str, **kw: int) -> tuple[float, int, int]:
    """Build + synth in this process: (seconds, template bytes as written, resource count)."""
    import apps

    start = time.perf_counter()
    app, stack = apps.build(kind, **kw)
    assembly = app.synth()
    elapsed = time.perf_counter() - start
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    path = Path(artifact.template_full_path)
    template = json.loads(path.read_text())
    return elapsed, path.stat().st_size, len(template["Resources"])


# --- deploy-time model --------------------------------------------------------------------


def model_rows(counts: tuple[int, ...], azs: tuple[int, ...]) -> list[str]:
    import apps
    import deploy_model

    rows = [
        "| rules | routes (resources) | AZs | changes (serial) | ours: chain | ours: peak "
        "| limit 10: schedule (bound) | 10-k lanes: chain / peak | phased: chain / peak | note |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for n in counts:
        for k in azs:
            app, stack, vpc = apps.new_stack(azs=k, resource_limit=False)
            apps.client_vpn(stack, vpc, rules=n, routes=n)
            template = _template(app.synth(), stack)
            f = deploy_model.model(template)
            notes = []
            if len(template["Resources"]) > MAX_RESOURCES:
                notes.append(f"{len(template['Resources'])} resources > {MAX_RESOURCES}")
            if n > MAX_ROUTES_PER_ASSOCIATION:
                notes.append(f"{n} routes/association > quota {MAX_ROUTES_PER_ASSOCIATION}")
            rows.append(
                f"| {n} | {n} ({f.routes}) | {k} | {f.serial} | {f.chain} | {f.peak} "
                f"| {f.limit} ({f.limit_bound}) | {f.wide_chain} / {f.wide_peak} "
                f"| {f.phased_chain} / {f.phased_peak} | {'; '.join(notes)} |"
            )
        print(f"   model: {n} rules + {n} routes done", flush=True)
    return rows


def model_extra_rows() -> list[str]:
    """The custom resources that wait on the associations: export on, generated PKI."""
    import apps
    import deploy_model

    rows = []
    cases: tuple[tuple[str, dict[str, Any]], ...] = (
        ("export on, 20 rules + 20 routes", {"export": True, "rules": 20, "routes": 20}),
        ("generated PKI, 3 users, 20 rules + 20 routes", {"users": 3, "rules": 20, "routes": 20}),
    )
    for label, kwargs in cases:
        app, stack, vpc = apps.new_stack(azs=2)
        apps.client_vpn(stack, vpc, **kwargs)
        f = deploy_model.model(_template(app.synth(), stack))
        rows.append(
            f"| {label}, 2 AZs | {f.serial} ({f.custom} custom) | {f.chain} | {f.peak} "
            f"| {f.limit} ({f.limit_bound}) | {f.phased_chain} / {f.phased_peak} |"
        )
    return [
        "| app | changes | ours: chain | ours: peak | limit 10: schedule (bound) "
        "| phased: chain / peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]


def _template(assembly: Any, stack: Any) -> dict[str, Any]:
    path = Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path)
    template: dict[str, Any] = json.loads(path.read_text())
    return template


# --- imports ------------------------------------------------------------------------------


def import_rows(baseline: Path | None, runs: int) -> list[str]:
    """The import table, in this environment's bytecode mode (see the text above it)."""
    import imports

    env = child_env(ROOT, bytecode=False)
    off = imports.measured("off", env, runs)
    name = imports.measured("name", env, runs)
    l2 = imports.run("l2", env)
    plain = imports.run("import", env)
    warm = imports.measured("name", child_env(ROOT, bytecode=True), runs)
    before: dict[str, Any] = {"modules": [], "costs": {}}
    if baseline is not None:
        before = imports.run("off", child_env(baseline, bytecode=False))
    modules = sorted(
        set(off["modules"]) | set(l2["modules"]) | set(before["modules"]),
        key=lambda m: (-max(off["costs"].get(m, 0.0), before["costs"].get(m, 0.0)), m),
    )

    def ms(value: float | None) -> str:
        return f"{value * 1000:.0f} ms" if value else ""

    rows = [
        f"- `import constructs_cvpn`: {plain['total'] * 1000:.0f} ms; loads "
        f"{', '.join(f'`{m}`' for m in plain['modules']) or 'nothing else'}.",
        f"- `from constructs_cvpn import ClientVpn`: {name['total'] * 1000:.0f} ms without "
        f"bytecode, {warm['total'] * 1000:.0f} ms with (median of {runs}).",
        f"- Building the export-off app (imports + construction, no synth): "
        f"{off['total'] * 1000:.0f} ms with ClientVpn (median of {runs}), "
        f"{l2['total'] * 1000:.0f} ms with the L2 (one run)"
        + (
            f", {before['total'] * 1000:.0f} ms with ClientVpn at {BASELINE} (one run)."
            if baseline
            else "."
        ),
        "- Not loaded by the export-off app: "
        + ", ".join(
            f"`{m}`" + (" (LOADED)" if m in off["modules"] else "")
            for m in imports.NOT_FOR_CLIENT_VPN
        )
        + ".",
        "",
        f"| module | L2 app | ClientVpn app | self cost now | at {BASELINE} | self cost then |",
        "| --- | :---: | :---: | ---: | :---: | ---: |",
    ]
    for m in modules:
        if not m.startswith(("aws_cdk.", "constructs_cvpn")):
            continue
        rows.append(
            f"| `{m}` | {'x' if m in l2['modules'] else ''} "
            f"| {'x' if m in off['modules'] else ''} | {ms(off['costs'].get(m))} "
            f"| {'x' if m in before['modules'] else ''} | {ms(before['costs'].get(m))} |"
        )
    return rows


# --- example stacks -----------------------------------------------------------------------


def stack_rows(baseline: Path | None) -> list[str]:
    import stack_counts

    now = stack_counts.counts_in(ROOT, sys.executable)
    before = stack_counts.counts_in(baseline, sys.executable) if baseline else {}
    rows = [
        f"| stack | resources ({BASELINE} -> now) | Lambda functions, all / ClientVpn's "
        "| log groups | custom resources |",
        "| --- | --- | --- | --- | --- |",
    ]

    def pair(stack: str, key: str) -> str:
        old = before.get(stack, {}).get(key)
        return f"{old} -> {now[stack][key]}" if old is not None else str(now[stack][key])

    for stack in sorted(now):
        rows.append(
            f"| {stack} | {pair(stack, 'resources')} | {pair(stack, 'lambda')} / "
            f"{pair(stack, 'lambda_ours')} | {pair(stack, 'log_groups')} "
            f"| {pair(stack, 'custom')} |"
        )
    return rows


def extract(commit: str, into: Path) -> Path | None:
    """The tree of ``commit`` (library, example stacks, cdk.json), or None outside git."""
    archive = into / "tree.tar"
    done = subprocess.run(
        [
            "git",
            "archive",
            "--format=tar",
            "-o",
            str(archive),
            commit,
            "constructs_cvpn",
            "stacks",
            "cdk.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"   no baseline: {done.stderr.strip()}")
        return None
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


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


# --- report ---------------------------------------------------------------------------


def machine(load_before: tuple[float, float, float]) -> list[str]:
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
    import aws_cdk

    ec2_dir = Path(aws_cdk.__file__).parent / "aws_ec2"
    cached = (ec2_dir / "__pycache__").is_dir()
    after = os.getloadavg()
    busy = max(load_before[0], after[0]) > (os.cpu_count() or 1) / 2
    return [
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Commit: {rev}{' + uncommitted changes in constructs_cvpn/' if dirty else ''}",
        f"- nproc: {os.cpu_count()}; CPU: {cpu}",
        f"- Load average (1/5/15 min) before: {' / '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {' / '.join(f'{x:.2f}' for x in after)}"
        + (
            " -- a busy machine (other work shared the cores): wall times are inflated and "
            "noisy; compare ratios and CPU times, and re-run on a quiet machine."
            if busy
            else ""
        ),
        f"- Python {platform.python_version()}, Node.js {node}, aws-cdk-lib "
        f"{_version('aws-cdk-lib')}",
        "- This environment: PYTHONDONTWRITEBYTECODE="
        f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')}; aws-cdk-lib installed "
        f"{'with' if cached else 'without'} bytecode "
        "(`aws_cdk/aws_ec2/__pycache__`).",
    ]


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=PAIRS, help="fresh-synth rounds")
    parser.add_argument(
        "--cold-pairs",
        type=int,
        default=COLD_PAIRS,
        help="fresh-synth rounds without bytecode (0: skip)",
    )
    parser.add_argument("--quick", action="store_true", help="2 rounds, small model grid")
    parser.add_argument("--tests", action="store_true", help="also run the test suite once")
    parser.add_argument(
        "--baseline-synth", action="store_true", help=f"also time the fresh synth of {BASELINE}"
    )
    parser.add_argument(
        "--child", choices=sorted({v[1] for v in VARIANTS.values()}), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    sys.path[:0] = [str(ROOT), str(BENCH)]
    if args.quick:
        args.pairs, args.cold_pairs = 2, min(args.cold_pairs, 1)
    load_before = os.getloadavg()
    # In-process synths write here (not one /tmp/cdk.out* per synth).
    outdir = tempfile.mkdtemp(prefix="cvpn-bench-out-")
    os.environ["CDK_OUTDIR"] = outdir
    timings: dict[str, float] = {}
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cvpn-baseline-") as tmp:
        baseline = extract(BASELINE, Path(tmp))

        with section("fresh-process synth", timings):
            write_floor_resources(Path(outdir) / "floor-resources.json")
            warm = fresh_rounds(list(VARIANTS), args.pairs, ROOT, bytecode=True)
            out += [
                "## 1. Fresh-process synth: ClientVpn against the bare L2",
                "",
                f"{args.pairs} rounds; each round runs every variant, the order reversed every "
                "other round (so each ClientVpn run has an L2 run beside it); one untimed "
                "warm-up run per variant. Wall = from the child's start to `app.synth()` "
                "returning (interpreter and jsii start-up included); CPU = user + system time "
                "of the child and its node process (less sensitive to other load on the machine).",
                "",
                "**With bytecode** (how an installed package runs: pip compiles at install, and "
                "Python caches what it compiles; the children use a private cache, "
                f"`{PYCACHE}`, never the shared venv):",
                "",
                *fresh_table(warm, "app"),
                "",
                target_line(warm),
                "",
                "Prebuilt handler asset: what `cdk synth` pays since issue 24. The asset (a "
                "~5 MB zip of the handlers and the pinned wheels) is built once (the wheel's "
                "build hook; in this checkout `make setup`, `.build/lambda/`), and each "
                "process only checks that it is fresh (a sha256 of the handler sources and "
                "the pins; an installed package skips even that) and lets CDK copy the zip "
                "into `cdk.out` under the hash recorded beside it (each child here has a "
                "fresh output directory, so it copies every time). Before issue 24 every "
                "process installed the wheels into a temporary directory and hashed them: "
                "1.23x the L2's CPU with the export on in the previous run of this file. "
                "`CVPN_SKIP_BUNDLING=1` isolates the construct's own cost: the difference "
                "between a variant with the asset and the same one skipping it is what the "
                "asset costs.",
                "",
                "The floor: the L2 app plus every resource the generated PKI adds (its two "
                "handler functions with their roles, policies, log groups and invoke "
                "configurations, two KMS keys, the config bucket and its access-log bucket "
                "with their policies, two schedules and their invoke permissions, two alarms, "
                "the two custom resources), declared as plain `CfnResource` from the PKI app's "
                "own template (bench/apps.py `floor_resources`): what these resources cost with "
                "no construct logic at all (CDK's per-resource synth work and its built-in "
                "CloudFormation validation of the bigger template). Between the floor and "
                "`ClientVpn` is construct work: aws-cdk-lib's L2 constructs (Lambda `Function`, "
                "IAM `Role` and grants, S3 `Bucket`, KMS `Key`, Events `Rule`, CloudWatch "
                "`Alarm`) in its node process, and this library's Python code, its imports and "
                "its jsii round trips (about 0.1 ms of CPU each over the three processes).",
                "",
            ]
            if args.cold_pairs:
                cold = fresh_rounds(["l2", "off"], args.cold_pairs, ROOT, bytecode=False)
                out += [
                    f"**Without bytecode** ({args.cold_pairs} rounds; this environment as it "
                    "is: every process compiles the aws-cdk-lib modules it imports, e.g. "
                    "`aws_ec2/__init__.py`, 7.7 MB):",
                    "",
                    *fresh_table(cold, "app"),
                    "",
                    target_line(cold),
                    "",
                ]
            if args.baseline_synth and baseline is not None:
                old = fresh_rounds(["l2", "off"], args.pairs, baseline, bytecode=True)
                out += [f"**At {BASELINE}** (with bytecode):", "", *fresh_table(old, "app"), ""]

        with section("in-process", timings):
            for _ in range(WARMUP_ROUNDS):  # node's JIT keeps speeding up jsii for a few synths
                for kind in ("off", "l2"):
                    construct_time(kind)
                    synth(kind)
            built: dict[str, list[float]] = {"off": [], "l2": []}
            synths: dict[str, list[float]] = {"off": [], "l2": []}
            for _ in range(INPROC_RUNS):
                for kind in ("off", "l2"):
                    built[kind].append(construct_time(kind))
                    synths[kind].append(synth(kind)[0])
            out += [
                "## 2. In-process construct and synth time",
                "",
                f"After {WARMUP_ROUNDS} warm-up rounds, median of {INPROC_RUNS}. Construct = "
                "the `ClientVpn(...)` call (export off) or the L2 endpoint plus its rule, in a "
                "stack whose VPC is already built; synth = build the whole app and "
                "`app.synth()`.",
                "",
                "| measurement | ClientVpn | L2 | ratio |",
                "| --- | --- | --- | --- |",
                f"| construct | {spread(built['off'])} | {spread(built['l2'])} | "
                f"{median_ms(built['off']) / median_ms(built['l2']):.1f}x |",
                f"| app build + synth | {spread(synths['off'])} | {spread(synths['l2'])} | "
                f"{median_ms(synths['off']) / median_ms(synths['l2']):.2f}x |",
                "",
            ]

        with section("imports", timings):
            out += [
                "## 3. What the ClientVpn app imports (export off, given certificates)",
                "",
                "Fresh processes traced by bench/imports.py (`python -X importtime` misses "
                "every module aws-cdk-lib loads through its lazy `__getattr__`). Self cost = "
                "the module's own import time without the imports nested in it, in this "
                "environment as it is (no bytecode: each module is compiled, which is where "
                f"import cost shows most); median of {IMPORT_RUNS} now, one run at "
                f"{BASELINE}. aws-cdk-lib modules and ours only (jsii, attrs, ... are the same "
                "for both apps).",
                "",
                *import_rows(baseline, IMPORT_RUNS),
                "",
            ]

        with section("example stacks", timings):
            out += [
                "## 4. Example stacks: resources and Lambda functions",
                "",
                f"`stacks/` synthesized at {BASELINE} (main before issue 14) and now, with "
                "`cvpn:skipBundling` (counts do not depend on the wheels). The VPC's "
                "restrict-default-security-group custom resource brings one Lambda function "
                "that is not ours.",
                "",
                *stack_rows(baseline),
                "",
            ]

    with section("deploy-time model", timings):
        counts = (1, 20) if args.quick else MODEL_COUNTS
        azs = (1, 2, 6) if args.quick else MODEL_AZS
        out += [
            "## 5. Deploy-time model: the longest chain of endpoint changes",
            "",
            "From each synthesized template's DependsOn / Ref / GetAtt / Sub graph "
            "(bench/deploy_model.py): every endpoint change (association, rule, route, custom "
            "resource after the endpoint) takes one unit, everything else none. `n` rules "
            "and `n` routes, each route through every associated subnet. Columns: "
            "*changes* = a fully serial deploy; *ours* = the critical path of the template "
            "as CloudFormation runs it, and how many changes it may run at once (exact: an "
            "antichain and a chain cover of that size); *limit 10* = a critical-path-first "
            "schedule with at most 10 concurrent changes per endpoint and only the "
            "constraints AWS imposes (routes after associations), with its lower bound "
            "max(changes / 10, chain without lanes); *10-k lanes* = the same template "
            "re-chained into 10 - k lanes for k associations; *phased* = rules in 10 - k "
            "lanes beside the associations, then routes in 10 - c lanes (c = custom resources "
            "waiting on the endpoint) after the last rules.",
            "",
            *model_rows(counts, azs),
            "",
            *model_extra_rows(),
            "",
        ]

    with section("scaling", timings):
        rows: list[tuple[str, str]] = []
        cases: list[tuple[str, int, int]] = []
        for n in (1, 20, 50):
            runs = [synth("off", rules=n, routes=n) for _ in range(SCALE_RUNS)]
            t = median_ms([r[0] for r in runs])
            size, res = runs[0][1], runs[0][2]
            rows.append(
                (
                    f"{n} rules + {n} routes, 2 AZs: synth (median of {SCALE_RUNS}) / template / "
                    "resources",
                    f"{t:.0f} ms / {size:,} B / {res}",
                )
            )
            cases.append((f"{n} rules + {n} routes", size, res))
        for n in (1, 100, 1000):
            _, size, res = synth("off", users=n)
            rows.append((f"Generated PKI, {n} users: template / resources", f"{size:,} B / {res}"))
            cases.append((f"PKI {n} users", size, res))
        for label, size, res in cases:
            assert size < MAX_TEMPLATE_BYTES, f"{label}: template {size} B >= {MAX_TEMPLATE_BYTES}"
            assert res < MAX_RESOURCES, f"{label}: {res} resources >= {MAX_RESOURCES}"
        big = max(cases, key=lambda c: c[1])
        many = max(cases, key=lambda c: c[2])
        rows.append(
            (
                "CloudFormation limits (asserted)",
                f"largest template ({big[0]}) {big[1]:,} B = {big[1] / MAX_TEMPLATE_BYTES:.1%} of "
                f"1 MB; most resources ({many[0]}) {many[2]} of {MAX_RESOURCES}",
            )
        )

    with section("handlers", timings):
        rows.append(
            (
                f"Export handler Create per config, moto + Stubber (median of {HANDLER_RUNS})",
                f"{bench_export_handler():.1f} ms",
            )
        )
        issue, keygen = bench_pki()
        rows += [
            (
                f"RSA 2048 key + client cert issue per user (median of {PKI_RUNS})",
                f"{issue:.0f} ms",
            ),
            (f"RSA 2048 key generation alone (median of {PKI_RUNS})", f"{keygen:.0f} ms"),
            (
                "1,000 new users' keys and certificates, of the Users handler's 12 minutes",
                f"{issue:.0f} s",  # ms per user x 1,000 users / 1,000 ms per s
            ),
        ]
        if args.tests:
            wall, summary = run_tests()
            rows.append(("Test suite wall time (pytest -q, one run)", f"{wall:.1f} s ({summary})"))

    out += [
        "## 6. Template scaling and handlers",
        "",
        "| measurement | result |",
        "| --- | --- |",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    text = [
        "# Benchmarks",
        "",
        "Re-run with `python bench/run.py` (`make bench` also runs bench/day_two.py); the "
        "sections' times are below. The script overwrites this file. Figures are medians; "
        "ranges show the spread. Template size is the file as written to the cloud assembly.",
        "",
        *machine(load_before),
        f"- Sections took: {', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}.",
        "",
        *out,
    ]
    shutil.rmtree(outdir, ignore_errors=True)
    (BENCH / "RESULTS.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
