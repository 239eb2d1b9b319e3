"""Fixtures for the PKI handler tests: moto for S3/KMS/Secrets Manager/ACM, a Stubber for EC2.

moto has no Client VPN support, so EC2 calls go through ``botocore.stub.Stubber`` (which
validates requests and responses against the real service model). Request parameters of
the CRL import are captured with a ``provide-client-params`` hook.

moto deviations patched here so that the handlers see what AWS returns (see
/work/shared/DESIGN.md, "Testing day two without AWS"): ACM ``DescribeCertificate``
returns ``Serial`` as colon-separated hex (moto: decimal), a re-import under the same ARN
keeps the certificate's tags (moto drops them), and ACM's validity check uses the test
clock (moto uses the real time, which refuses a certificate issued "in the future" by a
renewal test).

One moto speed-up, same results: ``ListObjectVersions`` deep-copies every version of every
key in the bucket before filtering by prefix (46 ms per call with 500 keys); the patch
hands it only the keys under the prefix. The handler calls it after each file write.

RSA keys: :class:`KeyPool` hands out distinct RSA-2048 keys built from pairs of primes of
a few generated keys, so a 1,000-user run does not wait for 1,000 key generations while
every user still gets a key of their own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
import pytest
from botocore.stub import ANY, Stubber
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from constructs_cvpn.handlers.pki import aws, certs
from constructs_cvpn.handlers.pki import clock as pki_clock
from constructs_cvpn.handlers.pki.state import CaBundle

from ..s3_model import ConditionalWrites

REGION: Final = "eu-west-1"
ENDPOINT_ID = "cvpn-endpoint-0123456789abcdef0"
BUCKET = "cvpn-configs"
SECRET_PREFIX = "cvpn/test/ca"
REQUEST_ID = "11111111-2222-3333-4444-555555555555"

CONFIG_TEMPLATE = """client
dev tun
proto udp
remote {endpoint}.prod.clientvpn.eu-west-1.amazonaws.com {port}
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


def export_config(ca_pem: str, endpoint: str = ENDPOINT_ID, port: int = 443) -> str:
    """What ExportClientVpnClientConfiguration returns for a mutual-auth endpoint."""
    return CONFIG_TEMPLATE.format(endpoint=endpoint, ca=ca_pem.strip(), port=port)


def secret_name(request_id: str = REQUEST_ID, prefix: str = SECRET_PREFIX) -> str:
    """The CA secret name the contract promises: ``<prefix>-<sha256(request id)[:16]>``."""
    return f"{prefix}-{hashlib.sha256(request_id.encode()).hexdigest()[:16]}"


# -- keys ------------------------------------------------------------------------------


class KeyPool:
    """Distinct RSA-2048 keys, cheap: pairs of the primes of a few generated keys.

    Each generated key gives two 1024-bit primes (OpenSSL makes them large enough that any
    product has 2048 bits); every new pair of primes is a new key. ~23 generated keys give
    1,000 distinct ones.
    """

    def __init__(self) -> None:
        self._pairs = self._pair_stream()
        self.handed_out = 0

    @staticmethod
    def _pair_stream() -> Iterator[tuple[int, int]]:
        primes: list[int] = []
        while True:
            numbers = rsa.generate_private_key(65537, 2048).private_numbers()
            for new in (numbers.p, numbers.q):
                for old in primes:
                    yield old, new
                primes.append(new)

    def take(self) -> rsa.RSAPrivateKey:
        while True:
            p, q = next(self._pairs)
            if (p * q).bit_length() == 2048:
                break
        e = 65537
        d = pow(e, -1, (p - 1) * (q - 1))
        numbers = rsa.RSAPrivateNumbers(
            p=p,
            q=q,
            d=d,
            dmp1=rsa.rsa_crt_dmp1(d, p),
            dmq1=rsa.rsa_crt_dmq1(d, q),
            iqmp=rsa.rsa_crt_iqmp(p, q),
            public_numbers=rsa.RSAPublicNumbers(e, p * q),
        )
        self.handed_out += 1
        return numbers.private_key(unsafe_skip_rsa_key_validation=True)


@pytest.fixture(scope="session")
def key_pool() -> KeyPool:
    return KeyPool()


