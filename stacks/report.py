"""Say what ``make synth`` produced: ``python -m stacks.report cdk.out``.

A short summary: each template with its resource count and size; what each VPN's target
network associations cost per month at list price (``constructs_cvpn.cost``); the cdk-nag outcome
(synthesis fails on any unacknowledged error, so reaching this report means there were
none) as a count of acknowledged findings per rule; the construct warnings by id. The full
list of acknowledged findings, with path and reason, goes to ``<outdir>/nag-acknowledged.txt``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from constructs_cvpn import cost

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
NAG_PACKS = ("AwsSolutions", "NIST.800.53.R5", "ClientVpn")
#: The plugin report the CDK writes for construct annotations
#: (``@aws-cdk/core:annotationsInValidationReport``): warnings, not nag findings.
ANNOTATIONS_PLUGIN = "Construct Annotations"
FULL_LIST = "nag-acknowledged.txt"


def acknowledged_findings(out: Path) -> list[tuple[str, str, str]]:
    """(construct path, finding id, reason) of every acknowledged cdk-nag finding."""
    found: list[tuple[str, str, str]] = []
    for metadata in sorted(out.glob("*.metadata.json")):
        for path, entries in json.loads(metadata.read_text()).items():
            for entry in entries:
                if entry["type"] != ACKNOWLEDGED:
                    continue
                for rule, reason in entry["data"].items():
                    origin, _, finding = rule.partition("::")  # "<origin>::<finding id>"
                    if any(pack in rule for pack in NAG_PACKS):
                        found.append((path, finding or origin, reason))
    return found


def rule_of(finding: str) -> str:
    """The rule of a finding id: ``AwsSolutions-IAM5[Resource::...]`` -> ``AwsSolutions-IAM5``."""
    return finding.split("[", 1)[0]


def association_cost(out: Path) -> list[str]:
    """Association-hours per month of each endpoint, and their list price."""
    lines = [f"Client VPN association-hours per month, {cost.price_note()}:"]
    for template in sorted(out.glob("*.template.json")):
        stack = template.name.removesuffix(".template.json")
        paths = construct_paths(out / f"{stack}.metadata.json")
        body = json.loads(template.read_text())
        scheduled = cost.schedules_by_endpoint(body)
        for endpoint, count in cost.associations_by_endpoint(body).items():
            name = paths.get(endpoint, f"{stack}/{endpoint}").removesuffix("/Resource")
            if endpoint in scheduled:
                subnets, hours = scheduled[endpoint]
                lines.append(f"  {cost.scheduled_line(name, subnets, hours)}")
            else:
                lines.append(f"  {cost.monthly_line(name, count)}")
    return lines


def construct_paths(metadata: Path) -> dict[str, str]:
    """Logical id -> construct path, from a stack's ``aws:cdk:logicalId`` metadata."""
    if not metadata.exists():
        return {}
    return {
        entry["data"]: path
        for path, entries in json.loads(metadata.read_text()).items()
        for entry in entries
        if entry["type"] == "aws:cdk:logicalId"
    }


def summary(out: Path) -> list[str]:
    """The lines ``make synth`` prints (and writes the full list next to the templates)."""
    lines = [f"Templates written to {out.resolve()}/:"]
    for template in sorted(out.glob("*.template.json")):
        body = json.loads(template.read_text())
        size = template.stat().st_size
        lines.append(
            f"  {template.name}: {len(body.get('Resources', {}))} resources, {size:,} bytes"
        )
    lines += association_cost(out)
    report = json.loads((out / "validation-report.json").read_text())
    plugins = report.get("pluginReports", [])
    findings = sum(
        len(p.get("violations", [])) for p in plugins if p.get("pluginName") != ANNOTATIONS_PLUGIN
    )
    warnings: Counter[str] = Counter()
    for plugin in plugins:
        if plugin.get("pluginName") == ANNOTATIONS_PLUGIN:
            for violation in plugin.get("violations", []):
                count = len(violation.get("violatingConstructs", [])) or 1
                warnings[violation["ruleName"].removeprefix("Annotation::")] += count
    acknowledged = acknowledged_findings(out)
    per_rule = Counter(rule_of(finding) for _, finding, _ in acknowledged)
    full_list = out / FULL_LIST
    full_list.write_text(
        "".join(f"{finding} on {path}: {reason}\n" for path, finding, reason in acknowledged)
    )
    lines.append(
        f"cdk-nag ({', '.join(NAG_PACKS)}): {findings} unacknowledged findings, "
        f"{len(acknowledged)} acknowledged ({len(per_rule)} rules; each with its reason in "
        f"{full_list}):"
    )
    lines += [f"  {count:3d}  {rule}" for rule, count in sorted(per_rule.items())]
    if warnings:
        lines.append("Construct warnings (printed above by the CDK CLI):")
        lines += [f"  {count:3d}  {warning}" for warning, count in sorted(warnings.items())]
    return lines


def main(outdir: str) -> None:
    print("\n".join(summary(Path(outdir))))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
