"""The CLI's Lambda client sends an invocation once: a revocation is never sent twice.

Oracle: botocore's retry configuration (``max_attempts`` counts the retries after the first
attempt; 0 means none) and its standard mode, which retries an HTTP 500 (a transient error):
against a loopback server that answers every request with 500, the other clients would send
the same call again; the Lambda client sends it exactly once.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
from botocore.exceptions import ClientError

from constructs_cvpn.cli.clients import SessionClients


class _Failing(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append(self.path)
        body = b'{"Type":"Service","message":"internal error"}'
        self.send_response(500)
        self.send_header("x-amzn-ErrorType", "ServiceException")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    _Failing.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield _Failing.requests
    finally:
        server.shutdown()
        server.server_close()


def test_an_invocation_that_fails_is_not_sent_again(failing_lambda: list[str]) -> None:
    client = SessionClients(None, "eu-west-1").lambda_()
    with pytest.raises(ClientError, match="ServiceException"):
        client.invoke(FunctionName="cvpn-users", Payload=b"{}")
    assert failing_lambda == ["/2015-03-31/functions/cvpn-users/invocations"]
