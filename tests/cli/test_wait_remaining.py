"""``wait_until_ready`` keeps polling until the whole timeout is used up.

Oracle: the ``wait_until_ready`` docstring ("poll every ``interval`` seconds until ready;
raise WaitTimeoutError after ``timeout``"): while any of the timeout is left, even less than
a second, the last sleep is shortened to what is left and the endpoint is polled once more.
Time is the fake clock of the ``aws`` fixture (its sleep only advances that clock); AWS is
stubbed with botocore's Stubber.
"""

from __future__ import annotations

import pytest

from constructs_cvpn.cli.errors import WaitTimeoutError
from constructs_cvpn.cli.wait import wait_until_ready
from tests.cli.conftest import ENDPOINT_ID, FakeAws
from tests.cli.test_wait import expect_poll


@pytest.mark.parametrize(
    ("timeout", "interval", "sleeps"),
    [(21.0, 10.0, [10.0, 10.0, 1.0]), (10.0, 9.5, [9.5, 0.5])],
)
def test_the_last_second_of_the_timeout_is_still_waited_for(
    aws: FakeAws, timeout: float, interval: float, sleeps: list[float]
) -> None:
    """With at most one second left, the wait sleeps that long and polls once more."""
    for _ in sleeps:
        expect_poll(aws, "pending-associate", "associating")
    expect_poll(aws, "available", "associated")

    readiness = wait_until_ready(
        aws.ec2(),
        ENDPOINT_ID,
        timeout=timeout,
        interval=interval,
        sleep=aws.sleep,
        clock=aws.clock,
    )

    assert readiness.ready
    assert aws.sleeps == sleeps


def test_times_out_only_once_the_whole_timeout_is_used(aws: FakeAws) -> None:
    """Not ready at the last poll: the sleeps add up to the full timeout, then it gives up."""
    for _ in range(4):
        expect_poll(aws, "pending-associate", "associating")

    with pytest.raises(WaitTimeoutError, match="timed out after 21 s"):
        wait_until_ready(
            aws.ec2(), ENDPOINT_ID, timeout=21, interval=10, sleep=aws.sleep, clock=aws.clock
        )

    assert aws.sleeps == [10, 10, 1]
