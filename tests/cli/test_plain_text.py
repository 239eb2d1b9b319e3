"""Fields from AWS are shown as plain text: no rich markup, no terminal control characters.

User names, certificate CNs, descriptions and DNS names are set by whoever could create the
endpoint, rule, route or certificate; printed as they are, ``ESC [ 2 J`` clears the screen,
``ESC ] 0 ; ... BEL`` retitles the terminal, and ``[link=...]`` would become a hyperlink.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_cvpn.cli.text import cell, plain
from tests.cli.conftest import ENDPOINT_ID, STACK, FakeAws, connection, endpoint, vpn_outputs

EP = {"ClientVpnEndpointId": ENDPOINT_ID}
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x9b31m\x1b[8m\u202e"
"""Clear screen, set window title, C1 CSI, conceal, right-to-left override."""
MARKUP = "[red]evil[/red] [link=https://attacker.example]click[/link] [/oops]"
CONTROL = ("\x1b", "\x07", "\x9b", "\u202e", "\x00")


def _evil(text: str) -> str:
    return f"{text}{ESCAPES}{MARKUP}"


def _expect_status(aws: FakeAws) -> None:
    evil_endpoint = endpoint(message=_evil("msg"))
    evil_endpoint["Description"] = _evil("team")
    evil_endpoint["DnsName"] = _evil("vpn.example.com")
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [evil_endpoint]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_target_networks", {"ClientVpnTargetNetworks": []}, EP
    )
    rule = {
        "ClientVpnEndpointId": ENDPOINT_ID,
        "DestinationCidr": "10.0.0.0/16",
        "GroupId": _evil("group"),
        "AccessAll": False,
        "Description": _evil("rule"),
        "Status": {"Code": "active"},
    }
    aws.ec2_stub.add_response(
        "describe_client_vpn_authorization_rules", {"AuthorizationRules": [rule]}, EP
    )
    route = {
        "ClientVpnEndpointId": ENDPOINT_ID,
        "DestinationCidr": "10.0.0.0/16",
        "TargetSubnet": "subnet-0a",
        "Type": "Nat",
        "Origin": "add-route",
        "Description": _evil("route"),
        "Status": {"Code": "active"},
    }
    aws.ec2_stub.add_response("describe_client_vpn_routes", {"Routes": [route]}, EP)
    aws.ec2_stub.add_response("describe_client_vpn_connections", {"Connections": []}, EP)


def _assert_plain(output: str) -> None:
    for char in CONTROL:
        assert char not in output, repr(char)
    assert "[red]evil[/red]" in output
    assert "[link=https://attacker.example]click[/link]" in output
    assert "[/oops]" in output


def test_status_shows_descriptions_and_dns_name_as_plain_text(aws: FakeAws) -> None:
    _expect_status(aws)

    result = aws.run("status", "--endpoint-id", ENDPOINT_ID)

    assert result.exit_code == 0, result.output
    _assert_plain(result.stdout)
    for label in ("team", "vpn.example.com", "msg", "rule", "route", "group"):
        assert f"{label}[2J]0;pwned31m[8m[red]evil" in result.stdout, label


def test_connections_show_user_names_and_common_names_as_plain_text(aws: FakeAws) -> None:
    evil = connection("cvpn-connection-1", "alice", "active")
    evil["Username"] = _evil("alice")
    evil["CommonName"] = _evil("alice.vpn")
    aws.ec2_stub.add_response("describe_client_vpn_connections", {"Connections": [evil]}, EP)

    result = aws.run("connections", "--endpoint-id", ENDPOINT_ID)

    assert result.exit_code == 0, result.output
    _assert_plain(result.stdout)
    assert "alice[2J]0;pwned31m[8m[red]evil[/red]" in result.stdout


def test_json_output_escapes_control_characters(aws: FakeAws) -> None:
    evil = connection("cvpn-connection-1", "alice", "active")
    evil["Username"] = _evil("alice")
    aws.ec2_stub.add_response("describe_client_vpn_connections", {"Connections": [evil]}, EP)

    result = aws.run("connections", "--endpoint-id", ENDPOINT_ID, "--json")

    assert result.exit_code == 0, result.output
    for char in CONTROL:
        assert char not in result.stdout
    rows: list[dict[str, Any]] = json.loads(result.stdout)["connections"]
    assert rows[0]["username"] == _evil("alice")  # the exact value, escaped by JSON


def test_error_messages_from_aws_are_plain_one_line(aws: FakeAws) -> None:
    aws.cfn_stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"bad\nstack {ESCAPES}",
        expected_params={"StackName": STACK},
    )

    result = aws.run("status", "--stack", STACK)

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    for char in CONTROL:
        assert char not in result.stderr


def test_stack_output_values_are_plain_in_messages(aws: FakeAws) -> None:
    outputs = vpn_outputs()
    outputs[0]["OutputValue"] = f"cvpn-endpoint-0{ESCAPES}"
    aws.expect_stack(outputs)
    aws.ec2_stub.add_client_error(
        "describe_client_vpn_connections",
        service_error_code="InvalidClientVpnEndpointId.NotFound",
        service_message=f"not found {ESCAPES}",
    )

    result = aws.run("connections", "--stack", STACK)

    assert result.exit_code != 0
    for char in CONTROL:
        assert char not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("\x1b[31mred\x1b[0m", "[31mred[0m"),
        ("bell\x07 del\x7f c1\x85\x9f nul\x00", "bell del c1 nul"),
        ("bidi\u202eevil\u2066x\u2069", "bidievilx"),
        ("ünïcödé ✓", "ünïcödé ✓"),
    ],
)
def test_plain_strips_control_characters(raw: str, shown: str) -> None:
    assert plain(raw) == shown
    assert cell(f"[b]{raw}[/b]").plain == f"[b]{shown}[/b]"
