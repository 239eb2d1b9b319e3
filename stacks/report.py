"""Say what ``make synth`` produced: ``python -m stacks.report cdk.out``.

Lists each template with its resource count and size, and the cdk-nag outcome: synthesis
fails on any unacknowledged error, so reaching this report means there were none; the
acknowledged findings are listed with their reasons.
"""

import json
import sys
from pathlib import Path

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
NAG_PACKS = ("AwsSolutions", "NIST.800.53.R5", "ClientVpn")


def main(outdir: str) -> None:
    out = Path(outdir)
    print(f"Templates written to {out.resolve()}/:")
    for template in sorted(out.glob("*.template.json")):
        body = json.loads(template.read_text())
        size = template.stat().st_size
        print(f"  {template.name}: {len(body.get('Resources', {}))} resources, {size:,} bytes")
    acknowledged: list[tuple[str, str, str]] = []
    for metadata in sorted(out.glob("*.metadata.json")):
        for path, entries in json.loads(metadata.read_text()).items():
            for entry in entries:
                if entry["type"] != ACKNOWLEDGED:
                    continue
                for rule, reason in entry["data"].items():
                    origin, _, finding = rule.partition("::")  # "<origin>::<finding id>"
                    if any(pack in rule for pack in NAG_PACKS):
                        acknowledged.append((path, finding or origin, reason))
    report = json.loads((out / "validation-report.json").read_text())
    findings = sum(len(r.get("violations", [])) for r in report.get("pluginReports", []))
    print(
        f"cdk-nag ({', '.join(NAG_PACKS)}): {findings} unacknowledged findings, "
        f"{len(acknowledged)} acknowledged:"
    )
    for path, rule, reason in acknowledged:
        print(f"  {rule} on {path}: {reason}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
