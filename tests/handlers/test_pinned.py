"""``handlers/pinned.py``: what a handler may touch comes from its configuration (issue 18).

Oracles: the rules in the issue (an event naming anything else is refused; Renew takes
nothing from its event) and the S3 API reference for ``ExpectedBucketOwner`` (the operations
whose input has that member carry it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from constructs_cvpn.handlers import pinned

STACK = "arn:aws:cloudformation:eu-west-1:111111111111:stack/S/1"
CONFIG = {
    "StackId": STACK,
    "BucketOwner": "111111111111",
    "Pinned": {"Kind": "Users", "Bucket": "b", "Prefix": "p/", "Readers": ["r1", "r2"]},
    "Imposed": {"ReaderRoleArns": ["role-a"]},
    "Settings": {"RenewBeforeDays": "30", "Users": []},
}


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[pinned.Pinned]:
    monkeypatch.setenv(pinned.ENV, json.dumps(CONFIG))
    pinned.forget()
    yield pinned.load()
    pinned.forget()


def _event(request: str = "Update", **props: Any) -> dict[str, Any]:
    return {
        "RequestType": request,
        "StackId": STACK,
        "PhysicalResourceId": "pid",
        "ResourceProperties": {**CONFIG["Pinned"], "Users": ["alice"], **props},  # type: ignore[dict-item]
    }


def test_an_event_with_the_pinned_values_passes_with_the_imposed_ones(
    configured: pinned.Pinned,
) -> None:
    admitted = configured.admit(_event(ReaderRoleArns=["mallory"], Readers=["r2", "r1"]))
    props = admitted["ResourceProperties"]
    assert props["Users"] == ["alice"], "what is not pinned comes from the event"
    assert props["ReaderRoleArns"] == ["role-a"], "the event's readers are replaced"


@pytest.mark.parametrize(
    ("name", "value"), [("Bucket", "mallory"), ("Prefix", "p/x/"), ("Readers", ["r1"])]
)
@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_another_value_is_refused_naming_the_property(
    configured: pinned.Pinned, request_type: str, name: str, value: Any
) -> None:
    with pytest.raises(pinned.RefusedEvent, match=f"property {name} must be"):
        configured.admit(_event(request_type, **{name: value}))


def test_a_missing_pinned_property_is_refused(configured: pinned.Pinned) -> None:
    event = _event()
    del event["ResourceProperties"]["Prefix"]
    with pytest.raises(pinned.RefusedEvent, match="property Prefix"):
        configured.admit(event)


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_another_stack_is_refused(configured: pinned.Pinned, request_type: str) -> None:
    event = {**_event(request_type), "StackId": STACK.replace("/S/", "/Other/")}
    with pytest.raises(pinned.RefusedEvent, match="StackId"):
        configured.admit(event)


def test_renew_takes_nothing_but_the_physical_id(configured: pinned.Pinned) -> None:
    forged = _event("Renew", Bucket="mallory", ReaderRoleArns=["mallory"], Users=["mallory"])
    admitted = configured.admit(forged)
    assert admitted == {
        "RequestType": "Renew",
        "PhysicalResourceId": "pid",
        "ResourceProperties": {
            "RenewBeforeDays": "30",
            "Users": [],
            "Kind": "Users",
            "Bucket": "b",
            "Prefix": "p/",
            "Readers": ["r1", "r2"],
            "ReaderRoleArns": ["role-a"],
        },
    }


def test_without_configuration_nothing_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pinned.ENV, raising=False)
    pinned.forget()
    event = _event(Bucket="anything")
    assert pinned.load().admit(event) == event
    pinned.forget()


def test_the_configuration_is_read_once(
    configured: pinned.Pinned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pinned.ENV, json.dumps({**CONFIG, "BucketOwner": "222222222222"}))
    assert pinned.load() is configured
    assert pinned.load().bucket_owner == "111111111111"


def test_every_s3_call_that_takes_it_carries_expected_bucket_owner(
    configured: pinned.Pinned,
) -> None:
    s3 = pinned.expect_owner(
        boto3.client(
            "s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
    )
    with Stubber(s3) as stub:
        stub.add_response(
            "get_object", {}, {"Bucket": "b", "Key": "k", "ExpectedBucketOwner": "111111111111"}
        )
        stub.add_response(
            "list_object_versions",
            {},
            {"Bucket": "b", "Prefix": "p/", "ExpectedBucketOwner": "111111111111"},
        )
        stub.add_response("list_buckets", {}, {})  # no such member: nothing added
        s3.get_object(Bucket="b", Key="k")
        s3.list_object_versions(Bucket="b", Prefix="p/")
        s3.list_buckets()
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("detail", "logical_id", "admitted"),
    [
        ({"ResourceStatus": "DELETE_IN_PROGRESS", "PhysicalResourceId": "pid"}, "Users", True),
        ({"ResourceStatus": "UPDATE_COMPLETE", "PhysicalResourceId": "pid"}, "Users", False),
        ({"ResourceStatus": "DELETE_IN_PROGRESS", "PhysicalResourceId": "other"}, "Users", False),
        ({"ResourceStatus": "DELETE_IN_PROGRESS", "PhysicalResourceId": "pid"}, "Other", False),
        (None, "Users", False),
    ],
)
def test_a_delete_is_obeyed_only_while_cloudformation_deletes_the_resource(
    monkeypatch: pytest.MonkeyPatch, detail: Any, logical_id: str, admitted: bool
) -> None:
    monkeypatch.setenv(pinned.ENV, json.dumps({**CONFIG, "LogicalResourceId": "Users"}))
    pinned.forget()
    asked: list[tuple[str, str]] = []

    def describe(stack_id: str, logical: str) -> Any:
        asked.append((stack_id, logical))
        return detail

    event = {**_event("Delete"), "LogicalResourceId": logical_id}
    try:
        if admitted:
            pinned.load().admit(event, describe)
            assert asked == [(STACK, "Users")]
        else:
            with pytest.raises(pinned.RefusedEvent):
                pinned.load().admit(event, describe if detail is not None else None)
    finally:
        pinned.forget()


def test_both_handlers_s3_clients_carry_the_pinned_owner(
    configured: pinned.Pinned, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches a handler whose S3 client skips :func:`pinned.expect_owner`."""
    from constructs_cvpn.handlers.export_config import aws as export_aws
    from constructs_cvpn.handlers.pki import aws as pki_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    pki_aws.reset()
    try:
        for s3 in (pki_aws.client("s3"), export_aws.s3_client()):
            with Stubber(s3) as stub:
                expected = {"Bucket": "b", "Key": "k", "ExpectedBucketOwner": "111111111111"}
                stub.add_response("delete_object", {}, expected)
                s3.delete_object(Bucket="b", Key="k")
                stub.assert_no_pending_responses()
    finally:
        pki_aws.reset()


