"""A fake AWS Client VPN (moto has none) that answers "would this ``.ovpn`` connect now".

What it models, and from where (AWS Client VPN administrator guide and EC2 API reference):

- an endpoint has a server certificate ARN and a client root certificate chain ARN, both in
  ACM. :meth:`FakeClientVpn.connects` reads both from (moto's) ACM as the service would:
  the server certificate must be valid now and verify against the file's ``<ca>`` (the
  client's ``remote-cert-tls server`` check); the file's client certificate must verify
  against the CA of the client root chain (the ACM certificate's ``CertificateChain``; with
  one CA for both, the server certificate's ARN is the client root, admin guide "Mutual
  authentication"), be valid now, its key must match, and its serial must not be in the
  endpoint's current CRL.
- ``ImportClientVpnClientCertificateRevocationList``: the CRL must be signed by the
  endpoint's client root CA; at most :data:`MAX_CRL_ENTRIES` entries (quota "certificate
  revocation list entries: 20,000", not adjustable); the imported CRL replaces the previous
  one and (recorded in :attr:`Endpoint.crls`) resets every connection.
- ``ExportClientVpnClientCertificateRevocationList``: the current CRL (empty when none).
- ``ExportClientVpnClientConfiguration``: the configuration of DESIGN.md with the root CA.

Every call is checked against the handler's policy (``checker(operation, action, arn)``) and
passes the test's fault hooks first (``fault(operation, params)``), like the boto3 calls.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

REGION = "eu-west-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
MAX_CRL_ENTRIES = 20_000

CONFIG_TEMPLATE = """client
dev tun
proto {proto}
remote {endpoint}.prod.clientvpn.{region}.amazonaws.com {port}
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


@dataclass
class CrlImport:
    pem: str
    serials: frozenset[int]
    number: int | None
    at: dt.datetime


@dataclass
class Endpoint:
    endpoint_id: str
    ca_pem: Callable[[], str]
    """The client root CA (bring-your-own stacks; with ARNs set, ACM's chain is used)."""
    port: int = 443
    proto: str = "udp"
    crls: list[CrlImport] = field(default_factory=list)
    exports: int = 0
    server_arn: str = ""
    root_arn: str = ""

    @property
    def host(self) -> str:
        return f"{self.endpoint_id}.prod.clientvpn.{REGION}.amazonaws.com"

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:ec2:{REGION}:{ACCOUNT}:client-vpn-endpoint/{self.endpoint_id}"

    @property
    def crl(self) -> CrlImport | None:
        """The CRL in force (the last import)."""
        return self.crls[-1] if self.crls else None


