"""Props whose value is only partly known at synth: a session timeout of no whole minutes,
a connection handler whose name CloudFormation picks.

Oracles: the README's props table (``session_timeout``: 8, 10, 12 or 24 h;
``client_connection_handler``: a Lambda named ``AWSClientVPN-...``, the prefix the Client VPN
admin guide requires of a client connect handler) and the library's rule for bad input
(``ClientVpnConfigError`` naming the prop, in user-level words).
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager

from constructs_cvpn import ClientVpn, ClientVpnConfigError


def _stack(name: str, **vpc_props: Any) -> tuple[Stack, ec2.Vpc]:
    stack = Stack(App(context={"cvpn:skipBundling": True}), name)
    return stack, ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, **vpc_props)


def _vpn(stack: Stack, vpc: ec2.Vpc, **props: Any) -> ClientVpn:
    return ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", users=["alice"], **props)


def _handler(stack: Stack, **props: Any) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Connect",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        **props,
    )


@pytest.mark.parametrize(
    ("timeout", "shown"),
    [(Duration.seconds(90), "1 minute 30 seconds"), (Duration.millis(500), "500 millis")],
)
def test_a_session_timeout_of_no_whole_minutes_is_refused_in_words(
    timeout: Duration, shown: str
) -> None:
    stack, vpc = _stack("Seconds")
    with pytest.raises(ClientVpnConfigError) as caught:
        _vpn(stack, vpc, session_timeout=timeout)
    message = str(caught.value)
    assert message.startswith("Seconds/Vpn: session_timeout: ")
    assert shown in message and "8, 10, 12 or 24 hours" in message
    assert "-1" not in message  # no made-up number of minutes


def test_a_connection_handler_named_by_cloudformation_is_accepted() -> None:
    stack, vpc = _stack("Unnamed")
    vpn = _vpn(stack, vpc, client_connection_handler=_handler(stack))  # name known at deploy
    assert vpn.endpoint is not None


def test_a_connection_handler_named_without_the_prefix_is_refused() -> None:
    stack, vpc = _stack("Named")
    with pytest.raises(ClientVpnConfigError, match=r"client_connection_handler: .*AWSClientVPN-"):
        _vpn(stack, vpc, client_connection_handler=_handler(stack, function_name="my-handler"))
    stack, vpc = _stack("Prefixed")
    _vpn(stack, vpc, client_connection_handler=_handler(stack, function_name="AWSClientVPN-ok"))


@pytest.mark.parametrize("bad", [0, -1, True])
def test_max_azs_is_a_whole_number_of_one_or_more(bad: object) -> None:
    stack, vpc = _stack("Azs")
    with pytest.raises(ClientVpnConfigError, match=r"^Azs/Vpn: max_azs: .*1 or more"):
        _vpn(stack, vpc, max_azs=bad)


def test_max_azs_of_one_is_accepted() -> None:
    stack, vpc = _stack("OneAz")
    _vpn(stack, vpc, max_azs=1)


def test_ipv6_leak_protection_turned_off_is_accepted_whatever_the_tunnel_carries() -> None:
    # Off is always a valid choice; only asking for it where it cannot apply is refused.
    dual = ec2.IpProtocol.DUAL_STACK
    stack, vpc = _stack("LeakOff", ip_protocol=dual)
    _vpn(stack, vpc, traffic_ip_address_type="dual-stack", ipv6_leak_protection=False)
    stack, vpc = _stack("LeakOn", ip_protocol=dual)
    with pytest.raises(ClientVpnConfigError, match=r"ipv6_leak_protection: applies to IPv4-only"):
        _vpn(stack, vpc, traffic_ip_address_type="dual-stack", ipv6_leak_protection=True)


CLIENT = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"


@pytest.mark.parametrize("prop", ["client_certificate_arn", "client_credentials_secret"])
def test_generated_certificates_take_no_given_client_certificate_or_secret(prop: str) -> None:
    # README: without server_certificate_arn the certificates are generated; giving one
    # half of your own (a client certificate, or its credentials secret) is refused by name.
    stack, vpc = _stack("Mixed")
    value: object = CLIENT
    if prop == "client_credentials_secret":
        value = secretsmanager.Secret.from_secret_complete_arn(
            stack,
            "Credentials",
            "arn:aws:secretsmanager:eu-west-1:111111111111:secret:cvpn/client-AbCdEf",
        )
    with pytest.raises(ClientVpnConfigError, match=rf"^Mixed/Vpn: {prop}: is generated"):
        _vpn(stack, vpc, **{prop: value})
