"""``vpn.add_dashboard()``: dashboard, alarms and usage-report queries, asserted in the template.

Oracles: the Client VPN admin guide's "Monitoring with Amazon CloudWatch" page (namespace
``AWS/ClientVPN``, the six metric names, per-endpoint dimension ``Endpoint``, published every
5 minutes), the Lambda metrics (``AWS/Lambda`` ``Errors``/``Duration`` by ``FunctionName``) and
the construct's own ``constructs-cvpn`` / ``DaysToExpiry`` (dimension ``Vpn``), written here
as literals, not read from the module under test.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from constructs_cvpn import ClientVpn, ClientVpnConfigError
from constructs_cvpn.nag import ClientVpnChecks

SERVER = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SECRET = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:cvpn/client-AbCdEf"
ROOT = Path(__file__).resolve().parent.parent
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

CLIENT_VPN_METRICS = {
    "ActiveConnectionsCount",
    "AuthenticationFailures",
    "IngressBytes",
    "EgressBytes",
    "IngressPackets",
    "EgressPackets",
}


@dataclass
class Findings:
    outdir: Path
    by_path: dict[str, list[str]]
    """Construct path -> rule names, from every plugin (AwsSolutions, NIST, ours)."""


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[App, dict[str, tuple[Stack, ClientVpn]], Findings]]:
    """Two stacks in one app (generated PKI; given certificates with the export), both with
    ``add_dashboard()``, synthesized under AwsSolutions, NIST 800-53 R5 and our own pack."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, context={**CONTEXT, "cvpn:skipBundling": True})
        pki = Stack(app, "Pki")
        pki_vpn = ClientVpn(
            pki,
            "Vpn",
            vpc=ec2.Vpc(pki, "Vpc", max_azs=2, nat_gateways=0),
            cidr="10.100.0.0/22",
            users=["alice"],
        )
        pki_vpn.add_dashboard(dashboard_name="team-vpn")
        given = Stack(app, "Given")
        given_vpn = ClientVpn(
            given,
            "Vpn",
            vpc=ec2.Vpc(given, "Vpc", max_azs=2, nat_gateways=0),
            cidr="10.100.0.0/22",
            server_certificate_arn=SERVER,
            client_certificate_arn=CLIENT,
            client_credentials_secret=secretsmanager.Secret.from_secret_complete_arn(
                given, "Credentials", SECRET
            ),
        )
        given_vpn.add_dashboard(authentication_failures_threshold=5)
        Validations.of(app).add_plugins(
            AwsSolutionsChecks(app), NIST80053R5Checks(app), ClientVpnChecks(app)
        )
        try:
            app.synth()
        except RuntimeError as error:  # the example VPCs have findings of their own
            if "ValidationFailed" not in str(error):
                raise
        report = json.loads((Path(outdir) / "validation-report.json").read_text())
        findings = Findings(Path(outdir), {})
        for plugin in report["pluginReports"]:
            for violation in plugin.get("violations", []):
                for construct in violation["violatingConstructs"]:
                    findings.by_path.setdefault(construct["constructPath"], []).append(
                        violation["ruleName"]
                    )
        yield app, {"Pki": (pki, pki_vpn), "Given": (given, given_vpn)}, findings


def template_of(built: Any, name: str) -> tuple[Stack, ClientVpn, Template]:
    _, stacks, findings = built
    stack, vpn = stacks[name]
    data = json.loads((findings.outdir / f"{name}.template.json").read_text())
    return stack, vpn, Template.from_json(data)


def alarm(template: Template, name: str) -> dict[str, Any]:
    (found,) = [
        props["Properties"]
        for logical_id, props in template.find_resources("AWS::CloudWatch::Alarm").items()
        if logical_id.startswith(f"VpnMonitoring{name}Alarm")
    ]
    return found


def endpoint_ref(template: Template) -> dict[str, str]:
    (logical_id,) = template.find_resources("AWS::EC2::ClientVpnEndpoint")
    return {"Ref": logical_id}


def test_no_findings_on_the_monitoring_resources(built: Any) -> None:
    _, _, findings = built
    assert {p: r for p, r in findings.by_path.items() if "/Vpn/Monitoring/" in p} == {}
    # The report is read correctly: the example VPC (no flow log) is reported.
    assert "AwsSolutions-VPC7" in findings.by_path["Pki/Vpc/Resource"]


