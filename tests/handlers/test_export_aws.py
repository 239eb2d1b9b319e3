"""``handlers/export_config/aws.py``: what the export handler asks CloudFormation.

Oracle: the CloudFormation API reference: DescribeStacks with a StackName answers that one
stack; DescribeStackResource answers its StackResourceDetail.
"""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from constructs_cvpn.handlers.export_config import aws

STACK = "arn:aws:cloudformation:eu-west-1:111111111111:stack/S/1"


@pytest.fixture
def cfn(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    client = boto3.client("cloudformation", region_name="eu-west-1")
    monkeypatch.setattr(aws.boto3, "client", lambda *args, **kwargs: client)
    return Stubber(client)


def test_stack_status_is_the_described_stacks(cfn: Stubber) -> None:
    cfn.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "S",
                    "CreationTime": dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                    "StackStatus": "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                }
            ]
        },
        {"StackName": STACK},
    )
    with cfn:
        assert aws.stack_status(STACK) == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"


def test_describe_stack_resource_is_the_resources_detail(cfn: Stubber) -> None:
    detail = {
        "LogicalResourceId": "Export",
        "PhysicalResourceId": "s3://b/k",
        "ResourceType": "Custom::ClientVpnConfigExport",
        "LastUpdatedTimestamp": dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        "ResourceStatus": "DELETE_IN_PROGRESS",
    }
    cfn.add_response(
        "describe_stack_resource",
        {"StackResourceDetail": detail},
        {"StackName": STACK, "LogicalResourceId": "Export"},
    )
    with cfn:
        assert aws.describe_stack_resource(STACK, "Export") == detail
