"""Output: rich tables for people, JSON for scripts (``--json``).

Every value from AWS goes through :func:`~constructs_cvpn.cli.text.cell` (literal text, no
markup, no control characters); JSON escapes control characters itself.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from constructs_cvpn.cli.status import AUTH_LABELS
from constructs_cvpn.cli.text import cell, plain

GOOD_STATES = frozenset({"available", "associated", "active", "applied"})
BAD_STATES = frozenset(
    {"failed", "association-failed", "deleting", "deleted", "disassociated", "failed-to-terminate"}
)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (plain text, no colour or wrapping)."""
    typer.echo(json.dumps(data, indent=2, default=str))


def state_text(state: str) -> Text:
    """A state word coloured green (done), red (failed) or yellow (in progress)."""
    if state in GOOD_STATES:
        return cell(state, style="green")
    if state in BAD_STATES:
        return cell(state, style="bold red")
    return cell(state, style="yellow")


def _or_dash(value: Any) -> Text:
    """``value`` as literal text, or ``-`` for empty values."""
    return cell("-" if value in (None, "", []) else value)


def print_status(console: Console, status: dict[str, Any]) -> None:
    """Print the endpoint summary, target networks, authorization rules and routes."""
    summary = Table(title=cell(f"Client VPN endpoint {status['endpoint_id']}"), show_header=False)
    summary.add_column("field", style="bold")
    summary.add_column("value", overflow="fold")
    state = state_text(status["state"])
    if status["state_message"]:
        state.append(f" ({plain(status['state_message'])})")
    auth = ", ".join(
        plain(AUTH_LABELS.get(item["type"], item["type"]))
        + (f" {plain(item['detail'])}" if item["detail"] else "")
        for item in status["authentication"]
    )
    summary.add_row("State", state)
    summary.add_row("Description", _or_dash(status["description"]))
    summary.add_row("DNS name", _or_dash(status["dns_name"]))
    summary.add_row("Client CIDR", _or_dash(status["client_cidr"]))
    summary.add_row("Authentication", _or_dash(auth))
    summary.add_row("Split tunnel", "yes" if status["split_tunnel"] else "no")
    summary.add_row("Port / protocol", cell(f"{status['port']}/{status['transport_protocol']}"))
    summary.add_row("VPC", _or_dash(status["vpc_id"]))
    summary.add_row("DNS servers", _or_dash(", ".join(status["dns_servers"])))
    summary.add_row("Active connections", cell(status["active_connections"]))
    console.print(summary)

    networks = Table(title="Target networks")
    for column in ("Association", "Subnet", "State"):
        networks.add_column(column, overflow="fold")
    for network in status["target_networks"]:
        networks.add_row(
            cell(network["association_id"]),
            cell(network["subnet_id"]),
            state_text(network["state"]),
        )
    console.print(networks if status["target_networks"] else "No target networks associated.")

    rules = Table(title="Authorization rules")
    for column in ("Destination", "Group", "Description", "State"):
        rules.add_column(column, overflow="fold")
    for rule in status["authorization_rules"]:
        group = cell("all users") if rule["access_all"] else _or_dash(rule["group_id"])
        rules.add_row(
            cell(rule["destination_cidr"]),
            group,
            _or_dash(rule["description"]),
            state_text(rule["state"]),
        )
    console.print(rules if status["authorization_rules"] else "No authorization rules.")

    routes = Table(title="Routes")
    for column in ("Destination", "Target subnet", "Origin", "Description", "State"):
        routes.add_column(column, overflow="fold")
    for route in status["routes"]:
        routes.add_row(
            cell(route["destination_cidr"]),
            _or_dash(route["target_subnet"]),
            _or_dash(route["origin"]),
            _or_dash(route["description"]),
            state_text(route["state"]),
        )
    console.print(routes if status["routes"] else "No routes.")


def print_connections(
    console: Console, endpoint_id: str, connections: list[dict[str, Any]]
) -> None:
    """Print one row per client connection."""
    if not connections:
        console.print(cell(f"No client connections on {endpoint_id}."))
        return
    table = Table(title=cell(f"Client connections on {endpoint_id}"))
    for column in ("Connection", "User", "Common name", "Client IP", "Since", "In/out bytes"):
        table.add_column(column, overflow="fold")
    table.add_column("State")
    for connection in connections:
        table.add_row(
            cell(connection["connection_id"]),
            _or_dash(connection["username"]),
            _or_dash(connection["common_name"]),
            _or_dash(connection["client_ip"]),
            _or_dash(connection["established"]),
            _or_dash(connection["ingress_bytes"]) + "/" + _or_dash(connection["egress_bytes"]),
            state_text(connection["state"]),
        )
    console.print(table)
