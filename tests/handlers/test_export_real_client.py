"""The .ovpn the export handler writes connects a real OpenVPN client (mutual auth).

EC2 is stubbed (it returns an export whose ``<ca>`` is the CA of the test), S3 and Secrets
Manager are moto; the object the handler wrote is then used as-is by a real ``openvpn``
client against a throw-away server on loopback (see ``tests/openvpn_harness.py``).

The certificates, keys and CRLs are the library's own (``constructs_cvpn.handlers.pki.certs``,
what the generated PKI issues and imports), not test helpers: a broken certificate, key or
CRL from the library fails a test here. Every refusal has a positive twin that differs in
one thing only and must connect, so a broken file cannot pass as "refused".
"""

from __future__ import annotations

import datetime as dt
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
from constructs_cvpn.handlers.pki import certs
from tests import openvpn_harness
from tests.certs import Issued
from tests.openvpn_harness import handshake, require_openvpn

pytestmark = pytest.mark.openvpn

FIXTURE = Path(__file__).parent / "fixtures" / "mutual.ovpn"
REGION: Final = "eu-west-1"
ENDPOINT = "cvpn-endpoint-0123456789abcdef0"
BUCKET = "client-config-bucket"
KEY = f"client-config/{ENDPOINT}/client.ovpn"
WriteOvpn = Callable[..., str]
CA_BLOCK = re.compile(r"<ca>\n.*?</ca>\n", re.DOTALL)


def _pem(issued: certs.Issued) -> Issued:
    """The library's issued pair, with its PEM text (as the PKI writes it)."""
    return Issued(
        cert_pem=certs.cert_to_pem(issued.cert),
        key_pem=certs.key_to_pem(issued.key),
        cert=issued.cert,
        key=issued.key,
    )


@pytest.fixture(scope="module")
def pki() -> dict[str, Issued]:
    ca = certs.create_ca("vpn-ca")
    other = certs.create_ca("other-ca")
    return {
        "ca": _pem(ca),
        "server": _pem(certs.issue_server_cert(ca, "server.vpn.example.com")),
        "client": _pem(certs.issue_client_cert(ca, "client1.vpn.example.com")),
        "bystander": _pem(certs.issue_client_cert(ca, "bystander")),
        "foreign": _pem(certs.issue_client_cert(other, "intruder.vpn.example.com")),
    }


def library_crl(ca: Issued, revoked: list[Issued]) -> str:
    """The CRL the PKI handler imports (``certs.build_crl``), revoking ``revoked``."""
    now = dt.datetime.now(dt.UTC)
    crl = certs.build_crl(
        certs.Issued(key=ca.key, cert=ca.cert),
        [(r.cert.serial_number, now - dt.timedelta(minutes=5)) for r in revoked],
        crl_number=1,
    )
    return certs.crl_to_pem(crl)


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


def _connect(ovpn: str, pki: dict[str, Issued], **extra: object) -> openvpn_harness.HandshakeResult:
    return handshake(
        ovpn,
        ca_pem=pki["ca"].cert_pem,
        server_cert_pem=pki["server"].cert_pem,
        server_key_pem=pki["server"].key_pem,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(("proto", "label"), [("udp", "false"), ("tcp", "true")])
def test_written_ovpn_connects(
    write_ovpn: WriteOvpn, pki: dict[str, Issued], proto: str, label: str
) -> None:
    """Catches a broken file (blocks misplaced, cert and key swapped, remote lost) and a
    CRL that refuses everyone: the server checks the library's CRL, which revokes someone
    else."""
    ovpn = write_ovpn(exported_config(pki["ca"], proto), pki["client"], RemoteRandomLabel=label)
    assert "<cert>" in ovpn and "<key>" in ovpn
    result = _connect(ovpn, pki, crl_pem=library_crl(pki["ca"], [pki["bystander"]]))
    assert result.ok, f"client:\n{result.client_log}\nserver:\n{result.server_log}"
    assert "VERIFY OK: depth=0, CN=client1.vpn.example.com" in result.server_log
    assert "VERIFY OK: depth=0, CN=server.vpn.example.com" in result.client_log


@pytest.mark.parametrize(("who", "connects"), [("client", True), ("foreign", False)])
def test_only_a_client_cert_of_the_endpoints_ca_connects(
    write_ovpn: WriteOvpn, pki: dict[str, Issued], who: str, connects: bool
) -> None:
    """The refusal of a certificate from another CA, and its twin: the same file with a
    certificate of the endpoint's CA connects (so the refusal is about the CA)."""
    ovpn = write_ovpn(exported_config(pki["ca"]), pki[who])
    result = _connect(ovpn, pki)
    assert result.ok is connects, f"client:\n{result.client_log}\nserver:\n{result.server_log}"
    if not connects:
        assert "VERIFY ERROR" in result.server_log
        assert "Initialization Sequence Completed" not in result.server_log


@pytest.mark.parametrize(("revoked", "connects"), [("client", False), ("bystander", True)])
def test_the_librarys_crl_refuses_exactly_the_revoked_cert(
    write_ovpn: WriteOvpn, pki: dict[str, Issued], revoked: str, connects: bool
) -> None:
    """Catches a CRL that lists nobody (revoked client connects), one that is unsigned, badly
    signed or names the wrong issuer (OpenVPN then refuses every client: the twin fails)."""
    ovpn = write_ovpn(exported_config(pki["ca"]), pki["client"])
    crl = library_crl(pki["ca"], [pki[revoked]])
    result = _connect(ovpn, pki, crl_pem=crl)
    assert result.ok is connects, f"client:\n{result.client_log}\nserver:\n{result.server_log}"
    if not connects:
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
