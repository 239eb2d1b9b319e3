"""A real OpenVPN server with the generated server certificate and CRL vs. generated .ovpn files.

Runs the whole Authority + Users flow under moto (EC2 stubbed), then hands the user files to
``tests/openvpn_harness.py``: the server presents the generated server certificate and trusts
the generated CA; with the CRL the Users handler imported on removing a user (the library's
own revocation code) it must refuse that user and still accept the others.
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
    refused = handshake(bob, **server, crl_pem=crl_pem)
    assert not refused.ok
    assert "revoked" in refused.server_log.lower() or "VERIFY ERROR" in refused.server_log


@pytest.mark.parametrize(("issuer", "connects"), [("generated", True), ("other", False)])
def test_only_a_client_cert_of_the_generated_ca_connects(
    ec2: Ec2Stub, kms_key: str, bucket: str, issuer: str, connects: bool
) -> None:
    """The refusal of another CA's certificate, and its twin: the same construction with a
    certificate of the generated CA (the CA from the Authority handler's secret) connects.

    Catches a refusal for the wrong reason (a broken file or server certificate would make
    the negative case pass on its own)."""
    require_openvpn()
    _create_authority(kms_key)
    bundle = read_bundle()
    generated = certs.Issued(
        key=certs.key_from_pem(bundle.ca_key_pem), cert=certs.cert_from_pem(bundle.ca_cert_pem)
    )
    ca = generated if issuer == "generated" else certs.create_ca("Other CA")
    client = certs.issue_client_cert(ca, "mallory")
    config = add_inline_credentials(
        export_config(bundle.ca_cert_pem),
        certs.cert_to_pem(client.cert),
        certs.key_to_pem(client.key),
    )
    result = handshake(
        config,
        ca_pem=bundle.ca_cert_pem,
        server_cert_pem=bundle.server_cert_pem,
        server_key_pem=bundle.server_key_pem,
    )
    assert result.ok is connects, result.client_log[-2000:] + result.server_log[-2000:]
