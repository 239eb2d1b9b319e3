"""The ``cvpn`` app itself: help without arguments, the package entry point, what ``status``
reports when AWS leaves a field out, and the progress display of ``cvpn wait``."""

from __future__ import annotations

import json
import re
import sys

import pytest

from constructs_cvpn import cli
from constructs_cvpn.cli import app as app_module
from tests.cli.conftest import ENDPOINT_ID, FakeAws, endpoint, target_network

COMMANDS = ("status", "config", "connections", "wait", "wake")
"""Commands the package docstring lists (``cvpn status``, ``cvpn config get``, ...)."""


def test_cvpn_without_arguments_shows_the_commands(aws: FakeAws) -> None:
    result = aws.run()

    assert "Usage: cvpn [OPTIONS] COMMAND" in result.stdout
    for command in COMMANDS:
        assert re.search(rf"│ {command}\s", result.stdout), command
    assert "Missing command" not in result.output
    assert aws.calls == []


# The package: ``create_app`` loads lazily; ``main`` without the extra


def test_package_gives_create_app_and_nothing_else() -> None:
    assert cli.create_app is app_module.create_app
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = cli.no_such_name


def test_main_without_the_extra_prints_the_hint_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As if typer were not installed: importing the app (not yet imported) fails on it.
    monkeypatch.setitem(sys.modules, "typer", None)
    monkeypatch.delitem(sys.modules, "constructs_cvpn.cli.app")

    with pytest.raises(SystemExit) as raised:
        cli.main()

    assert raised.value.code == 1  # the package docstring: "... and exits with 1"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "cvpn: error: the cvpn command needs the 'cli' extra (missing module: typer); "
        f"install it with: pip install {cli.install_spec()}\n"
    )


# status: a field AWS leaves out is reported as its documented default, never as more access


def expect_bare_endpoint(aws: FakeAws) -> None:
    """An endpoint without SplitTunnel, and a group rule without AccessAll."""
    ep = {"ClientVpnEndpointId": ENDPOINT_ID}
    bare = endpoint()
    del bare["SplitTunnel"]
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [bare]},
        {"ClientVpnEndpointIds": [ENDPOINT_ID]},
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_target_networks",
        {"ClientVpnTargetNetworks": [target_network("cvpn-assoc-1", "subnet-0a", "associated")]},
        ep,
    )
    aws.ec2_stub.add_response(
        "describe_client_vpn_authorization_rules",
        {
            "AuthorizationRules": [
                {
                    "ClientVpnEndpointId": ENDPOINT_ID,
                    "DestinationCidr": "10.0.8.0/24",
                    "GroupId": "admins",
                    "Description": "databases",
                    "Status": {"Code": "active"},
                }
            ]
        },
        ep,
    )
    aws.ec2_stub.add_response("describe_client_vpn_routes", {"Routes": []}, ep)
    aws.ec2_stub.add_response("describe_client_vpn_connections", {"Connections": []}, ep)


def test_status_reads_missing_split_tunnel_and_access_all_as_false(aws: FakeAws) -> None:
    expect_bare_endpoint(aws)

    result = aws.run("status", "--endpoint-id", ENDPOINT_ID, "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # EC2 CreateClientVpnEndpoint: "By default, split-tunnel on a VPN endpoint is disabled."
    assert data["split_tunnel"] is False
    # EC2 AuthorizeClientVpnIngress: AuthorizeAllGroups grants all clients only when true;
    # a rule for the group "admins" does not.
    (rule,) = data["authorization_rules"]
    assert (rule["group_id"], rule["access_all"]) == ("admins", False)


# wait: the progress line goes to stderr, shows AWS values literally and is gone at the end

MARKUP_ID = "cvpn-endpoint-[red]0"
"""An endpoint id as a stack output could name it, holding rich markup."""
TERMINAL = {"FORCE_COLOR": "1", "TTY_INTERACTIVE": "1", "TERM": "xterm"}
"""Environment under which rich treats the captured stream as an interactive terminal."""


def screen(stream: str) -> list[str]:
    """What a terminal shows after ``stream``: carriage return, newline, cursor up (CSI A)
    and erase line (CSI 2K) are applied; other escape sequences are dropped."""
    lines = [""]
    row = 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", stream):
        if token == "\n":
            row += 1
            if row == len(lines):
                lines.append("")
        elif token == "\r":
            pass  # the only writes after \r here are full lines, preceded by an erase
        elif token.startswith("\x1b["):
            if token.endswith("A"):
                row = max(0, row - int(token[2:-1] or "1"))
            elif token == "\x1b[2K":
                lines[row] = ""
        else:
            lines[row] += token
    return [line for line in lines if line.strip()]


def expect_poll(aws: FakeAws, state: str, association: str) -> None:
    found = endpoint(state, endpoint_id=MARKUP_ID)
    aws.ec2_stub.add_response(
        "describe_client_vpn_endpoints",
        {"ClientVpnEndpoints": [found]},
        {"ClientVpnEndpointIds": [MARKUP_ID]},
    )
    network = target_network("cvpn-assoc-1", "subnet-1", association)
    network["ClientVpnEndpointId"] = MARKUP_ID
    aws.ec2_stub.add_response(
        "describe_client_vpn_target_networks",
        {"ClientVpnTargetNetworks": [network]},
        {"ClientVpnEndpointId": MARKUP_ID},
    )


def test_wait_progress_is_on_stderr_literal_and_cleared_when_done(aws: FakeAws) -> None:
    expect_poll(aws, "pending-associate", "associating")
    expect_poll(aws, "available", "associated")

    result = aws.run("wait", "-e", MARKUP_ID, "--interval", "5", env=TERMINAL)

    assert result.exit_code == 0, result.output
    # stdout holds the result only: the progress display is on stderr
    assert result.stdout == f"{MARKUP_ID} is ready: endpoint available, 1/1 associated.\n"
    # the id is shown as its characters, "[red]" included (README: markup printed literally)
    assert f"Waiting for {MARKUP_ID}" in result.stderr
    # and the progress line does not stay on the terminal once the wait is over
    assert screen(result.stderr) == []
