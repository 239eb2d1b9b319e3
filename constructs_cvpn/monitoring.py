"""Opt-in monitoring of a ``ClientVpn``: a dashboard, alarms and usage-report queries.

Built by ``vpn.add_dashboard()`` (construct id ``Monitoring``); nothing here is loaded by an
app that does not call it (``aws_cloudwatch`` is imported on use, like the PKI).

Sources of every metric (checked against the documentation):

- ``AWS/ClientVPN``: Client VPN publishes ``ActiveConnectionsCount``,
  ``AuthenticationFailures`` (Count), ``IngressBytes``, ``EgressBytes`` (Bytes),
  ``IngressPackets``, ``EgressPackets`` (Count) every 5 minutes, filterable by endpoint:
  the dimension ``Endpoint`` holds the endpoint id. Client VPN admin guide, "Monitoring
  with Amazon CloudWatch":
  https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/monitoring-cloudwatch.html
- ``AWS/Lambda`` ``Errors`` (Sum) and ``Duration`` (milliseconds), dimension
  ``FunctionName``: Lambda developer guide, "Types of metrics for Lambda functions"
  (what ``Function.metric_errors`` / ``metric_duration`` of aws-cdk-lib produce).
- ``constructs-cvpn`` ``DaysToExpiry``, dimension ``Vpn`` (``vpn.vpn_id``): logged by both
  PKI functions on every run in the embedded metric format (``handlers/pki/metrics.py``);
  the scheduled renewal runs each function every 12 hours.

Alarms (``vpn.alarms``; ids stable, no actions: add yours with
``alarm.add_alarm_action(SnsAction(topic))``):

- ``AuthenticationFailures``: the sum over 5 minutes reaches
  ``authentication_failures_threshold`` (default 20). No data counts as no failures.
  Client VPN does not log failed *mutual* authentications in the connection log (admin
  guide, "Connection logging"), so this metric is the only trace of them.
- ``HandlerErrors``: any error of a construct's Lambda function (certificate authority,
  users, config export) within 5 minutes. No data counts as no errors.
- ``RenewalNotRunning`` (generated PKI only): fewer than two ``DaysToExpiry`` samples in a
  day. Each PKI function reports twice a day when its renewal runs (four samples a day in
  all), so one sample or none means renewals stopped or fail; missing data is breaching.
- ``CertificateExpiry``: the construct's existing expiry alarm (``vpn.expiry_alarm``).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from constructs import Construct

from .descriptions import ALARM_DESCRIPTION, QUERY_NAME, with_path
from .handler_function import HandlerFunction

#: The namespace and dimension Client VPN publishes its metrics under (admin guide).
CLIENT_VPN_NAMESPACE = "AWS/ClientVPN"
CLIENT_VPN_DIMENSION = "Endpoint"
#: Client VPN publishes every 5 minutes (admin guide): a shorter period shows gaps.
CLIENT_VPN_PERIOD = Duration.minutes(5)
#: The ``AWS/ClientVPN`` metrics, with the statistic the dashboard shows for each.
CLIENT_VPN_METRICS = {
    "ActiveConnectionsCount": cloudwatch.Stats.MAXIMUM,
    "AuthenticationFailures": cloudwatch.Stats.SUM,
    "IngressBytes": cloudwatch.Stats.SUM,
    "EgressBytes": cloudwatch.Stats.SUM,
    "IngressPackets": cloudwatch.Stats.SUM,
    "EgressPackets": cloudwatch.Stats.SUM,
}
#: Each PKI function reports ``DaysToExpiry`` twice a day (12-hourly renewal); fewer than
#: this many samples in a day means the renewal stopped.
RENEWAL_SAMPLES_PER_DAY = 2

_NO_ACTION = (
    "Where a Client VPN alarm should notify is the application's choice: add a topic with "
    "vpn.alarms[name].add_alarm_action(SnsAction(topic)). The alarm state is visible in the "
    "console and to any EventBridge rule."
)

#: The Logs Insights queries on the connection log (``QueryDefinition``s, and what
#: ``cvpn report`` computes from the same records). Record fields: admin guide,
#: "Connection logging" (``connection-log-type`` is ``connection-attempt`` or
#: ``connection-reset``; a ``connection-reset`` record carries the session's byte counts;
#: ``username`` is ``NA`` with certificate authentication, where ``common-name`` names the
#: user): https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/connection-logging.html
USAGE_QUERIES: Mapping[str, str] = {
    "sessions-and-bytes-per-user": "\n".join(
        [
            "filter `connection-log-type` = 'connection-reset'",
            "| stats count_distinct(`connection-id`) as sessions,"
            " sum(`ingress-bytes`) as ingress_bytes, sum(`egress-bytes`) as egress_bytes"
            " by username, `common-name`",
            "| sort ingress_bytes desc",
        ]
    ),
    "failed-authentications": "\n".join(
        [
            "filter `connection-attempt-status` = 'failed'",
            "| stats count(*) as failures"
            " by username, `common-name`, `connection-attempt-failure-reason`",
            "| sort failures desc",
        ]
    ),
    # Logs Insights has no interval sweep: this lists each session's start and end, and
    # ``cvpn report`` computes the peak from them. The dashboard's ActiveConnectionsCount
    # (Maximum) is the 5-minute figure.
    "sessions-for-peak-concurrency": "\n".join(
        [
            "filter `connection-log-type` = 'connection-reset'",
            "| fields `connection-id`, username, `common-name`,"
            " `connection-start-time`, `connection-end-time`",
            "| sort `connection-start-time` asc",
        ]
    ),
}


class Monitoring(Construct):
    """The dashboard, the alarms and the usage-report queries of one ``ClientVpn``.

    Attributes:
        dashboard: the CloudWatch dashboard.
        alarms: by name (see the module docstring); none has an action.
        query_definitions: the Logs Insights query definitions, by name.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_id: str,
        vpn_id: str,
        log_group: logs.ILogGroup,
        expiry_alarm: cloudwatch.Alarm | None,
        generated_pki: bool,
        dashboard_name: str | None,
        authentication_failures_threshold: int,
    ) -> None:
        super().__init__(scope, id)
        self._endpoint_id = endpoint_id
        self._vpn_id = vpn_id
        self._failures_threshold = authentication_failures_threshold
        self._path = scope.node.path
        functions = {
            handler.node.scope.node.id: handler  # type: ignore[union-attr]
            for handler in scope.node.find_all()
            if isinstance(handler, HandlerFunction)
        }
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        failures = self.client_vpn_metric("AuthenticationFailures")
        self._alarm(
            "AuthenticationFailures",
            failures,
            threshold=authentication_failures_threshold,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            what=f"{authentication_failures_threshold} or more failed authentications within 5 "
            "minutes (AWS/ClientVPN AuthenticationFailures).",
        )
        errors: dict[str, cloudwatch.Metric] = {
            name: handler.function.metric_errors(
                period=CLIENT_VPN_PERIOD, statistic=cloudwatch.Stats.SUM
            )
            for name, handler in sorted(functions.items())
        }
        if errors:
            self._alarm(
                "HandlerErrors",
                cloudwatch.MathExpression(
                    expression=" + ".join(f"FILL(e{i}, 0)" for i in range(len(errors))),
                    using_metrics={f"e{i}": m for i, m in enumerate(errors.values())},
                    period=CLIENT_VPN_PERIOD,
                    label="Handler errors",
                ),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.NOT_BREACHING,
                what="a handler function failed ("
                + ", ".join(sorted(errors))
                + "). Its log group (under the VPN's log group) says why.",
            )
        days = self.days_to_expiry(cloudwatch.Stats.SAMPLE_COUNT)
        if generated_pki:
            self._alarm(
                "RenewalNotRunning",
                days,
                threshold=RENEWAL_SAMPLES_PER_DAY,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
                what="the certificate functions reported fewer "
                f"than {RENEWAL_SAMPLES_PER_DAY} runs in a day; the 12-hourly renewal stopped "
                "or fails (see HandlerErrors and the functions' logs).",
            )
        if expiry_alarm is not None:
            self.alarms["CertificateExpiry"] = expiry_alarm

        self.query_definitions = {
            name: logs.CfnQueryDefinition(
                self,
                f"Query{''.join(part.title() for part in name.split('-'))}",
                name=with_path(
                    f"client-vpn/{Stack.of(self).stack_name}/{{path}}/{name}", vpn_id, QUERY_NAME
                ),
                query_string=query,
                log_group_names=[log_group.log_group_name],
            )
            for name, query in USAGE_QUERIES.items()
        }
        self.dashboard = self._dashboard(
            dashboard_name, errors, functions, days if generated_pki else None
        )

    # -- metrics ----------------------------------------------------------------------

    def client_vpn_metric(self, name: str) -> cloudwatch.Metric:
        """``AWS/ClientVPN`` ``name`` of this endpoint, 5-minute period, its statistic."""
        return cloudwatch.Metric(
            namespace=CLIENT_VPN_NAMESPACE,
            metric_name=name,
            dimensions_map={CLIENT_VPN_DIMENSION: self._endpoint_id},
            statistic=CLIENT_VPN_METRICS[name],
            period=CLIENT_VPN_PERIOD,
        )

    def days_to_expiry(self, statistic: str) -> cloudwatch.Metric:
        """``constructs-cvpn`` ``DaysToExpiry`` of this VPN over one day."""
        from .pki import METRIC_NAME, METRIC_NAMESPACE

        return cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=METRIC_NAME,
            dimensions_map={"Vpn": self._vpn_id},
            statistic=statistic,
            period=Duration.days(1),
        )

    # -- internals --------------------------------------------------------------------

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        missing: cloudwatch.TreatMissingData,
        what: str,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            f"{name}Alarm",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=missing,
            alarm_description=with_path(
                f"Client VPN {{path}}: {what}", self._path, ALARM_DESCRIPTION
            ),
        )
        Validations.of(alarm).acknowledge(
            Acknowledgment(id="NIST.800.53.R5-CloudWatchAlarmAction", reason=_NO_ACTION)
        )
        self.alarms[name] = alarm

    def _dashboard(
        self,
        name: str | None,
        errors: Mapping[str, cloudwatch.Metric],
        functions: Mapping[str, HandlerFunction],
        renewal_runs: cloudwatch.IMetric | None,
    ) -> cloudwatch.Dashboard:
        # INHERIT: each graph keeps its period (5 minutes for Client VPN's metrics) whatever
        # the time range shown; the default (auto) would widen it (CloudWatch API reference,
        # "Dashboard Body Structure and Syntax", periodOverride).
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=name,
            period_override=cloudwatch.PeriodOverride.INHERIT,
        )
        metric = self.client_vpn_metric
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Active connections (maximum per 5 minutes)",
                period=CLIENT_VPN_PERIOD,
                left=[metric("ActiveConnectionsCount")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Authentication failures (per 5 minutes)",
                period=CLIENT_VPN_PERIOD,
                left=[metric("AuthenticationFailures")],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=self._failures_threshold, label="alarm threshold"
                    )
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Bytes (per 5 minutes)",
                period=CLIENT_VPN_PERIOD,
                left=[metric("IngressBytes"), metric("EgressBytes")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Packets (per 5 minutes)",
                period=CLIENT_VPN_PERIOD,
                left=[metric("IngressPackets"), metric("EgressPackets")],
                width=12,
            ),
        )
        if functions:
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Handler errors",
                    left=[m.with_(label=n) for n, m in errors.items()],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="Handler duration (maximum, ms)",
                    left=[
                        h.function.metric_duration(
                            period=CLIENT_VPN_PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=n
                        )
                        for n, h in sorted(functions.items())
                    ],
                    width=12,
                ),
            )
        if renewal_runs is not None:
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Days to expiry (minimum over generated certificates)",
                    left=[self.days_to_expiry(cloudwatch.Stats.MINIMUM)],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="Certificate function runs per day",
                    left=[renewal_runs],
                    width=12,
                ),
            )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=24
            )
        )
        return dashboard
