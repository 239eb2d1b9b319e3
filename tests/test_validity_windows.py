"""Certificate lifetimes of the generated PKI are checked at synth (issue 19).

The CA is never re-issued in place and a certificate it signs cannot outlive it: a CA that
does not outlive the certificates it signs plus the renewal window (30 days) leaves every
user locked out on the CA's last day, after weeks of every 12-hour run re-issuing every
certificate. A certificate lifetime no longer than the renewal window is renewed on every
run (a new key each time, the ledger fills). Both are refused with ``ClientVpnConfigError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2

from constructs_cvpn import ClientVpn, ClientVpnConfigError

RENEW_BEFORE_DAYS = 30  # the construct's renewal window (pki.py); stated by the README


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    yield App()


_count = {"n": 0}


def build(app: App, **props: Any) -> str:
    _count["n"] += 1
    stack = Stack(app, f"Validity{_count['n']}")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"], **props)
    return f"{stack.node.path}/Vpn"


def refused(app: App, prop: str, **props: Any) -> ClientVpnConfigError:
    with pytest.raises(ClientVpnConfigError) as caught:
        build(app, **props)
    assert re.match(rf"^Validity\d+/Vpn: {prop}: ", str(caught.value)), str(caught.value)
    return caught.value


def test_a_ca_of_100_days_is_refused(app: App) -> None:
    err = refused(app, "ca_validity_days", ca_validity_days=100)
    # What would be valid: the lifetimes of what it signs plus the window (825 + 30).
    assert "855" in str(err)


@pytest.mark.parametrize(("server", "client"), [(825, 825), (400, 825), (825, 1000), (3000, 100)])
def test_the_ca_must_outlive_what_it_signs_plus_the_renewal_window(
    app: App, server: int, client: int
) -> None:
    need = max(server, client) + RENEW_BEFORE_DAYS
    lifetimes = {
        "server_certificate_validity_days": server,
        "client_certificate_validity_days": client,
    }
    refused(app, "ca_validity_days", ca_validity_days=need - 1, **lifetimes)
    build(app, ca_validity_days=need, **lifetimes)


@pytest.mark.parametrize(
    "prop", ["client_certificate_validity_days", "server_certificate_validity_days"]
)
def test_a_certificate_lifetime_within_the_renewal_window_is_refused(app: App, prop: str) -> None:
    err = refused(app, prop, **{prop: RENEW_BEFORE_DAYS})
    assert str(RENEW_BEFORE_DAYS) in str(err)
    refused(app, prop, **{prop: 20})
    build(app, **{prop: RENEW_BEFORE_DAYS + 1})


def test_the_defaults_are_accepted(app: App) -> None:
    build(app)


def test_the_ca_alarm_fires_180_days_before_the_ca_expires(app: App) -> None:
    """The CA cannot be rolled over in place: its own alarm, months ahead (issue 19)."""
    from aws_cdk.assertions import Template

    _count["n"] += 1
    stack = Stack(app, f"Validity{_count['n']}")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    vpn = ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"])
    assert vpn.ca_expiry_alarm is not None
    alarms = Template.from_stack(stack).find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "CaDaysToExpiry"}}
    )
    ((_, alarm),) = alarms.items()
    props = alarm["Properties"]
    assert props["Threshold"] == 180
    assert props["ComparisonOperator"] == "LessThanThreshold"
    assert props["Namespace"] == "constructs-cvpn" and props["Statistic"] == "Minimum"


def test_the_authority_reports_the_cas_own_days(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from constructs_cvpn.handlers.pki import metrics

    metrics.emit_days_to_expiry("vpn-1", 3000.5, metrics.CA_METRIC)
    line = json.loads(capsys.readouterr().out)
    assert line["CaDaysToExpiry"] == 3000.5 and line["Vpn"] == "vpn-1"
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "CaDaysToExpiry", "Unit": "None"}
    ]