@pytest.fixture
def fast_keys(key_pool: KeyPool, monkeypatch: pytest.MonkeyPatch) -> KeyPool:
    """Make the handlers' key generation take distinct keys from the pool."""
    monkeypatch.setattr(certs, "generate_key", key_pool.take)
    return key_pool


# -- clock -----------------------------------------------------------------------------


@dataclass
class Clock:
    """The handlers' clock: real time plus an offset the test moves forward."""

    offset: dt.timedelta = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, days: float) -> None:
        self.offset += dt.timedelta(days=days)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(pki_clock, "now", moved.now)
    return moved


# -- moto ------------------------------------------------------------------------------


def _patch_moto_acm(monkeypatch: pytest.MonkeyPatch, moved: Clock) -> None:
    from moto.acm import models

    original_describe = models.CertBundle.describe

    def describe(self: Any) -> Any:
        result = original_describe(self)
        text = format(int(self._cert.serial_number), "x")
        text = "0" * (len(text) % 2) + text
        serial = ":".join(text[i : i + 2] for i in range(0, len(text), 2))
        result["Certificate"]["Serial"] = serial
        return result

    original_import = models.AWSCertificateManagerBackend.import_certificate

    def import_certificate(
        self: Any,
        certificate: bytes,
        private_key: bytes,
        chain: bytes | None,
        arn: str | None,
        tags: list[dict[str, str]],
    ) -> str:
        kept = dict(self._certificates[arn].tags) if arn and arn in self._certificates else {}
        result: str = original_import(self, certificate, private_key, chain, arn, tags)
        self._certificates[result].tags.update(kept)
        return result

    monkeypatch.setattr(models.CertBundle, "describe", describe)
    backend = models.AWSCertificateManagerBackend
    monkeypatch.setattr(backend, "import_certificate", import_certificate)
    monkeypatch.setattr(models, "utcnow", lambda: moved.now().replace(tzinfo=None))


def _patch_moto_s3_versions() -> Any:
    from moto.s3 import models

    original = models.S3Backend.list_object_versions

    def list_object_versions(
        self: Any,
        bucket_name: str,
        delimiter: str | None = None,
        key_marker: str | None = None,
        max_keys: int | None = 1000,
        prefix: str = "",
        version_id_marker: str | None = None,
    ) -> Any:
        bucket = self.get_bucket(bucket_name)
        items = [(k, v) for k, v in list(bucket.keys.iterlists()) if k.startswith(prefix or "")]
        view = types.SimpleNamespace(keys=types.SimpleNamespace(iterlists=lambda: iter(items)))
        backend = types.SimpleNamespace(get_bucket=lambda _name: view)
        return original(
            backend, bucket_name, delimiter, key_marker, max_keys, prefix or "", version_id_marker
        )

    return list_object_versions


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, clock: Clock, fast_keys: KeyPool) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    _patch_moto_acm(monkeypatch, clock)
    from moto.s3 import models as s3_models

    monkeypatch.setattr(s3_models.S3Backend, "list_object_versions", _patch_moto_s3_versions())
    aws.reset()
    with mock_aws():
        # Every PKI test writes through S3's documented conditional-write semantics (moto
        # alone checks a condition and writes in two steps, and never answers 409).
        ConditionalWrites().install(monkeypatch)
        yield
    aws.reset()


@pytest.fixture
def s3_model(aws_env: None) -> ConditionalWrites:
    """The model ``aws_env`` installed: pause points, injected 409s, the log of PutObjects."""
    model = ConditionalWrites.installed
    assert model is not None
    return model


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
def versioned(bucket: str) -> str:
    boto3.client("s3", region_name=REGION).put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return bucket


@dataclass
class Ec2Stub:
    """The stubbed EC2 client plus what the CRL imports sent."""

    client: Any
    stubber: Stubber
    crl_imports: list[dict[str, Any]] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)
    """Endpoint ids of the export calls made, in order."""
    endpoint_crls: dict[str, str] = field(default_factory=dict)
    """Each endpoint's CRL in force (the last import that succeeded)."""

    def expect_export(self, config: str, endpoint: str = ENDPOINT_ID) -> None:
        self.stubber.add_response(
            "export_client_vpn_client_configuration",
            {"ClientConfiguration": config},
            {"ClientVpnEndpointId": endpoint},
        )

    def expect_crl_import(self, endpoint: str = ENDPOINT_ID) -> None:
        self.stubber.add_response(
            "import_client_vpn_client_certificate_revocation_list",
            {"Return": True},
            {"ClientVpnEndpointId": endpoint, "CertificateRevocationList": ANY},
        )


