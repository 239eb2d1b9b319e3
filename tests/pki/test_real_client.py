"""A real OpenVPN server with the generated server certificate and CRL vs. generated .ovpn files.

Runs the whole Authority + Users flow under moto (EC2 stubbed), then hands the user files to
``tests/openvpn_harness.py``: the server presents the generated server certificate and trusts
the generated CA; with the generated CRL it must refuse a removed user.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from constructs_cvpn.handlers.ovpn import add_inline_credentials
from constructs_cvpn.handlers.pki import certs, index

from ..openvpn_harness import handshake, require_openvpn
from .conftest import (
    BUCKET,
    ENDPOINT_ID,
    REGION,
    REQUEST_ID,
    Ec2Stub,
    authority_props,
    export_config,
    read_bundle,
)

PREFIX = "cvpn/Vpn1/"


def _create_authority(kms_key: str) -> dict[str, Any]:
    return index.on_event(
        {
            "RequestType": "Create",
            "RequestId": REQUEST_ID,
            "ResourceProperties": authority_props(kms_key),
        }
    )


pytestmark = pytest.mark.openvpn


def _users(ec2: Ec2Stub, props: dict[str, Any], names: list[str], *, crl: bool) -> None:
    ec2.expect_export(export_config(read_bundle().ca_cert_pem))
    if crl:
        ec2.expect_crl_import()
    index.on_event({"RequestType": "Update", "ResourceProperties": {**props, "Users": names}})


def _ovpn(name: str) -> str:
    s3 = boto3.client("s3", region_name=REGION)
    body = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}users/{name}.ovpn")["Body"].read()
    return bytes(body).decode()


def test_generated_configs_connect_and_crl_rejects_removed_user(
    ec2: Ec2Stub, kms_key: str, bucket: str
) -> None:
    require_openvpn()
    authority = _create_authority(kms_key)
    props = {
        "Kind": "Users",
        "EndpointId": ENDPOINT_ID,
        "Bucket": bucket,
        "Prefix": PREFIX,
        "KmsKeyArn": kms_key,
        "CaSecretArn": authority["PhysicalResourceId"],
        "StateKey": f"{PREFIX}state.json",
    }
    _users(ec2, props, ["alice", "bob"], crl=False)
    alice, bob = _ovpn("alice"), _ovpn("bob")
    _users(ec2, props, ["alice"], crl=True)
    crl_pem = ec2.crl_imports[-1]["CertificateRevocationList"]

    bundle = read_bundle()
    server: dict[str, Any] = {
        "ca_pem": bundle.ca_cert_pem,
        "server_cert_pem": bundle.server_cert_pem,
        "server_key_pem": bundle.server_key_pem,
    }
    ok = handshake(alice, **server, crl_pem=crl_pem)
    assert ok.ok, ok.client_log[-2000:] + ok.server_log[-2000:]

    # Before the revocation bob could connect; with the CRL he is refused.
    before = handshake(bob, **server)
    assert before.ok, before.server_log[-2000:]
    refused = handshake(bob, **server, crl_pem=crl_pem, timeout=15)
    assert not refused.ok
    assert "revoked" in refused.server_log.lower() or "VERIFY ERROR" in refused.server_log


def test_config_from_another_ca_is_refused(ec2: Ec2Stub, kms_key: str, bucket: str) -> None:
    require_openvpn()
    _create_authority(kms_key)
    bundle = read_bundle()
    other_ca = certs.create_ca("Other CA")
    stranger = certs.issue_client_cert(other_ca, "mallory")
    config = add_inline_credentials(
        export_config(bundle.ca_cert_pem),
        certs.cert_to_pem(stranger.cert),
        certs.key_to_pem(stranger.key),
    )
    result = handshake(
        config,
        ca_pem=bundle.ca_cert_pem,
        server_cert_pem=bundle.server_cert_pem,
        server_key_pem=bundle.server_key_pem,
        timeout=15,
    )
    assert not result.ok
