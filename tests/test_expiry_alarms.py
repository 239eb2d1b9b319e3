"""The generated PKI's two expiry alarms, as the README describes them.

Oracles: the README's alarm table (``CertificateExpiry``: ``DaysToExpiry`` Minimum, 1 day,
"< 14 days on 2 days", no data breaching) and its "The CA's end of life" section
(``vpn.ca_expiry_alarm``: ``CaDaysToExpiry``, the day's minimum, under 180 days, no data not
breaching), written here as literals.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from constructs_cvpn import ClientVpn

DAY = 24 * 60 * 60


@pytest.fixture(scope="module")
def built() -> tuple[ClientVpn, dict[str, dict[str, Any]]]:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Pki")
    vpn = ClientVpn(
        stack,
        "Vpn",
        vpc=ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0),
        cidr="10.100.0.0/22",
        users=["alice"],
    )
    assert vpn.expiry_alarm is not None and vpn.ca_expiry_alarm is not None
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")

    def properties(alarm: cloudwatch.Alarm) -> dict[str, Any]:
        child = alarm.node.default_child
        assert isinstance(child, cloudwatch.CfnAlarm)
        return dict(alarms[stack.get_logical_id(child)]["Properties"])

    return vpn, {
        "certificates": properties(vpn.expiry_alarm),
        "ca": properties(vpn.ca_expiry_alarm),
    }


def test_the_certificate_expiry_alarm_fires_under_14_days_on_two_days(
    built: tuple[ClientVpn, dict[str, dict[str, Any]]],
) -> None:
    _, alarms = built
    alarm = alarms["certificates"]
    assert alarm["Namespace"] == "constructs-cvpn"
    assert alarm["MetricName"] == "DaysToExpiry"
    assert alarm["Statistic"] == "Minimum"
    assert alarm["Period"] == DAY
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 14
    assert alarm["EvaluationPeriods"] == 2
    assert alarm["DatapointsToAlarm"] == 2
    assert alarm["TreatMissingData"] == "breaching"
    assert "14 days" in alarm["AlarmDescription"]
    assert "AlarmActions" not in alarm


def test_the_ca_expiry_alarm_fires_under_180_days(
    built: tuple[ClientVpn, dict[str, dict[str, Any]]],
) -> None:
    _, alarms = built
    alarm = alarms["ca"]
    assert alarm["Namespace"] == "constructs-cvpn"
    assert alarm["MetricName"] == "CaDaysToExpiry"
    assert alarm["Statistic"] == "Minimum"
    assert alarm["Period"] == DAY
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 180
    assert alarm["EvaluationPeriods"] == 1
    assert alarm.get("DatapointsToAlarm", 1) == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "180 days" in alarm["AlarmDescription"]
    assert "AlarmActions" not in alarm


def test_both_alarms_watch_this_vpns_dimension(
    built: tuple[ClientVpn, dict[str, dict[str, Any]]],
) -> None:
    vpn, alarms = built
    for alarm in alarms.values():
        assert alarm["Dimensions"] == [{"Name": "Vpn", "Value": vpn.vpn_id}]
