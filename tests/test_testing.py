"""``constructs_cvpn.testing.stable_template``: CDK churn scrubbed, everything else kept."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from syrupy.extensions.amber import AmberDataSerializer

from constructs_cvpn.testing import stable_template, stable_template_json

HEX64 = re.compile(r"[0-9a-f]{64}")
# The placeholders stable_template promises, written here: importing them from
# constructs_cvpn.testing would let an empty or changed placeholder pass.
ASSET_HASH = "[ASSET_HASH]"
ASSET_BUCKET = "[ASSET_BUCKET]"
VERSION_HASH = "[VERSION_HASH]"


class Stacks:
    """The stacks of this module's app (synthesized once, the way the CDK CLI would)."""

    def __init__(self, tmp: Path) -> None:
        self.app = App(
            outdir=str(tmp / "cdk.out"),
            context={
                "aws:cdk:enable-asset-metadata": True,
                "aws:cdk:enable-path-metadata": True,
                "aws:cdk:version-reporting": True,
            },
        )
        one, two = "def handler(e, c):\n    return 1\n", "def handler(e, c):\n    return 2\n"
        self.first = self._lambda_stack("First", tmp / "code-a", one)
        self.second = self._lambda_stack("Second", tmp / "code-b", two)
        self.plain = Stack(self.app, "Plain")
        sqs.Queue(self.plain, "Queue", retention_period=None)

    def _lambda_stack(self, name: str, code_dir: Path, source: str) -> Stack:
        code_dir.mkdir()
        (code_dir / "index.py").write_text(source, encoding="utf-8")
        stack = Stack(self.app, name)
        fn = lambda_.Function(
            stack,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(code_dir)),
        )
        lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)
        return stack


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stacks]:
    """One app for the module."""
    yield Stacks(tmp_path_factory.mktemp("testing"))


def raw(stack: Stack) -> dict[str, Any]:
    """The template exactly as synthesized."""
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    return template


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The resources of one type, by logical id."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def test_raw_templates_differ_only_by_churn(stacks: Stacks) -> None:
    first, second = raw(stacks.first), raw(stacks.second)
    assert first != second
    assert HEX64.search(json.dumps(first))
    assert "BootstrapVersion" in first["Parameters"]
    assert of_type(first, "AWS::CDK::Metadata")


def test_different_asset_content_gives_equal_output(stacks: Stacks) -> None:
    assert stable_template(stacks.first) == stable_template(stacks.second)
    assert stable_template_json(stacks.first) == stable_template_json(stacks.second)


def test_asset_code_location_is_a_placeholder(stacks: Stacks) -> None:
    (fn,) = of_type(stable_template(stacks.first), "AWS::Lambda::Function").values()
    assert fn["Properties"]["Code"] == {
        "S3Bucket": {"Fn::Sub": ASSET_BUCKET},
        "S3Key": f"{ASSET_HASH}.zip",
    }
    assert fn["Metadata"] == {
        "aws:asset:is-bundled": False,
        "aws:asset:path": f"asset.{ASSET_HASH}",
        "aws:asset:property": "Code",
    }


def test_lambda_version_logical_id_and_its_references(stacks: Stacks) -> None:
    template = stable_template(stacks.first)
    (version_id,) = of_type(template, "AWS::Lambda::Version")
    assert version_id == f"FnCurrentVersion{version_id[16:24]}{VERSION_HASH}"
    (alias,) = of_type(template, "AWS::Lambda::Alias").values()
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def test_bootstrap_check_cdk_metadata_and_paths_are_gone(stacks: Stacks) -> None:
    template = stable_template(stacks.first)
    text = json.dumps(template)
    assert "Parameters" not in template
    assert "Rules" not in template
    assert "CDKMetadataAvailable" not in text
    assert "AWS::CDK::Metadata" not in text
    assert "aws:cdk:path" not in text
    assert not HEX64.search(text)


