"""Answering CloudFormation ourselves: the custom-resource response protocol.

Our handlers are the ``ServiceToken`` of their custom resources (no Provider framework
function between CloudFormation and them). ``answering(on_event)`` turns an ``on_event``
written as for the framework (return ``PhysicalResourceId`` and ``Data``; raise to fail)
into the Lambda entry point, with the framework's semantics kept:

- the answer is an HTTPS ``PUT`` of a JSON document to the request's pre-signed
  ``ResponseURL`` (CloudFormation user guide, "Custom resource response objects"):
  ``Status`` SUCCESS or FAILED, ``Reason`` (required for FAILED), ``PhysicalResourceId``,
  ``StackId``, ``RequestId``, ``LogicalResourceId``, ``Data``; at most 4,096 bytes;
- a raise becomes FAILED with the exception's message (our messages never hold key
  material) and the log stream to read; a failed Create reports ``CREATE_FAILED`` as its
  physical id, and the rollback's Delete of that id is answered here without calling
  ``on_event`` (the failing Create cleans up after itself);
- no physical id returned: the request's own (Update, Delete) or its ``RequestId``
  (Create);
- an event without ``ResponseURL`` (the EventBridge renewal schedule) just runs.

If the function dies before answering (out of memory, a bug at import), CloudFormation
fails the resource after the custom resource's ``ServiceTimeout``; the handlers stop
their work well before the Lambda timeout (``clock.Deadline``), so that is the only way
to get there.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

LOG = logging.getLogger(__name__)

#: The physical id of a Create that failed (nothing exists under it).
CREATE_FAILED = "constructs-cvpn::CREATE_FAILED"
#: CloudFormation refuses larger responses.
MAX_RESPONSE_BYTES = 4096
#: A Reason longer than this, in bytes of the JSON response (where ``é`` is the 6 bytes
#: ``\u00e9`` and an emoji 12), is cut; the rest is in the log stream.
MAX_REASON_BYTES = 1000
#: Attempts at the PUT (the URL is S3's; a 5xx or a reset is worth another try).
PUT_ATTEMPTS = 4

OnEvent = Callable[[Mapping[str, Any], Any], Mapping[str, Any] | None]


def answering(
    on_event: OnEvent,
    put: Callable[[str, bytes], None] | None = None,
    *,
    marker_deletes: bool = False,
) -> Callable[[Mapping[str, Any], Any], None]:
    """The Lambda entry point that runs ``on_event`` and answers CloudFormation.

    ``put`` sends the response document (default: :func:`put_response`, an HTTPS PUT).
    With ``marker_deletes`` the rollback Delete of a failed Create runs ``on_event`` too
    (best effort, always answered SUCCESS): another delivery of the same Create may have
    succeeded after the one that failed, and only the handler can find what it made.
    """

    def send(event: Mapping[str, Any], status: str, physical_id: str, **extra: Any) -> None:
        body = response_body(event, status, physical_id, **extra)
        (put or put_response)(str(event["ResponseURL"]), body)

    def handler(event: Mapping[str, Any], context: Any = None) -> None:
        url = event.get("ResponseURL")
        if not url:
            on_event(event, context)
            return
        request_type = event.get("RequestType")
        physical_id = event.get("PhysicalResourceId")
        if request_type == "Delete" and physical_id == CREATE_FAILED:
            if marker_deletes:
                try:
                    on_event(event, context)
                except Exception:  # a rollback Delete must not fail the rollback
                    LOG.exception("clean-up after a failed Create failed")
            send(event, "SUCCESS", CREATE_FAILED)
            return
        try:
            result = on_event(event, context) or {}
        except Exception as err:  # every failure must reach CloudFormation
            LOG.exception("%s failed", request_type)
            send(
                event,
                "FAILED",
                CREATE_FAILED if request_type == "Create" else str(physical_id),
                reason=_reason(err, context),
            )
            return
        send(
            event,
            "SUCCESS",
            str(result.get("PhysicalResourceId") or physical_id or event["RequestId"]),
            data=dict(result.get("Data") or {}),
        )

    return handler


def response_body(
    event: Mapping[str, Any],
    status: str,
    physical_id: str,
    *,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> bytes:
    """The response document; a SUCCESS over 4,096 bytes becomes a FAILED that says so."""
    document: dict[str, Any] = {
        "Status": status,
        "Reason": reason or status,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": dict(data or {}),
    }
    body = json.dumps(document).encode()
    if len(body) <= MAX_RESPONSE_BYTES:
        return body
    document.update(
        Status="FAILED",
        Reason=f"the response is {len(body)} bytes; CloudFormation takes at most "
        f"{MAX_RESPONSE_BYTES}",
        Data={},
    )
    if event.get("RequestType") == "Create":
        document["PhysicalResourceId"] = CREATE_FAILED
    return json.dumps(document).encode()


def put_response(url: str, body: bytes) -> None:
    """PUT ``body`` to the pre-signed URL, retrying a few times with a short back-off."""
    request = urllib.request.Request(
        url,
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    for attempt in range(1, PUT_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                LOG.info("answered CloudFormation: HTTP %s", response.status)
                return
        except OSError as err:  # URLError, HTTPError and timeouts are all OSErrors
            LOG.warning("answering CloudFormation failed (attempt %d): %s", attempt, err)
            if attempt == PUT_ATTEMPTS:
                raise
            time.sleep(2 ** (attempt - 1))


def _reason(err: BaseException, context: Any) -> str:
    """The exception's message and where to read the rest."""
    message = _cut(str(err) or type(err).__name__, MAX_REASON_BYTES)
    stream = getattr(context, "log_stream_name", None)
    group = getattr(context, "log_group_name", None)
    if stream and group:
        message += f" (log: {group} {stream})"
    return message


def _cut(text: str, limit: int) -> str:
    """``text``, cut with ``…`` so that it takes at most ``limit`` bytes as a JSON string."""
    if len(json.dumps(text)) - 2 <= limit:
        return text
    budget = limit - (len(json.dumps("…")) - 2)
    kept: list[str] = []
    for char in text:
        budget -= len(json.dumps(char)) - 2
        if budget < 0:
            break
        kept.append(char)
    return "".join(kept) + "…"
