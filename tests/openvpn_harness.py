"""Real OpenVPN client/server handshake on loopback, for tests (no privileges needed).

API (shared by the config-export and PKI tests; keep it stable):

- :func:`openvpn_path` - the ``openvpn`` binary, or ``None``.
- :func:`require_openvpn` - the binary, else ``pytest.skip`` (``pytest.fail`` when ``CI=true``).
- :func:`handshake` - run a server and the given client config against each other and
  report whether both reached "Initialization Sequence Completed".

How: the client config is rewritten to ``remote 127.0.0.1 <free port>`` and ``dev null``
(its protocol kept: udp -> ``udp4``, tcp -> ``tcp4-client``); the server runs in
point-to-point ``tls-server`` mode with ``dev null`` on 127.0.0.1, so no tun device and no
root are needed. Each process is bounded by ``timeout`` (and by coreutils ``timeout`` when
available, so a crashed test run cannot leave it behind); only the processes started here
are stopped. Logs go to a temporary directory that is removed afterwards; their text is
returned.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = [
    "HandshakeResult",
    "handshake",
    "openvpn_path",
    "require_openvpn",
    "rewrite_client",
    "server_config",
]

SUCCESS = "Initialization Sequence Completed"
# Log lines after which the handshake cannot succeed any more: stop early.
FAILURE_MARKERS = (
    "TLS Error",
    "VERIFY ERROR",
    "certificate verify failed",
    "AUTH_FAILED",
    "TLS handshake failed",
    "Options error",
    "Exiting due to fatal error",
)
_POLL_SECONDS = 0.05

_REMOTE = re.compile(r"^[ \t]*remote[ \t]+\S+.*$", re.MULTILINE)
_DEV = re.compile(r"^[ \t]*dev[ \t]+\S+.*$", re.MULTILINE)
_PROTO = re.compile(r"^[ \t]*proto[ \t]+(\S+).*$", re.MULTILINE)


@dataclass(frozen=True)
class HandshakeResult:
    """Outcome of :func:`handshake`: ``ok`` when both sides completed initialization."""

    ok: bool
    client_log: str
    server_log: str


def openvpn_path() -> str | None:
    """Path of the ``openvpn`` binary (``PATH``, then ``/usr/sbin``), or ``None``."""
    found = shutil.which("openvpn")
    if found:
        return found
    for candidate in ("/usr/sbin/openvpn", "/usr/local/sbin/openvpn"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def require_openvpn() -> str:
    """Return the ``openvpn`` path; skip the test if it is missing (fail when ``CI=true``)."""
    path = openvpn_path()
    if path is None:
        message = "openvpn not installed (Debian: apt-get install openvpn)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires it")
        pytest.skip(message)
    return path


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_tcp(client_ovpn: str) -> bool:
    match = _PROTO.search(client_ovpn)
    return match is not None and match.group(1).lower().startswith("tcp")


def rewrite_client(client_ovpn: str, port: int) -> str:
    """The client config pointed at ``127.0.0.1:port`` with ``dev null``, protocol kept.

    Raises ``ValueError`` when the config has no ``remote`` line (nothing to rewrite).
    """
    if not _REMOTE.search(client_ovpn):
        raise ValueError("client config has no remote line")
    tcp = _is_tcp(client_ovpn)
    text = _REMOTE.sub(f"remote 127.0.0.1 {port}", client_ovpn)
    text = _DEV.sub("dev null", text)
    proto = "proto tcp4-client" if tcp else "proto udp4"
    if _PROTO.search(text):
        return _PROTO.sub(proto, text)
    return f"{proto}\n{text}"


def server_config(port: int, tcp: bool = False, crl: bool = False) -> str:
    """The throw-away server's config: ``tls-server`` on 127.0.0.1:``port``, ``dev null``."""
    lines = [
        "tls-server",
        "dev null",
        "proto tcp4-server" if tcp else "proto udp4",
        "local 127.0.0.1",
        f"lport {port}",
        "dh none",
        "ca ca.pem",
        "cert server.pem",
        "key server.key",
        "remote-cert-tls client",
        "verify-client-cert require",
        "data-ciphers AES-256-GCM",
        "verb 3",
    ]
    if crl:
        lines.append("crl-verify crl.pem")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _start(binary: str, config: Path, log: Path, limit: float) -> subprocess.Popen[bytes]:
    cmd = [binary, "--cd", str(config.parent), "--config", config.name]
    bound = shutil.which("timeout")
    if bound:  # belt and braces: the process dies even if this test run is killed
        cmd = [bound, "--kill-after=2", f"{limit + 5:.0f}", *cmd]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=3)


def _failed(log: str) -> bool:
    return any(marker in log for marker in FAILURE_MARKERS)


def handshake(
    client_ovpn: str,
    *,
    ca_pem: str,
    server_cert_pem: str,
    server_key_pem: str,
    crl_pem: str | None = None,
    timeout: float = 240.0,
) -> HandshakeResult:
    """Connect ``client_ovpn`` to a throw-away OpenVPN server on loopback.

    The server trusts ``ca_pem`` for client certificates, presents ``server_cert_pem`` /
    ``server_key_pem``, requires a client certificate with EKU clientAuth and, when
    ``crl_pem`` is given, checks it against that CRL. ``ok`` is True only when both logs show
    "Initialization Sequence Completed". Returns early on success, on a failure marker in
    either log (:data:`FAILURE_MARKERS`) or when a process exits: it waits for an outcome,
    not for a time. ``timeout`` (default 240 s, ~200x a handshake on an idle machine) is
    only a safety bound for a client that neither connects nor fails, so that a loaded
    machine cannot turn a slow handshake into a refusal; pytest-timeout bounds the test.
    Calls :func:`require_openvpn` first (skip/fail when missing).
    """
    binary = require_openvpn()
    tcp = _is_tcp(client_ovpn)
    port = _free_port(socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    deadline = time.monotonic() + timeout
    server: subprocess.Popen[bytes] | None = None
    client: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="ovpn-harness-") as tmp:
        work = Path(tmp)
        server_log, client_log = work / "server.log", work / "client.log"
        _write(work / "ca.pem", ca_pem)
        _write(work / "server.pem", server_cert_pem)
        _write(work / "server.key", server_key_pem)
        if crl_pem is not None:
            _write(work / "crl.pem", crl_pem)
        _write(work / "server.conf", server_config(port, tcp, crl_pem is not None))
        _write(work / "client.ovpn", rewrite_client(client_ovpn, port))
        ok = False
        try:
            server = _start(binary, work / "server.conf", server_log, timeout)
            ready = "Listening for incoming TCP connection" if tcp else "link local (bound)"
            while time.monotonic() < deadline and server.poll() is None:
                if ready in _read(server_log):
                    break
                time.sleep(_POLL_SECONDS)
            if server.poll() is None:
                client = _start(binary, work / "client.ovpn", client_log, timeout)
            while client is not None and time.monotonic() < deadline:
                s_log, c_log = _read(server_log), _read(client_log)
                if SUCCESS in s_log and SUCCESS in c_log:
                    ok = True
                    break
                if _failed(s_log) or _failed(c_log):
                    break
                if server.poll() is not None or client.poll() is not None:
                    break
                time.sleep(_POLL_SECONDS)
        finally:
            _stop(client)
            _stop(server)
        return HandshakeResult(ok=ok, client_log=_read(client_log), server_log=_read(server_log))
