"""``handlers/schedule/wake.py``: the wake-until parameter, against moto's SSM.

Oracles: the module's contract (a wake never shortens an earlier, longer one; a value that is
not an aware ISO 8601 time counts as no wake) and SSM's PutParameter reference (writing an
existing name without ``Overwrite`` fails with ParameterAlreadyExists).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_cvpn.handlers.schedule import wake

NAME = "/cvpn/test/wake-until"
T = dt.datetime(2026, 12, 6, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ssm", region_name="eu-west-1")


class _Counting:
    """SSM that counts writes."""

    def __init__(self, ssm: Any) -> None:
        self.ssm, self.puts = ssm, 0

    def get_parameter(self, **kw: Any) -> Any:
        return self.ssm.get_parameter(**kw)

    def put_parameter(self, **kw: Any) -> Any:
        self.puts += 1
        return self.ssm.put_parameter(**kw)


def test_a_longer_wake_replaces_the_parameter_a_shorter_one_leaves_it(ssm: Any) -> None:
    assert wake.extend(ssm, NAME, T) == T
    later = T + dt.timedelta(hours=2)
    assert wake.extend(ssm, NAME, later) == later  # overwrites the existing parameter
    assert wake.read(ssm, NAME) == later
    assert wake.extend(ssm, NAME, T) == later
    assert wake.read(ssm, NAME) == later


def test_the_same_wake_again_writes_nothing(ssm: Any) -> None:
    counting = _Counting(ssm)
    wake.extend(counting, NAME, T)
    wake.extend(counting, NAME, T)
    assert counting.puts == 1


@pytest.mark.parametrize("value", ["not a time", "2026-12-06T18:00:00"])
def test_a_value_that_is_no_aware_time_is_no_wake(ssm: Any, value: str) -> None:
    ssm.put_parameter(Name=NAME, Value=value, Type="String")
    assert wake.read(ssm, NAME) is None


def test_clear_removes_it_and_a_missing_one_is_fine(ssm: Any) -> None:
    wake.extend(ssm, NAME, T)
    wake.clear(ssm, NAME)
    assert wake.read(ssm, NAME) is None
    wake.clear(ssm, NAME)