@pytest.fixture
def ec2(aws_env: None) -> Iterator[Ec2Stub]:
    client = boto3.client("ec2", region_name=REGION)
    stub = Ec2Stub(client=client, stubber=Stubber(client))

    def capture_crl(params: dict[str, Any], **_: Any) -> None:
        stub.crl_imports.append(dict(params))

    def capture_export(params: dict[str, Any], **_: Any) -> None:
        stub.exports.append(str(params.get("ClientVpnEndpointId")))

    def endpoint_crl(*, ClientVpnEndpointId: str) -> dict[str, Any]:
        """The endpoint's current CRL: the last one imported into it. Not a stubbed call:
        the handler reads it before deciding whether to import, in any run."""
        body: dict[str, Any] = {}
        if ClientVpnEndpointId in stub.endpoint_crls:
            body["CertificateRevocationList"] = stub.endpoint_crls[ClientVpnEndpointId]
            body["Status"] = {"Code": "active"}
        return body

    def imported(parsed: dict[str, Any], **_: Any) -> None:
        if "Error" not in parsed:  # a failed import leaves the endpoint's CRL as it was
            sent = stub.crl_imports[-1]
            endpoint = str(sent["ClientVpnEndpointId"])
            stub.endpoint_crls[endpoint] = str(sent["CertificateRevocationList"])

    client.export_client_vpn_client_certificate_revocation_list = endpoint_crl
    client.meta.events.register(
        "after-call.ec2.ImportClientVpnClientCertificateRevocationList", imported
    )

    events = client.meta.events
    events.register(
        "provide-client-params.ec2.ImportClientVpnClientCertificateRevocationList", capture_crl
    )
    events.register("provide-client-params.ec2.ExportClientVpnClientConfiguration", capture_export)
    aws.set_client("ec2", client)
    with stub.stubber:
        yield stub
    stub.stubber.assert_no_pending_responses()


@pytest.fixture
def ca_secret(kms_key: str, bucket: str) -> str:
    """The physical id (secret ARN) of a created ``Kind=Authority`` resource."""
    from constructs_cvpn.handlers.pki import index

    event = {
        "RequestType": "Create",
        "RequestId": REQUEST_ID,
        "ResourceProperties": authority_props(kms_key),
    }
    return str(index.on_event(event)["PhysicalResourceId"])


@pytest.fixture
def config(ca_secret: str) -> str:
    """What the endpoint's export returns, with the CA of ``ca_secret``."""
    return export_config(read_bundle().ca_cert_pem)


READER_ROLES = [
    "arn:aws:iam::123456789012:role/cvpn-ca-handler",
    "arn:aws:iam::123456789012:role/cvpn-users-handler",
]


def authority_props(kms_key: str, **extra: Any) -> dict[str, Any]:
    return {
        "Kind": "Authority",
        "CaSecretPrefix": SECRET_PREFIX,
        "KmsKeyArn": kms_key,
        "ReaderRoleArns": list(READER_ROLES),
        **extra,
    }


USERS_PREFIX = "cvpn/VpnA1B2C3D4/"


def users_event(
    kms_key: str,
    ca_secret: str,
    names: list[str],
    request: str,
    *,
    prefix: str = USERS_PREFIX,
    **extra: Any,
) -> dict[str, Any]:
    """A ``Kind=Users`` event for :data:`ENDPOINT_ID`; state at ``<prefix>state.json``."""
    state_key = f"{prefix}state.json"
    event: dict[str, Any] = {
        "RequestType": request,
        "ResourceProperties": {
            "Kind": "Users",
            "EndpointId": ENDPOINT_ID,
            "Users": names,
            "Bucket": BUCKET,
            "Prefix": prefix,
            "StateKey": state_key,
            "KmsKeyArn": kms_key,
            "CaSecretArn": ca_secret,
            **extra,
        },
    }
    if request != "Create":
        event["PhysicalResourceId"] = f"cvpn-users:{BUCKET}/{state_key}"
    return event


def read_bundle(secret: str | None = None) -> CaBundle:
    sm = boto3.client("secretsmanager", region_name=REGION)
    value = sm.get_secret_value(SecretId=secret or secret_name())["SecretString"]
    return CaBundle.from_json(value)
