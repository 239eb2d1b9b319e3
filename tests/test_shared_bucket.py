"""Two generated-PKI VPNs that share one config bucket the app brings.

Oracles: the IAM JSON policy reference ("Sid": unique within a JSON policy), the bucket
guard's contract (three Deny statements per VPN, on that VPN's prefix) and the users
construct's (``remote_random_label``: a fixed 12-hex-character DNS label, sent only when on).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_cvpn import ClientVpn


def _shared() -> dict[str, Any]:
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Shared")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    bucket = s3.Bucket(
        stack, "Configs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True
    )
    common: dict[str, Any] = {"vpc": vpc, "config_bucket": bucket}
    ClientVpn(
        stack, "VpnA", cidr="10.100.0.0/22", users=["alice"], remote_random_label=True, **common
    )
    ClientVpn(stack, "VpnB", cidr="10.104.0.0/22", users=["bob"], **common)
    return dict(Template.from_stack(stack).to_json())


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return _shared()


def _of_type(template: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == type_]


def test_each_vpn_has_its_own_three_denies_with_unique_sids(template: dict[str, Any]) -> None:
    (policy,) = _of_type(template, "AWS::S3::BucketPolicy")
    sids = [s["Sid"] for s in policy["PolicyDocument"]["Statement"] if "Sid" in s]
    assert len(sids) == len(set(sids)) == 6
    prefixes = [users["Prefix"] for users in _of_type(template, "Custom::ClientVpnUsers")]
    assert len(prefixes) == 2
    for prefix in prefixes:
        own = "".join(c for c in prefix if c.isalnum())
        assert sum(sid.endswith(own) for sid in sids) == 3, (prefix, sids)


def test_the_random_label_is_a_fixed_dns_label_sent_only_when_asked(
    template: dict[str, Any],
) -> None:
    labels = {
        users["Prefix"]: users.get("RemoteRandomLabel")
        for users in _of_type(template, "Custom::ClientVpnUsers")
    }
    (asked,) = [label for prefix, label in labels.items() if "VpnA" in prefix]
    (not_asked,) = [label for prefix, label in labels.items() if "VpnB" in prefix]
    assert not_asked is None
    assert isinstance(asked, str) and re.fullmatch(r"[0-9a-f]{12}", asked)
    # fixed: the same app synthesized again sends the same label (files stay byte-identical)
    again = {
        users.get("RemoteRandomLabel") for users in _of_type(_shared(), "Custom::ClientVpnUsers")
    }
    assert asked in again
