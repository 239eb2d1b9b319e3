"""The generated PKI's expiry alarm (``ClientVpn.expiry_alarm``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Duration, Validations
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch

__all__ = ["EXPIRY_ALARM_DAYS", "new_expiry_alarm"]

#: The expiry alarm fires when a certificate expires within this many days.
EXPIRY_ALARM_DAYS = 14


def new_expiry_alarm(vpn: Construct, vpn_id: str) -> cloudwatch.Alarm:
    """Alarm when a generated certificate expires within ``EXPIRY_ALARM_DAYS`` days.

    Both PKI functions log ``DaysToExpiry`` on every run (deploys and the 12-hourly
    renewal). Missing data counts as breaching: renewal that stopped running is a
    problem too.
    """
    from aws_cdk import aws_cloudwatch as cloudwatch

    from .pki import METRIC_NAME, METRIC_NAMESPACE

    alarm = cloudwatch.Alarm(
        vpn,
        "CertificateExpiryAlarm",
        alarm_description=(
            f"Client VPN {vpn.node.path}: a generated certificate (CA, server or "
            f"user) expires within {EXPIRY_ALARM_DAYS} days, or the 12-hourly renewal "
            "stopped reporting. Check the logs of the certificate functions."
        ),
        metric=cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=METRIC_NAME,
            dimensions_map={"Vpn": vpn_id},
            statistic=cloudwatch.Stats.MINIMUM,
            period=Duration.days(1),
        ),
        threshold=EXPIRY_ALARM_DAYS,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    Validations.of(alarm).acknowledge(
        Acknowledgment(
            id="NIST.800.53.R5-CloudWatchAlarmAction",
            reason="Where the expiry alarm should notify is the application's choice; "
            "add a topic with expiry_alarm.add_alarm_action(SnsAction(topic)). The "
            "alarm state is visible in the console and to any EventBridge rule.",
        )
    )
    return alarm
