"""``HandlerFunction``: how long a queued event may wait, and grants with a wildcard.

Oracles: the Lambda developer guide, "Configuring error handling for asynchronous
invocation" (``MaximumEventAgeInSeconds`` from 60 to 21,600 seconds) and the class's
contract (an event older than ``service_timeout - timeout`` is dropped; a wildcard resource
needs a reason).
"""

from __future__ import annotations

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_cvpn.handler_function import HandlerFunction


def _function(service: Duration, timeout: Duration | None) -> tuple[Stack, HandlerFunction]:
    stack = Stack(App(context={"cvpn:skipBundling": True}), "Handlers")
    handler = HandlerFunction(
        stack,
        "Handler",
        handler="handlers.export_config.index.handler",
        description="test handler",
        encryption_key=kms.Key(stack, "Key"),
        log_group_name="/test/handler",
        service_timeout=service,
        timeout=timeout,
    )
    return stack, handler


def _max_event_age(stack: Stack) -> int:
    (config,) = Template.from_stack(stack).find_resources("AWS::Lambda::EventInvokeConfig").values()
    return int(config["Properties"]["MaximumEventAgeInSeconds"])


@pytest.mark.parametrize(
    ("service_minutes", "timeout_minutes", "age"),
    [
        (14, 12, 120),  # the users function: 14 - 12 minutes
        (14, 10, 240),  # the CA function
        (14, None, 720),  # the default timeout of 2 minutes
        (3, 2.5, 60),  # 30 s left: Lambda's shortest age, 60 s
        (12, 12, 60),
    ],
)
def test_a_queued_event_waits_at_most_the_service_timeout_less_the_run(
    service_minutes: int, timeout_minutes: float | None, age: int
) -> None:
    timeout = None if timeout_minutes is None else Duration.seconds(int(timeout_minutes * 60))
    stack, _ = _function(Duration.minutes(service_minutes), timeout)
    assert _max_event_age(stack) == age


def test_a_wildcard_resource_without_a_reason_is_refused() -> None:
    _, handler = _function(Duration.minutes(14), None)
    with pytest.raises(ValueError, match=r"^arn:aws:s3:::bucket/\* has a wildcard"):
        handler.allow(["s3:GetObject"], ["arn:aws:s3:::bucket/*"])
    handler.allow(["s3:GetObject"], ["arn:aws:s3:::bucket/key"])
    handler.allow(["s3:GetObject"], ["arn:aws:s3:::bucket/*"], wildcard_reason="every file")
