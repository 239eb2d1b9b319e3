"""The handlers answer CloudFormation themselves: the response protocol over real HTTP.

A loopback HTTP server stands in for the pre-signed S3 ResponseURL. The expected documents
are written from the CloudFormation user guide ("Custom resource response objects"):
Status, Reason, PhysicalResourceId, StackId, RequestId, LogicalResourceId, NoEcho, Data; a
body of at most 4,096 bytes; an empty Content-Type.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from constructs_cvpn.handlers import cloudformation


class _Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]
    statuses: list[int]

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        self.requests.append(
            {
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "body": json.loads(body),
            }
        )
        status = self.statuses.pop(0) if self.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[type[_Recorder]]:
    recorder = type("Recorder", (_Recorder,), {"requests": [], "statuses": []})
    httpd = HTTPServer(("127.0.0.1", 0), recorder)
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}/response?sig=x"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield recorder
    httpd.shutdown()
    httpd.server_close()


class _Context:
    log_group_name = "/aws/lambda/users"
    log_stream_name = "2026/11/26/[$LATEST]abc"


def _event(url: str, request_type: str, physical_id: str | None = None) -> dict[str, Any]:
    event = {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Users",
        "ResourceType": "Custom::ClientVpnUsers",
        "ResourceProperties": {"Kind": "Users"},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


def test_success_is_put_with_the_documented_fields(server: Any) -> None:
    handler = cloudformation.answering(
        lambda event, context: {"PhysicalResourceId": "pid-1", "Data": {"Arn": "a"}}
    )
    handler(_event(server.url, "Create"), _Context())
    (request,) = server.requests
    assert request["path"] == "/response?sig=x"
    assert request["content_type"] == ""  # the pre-signed URL is signed without one
    assert request["body"] == {
        "Status": "SUCCESS",
        "Reason": "SUCCESS",
        "PhysicalResourceId": "pid-1",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Users",
        "NoEcho": False,
        "Data": {"Arn": "a"},
    }


def test_without_a_returned_id_create_uses_the_request_id_and_update_keeps_its_own(
    server: Any,
) -> None:
    handler = cloudformation.answering(lambda event, context: None)
    handler(_event(server.url, "Create"), None)
    handler(_event(server.url, "Update", "existing-pid"), None)
    assert [r["body"]["PhysicalResourceId"] for r in server.requests] == ["req-1", "existing-pid"]


def _fail(event: Mapping[str, Any], context: Any) -> Mapping[str, Any]:
    raise RuntimeError("user alice: the bucket refused the write")


def test_a_failed_create_reports_the_message_and_the_marker_id(server: Any) -> None:
    cloudformation.answering(_fail)(_event(server.url, "Create"), _Context())
    body = server.requests[0]["body"]
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == "constructs-cvpn::CREATE_FAILED"
    assert body["Reason"] == (
        "user alice: the bucket refused the write (log: /aws/lambda/users 2026/11/26/[$LATEST]abc)"
    )


def test_a_failed_update_keeps_the_physical_id(server: Any) -> None:
    # A new id on a failed Update would make CloudFormation delete the old resource later.
    cloudformation.answering(_fail)(_event(server.url, "Update", "pid-7"), None)
    assert server.requests[0]["body"]["PhysicalResourceId"] == "pid-7"
    assert server.requests[0]["body"]["Status"] == "FAILED"


def test_the_rollback_delete_of_a_failed_create_never_reaches_the_handler(server: Any) -> None:
    calls: list[Any] = []
    handler = cloudformation.answering(lambda event, context: calls.append(event) or {})
    handler(_event(server.url, "Delete", "constructs-cvpn::CREATE_FAILED"), None)
    assert calls == []
    assert server.requests[0]["body"]["Status"] == "SUCCESS"
    # Any other Delete does reach it.
    handler(_event(server.url, "Delete", "s3://bucket/key"), None)
    assert len(calls) == 1


def test_a_scheduled_event_runs_without_answering(server: Any) -> None:
    calls: list[Any] = []
    handler = cloudformation.answering(lambda event, context: calls.append(event) or {})
    handler({"RequestType": "Renew", "ResourceProperties": {}}, None)
    assert len(calls) == 1
    assert server.requests == []
    with pytest.raises(RuntimeError):  # a failing renewal is a Lambda error, in its logs
        cloudformation.answering(_fail)({"RequestType": "Renew"}, None)


def test_a_response_over_4096_bytes_becomes_a_failure(server: Any) -> None:
    handler = cloudformation.answering(
        lambda event, context: {"PhysicalResourceId": "p", "Data": {"Big": "x" * 5000}}
    )
    handler(_event(server.url, "Create"), None)
    body = server.requests[0]["body"]
    assert body["Status"] == "FAILED"
    assert body["Data"] == {}
    assert body["PhysicalResourceId"] == "constructs-cvpn::CREATE_FAILED"
    assert "4096" in body["Reason"]


def test_a_long_reason_is_cut(server: Any) -> None:
    def fail(event: Mapping[str, Any], context: Any) -> Mapping[str, Any]:
        raise ValueError("x" * 3000)

    cloudformation.answering(fail)(_event(server.url, "Create"), None)
    reason = server.requests[0]["body"]["Reason"]
    encoded = len(json.dumps(reason)) - 2  # as it travels in the response
    assert 990 <= encoded <= cloudformation.MAX_REASON_BYTES
    assert reason.endswith("…") and reason.startswith("x" * 900)


def test_the_put_is_retried_after_a_server_error(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(cloudformation.time, "sleep", sleeps.append)
    server.statuses.extend([500, 503])
    cloudformation.answering(lambda event, context: {})(_event(server.url, "Create"), None)
    assert len(server.requests) == 3
    assert sleeps == [1, 2]


def test_the_put_gives_up_after_four_attempts(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloudformation.time, "sleep", lambda seconds: None)
    server.statuses.extend([500] * 10)
    with pytest.raises(OSError):
        cloudformation.answering(lambda event, context: {})(_event(server.url, "Create"), None)
    assert len(server.requests) == 4


@pytest.mark.parametrize("char", ["é", "€", "😀"])
def test_a_non_ascii_reason_is_cut_by_its_encoded_size(server: Any, char: str) -> None:
    """Issue 19: a reason of a few hundred non-ASCII characters overflowed the response (cut
    by characters, while JSON escapes each one as up to 12 bytes); CloudFormation then saw
    only "the response is N bytes" instead of the reason."""

    def fail(event: Mapping[str, Any], context: Any) -> Mapping[str, Any]:
        raise ValueError("user ødegård: " + char * 900)

    cloudformation.answering(fail)(_event(server.url, "Update", "pid"), _Context())
    request = server.requests[0]
    body = request["body"]
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("user ødegård: " + char * 10), body["Reason"][:80]
    assert _Context.log_stream_name in body["Reason"], "where to read the rest is kept"
    assert len(json.dumps(body).encode()) <= 4096


def test_with_marker_deletes_the_rollback_delete_runs_the_handler_and_always_succeeds(
    server: Any,
) -> None:
    """Issue 19: a second delivery of a Create may succeed after the first failed; the
    rollback Delete of the marker is the only request that can clean up after it."""
    seen: list[str] = []

    def cleanup(event: Mapping[str, Any], context: Any) -> Mapping[str, Any]:
        seen.append(str(event["PhysicalResourceId"]))
        raise RuntimeError("could not clean up")

    handler = cloudformation.answering(cleanup, marker_deletes=True)
    handler(_event(server.url, "Delete", cloudformation.CREATE_FAILED), None)
    assert seen == [cloudformation.CREATE_FAILED]
    body = server.requests[0]["body"]
    assert body["Status"] == "SUCCESS", "a failed clean-up must not fail the rollback"
    assert body["PhysicalResourceId"] == cloudformation.CREATE_FAILED


def test_the_pki_handler_cleans_up_on_the_marker_delete(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from constructs_cvpn.handlers.pki import authority, index

    deleted: list[str] = []
    monkeypatch.setattr(authority, "delete", lambda pid, props, **_: deleted.append(pid))
    event = _event(server.url, "Delete", cloudformation.CREATE_FAILED)
    event["ResourceProperties"] = {"Kind": "Authority", "CaSecretPrefix": "p"}
    index.handler(event, None)
    assert deleted == [cloudformation.CREATE_FAILED]
    assert server.requests[0]["body"]["Status"] == "SUCCESS"
