"""``cvpn`` safety: ``config get --force`` replaces atomically, Ctrl-C exits with 130.

The convention (and ``cvpn --help``) for an interrupted command is exit code 130
(128 + SIGINT) with one line on stderr, never a traceback or click's "Aborted!" (exit 1).
A ``.ovpn`` file may hold a private key: an overwrite must never leave a half-written or
truncated file, and a failed or interrupted one must leave the old file as it was and no
temporary copy of the key behind.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from constructs_cvpn.cli.config import write_private
from constructs_cvpn.cli.errors import CvpnError
from tests.cli.conftest import ENDPOINT_ID, STACK, FakeAws
from tests.cli.test_config import ALICE, mode, moto_s3, s3  # noqa: F401 (fixtures)
from tests.cli.test_subprocess import CVPN, clean_env

OLD = b"client\n<key>\nOLD KEY\n</key>\n"
NEW = b"client\n<key>\n" + b"NEW KEY " * 4096 + b"\n</key>\n"


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    path = tmp_path / "vpn.ovpn"
    path.write_bytes(OLD)
    path.chmod(0o600)
    return path


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- atomic --force -----------------------------------------------------------------------


def test_force_writes_a_synced_private_copy_then_renames_it_over_the_old_file(
    existing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches: an in-place overwrite (open with O_TRUNC: a reader or a crash sees a
    truncated file), a rename before the data is on disk (no fsync: after a power loss the
    new name can point at an empty file), and a temporary copy readable by others."""
    synced: list[int] = []
    replaced: list[Path] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        # The moment of truth: the old file is untouched, the new one complete and private.
        assert Path(dst) == existing
        assert existing.read_bytes() == OLD
        assert Path(src).parent == existing.parent  # same file system: rename is atomic
        assert Path(src).read_bytes() == NEW
        assert stat.S_IMODE(Path(src).stat().st_mode) == 0o600
        assert Path(src).stat().st_ino in synced, "renamed before its data was synced"
        replaced.append(Path(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)

    write_private(existing, NEW, force=True)

    assert replaced == [existing]
    assert existing.read_bytes() == NEW
    assert mode(existing) == 0o600
    assert _names(existing.parent) == ["vpn.ovpn"]


class _FullDisk:
    """A file object that writes half of the data, then fails as a full disk does."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def fileno(self) -> int:
        fileno: int = self._handle.fileno()
        return fileno

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        self._handle.flush()


def test_force_write_failure_keeps_the_old_file_and_no_partial_copy(
    existing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches: truncating the target before the new data is safely written (a full disk
    would leave half a config), and a half-written temporary file left next to it."""
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullDisk(real_fdopen(fd, *a, **k)))

    with pytest.raises(CvpnError, match=r"cannot write .*No space left on device"):
        write_private(existing, NEW, force=True)

    assert existing.read_bytes() == OLD
    assert _names(existing.parent) == ["vpn.ovpn"]


def test_force_interrupted_before_the_rename_leaves_no_copy_of_the_key(
    existing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches: clean-up that only handles OSError, so Ctrl-C between the write and the
    rename left ``.vpn.ovpn.<random>.tmp``, a second copy of the private key, behind."""

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)

    with pytest.raises(KeyboardInterrupt):
        write_private(existing, NEW, force=True)

    assert existing.read_bytes() == OLD
    assert _names(existing.parent) == ["vpn.ovpn"]


def test_config_get_force_interrupted_exits_130_and_keeps_the_old_file(
    s3: FakeAws,  # noqa: F811 (fixture)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole command: Ctrl-C while ``--force`` replaces alice.ovpn."""
    target = tmp_path / "alice.ovpn"
    target.write_bytes(OLD)
    s3.expect_stack()

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)

    result = s3.run("config", "get", "--stack", STACK, "--user", "alice", "--force")

    assert result.exit_code == 130, result.output
    assert result.stderr == "cvpn: error: interrupted\n"
    assert target.read_bytes() == OLD
    assert _names(tmp_path) == ["alice.ovpn"]


def test_config_get_force_replaces_the_file(s3: FakeAws, tmp_path: Path) -> None:  # noqa: F811
    """Positive twin of the two tests above: with nothing failing, the new file is there."""
    target = tmp_path / "alice.ovpn"
    target.write_bytes(OLD)
    s3.expect_stack()

    result = s3.run("config", "get", "--stack", STACK, "--user", "alice", "--force")

    assert result.exit_code == 0, result.output
    assert target.read_bytes() == ALICE
    assert _names(tmp_path) == ["alice.ovpn"]


# -- Ctrl-C -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--endpoint-id", ENDPOINT_ID),
        ("connections", "--endpoint-id", ENDPOINT_ID),
        ("wait", "--endpoint-id", ENDPOINT_ID),
        ("config", "get", "--stack", STACK),
        ("config", "url", "--stack", STACK),
    ],
    ids=lambda args: " ".join(args[:2]) if args[0] == "config" else args[0],
)
def test_ctrl_c_in_any_command_exits_130_with_one_line(
    aws: FakeAws, args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches: a command outside the error boundary, or KeyboardInterrupt left to click
    (which prints "Aborted!" and exits 1), or mapped to the generic AWS-error code 1."""
    monkeypatch.chdir(tmp_path)

    def interrupted(profile: str | None, region: str | None) -> FakeAws:
        raise KeyboardInterrupt

    aws.factory = interrupted  # type: ignore[method-assign]

    result = aws.run(*args)

    assert result.exit_code == 130, result.output
    assert result.stderr == "cvpn: error: interrupted\n"
    assert result.stdout == ""
    assert _names(tmp_path) == []


@pytest.fixture
def silent_aws() -> Iterator[tuple[str, threading.Event]]:
    """An HTTP endpoint that reads each request in full and never answers (AWS hanging).

    The event is set once a whole request (headers and ``Content-Length`` body) has been
    read: the client has sent it and waits for the answer.
    """
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)  # how often the loop looks at `stop`
    requested = threading.Event()
    stop = threading.Event()
    held: list[socket.socket] = []

    def read_request(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
        requested.set()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            read_request(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", requested
    finally:
        stop.set()
        for conn in held:
            conn.close()
        server.close()
        thread.join()


def _sigint_default() -> None:
    """Run in the child before exec: SIGINT at its default disposition.

    A background command of a non-interactive shell (``make test &`` in a script, CI
    runners) starts with SIGINT ignored (bash manual, "Signals"), and an ignored signal
    stays ignored across exec: Python would then never raise KeyboardInterrupt. With the
    default disposition, the child's Python installs its own SIGINT handler.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_real_sigint_while_waiting_for_aws_exits_130(
    silent_aws: tuple[str, threading.Event],
) -> None:
    """The installed console script, a real SIGINT while boto3 waits for an answer.

    Catches what the in-process tests cannot: an interrupt raised inside botocore's
    network code reaching the boundary (exit 130, one line, no traceback). The signal is
    sent once the fake endpoint has read the whole request: cvpn is waiting for the answer
    (no sleep decides that)."""
    url, requested = silent_aws
    env = {
        **clean_env(),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": url,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    proc = subprocess.Popen(
        [str(CVPN), "status", "--endpoint-id", ENDPOINT_ID, "--region", "eu-west-1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_default,
    )
    try:
        while not requested.wait(0.05):
            if proc.poll() is not None:
                _, stderr = proc.communicate()
                pytest.fail(f"cvpn exited ({proc.returncode}) before calling AWS: {stderr}")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130, stderr
    assert stdout == ""
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "cvpn: error: interrupted"
