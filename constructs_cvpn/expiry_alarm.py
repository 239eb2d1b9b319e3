"""The generated PKI's expiry alarms (``ClientVpn.expiry_alarm``, ``ClientVpn.ca_expiry_alarm``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Duration, Validations
from constructs import Construct

from .descriptions import ALARM_DESCRIPTION, with_path

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch

__all__ = ["CA_EXPIRY_ALARM_DAYS", "EXPIRY_ALARM_DAYS", "new_ca_expiry_alarm", "new_expiry_alarm"]

#: The expiry alarm fires when a certificate expires within this many days.
EXPIRY_ALARM_DAYS = 14
#: The CA's own alarm: it cannot be rolled over in place (README, "The CA's end of life").
CA_EXPIRY_ALARM_DAYS = 180


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
        alarm_description=with_path(
            "Client VPN {path}: a generated certificate (CA, server or "
            f"user) expires within {EXPIRY_ALARM_DAYS} days, or the 12-hourly renewal "
            "stopped reporting. Check the logs of the certificate functions.",
            vpn.node.path,
            ALARM_DESCRIPTION,
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


def new_ca_expiry_alarm(vpn: Construct, vpn_id: str) -> cloudwatch.Alarm:
    """Alarm when the generated CA expires within ``CA_EXPIRY_ALARM_DAYS`` (180) days.

    The CA function logs ``CaDaysToExpiry`` on every run. The CA cannot be rolled over in
    place: months are needed to deploy a second VPN and hand out its files (README, "The
    CA's end of life"). Missing data is left to the certificate expiry alarm.
    """
    from aws_cdk import aws_cloudwatch as cloudwatch

    from .handlers.pki.metrics import CA_METRIC
    from .pki import METRIC_NAMESPACE

    alarm = cloudwatch.Alarm(
        vpn,
        "CaExpiryAlarm",
        alarm_description=with_path(
            "Client VPN {path}: the generated CA expires within "
            f"{CA_EXPIRY_ALARM_DAYS} days and cannot be renewed in place: deploy a second "
            "VPN and move the users (README, 'The CA's end of life').",
            vpn.node.path,
            ALARM_DESCRIPTION,
        ),
        metric=cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=CA_METRIC,
            dimensions_map={"Vpn": vpn_id},
            statistic=cloudwatch.Stats.MINIMUM,
            period=Duration.days(1),
        ),
        threshold=CA_EXPIRY_ALARM_DAYS,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    Validations.of(alarm).acknowledge(
        Acknowledgment(
            id="NIST.800.53.R5-CloudWatchAlarmAction",
            reason="Where the CA expiry alarm should notify is the application's choice; "
            "add a topic with ca_expiry_alarm.add_alarm_action(SnsAction(topic)).",
        )
    )
    return alarm
