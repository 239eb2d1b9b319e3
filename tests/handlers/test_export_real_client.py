"""The .ovpn the export handler writes connects a real OpenVPN client (mutual auth).

EC2 is stubbed (it returns an export whose ``<ca>`` is a CA made here), S3 and Secrets
Manager are moto; the object the handler wrote is then used as-is by a real ``openvpn``
client against a throw-away server on loopback (see ``tests/openvpn_harness.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_cvpn.handlers.export_config import aws, index
from tests import openvpn_harness
from tests.certs import Issued, make_ca, make_client, make_crl, make_server
from tests.openvpn_harness import handshake, require_openvpn

pytestmark = pytest.mark.openvpn

FIXTURE = Path(__file__).parent / "fixtures" / "mutual.ovpn"
REGION: Final = "eu-west-1"
ENDPOINT = "cvpn-endpoint-0123456789abcdef0"
BUCKET = "client-config-bucket"
KEY = f"client-config/{ENDPOINT}/client.ovpn"
WriteOvpn = Callable[..., str]
CA_BLOCK = re.compile(r"<ca>\n.*?</ca>\n", re.DOTALL)


@pytest.fixture(scope="module")
def pki() -> dict[str, Issued]:
    ca = make_ca("vpn-ca")
    other = make_ca("other-ca")
    return {
        "ca": ca,
        "server": make_server(ca, "server.vpn.example.com"),
        "client": make_client(ca),
        "foreign": make_client(other, "intruder.vpn.example.com"),
    }


def exported_config(ca: Issued, proto: str = "udp") -> str:
    """The mutual-auth fixture as AWS would export it for an endpoint whose CA is ``ca``."""
    text = FIXTURE.read_text()
    text, count = CA_BLOCK.subn(lambda _: f"<ca>\n{ca.cert_pem}</ca>\n", text)
    assert count == 1
    return text.replace("proto udp\n", f"proto {proto}\n")


@pytest.fixture
def write_ovpn(monkeypatch: pytest.MonkeyPatch) -> Iterator[WriteOvpn]:
    """Run the handler (Create) and return the .ovpn text it wrote to S3."""
    require_openvpn()
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        kms_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        secrets = boto3.client("secretsmanager", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        monkeypatch.setattr(aws, "ec2_client", lambda: ec2)

        def run(export: str, credentials: Issued, **extra: str) -> str:
            arn = secrets.create_secret(
                Name=f"vpn/{credentials.cert.serial_number}",
                SecretString=json.dumps(
                    {"certificate": credentials.cert_pem, "private_key": credentials.key_pem}
                ),
            )["ARN"]
            with Stubber(ec2) as stub:
                stub.add_response(
                    "export_client_vpn_client_configuration",
                    {"ClientConfiguration": export},
                    {"ClientVpnEndpointId": ENDPOINT},
                )
                props = {
                    "EndpointId": ENDPOINT,
                    "Bucket": BUCKET,
                    "Key": KEY,
                    "KmsKeyArn": kms_arn,
                    "CredentialsSecretArn": arn,
                    **extra,
                }
                index.on_event({"RequestType": "Create", "ResourceProperties": props})
                stub.assert_no_pending_responses()
            body: bytes = s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
            return body.decode()

        yield run


@pytest.mark.parametrize(("proto", "label"), [("udp", "false"), ("tcp", "true")])
def test_written_ovpn_connects(
    write_ovpn: WriteOvpn, pki: dict[str, Issued], proto: str, label: str
) -> None:
    ovpn = write_ovpn(exported_config(pki["ca"], proto), pki["client"], RemoteRandomLabel=label)
    assert "<cert>" in ovpn and "<key>" in ovpn
    result = handshake(
        ovpn,
        ca_pem=pki["ca"].cert_pem,
        server_cert_pem=pki["server"].cert_pem,
        server_key_pem=pki["server"].key_pem,
        crl_pem=make_crl(pki["ca"]),
    )
    assert result.ok, f"client:\n{result.client_log}\nserver:\n{result.server_log}"
    assert "VERIFY OK: depth=0, CN=client1.vpn.example.com" in result.server_log
    assert "VERIFY OK: depth=0, CN=server.vpn.example.com" in result.client_log


def test_client_cert_from_another_ca_fails(write_ovpn: WriteOvpn, pki: dict[str, Issued]) -> None:
    ovpn = write_ovpn(exported_config(pki["ca"]), pki["foreign"])
    result = handshake(
        ovpn,
        ca_pem=pki["ca"].cert_pem,
        server_cert_pem=pki["server"].cert_pem,
        server_key_pem=pki["server"].key_pem,
        timeout=10,
    )
    assert not result.ok
    assert "VERIFY ERROR" in result.server_log
    assert "Initialization Sequence Completed" not in result.server_log


def test_revoked_client_cert_fails(write_ovpn: WriteOvpn, pki: dict[str, Issued]) -> None:
    ovpn = write_ovpn(exported_config(pki["ca"]), pki["client"])
    result = handshake(
        ovpn,
        ca_pem=pki["ca"].cert_pem,
        server_cert_pem=pki["server"].cert_pem,
        server_key_pem=pki["server"].key_pem,
        crl_pem=make_crl(pki["ca"], revoked=[pki["client"]]),
        timeout=10,
    )
    assert not result.ok
    assert "Initialization Sequence Completed" not in result.server_log


# --- the harness itself ---------------------------------------------------------------------


def test_harness_rewrites_remote_dev_and_proto() -> None:
    udp = openvpn_harness.rewrite_client(FIXTURE.read_text(), 4711)
    assert "\nremote 127.0.0.1 4711\n" in udp
    assert "amazonaws.com" not in udp
    assert "\ndev null\n" in udp and "dev tun" not in udp
    assert "\nproto udp4\n" in udp
    tcp = openvpn_harness.rewrite_client(FIXTURE.read_text().replace("proto udp", "proto tcp"), 1)
    assert "\nproto tcp4-client\n" in tcp
    assert openvpn_harness.rewrite_client("client\nremote h 1\n", 2).startswith("proto udp4\n")
    with pytest.raises(ValueError, match="no remote line"):
        openvpn_harness.rewrite_client("client\n", 2)


def test_require_openvpn_skips_or_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openvpn_harness, "openvpn_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="openvpn not installed"):
        openvpn_harness.require_openvpn()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="openvpn not installed"):
        openvpn_harness.require_openvpn()