def test_nothing_else_changes(stacks: Stacks) -> None:
    original = raw(stacks.plain)
    expected = copy.deepcopy(original)
    del expected["Parameters"]["BootstrapVersion"]
    del expected["Rules"]["CheckBootstrapVersion"]
    for key in ("Parameters", "Rules"):
        if not expected[key]:
            del expected[key]
    assert list(expected.pop("Conditions")) == ["CDKMetadataAvailable"]
    for logical_id in of_type(original, "AWS::CDK::Metadata"):
        del expected["Resources"][logical_id]
    for resource in expected["Resources"].values():
        resource["Metadata"].pop("aws:cdk:path")
        if not resource["Metadata"]:
            del resource["Metadata"]
    assert stable_template(stacks.plain) == expected
    assert of_type(stable_template(stacks.plain), "AWS::SQS::Queue")


def test_function_properties_other_than_code_are_kept(stacks: Stacks) -> None:
    (raw_fn,) = of_type(raw(stacks.first), "AWS::Lambda::Function").values()
    (fn,) = of_type(stable_template(stacks.first), "AWS::Lambda::Function").values()
    kept = {k: v for k, v in raw_fn["Properties"].items() if k != "Code"}
    assert {k: v for k, v in fn["Properties"].items() if k != "Code"} == kept


def test_template_dict_input_is_not_modified(stacks: Stacks) -> None:
    template = raw(stacks.first)
    before = copy.deepcopy(template)
    assert stable_template(template) == stable_template(stacks.first)
    assert template == before


def test_keys_are_sorted_at_every_level() -> None:
    template = {"Resources": {"B": {"Type": "X", "Properties": {"z": 1, "a": {"y": 2, "b": 3}}}}}
    template["Resources"]["A"] = {"Type": "X"}
    stable = stable_template(template)
    assert list(stable["Resources"]) == ["A", "B"]
    assert list(stable["Resources"]["B"]) == ["Properties", "Type"]
    assert list(stable["Resources"]["B"]["Properties"]) == ["a", "z"]
    assert list(stable["Resources"]["B"]["Properties"]["a"]) == ["b", "y"]


def test_bucket_with_concrete_account_and_region() -> None:
    key = "a" * 64
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {
                        "S3Bucket": "cdk-hnb659fds-assets-123456789012-eu-west-1",
                        "S3Key": f"{key}.zip",
                    },
                    "Description": "abc",
                },
            }
        }
    }
    code = stable_template(template)["Resources"]["Fn"]["Properties"]
    assert code == {
        "Code": {"S3Bucket": ASSET_BUCKET, "S3Key": f"{ASSET_HASH}.zip"},
        "Description": "abc",
    }


def test_usable_as_syrupy_snapshot_data(stacks: Stacks) -> None:
    first = AmberDataSerializer.serialize(stable_template(stacks.first))
    assert first == AmberDataSerializer.serialize(stable_template(stacks.second))
    assert ASSET_HASH in first


def test_json_text_is_indented_and_ends_with_newline(stacks: Stacks) -> None:
    text = stable_template_json(stacks.plain)
    assert text.endswith("}\n")
    assert json.loads(text) == stable_template(stacks.plain)
    assert text.startswith('{\n  "Resources"')


def test_paths_are_dropped_from_every_resource_whatever_comes_before() -> None:
    """A resource without metadata (first here) must not end the scrub of the ones after it."""
    template = {
        "Resources": {
            "Plain": {"Type": "AWS::SQS::Queue"},
            "Built": {"Type": "AWS::SQS::Queue", "Metadata": {"aws:cdk:path": "S/Built/Resource"}},
        }
    }
    assert stable_template(template)["Resources"] == {
        "Built": {"Type": "AWS::SQS::Queue"},
        "Plain": {"Type": "AWS::SQS::Queue"},
    }


def test_only_lambda_versions_lose_their_hash() -> None:
    """Any other resource keeps its logical id, even one that ends in 32 hex digits."""
    hashy = "Queue0123456789abcdef0123456789abcdef"
    template = {"Resources": {hashy: {"Type": "AWS::SQS::Queue"}}}
    assert list(stable_template(template)["Resources"]) == [hashy]