def endpoint_not_found(operation: str, endpoint_id: str) -> ClientError:
    return ClientError(
        {
            "Error": {
                "Code": "InvalidClientVpnEndpointId.NotFound",
                "Message": f"Endpoint {endpoint_id} does not exist",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


def _invalid(operation: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": "InvalidParameterValue", "Message": message}}, operation)


def _block(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>\s*(.*?)\s*</{tag}>", text, re.DOTALL)
    return match.group(1) if match else None


def _certs(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode()) if pem.strip() else []


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


class FakeClientVpn:
    """The Client VPN endpoints of the account."""

    def __init__(
        self, clock: Callable[[], dt.datetime], acm: Callable[[], Any] | None = None
    ) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.deleted: dict[str, Endpoint] = {}
        self._clock = clock
        self._acm = acm
        self._counter = 0
        self.lock = threading.Lock()
        self.deleted_at: dict[str, dt.datetime] = {}
        self.release_after = dt.timedelta(0)
        """How long ACM still reports a deleted endpoint's certificates in use."""

    def create(
        self,
        ca_pem: Callable[[], str],
        *,
        port: int = 443,
        proto: str = "udp",
        server_arn: str = "",
        root_arn: str = "",
    ) -> Endpoint:
        self._counter += 1
        endpoint_id = f"cvpn-endpoint-{self._counter:017x}"
        endpoint = Endpoint(
            endpoint_id, ca_pem, port=port, proto=proto, server_arn=server_arn, root_arn=root_arn
        )
        self.endpoints[endpoint_id] = endpoint
        return endpoint

    def delete(self, endpoint_id: str) -> None:
        self.deleted[endpoint_id] = self.endpoints.pop(endpoint_id)
        self.deleted_at[endpoint_id] = self._clock()

    def get(self, endpoint_id: str) -> Endpoint:
        found = self.endpoints.get(endpoint_id) or self.deleted.get(endpoint_id)
        assert found is not None, endpoint_id
        return found

    def uses(self, certificate_arn: str) -> bool:
        """True if a live endpoint uses the ACM certificate (ACM: ResourceInUseException)."""
        now = self._clock()
        holders = [
            *self.endpoints.values(),
            *(e for i, e in self.deleted.items() if now < self.deleted_at[i] + self.release_after),
        ]
        return any(certificate_arn in (e.server_arn, e.root_arn) for e in holders)

    def client_for(
        self,
        checker: Callable[[str, str, str], None],
        fault: Callable[[str, Mapping[str, Any]], None] = lambda op, params: None,
    ) -> FakeEc2Client:
        return FakeEc2Client(self, checker, fault)

    # -- ACM, as the service reads it ------------------------------------------------------

    def _acm_certificate(self, arn: str) -> tuple[x509.Certificate, list[x509.Certificate]]:
        assert self._acm is not None, "no ACM to read the endpoint's certificates from"
        out = self._acm().get_certificate(CertificateArn=arn)
        return x509.load_pem_x509_certificate(out["Certificate"].encode()), _certs(
            str(out.get("CertificateChain", ""))
        )

    def root_cas(self, endpoint: Endpoint) -> list[x509.Certificate]:
        """The client root CAs the endpoint trusts."""
        if not endpoint.root_arn:
            return _certs(endpoint.ca_pem())
        cert, chain = self._acm_certificate(endpoint.root_arn)
        return chain or [cert]

    def connects(self, ovpn: str) -> tuple[bool, str]:
        """Would this file connect now? ``(answer, why not)``."""
        now = self._clock()
        remote = re.search(r"^remote\s+(\S+)\s+(\d+)", ovpn, re.MULTILINE)
        if remote is None:
            return False, "no remote"
        endpoint = next(
            (e for e in self.endpoints.values() if remote.group(1).endswith(e.host)), None
        )
        if endpoint is None:
            return False, f"no live endpoint answers {remote.group(1)}"
        proto = re.search(r"^proto\s+(\S+)", ovpn, re.MULTILINE)
        if int(remote.group(2)) != endpoint.port or (proto and proto.group(1) != endpoint.proto):
            return False, "wrong port or protocol"
        file_ca = _certs(_block(ovpn, "ca") or "")
        if endpoint.server_arn:
            server, _ = self._acm_certificate(endpoint.server_arn)
            if not _valid_at(server, now):
                return False, f"the server certificate expired on {server.not_valid_after_utc}"
            if not any(_issued_by(server, ca) for ca in file_ca):
                return False, "the file's <ca> does not verify the server certificate"
        cert_pem, key_pem = _block(ovpn, "cert"), _block(ovpn, "key")
        if cert_pem is None or key_pem is None:
            return False, "no client certificate or key"
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        key = serialization.load_pem_private_key(key_pem.encode(), None)
        if key.public_key() != cert.public_key():
            return False, "the key does not match the certificate"
        if not _valid_at(cert, now):
            return False, "the client certificate is not valid now"
        if not any(_issued_by(cert, ca) for ca in self.root_cas(endpoint)):
            return False, "the client certificate is not issued by the endpoint's root CA"
        if endpoint.crl is not None and cert.serial_number in endpoint.crl.serials:
            return False, "the client certificate is in the endpoint's CRL"
        return True, ""


class FakeEc2Client:
    """What a handler sees as ``client("ec2")``: the Client VPN calls, IAM-checked."""

    def __init__(
        self,
        fake: FakeClientVpn,
        checker: Callable[[str, str, str], None],
        fault: Callable[[str, Mapping[str, Any]], None],
    ) -> None:
        self._fake = fake
        self._check = checker
        self._fault = fault

    def _endpoint(self, operation: str, params: Mapping[str, Any]) -> Endpoint:
        endpoint_id = str(params["ClientVpnEndpointId"])
        self._fault(operation, params)
        arn = f"arn:{PARTITION}:ec2:{REGION}:{ACCOUNT}:client-vpn-endpoint/{endpoint_id}"
        self._check(operation, f"ec2:{operation}", arn)
        found = self._fake.endpoints.get(endpoint_id)
        if found is None:
            raise endpoint_not_found(operation, endpoint_id)
        return found

    def export_client_vpn_client_configuration(self, **params: Any) -> dict[str, Any]:
        endpoint = self._endpoint("ExportClientVpnClientConfiguration", params)
        with self._fake.lock:
            endpoint.exports += 1
        roots = self._fake.root_cas(endpoint)
        ca = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in roots)
        text = CONFIG_TEMPLATE.format(
            proto=endpoint.proto,
            endpoint=endpoint.endpoint_id,
            region=REGION,
            port=endpoint.port,
            ca=ca.strip(),
        )
        return {"ClientConfiguration": text, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def export_client_vpn_client_certificate_revocation_list(self, **params: Any) -> dict[str, Any]:
        endpoint = self._endpoint("ExportClientVpnClientCertificateRevocationList", params)
        crl = endpoint.crl
        if crl is None:
            return {"ResponseMetadata": {"HTTPStatusCode": 200}}
        return {
            "CertificateRevocationList": crl.pem,
            "Status": {"Code": "active"},
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def import_client_vpn_client_certificate_revocation_list(self, **params: Any) -> dict[str, Any]:
        op = "ImportClientVpnClientCertificateRevocationList"
        endpoint = self._endpoint(op, params)
        pem = str(params["CertificateRevocationList"])
        crl = x509.load_pem_x509_crl(pem.encode())
        roots = self._fake.root_cas(endpoint)
        if not any(
            crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
            for ca in roots
        ):
            raise _invalid(op, "The CRL is not signed by the endpoint's client root CA")
        serials = frozenset(r.serial_number for r in crl)
        if len(serials) > MAX_CRL_ENTRIES:
            raise _invalid(op, f"A CRL may hold at most {MAX_CRL_ENTRIES} entries")
        try:
            number: int | None = crl.extensions.get_extension_for_class(
                x509.CRLNumber
            ).value.crl_number
        except x509.ExtensionNotFound:
            number = None
        record = CrlImport(pem=pem, serials=serials, number=number, at=self._fake._clock())
        with self._fake.lock:
            endpoint.crls.append(record)
        return {"Return": True, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the fake EC2 client has no {name} (not modelled)")