#: What DescribeStackResource shows after an Update answered with a new physical id "new":
#: the resource is complete under the new id (CloudFormation User Guide, custom resources:
#: a new physical id makes CloudFormation delete the old resource in the clean-up phase).
_CURRENT_IS_NEW = {"ResourceStatus": "UPDATE_COMPLETE", "PhysicalResourceId": "new"}


@pytest.mark.parametrize(
    ("deleted_id", "stack", "admitted"),
    [
        # the clean-up of an update that replaced: CloudFormation deletes the old id
        ("pid", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", True),
        # the clean-up of a rolled-back update that replaced: it deletes the one the update made
        ("pid", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", True),
        # the same Delete outside a clean-up phase: forged
        ("pid", "UPDATE_COMPLETE", False),
        ("pid", "UPDATE_IN_PROGRESS", False),
        ("pid", "UPDATE_ROLLBACK_COMPLETE", False),
        # the resource's current id: only while CloudFormation deletes the resource
        ("new", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", False),
        ("new", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", False),
        ("", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", False),
    ],
)
def test_a_clean_up_delete_of_a_replaced_physical_id_is_obeyed(
    monkeypatch: pytest.MonkeyPatch, deleted_id: str, stack: str, admitted: bool
) -> None:
    monkeypatch.setenv(pinned.ENV, json.dumps({**CONFIG, "LogicalResourceId": "Users"}))
    pinned.forget()
    asked: list[str] = []

    def stack_status(stack_id: str) -> str:
        asked.append(stack_id)
        return stack

    event = {**_event("Delete"), "LogicalResourceId": "Users", "PhysicalResourceId": deleted_id}
    try:
        if admitted:
            got = pinned.load().admit(event, lambda s, lid: _CURRENT_IS_NEW, stack_status)
            assert got["PhysicalResourceId"] == deleted_id
            assert asked == [STACK]
        else:
            with pytest.raises(pinned.RefusedEvent, match="refused"):
                pinned.load().admit(event, lambda s, lid: _CURRENT_IS_NEW, stack_status)
    finally:
        pinned.forget()


def test_a_delete_in_progress_of_the_current_id_needs_no_stack_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(pinned.ENV, json.dumps({**CONFIG, "LogicalResourceId": "Users"}))
    pinned.forget()

    def stack_status(stack_id: str) -> str:
        raise AssertionError("DescribeStacks is not needed for the stack's own deletion")

    detail = {"ResourceStatus": "DELETE_IN_PROGRESS", "PhysicalResourceId": "pid"}
    event = {**_event("Delete"), "LogicalResourceId": "Users"}
    try:
        pinned.load().admit(event, lambda s, lid: detail, stack_status)
    finally:
        pinned.forget()


@pytest.mark.parametrize(
    "partial",
    [
        {"StackId": STACK},
        {"Pinned": {"Bucket": "b"}},
        {"Imposed": {"ReaderRoleArns": ["role-a"]}},
    ],
    ids=["stack-only", "pinned-only", "imposed-only"],
)
def test_any_one_part_of_the_configuration_makes_it_act(
    monkeypatch: pytest.MonkeyPatch, partial: dict[str, Any]
) -> None:
    """The module docstring: only a function *without* the variable pins nothing. A
    configuration that names just the stack, just pins or just imposed values still acts."""
    monkeypatch.setenv(pinned.ENV, json.dumps(partial))
    pinned.forget()
    configuration = pinned.load()
    try:
        assert configuration.active is True
        forged = {
            "RequestType": "Update",
            "StackId": "arn:aws:cloudformation:eu-west-1:111111111111:stack/Other/2",
            "PhysicalResourceId": "pid",
            "ResourceProperties": {"Bucket": "mallory", "ReaderRoleArns": ["mallory"]},
        }
        if "Imposed" in partial:
            admitted = configuration.admit({**forged, "StackId": ""})
            assert admitted["ResourceProperties"]["ReaderRoleArns"] == ["role-a"]
        else:
            with pytest.raises(pinned.RefusedEvent):
                configuration.admit(forged)
    finally:
        pinned.forget()


def test_the_configuration_cannot_be_changed_once_read(configured: pinned.Pinned) -> None:
    """Read once per process, it is the template's word: no handler code may rewrite it."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        configured.stack_id = "arn:aws:cloudformation:eu-west-1:111111111111:stack/Other/2"  # type: ignore[misc]


def test_a_pinned_list_is_not_matched_by_a_bare_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pinned list matches a list with the same members in any order, never a string
    (CloudFormation passes a list property as a JSON list)."""
    monkeypatch.setenv(pinned.ENV, json.dumps({"Pinned": {"Readers": ["r"]}}))
    pinned.forget()
    try:
        configuration = pinned.load()
        base = {"RequestType": "Update", "PhysicalResourceId": "pid"}
        with pytest.raises(pinned.RefusedEvent, match="Readers"):
            configuration.admit({**base, "ResourceProperties": {"Readers": "r"}})
        assert configuration.admit({**base, "ResourceProperties": {"Readers": ["r"]}})
    finally:
        pinned.forget()


@pytest.mark.parametrize(
    ("status", "physical_id", "current"),
    [
        ("DELETE_IN_PROGRESS", "pid", True),
        # CloudFormation deletes the resource under another id: "pid" is an id it once had.
        ("DELETE_IN_PROGRESS", "pid-now", False),
        # The same id, but CloudFormation is not deleting it (a forged Delete).
        ("UPDATE_COMPLETE", "pid", False),
    ],
)
def test_deleting_current_needs_the_status_and_the_id(
    monkeypatch: pytest.MonkeyPatch, status: str, physical_id: str, current: bool
) -> None:
    """DescribeStackResource's ResourceStatus and PhysicalResourceId (CloudFormation API
    reference) must both name this deletion: either alone admits a Delete it should not."""
    monkeypatch.setenv(pinned.ENV, json.dumps({**CONFIG, "LogicalResourceId": "Users"}))
    pinned.forget()
    asked: list[tuple[str, str]] = []

    def describe(stack_id: str, logical_id: str) -> dict[str, str]:
        asked.append((stack_id, logical_id))
        return {"ResourceStatus": status, "PhysicalResourceId": physical_id}

    try:
        assert pinned.load().deleting_current("pid", describe) is current
    finally:
        pinned.forget()
    assert asked == [(STACK, "Users")]
