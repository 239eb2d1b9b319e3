"""Prop combinations ``ClientVpn`` used to accept although they cannot work as the user means.

Each of these once built without an error or a warning: most had no effect on the template
at all (a user who sets the prop believes it applies); ``log_stream`` without ``log_group``
failed only at deploy. Each is now refused with a ``ClientVpnConfigError`` naming the prop
(``ignored_props.check_props_take_effect``). Each test also checks, if the refusal were removed,
that the prop really is ignored (the template with and without it is the same), so the
test documents a real gap, not a guess.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template

from constructs_cvpn import ClientVpn, ClientVpnConfigError

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:cvpn/client-AbCdEf"

Extra = Callable[[Stack], dict[str, Any]]


def _build(extra: Extra | None, **base: Any) -> tuple[Stack, str]:
    """A mutual-auth endpoint (own certificates) plus ``extra(stack)``; its template text."""
    app = App(context={"cvpn:skipBundling": True})
    stack = Stack(app, "Ignored")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    props: dict[str, Any] = {
        "vpc": vpc,
        "cidr": "10.100.0.0/22",
        "server_certificate_arn": SERVER_ARN,
        "client_certificate_arn": CLIENT_ARN,
        **base,
    }
    if extra is not None:
        props.update(extra(stack))
    ClientVpn(stack, "Vpn", **props)
    return stack, json.dumps(Template.from_stack(stack).to_json(), sort_keys=True)


def _refused(extra: Extra, prop: str, **base: Any) -> None:
    """``extra`` changes nothing in the template today; it should raise naming ``prop``."""
    try:
        _, with_prop = _build(extra, **base)
    except ClientVpnConfigError as err:
        assert err.prop == prop, err
        return
    _, without = _build(None, **base)
    assert with_prop == without, f"{prop} changes the template: not ignored, fix this test"
    pytest.fail(f"{prop} is accepted and silently ignored with {base}")


_NO_EXPORT = {"config_export": False}


def test_remote_random_label_without_an_export_is_refused() -> None:
    _refused(lambda _: {"remote_random_label": True}, "remote_random_label", **_NO_EXPORT)


def test_config_version_without_an_export_is_refused() -> None:
    _refused(lambda _: {"config_version": "2"}, "config_version", **_NO_EXPORT)


def test_config_bucket_without_an_export_is_refused() -> None:
    _refused(
        lambda stack: {"config_bucket": s3.Bucket.from_bucket_name(stack, "Mine", "my-bucket")},
        "config_bucket",
        **_NO_EXPORT,
    )


def test_config_prefix_without_an_export_is_refused() -> None:
    _refused(lambda _: {"config_prefix": "vpn-files"}, "config_prefix", **_NO_EXPORT)


def test_client_credentials_secret_without_an_export_is_refused() -> None:
    _refused(
        lambda stack: {
            "client_credentials_secret": secretsmanager.Secret.from_secret_complete_arn(
                stack, "Credentials", SECRET_ARN
            )
        },
        "client_credentials_secret",
        **_NO_EXPORT,
    )


@pytest.mark.parametrize(
    "prop",
    ["ca_validity_days", "server_certificate_validity_days", "client_certificate_validity_days"],
)
def test_certificate_validity_with_own_certificates_is_refused(prop: str) -> None:
    _refused(lambda _: {prop: 397}, prop)


def test_log_stream_without_its_log_group_is_refused() -> None:
    def stream_of_another_group(stack: Stack) -> dict[str, Any]:
        group = logs.LogGroup(stack, "OtherGroup")
        return {"log_stream": logs.LogStream(stack, "Stream", log_group=group)}

    try:
        _build(stream_of_another_group)
    except ClientVpnConfigError as err:
        assert err.prop == "log_stream", err
        return
    pytest.fail("log_stream of another log group is accepted; the deploy would fail")
