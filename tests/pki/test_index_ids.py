"""``handlers/pki/index.py``: an Authority event's physical id must be one of this CA's
secrets (``arn:...:secret:<CaSecretPrefix>-<16 hex>-<6 characters>``, the name Secrets
Manager gives ``<prefix>-<request marker>`` plus its 6-character suffix: Secrets Manager
user guide, "secret ARN"); a Users event and a Create are not checked here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from constructs_cvpn.handlers import pinned
from constructs_cvpn.handlers.pki import index
from constructs_cvpn.handlers.pki.ca_secret import request_marker

SECRET = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:"
OURS = f"{SECRET}cvpn-ca-{request_marker('req-1')}-AbCdEf"


def _event(pid: str, kind: str = "Authority", request: str = "Update") -> dict[str, Any]:
    props = {"Kind": kind, "CaSecretPrefix": "cvpn-ca"}
    return {"RequestType": request, "PhysicalResourceId": pid, "ResourceProperties": props}


@pytest.mark.parametrize("request_type", ["Update", "Delete", "Renew"])
def test_this_cas_secret_passes(request_type: str) -> None:
    index._check_physical_id(_event(OURS, request=request_type))


@pytest.mark.parametrize(
    "pid",
    [
        f"{SECRET}cvpn-ca-{'z' * 16}-AbCdEf",  # not hex
        f"{SECRET}cvpn-ca-{request_marker('req-1')[:15]}-AbCdEf",  # 15 digits
        f"{SECRET}cvpn-ca-{request_marker('req-1')}-AbCdE",  # not Secrets Manager's suffix
        f"{SECRET}other-{request_marker('req-1')}-AbCdEf",  # another prefix
        f"{SECRET}cvpn-ca-extra-{request_marker('req-1')}-AbCdEf",
    ],
)
def test_anything_else_is_refused(pid: str) -> None:
    with pytest.raises(pinned.RefusedEvent, match="is not one of this CA's secrets"):
        index._check_physical_id(_event(pid))


def test_users_events_and_creates_are_not_checked_here() -> None:
    index._check_physical_id(_event(f"{SECRET}anything", kind="Users"))
    index._check_physical_id(_event(f"{SECRET}anything", request="Create"))


def test_the_stack_status_is_the_described_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """DescribeStacks given a StackName answers that one stack (CloudFormation API
    reference); its status decides whether a Delete comes from a clean-up phase."""

    class _Cfn:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            assert StackName == "stack-1"
            return {"Stacks": [{"StackStatus": "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"}]}

    monkeypatch.setattr(index, "client", lambda service: _Cfn())
    assert index._stack_status("stack-1") == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"


def test_a_pinned_function_refuses_a_renew_naming_another_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Renew takes its physical id from the event (pinned.py): on a function the template
    pinned, it must still name this CA's secret, before any AWS call is made."""
    config = {
        "StackId": "arn:aws:cloudformation:eu-west-1:111111111111:stack/S/1",
        "Pinned": {"Kind": "Authority", "CaSecretPrefix": "cvpn-ca"},
        "Settings": {"RenewBeforeDays": "30"},
    }
    monkeypatch.setenv(pinned.ENV, json.dumps(config))
    pinned.forget()
    monkeypatch.setattr(index, "client", lambda service: pytest.fail(f"called {service}"))
    try:
        renew = {"RequestType": "Renew", "PhysicalResourceId": f"{SECRET}mallory-ca-AbCdEf"}
        with pytest.raises(pinned.RefusedEvent, match="is not one of this CA's secrets"):
            index.on_event(renew)
    finally:
        pinned.forget()


@pytest.mark.parametrize("name", ["botocore", "boto3", "urllib3", "s3transfer"])
def test_the_sdks_never_log_request_bodies(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """botocore's DEBUG output holds request bodies (private keys in ImportCertificate and
    PutSecretValue): with the handler loaded, the SDK loggers stay at WARNING even when the
    root logger is set to DEBUG (the levels are set when the module is imported, above)."""
    monkeypatch.setattr(logging.getLogger(), "level", logging.DEBUG)
    assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
