"""Fixtures for the PKI handler tests: moto for S3/KMS/Secrets Manager/ACM, a Stubber for EC2.

moto has no Client VPN support, so EC2 calls go through ``botocore.stub.Stubber`` (which
validates requests and responses against the real service model). Request parameters of
the CRL import are captured with a ``provide-client-params`` hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_cvpn.handlers.pki import aws
from constructs_cvpn.handlers.pki.state import CaBundle

REGION: Final = "eu-west-1"
ENDPOINT_ID = "cvpn-endpoint-0123456789abcdef0"
BUCKET = "cvpn-configs"
SECRET_NAME = "cvpn/test/ca"

CONFIG_TEMPLATE = """client
dev tun
proto udp
remote {endpoint}.prod.clientvpn.eu-west-1.amazonaws.com 443
remote-random-hostname
resolv-retry infinite
nobind
remote-cert-tls server
cipher AES-256-GCM
verb 3
<ca>
{ca}
</ca>


reneg-sec 0
"""


def export_config(ca_pem: str, endpoint: str = ENDPOINT_ID) -> str:
    """What ExportClientVpnClientConfiguration returns for a mutual-auth endpoint."""
    return CONFIG_TEMPLATE.format(endpoint=endpoint, ca=ca_pem.strip())


@dataclass
class Ec2Stub:
    """The stubbed EC2 client plus what the CRL imports sent."""

    client: Any
    stubber: Stubber
    crl_imports: list[dict[str, Any]] = field(default_factory=list)

    def expect_export(self, config: str, endpoint: str = ENDPOINT_ID) -> None:
        self.stubber.add_response(
            "export_client_vpn_client_configuration",
            {"ClientConfiguration": config},
            {"ClientVpnEndpointId": endpoint},
        )

    def expect_crl_import(self, endpoint: str = ENDPOINT_ID) -> None:
        from botocore.stub import ANY

        self.stubber.add_response(
            "import_client_vpn_client_certificate_revocation_list",
            {"Return": True},
            {"ClientVpnEndpointId": endpoint, "CertificateRevocationList": ANY},
        )


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.reset()
    with mock_aws():
        yield
    aws.reset()


@pytest.fixture
def kms_key(aws_env: None) -> str:
    return str(boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"])


@pytest.fixture
def bucket(aws_env: None) -> str:
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return BUCKET


@pytest.fixture
def ec2(aws_env: None) -> Iterator[Ec2Stub]:
    client = boto3.client("ec2", region_name=REGION)
    stub = Ec2Stub(client=client, stubber=Stubber(client))

    def capture(params: dict[str, Any], **_: Any) -> None:
        stub.crl_imports.append(dict(params))

    client.meta.events.register(
        "provide-client-params.ec2.ImportClientVpnClientCertificateRevocationList", capture
    )
    aws.set_client("ec2", client)
    with stub.stubber:
        yield stub
    stub.stubber.assert_no_pending_responses()


def authority_props(kms_key: str, **extra: str) -> dict[str, str]:
    return {"Kind": "Authority", "CaSecretName": SECRET_NAME, "KmsKeyArn": kms_key, **extra}


def read_bundle(secret: str = SECRET_NAME) -> CaBundle:
    sm = boto3.client("secretsmanager", region_name=REGION)
    return CaBundle.from_json(sm.get_secret_value(SecretId=secret)["SecretString"])
