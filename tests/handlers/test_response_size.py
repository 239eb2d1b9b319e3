"""The 4,096-byte limit of a custom resource response, at its exact edge.

CloudFormation user guide, "Custom resource response objects": the response body is at most
4,096 bytes (DESIGN.md: "Responses are capped at 4,096 bytes"). A body of exactly 4,096
bytes is within the limit and must be sent as it is; one byte more cannot be sent, and the
handler answers FAILED instead (a body that is itself within the limit).

The body sizes are measured here on the bytes handed to the PUT; the padding that brings a
response to the edge is calibrated from a small response of the same shape (each ASCII
character of a Data value adds exactly one byte to the JSON document).
"""

from __future__ import annotations

import json
from typing import Any

from constructs_cvpn.handlers import cloudformation

LIMIT = 4096  # CloudFormation's documented limit, bytes


def _event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://example.invalid/response",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Users",
        "ResourceType": "Custom::ClientVpnUsers",
        "PhysicalResourceId": "pid-1",
        "ResourceProperties": {"Kind": "Users"},
    }


def _answer(pad: int, request_type: str = "Update") -> bytes:
    sent: list[bytes] = []

    def on_event(event: Any, context: Any) -> dict[str, Any]:
        return {"PhysicalResourceId": "pid-1", "Data": {"Pad": "x" * pad}}

    cloudformation.answering(on_event, put=lambda url, body: sent.append(body))(
        _event(request_type), None
    )
    (body,) = sent
    return body


def _pad_for(size: int) -> int:
    base = _answer(0)
    assert json.loads(base)["Status"] == "SUCCESS"
    return size - len(base)


def test_a_response_of_exactly_4096_bytes_is_sent_as_success() -> None:
    pad = _pad_for(LIMIT)
    body = _answer(pad)
    assert len(body) == LIMIT
    document = json.loads(body)
    assert document["Status"] == "SUCCESS"
    assert document["Data"] == {"Pad": "x" * pad}


def test_a_response_of_4097_bytes_becomes_a_failure_within_the_limit() -> None:
    body = _answer(_pad_for(LIMIT + 1))
    document = json.loads(body)
    assert document["Status"] == "FAILED"
    assert document["Data"] == {}
    assert len(body) <= LIMIT
    assert document["PhysicalResourceId"] == "pid-1"  # an Update keeps its id


def test_an_oversized_create_answers_with_the_failed_create_marker() -> None:
    body = _answer(_pad_for(LIMIT + 1), "Create")
    document = json.loads(body)
    assert document["Status"] == "FAILED"
    assert document["PhysicalResourceId"] == cloudformation.CREATE_FAILED
