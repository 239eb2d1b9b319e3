"""Snapshot-stable CloudFormation templates for testing CDK stacks.

A synthesized template carries churn that has nothing to do with what a change did: asset
hashes (they change with every edit of Lambda code), the bootstrap version parameter and rule,
the ``AWS::CDK::Metadata`` resource, ``aws:cdk:path`` / ``aws:asset:*`` metadata and the hashed
logical ids of Lambda versions. :func:`stable_template` replaces all of it with fixed
placeholders (or drops it) and sorts every mapping's keys, so a snapshot only changes when the
infrastructure does. Everything else is kept as synthesized.

Snapshot-test your own stack with syrupy (``pip install syrupy``)::

    from aws_cdk import App
    from constructs_cvpn.testing import stable_template
    from my_app.stacks import VpnStack

    def test_vpn_stack_snapshot(snapshot):
        app = App()
        stack = VpnStack(app, "Vpn")
        assert stable_template(stack) == snapshot

Run ``pytest --snapshot-update`` once to record, and review the snapshot diff in each change.
Without syrupy, compare with a JSON file written by :func:`stable_template_json`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

ASSET_HASH = "[ASSET_HASH]"
"""Placeholder for a 64-hex-digit asset hash (S3 object keys, image tags, asset paths)."""
ASSET_BUCKET = "[ASSET_BUCKET]"
"""Placeholder for the CDK bootstrap assets bucket name (``cdk-<qualifier>-assets-...``)."""
VERSION_HASH = "[VERSION_HASH]"
"""Placeholder for the code hash CDK appends to ``AWS::Lambda::Version`` logical ids."""

_ASSET_HASH_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_ASSET_BUCKET_RE = re.compile(
    r"cdk-[a-z0-9]+-assets-(?:\$\{AWS::AccountId\}|\d{12})-(?:\$\{AWS::Region\}|[a-z]{2}(?:-[a-z]+)+-\d)"
)
_VERSION_ID_RE = re.compile(r"^(?P<prefix>.*?)(?P<hash>[0-9a-f]{32})$")
_DROPPED_METADATA = ("aws:cdk:path",)
_BOOTSTRAP_PARAMETER = "BootstrapVersion"
_BOOTSTRAP_RULE = "CheckBootstrapVersion"
_CDK_METADATA_TYPE = "AWS::CDK::Metadata"
_CDK_METADATA_CONDITION = "CDKMetadataAvailable"


def stable_template(stack_or_template: Stack | Mapping[str, Any]) -> dict[str, Any]:
    """Return a snapshot-stable copy of a stack's synthesized template.

    :param stack_or_template: a CDK ``Stack`` (synthesized through its app) or an already
        synthesized template (a parsed ``*.template.json``); it is not modified.
    :returns: the template with CDK churn replaced by placeholders and keys sorted.
    """
    if isinstance(stack_or_template, Stack):
        raw: Mapping[str, Any] = Template.from_stack(
            stack_or_template, skip_cyclical_dependencies_check=True
        ).to_json()
    else:
        raw = stack_or_template
    template = copy.deepcopy(dict(raw))
    _drop_bootstrap_and_cdk_metadata(template)
    _scrub_resource_metadata(template)
    template = _rename_version_ids(template)
    stable: dict[str, Any] = _sorted(_scrub_strings(template))
    return stable


def stable_template_json(stack_or_template: Stack | Mapping[str, Any]) -> str:
    """Return :func:`stable_template` as indented JSON text with a final newline."""
    return json.dumps(stable_template(stack_or_template), indent=2, sort_keys=True) + "\n"


def _drop_bootstrap_and_cdk_metadata(template: dict[str, Any]) -> None:
    """Remove the bootstrap version check and the ``AWS::CDK::Metadata`` resource."""
    for section, name in (("Parameters", _BOOTSTRAP_PARAMETER), ("Rules", _BOOTSTRAP_RULE)):
        entries = template.get(section)
        if isinstance(entries, dict):
            entries.pop(name, None)
            if not entries:
                del template[section]
    resources = template.get("Resources") or {}
    for logical_id in [k for k, v in resources.items() if v.get("Type") == _CDK_METADATA_TYPE]:
        del resources[logical_id]
    conditions = template.get("Conditions")
    if isinstance(conditions, dict) and _CDK_METADATA_CONDITION in conditions:
        del conditions[_CDK_METADATA_CONDITION]
        if not conditions:
            del template["Conditions"]


def _scrub_resource_metadata(template: dict[str, Any]) -> None:
    """Drop ``aws:cdk:path`` from resource metadata (and metadata left empty by that)."""
    for resource in (template.get("Resources") or {}).values():
        metadata = resource.get("Metadata")
        if not isinstance(metadata, dict):
            continue
        for key in _DROPPED_METADATA:
            metadata.pop(key, None)
        if not metadata:
            del resource["Metadata"]


def _rename_version_ids(template: dict[str, Any]) -> dict[str, Any]:
    """Replace the code hash at the end of Lambda version logical ids, and every reference."""
    renames: dict[str, str] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        match = _VERSION_ID_RE.match(logical_id)
        if resource.get("Type") == "AWS::Lambda::Version" and match:
            renames[logical_id] = match["prefix"] + VERSION_HASH
    if not renames:
        return template
    text = json.dumps(template)
    for old, new in renames.items():
        text = text.replace(old, new)
    result: dict[str, Any] = json.loads(text)
    return result


def _scrub_strings(value: Any) -> Any:
    """Replace asset hashes and bootstrap bucket names in every string (keys included)."""
    if isinstance(value, str):
        return _ASSET_HASH_RE.sub(ASSET_HASH, _ASSET_BUCKET_RE.sub(ASSET_BUCKET, value))
    if isinstance(value, dict):
        return {_scrub_strings(k): _scrub_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_strings(v) for v in value]
    return value


def _sorted(value: Any) -> Any:
    """Return ``value`` with the keys of every mapping in sorted order."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
