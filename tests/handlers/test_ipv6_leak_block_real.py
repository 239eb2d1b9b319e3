"""The IPv6 leak block, applied by a real OpenVPN client, routes IPv6 into the tunnel.

The oracle is the Linux kernel's own route lookup (``ip -6 route get``), not our text:
inside a private network namespace (``unshare -n``, root only) a throw-away server and a
client with a real ``tun`` device connect over loopback; once the client reports
"Initialization Sequence Completed", a global (2001:db8::1) and a unique-local
(fd00:1234::1) destination must resolve to the tunnel device. The same client without the
block leaves them unroutable in the namespace (the control case, so the check can fail).

What this cannot show: that the AWS-provided client applies the lines the same way (its
directive list includes ``ifconfig-ipv6`` and ``route-ipv6``; see ``handlers.ovpn``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from constructs_cvpn.handlers.ovpn import add_inline_credentials, block_ipv6_leak
from tests import openvpn_harness
from tests.certs import Issued, make_ca, make_client, make_server

pytestmark = pytest.mark.openvpn

FIXTURE = Path(__file__).parent / "fixtures" / "mutual.ovpn"
PORT = 1194  # the namespace is private: any port is free
TUN = "cvpntest0"
# Runs inside `unshare -n`: loopback up, server, client, then the kernel's route lookups.
SCRIPT = """
set -u
ip link set lo up
timeout 240 "$OPENVPN" --cd "$W" --config server.conf > "$W/server.log" 2>&1 &
S=$!
# Wait for conditions, not for a number of tries: the server is bound, or it has exited.
while kill -0 "$S" 2>/dev/null && ! grep -qs "link local (bound)" "$W/server.log"; do
  sleep 0.1
done
timeout 240 "$OPENVPN" --cd "$W" --config client.ovpn > "$W/client.log" 2>&1 &
C=$!
while kill -0 "$C" 2>/dev/null \
    && ! grep -qs "Initialization Sequence Completed" "$W/client.log" \
    && ! grep -qs "Exiting due to fatal error" "$W/client.log"; do
  sleep 0.1
done
ip -6 route get 2001:db8::1 > "$W/global.txt" 2>&1
ip -6 route get fd00:1234::1 > "$W/ula.txt" 2>&1
kill "$C" "$S" 2>/dev/null
wait
"""


def _namespaces_available() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-n", "ip", "tuntap", "add", "dev", "probe0", "mode", "tun"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def pki() -> dict[str, Issued]:
    ca = make_ca("leak-ca")
    return {
        "ca": ca,
        "server": make_server(ca, "server.vpn.example.com"),
        "client": make_client(ca),
    }


def _run(client_ovpn: str, pki: dict[str, Issued]) -> dict[str, str]:
    binary = openvpn_harness.require_openvpn()
    if not _namespaces_available():
        if os.environ.get("CI") == "true":
            pytest.fail("needs root, unshare and a tun device (network namespace)")
        pytest.skip("needs root, unshare and a tun device (network namespace)")
    config = openvpn_harness.rewrite_client(client_ovpn, PORT).replace(
        "\ndev null\n", f"\ndev {TUN}\ndev-type tun\n"
    )
    with tempfile.TemporaryDirectory(prefix="ovpn-leak-") as tmp:
        work = Path(tmp)
        files = {
            "ca.pem": pki["ca"].cert_pem,
            "server.pem": pki["server"].cert_pem,
            "server.key": pki["server"].key_pem,
            "server.conf": openvpn_harness.server_config(PORT),
            "client.ovpn": config,
        }
        for name, text in files.items():
            (work / name).write_text(text)
        subprocess.run(
            ["unshare", "-n", "sh", "-c", SCRIPT],
            env={**os.environ, "OPENVPN": binary, "W": str(work)},
            check=False,
        )
        return {
            name: (work / f"{name}.txt").read_text() if (work / f"{name}.txt").exists() else ""
            for name in ("global", "ula")
        } | {"client": (work / "client.log").read_text()}


def _client(pki: dict[str, Issued]) -> str:
    text = FIXTURE.read_text()
    start, end = text.index("<ca>\n") + len("<ca>\n"), text.index("</ca>")
    text = text[:start] + pki["ca"].cert_pem + text[end:]
    return add_inline_credentials(text, pki["client"].cert_pem, pki["client"].key_pem)


def test_leak_block_routes_global_and_unique_local_ipv6_into_the_tunnel(
    pki: dict[str, Issued],
) -> None:
    out = _run(block_ipv6_leak(_client(pki)), pki)
    assert "Initialization Sequence Completed" in out["client"], out["client"]
    assert f"dev {TUN}" in out["global"], out
    assert f"dev {TUN}" in out["ula"], out


def test_without_the_block_ipv6_is_not_routed_into_the_tunnel(pki: dict[str, Issued]) -> None:
    out = _run(_client(pki), pki)
    assert "Initialization Sequence Completed" in out["client"], out["client"]
    assert TUN not in out["global"] and TUN not in out["ula"], out
