"""Synthesize an app with ``ClientVpnChecks`` and read its validation report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App, Validations

from constructs_cvpn.nag import PACK_NAME, ClientVpnChecks


@dataclass(frozen=True)
class NagReport:
    """What one synthesis of an app produced under ``ClientVpnChecks``."""

    synth_failed: bool
    """True when synthesis raised (an ERROR-level finding)."""
    error_message: str
    """The exception text when synthesis failed, else empty."""
    findings: dict[str, dict[str, str]]
    """Construct path -> {rule id -> severity ("error" / "warning")}."""
    outdir: Path
    """The cloud assembly directory (templates, ``validation-report.json``)."""

    def at(self, construct_path: str) -> dict[str, str]:
        """Findings on one construct (empty when it has none)."""
        return self.findings.get(construct_path, {})

    def under(self, prefix: str) -> dict[str, dict[str, str]]:
        """Findings on every construct whose path starts with ``prefix/``."""
        return {p: f for p, f in self.findings.items() if p.startswith(prefix + "/")}


def synth_with_checks(app: App) -> NagReport:
    """Add the pack to ``app``, synthesize it and parse ``validation-report.json``."""
    Validations.of(app).add_plugins(ClientVpnChecks(app))
    message = ""
    try:
        app.synth()
    except RuntimeError as error:
        message = str(error)
        if "ValidationFailed" not in message:
            raise
    report_file = Path(app.outdir) / "validation-report.json"
    findings: dict[str, dict[str, str]] = {}
    if report_file.exists():
        report = json.loads(report_file.read_text(encoding="utf-8"))
        for plugin in report["pluginReports"]:
            if plugin["pluginName"] != PACK_NAME:
                continue
            for violation in plugin["violations"]:
                for construct in violation["violatingConstructs"]:
                    by_rule = findings.setdefault(construct["constructPath"], {})
                    by_rule[violation["ruleName"]] = violation["severity"]
    return NagReport(
        synth_failed=bool(message),
        error_message=message,
        findings=findings,
        outdir=Path(app.outdir),
    )