def test_authentication_failure_alarm(built: Any) -> None:
    _, _, template = template_of(built, "Pki")
    props = alarm(template, "AuthenticationFailures")
    assert {k: v for k, v in props.items() if k != "AlarmDescription"} == {
        "Namespace": "AWS/ClientVPN",
        "MetricName": "AuthenticationFailures",
        "Dimensions": [{"Name": "Endpoint", "Value": endpoint_ref(template)}],
        "Statistic": "Sum",
        "Period": 300,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 20,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "TreatMissingData": "notBreaching",
    }
    _, _, given = template_of(built, "Given")
    assert alarm(given, "AuthenticationFailures")["Threshold"] == 5


def test_handler_errors_alarm_sums_every_handler_function(built: Any) -> None:
    _, _, template = template_of(built, "Pki")
    props = alarm(template, "HandlerErrors")
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    queries = {q["Id"]: q for q in props["Metrics"]}
    expression = queries.pop(next(i for i, q in queries.items() if "Expression" in q))
    assert expression["ReturnData"] is True
    functions = {
        logical_id
        for logical_id in template.find_resources("AWS::Lambda::Function")
        if logical_id.startswith("Vpn")
    }
    assert len(functions) == 2  # the certificate authority and the users
    watched = set()
    for query_id, query in queries.items():
        stat = query["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/Lambda"
        assert stat["Metric"]["MetricName"] == "Errors"
        assert stat["Stat"] == "Sum"
        assert stat["Period"] == 300
        (dimension,) = stat["Metric"]["Dimensions"]
        assert dimension["Name"] == "FunctionName"
        watched.add(dimension["Value"]["Ref"])
        assert f"FILL({query_id}, 0)" in expression["Expression"]
    assert watched == functions


def test_renewal_not_running_alarm(built: Any) -> None:
    _, vpn, template = template_of(built, "Pki")
    props = alarm(template, "RenewalNotRunning")
    assert {k: v for k, v in props.items() if k != "AlarmDescription"} == {
        "Namespace": "constructs-cvpn",
        "MetricName": "DaysToExpiry",
        "Dimensions": [{"Name": "Vpn", "Value": vpn.vpn_id}],
        "Statistic": "SampleCount",
        "Period": 86400,
        # Two functions, each run every 12 hours: 4 samples a day when renewal works.
        "ComparisonOperator": "LessThanThreshold",
        "Threshold": 2,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "TreatMissingData": "breaching",
    }


def test_alarms_have_no_actions_and_stable_names(built: Any) -> None:
    _, vpn, template = template_of(built, "Pki")
    assert set(vpn.alarms) == {
        "AuthenticationFailures",
        "HandlerErrors",
        "RenewalNotRunning",
        "CertificateExpiry",
    }
    assert vpn.alarms["CertificateExpiry"] is vpn.expiry_alarm
    for props in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in props["Properties"]
    _, given_vpn, given = template_of(built, "Given")
    # Given certificates: no PKI, so no renewal or expiry alarm; one handler (the export).
    assert set(given_vpn.alarms) == {"AuthenticationFailures", "HandlerErrors"}
    assert len(given.find_resources("AWS::CloudWatch::Alarm")) == 2


def dashboard_body(template: Template) -> dict[str, Any]:
    (props,) = [
        r["Properties"] for r in template.find_resources("AWS::CloudWatch::Dashboard").values()
    ]
    # The body is a Fn::Join of literal JSON pieces and tokens: render tokens as markers.
    parts = props["DashboardBody"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)
    return {"name": props.get("DashboardName"), "body": json.loads(text)}


def test_dashboard_shows_every_client_vpn_metric_by_endpoint_every_5_minutes(built: Any) -> None:
    _, _, template = template_of(built, "Pki")
    dashboard = dashboard_body(template)
    assert dashboard["name"] == "team-vpn"
    # Each graph keeps its own period whatever the time range (not "auto").
    assert dashboard["body"]["periodOverride"] == "inherit"
    shown: set[str] = set()
    titles = []
    for widget in dashboard["body"]["widgets"]:
        properties = widget["properties"]
        titles.append(properties.get("title"))
        for row in properties.get("metrics", []):
            if row[0] == "AWS/ClientVPN":
                assert row[2] == "Endpoint"
                assert row[3] == "TOKEN"  # the endpoint id (a Ref)
                # A metric row without "period" takes the widget's (CloudWatch API
                # reference, "Dashboard Body Structure and Syntax").
                assert row[4].get("period", properties.get("period")) == 300
                shown.add(row[1])
    assert shown == CLIENT_VPN_METRICS
    assert "Handler errors" in titles
    assert "Handler duration (maximum, ms)" in titles
    assert "Days to expiry (minimum over generated certificates)" in titles


@pytest.mark.parametrize("name", ["Pki", "Given"])
def test_the_dashboard_is_two_graphs_a_row_and_the_alarms_across(built: Any, name: str) -> None:
    # README: "two graphs a row, the alarms' states across the width below them", on
    # CloudWatch's grid of 24 columns (API reference, "Dashboard Body Structure and Syntax").
    _, _, template = template_of(built, name)
    widgets = dashboard_body(template)["body"]["widgets"]
    rows: dict[int, list[dict[str, Any]]] = {}
    for widget in widgets:
        rows.setdefault(widget["y"], []).append(widget)
    *graph_rows, last = [rows[y] for y in sorted(rows)]
    for row in graph_rows:
        assert [(w["type"], w["x"], w["width"]) for w in row] == [
            ("metric", 0, 12),
            ("metric", 12, 12),
        ]
    assert [(w["type"], w["x"], w["width"]) for w in last] == [("alarm", 0, 24)]


def test_usage_queries_on_the_connection_log(built: Any) -> None:
    _, _, template = template_of(built, "Pki")
    queries = template.find_resources("AWS::Logs::QueryDefinition")
    assert len(queries) == 3
    groups = {
        logical_id
        for logical_id, r in template.find_resources("AWS::Logs::LogGroup").items()
        if logical_id.startswith("VpnLogGroup")
    }
    (connection_log,) = groups
    texts = {}
    for q in queries.values():
        props = q["Properties"]
        assert props["LogGroupNames"] == [{"Ref": connection_log}]
        texts[props["Name"].rsplit("/", 1)[1]] = props["QueryString"]
    assert set(texts) == {
        "sessions-and-bytes-per-user",
        "failed-authentications",
        "sessions-for-peak-concurrency",
    }
    # Field names of the documented connection-log record (admin guide, Connection logging).
    assert "`connection-log-type` = 'connection-reset'" in texts["sessions-and-bytes-per-user"]
    assert "sum(`ingress-bytes`)" in texts["sessions-and-bytes-per-user"]
    assert "`connection-attempt-failure-reason`" in texts["failed-authentications"]
    assert "`connection-attempt-status` = 'failed'" in texts["failed-authentications"]
    assert "`connection-end-time`" in texts["sessions-for-peak-concurrency"]


def test_add_dashboard_twice_is_refused(built: Any) -> None:
    _, stacks, _ = built
    _, vpn = stacks["Given"]
    with pytest.raises(ClientVpnConfigError, match="Given/Vpn: add_dashboard: was already called"):
        vpn.add_dashboard()


def test_without_add_dashboard_only_the_expiry_alarm() -> None:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Plain")
    vpn = ClientVpn(
        stack, "Vpn", vpc=ec2.Vpc(stack, "Vpc", max_azs=2), cidr="10.100.0.0/22", users=["a"]
    )
    assert vpn.alarms == {"CertificateExpiry": vpn.expiry_alarm}
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    template.resource_count_is("AWS::Logs::QueryDefinition", 0)
    with pytest.raises(ClientVpnConfigError, match="authentication_failures_threshold"):
        vpn.add_dashboard(authentication_failures_threshold=0)


def test_an_authentication_failures_threshold_of_1_is_the_least() -> None:
    # The docstring's "at least 1": one failure within 5 minutes fires.
    stack = Stack(App(context={"cvpn:skipBundling": True}), "One")
    vpn = ClientVpn(
        stack, "Vpn", vpc=ec2.Vpc(stack, "Vpc", max_azs=2), cidr="10.100.0.0/22", users=["a"]
    )
    vpn.add_dashboard(authentication_failures_threshold=1)
    assert alarm(Template.from_stack(stack), "AuthenticationFailures")["Threshold"] == 1


def test_monitoring_loads_only_when_used() -> None:
    """Import cost (NOTES-imports.md): an app that does not call add_dashboard loads neither
    the monitoring module nor aws_cloudwatch; one that does, loads both (the probe sees)."""
    from tests.test_import_cost import CLIENT_VPN, modules_at

    plain = modules_at(CLIENT_VPN)["synth"]
    assert {"constructs_cvpn.monitoring", "aws_cdk.aws_cloudwatch"} & plain == set()
    with_dashboard = CLIENT_VPN.replace(
        "app.synth()",
        "app.node.find_child('Stack').node.find_child('Vpn').add_dashboard()\napp.synth()",
    )
    used = modules_at(with_dashboard)["synth"]
    assert {"constructs_cvpn.monitoring", "aws_cdk.aws_cloudwatch"} <= used
