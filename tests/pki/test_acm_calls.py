"""``acm``'s calls and the answers ACM can give them: tag search, issuer check, in-use wait, scrub.

ACM answers come from ``botocore.stub.Stubber`` (the real service model). Oracles: the ACM API
Reference's errors (ListTagsForCertificate and GetCertificate answer
``ResourceNotFoundException`` for a certificate deleted meanwhile, GetCertificate
``RequestInProgressException`` while one is being issued), the module's documented contract
(a tag is ``constructs-cvpn:ca-secret = <secret name>``, key and value both; Delete retries an
in-use certificate for ``wait_seconds`` and no longer; the scrubbed certificate is valid one
day) and certificates built here with ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from cryptography import x509

from constructs_cvpn.handlers.pki import acm, aws, certs
from constructs_cvpn.handlers.pki.state import CaBundle

from . import test_acm_delete
from .conftest import REGION

stub = test_acm_delete.stub  # the Stubber fixture: ACM through the real service model

ARNS = [
    f"arn:aws:acm:{REGION}:123456789012:certificate/00000000-0000-4000-8000-00000000000{i}"
    for i in range(5)
]
NAME = "cvpn/ca-Vpn"


def _listed(stub: Stubber, arns: list[str]) -> None:
    summaries = [{"CertificateArn": a, "DomainName": "vpn.example"} for a in arns]
    stub.add_response("list_certificates", {"CertificateSummaryList": summaries})


def _tags(stub: Stubber, arn: str, tags: dict[str, str]) -> None:
    listed = [{"Key": k, "Value": v} for k, v in tags.items()]
    stub.add_response(
        "list_tags_for_certificate",
        {"Tags": listed} if listed else {},  # the model: a list holds at least one tag
        expected_params={"CertificateArn": arn},
    )


def test_only_certificates_with_the_tag_key_and_value_are_ours(stub: Stubber) -> None:
    _listed(stub, ARNS[:5])
    stub.add_client_error(
        "list_tags_for_certificate",
        "ResourceNotFoundException",  # deleted between the listing and this call
        expected_params={"CertificateArn": ARNS[0]},
    )
    _tags(stub, ARNS[1], {acm.TAG_KEY: "cvpn/ca-Other"})  # another CA's certificate
    _tags(stub, ARNS[2], {"owner": NAME})  # our name under another key
    _tags(stub, ARNS[3], {"owner": "team", acm.TAG_KEY: NAME})
    _tags(stub, ARNS[4], {})

    assert acm.tagged_certificates(NAME) == [ARNS[3]]


def test_a_tag_lookup_refused_for_another_reason_is_raised(stub: Stubber) -> None:
    _listed(stub, ARNS[:2])
    stub.add_client_error("list_tags_for_certificate", "AccessDeniedException")

    with pytest.raises(ClientError) as raised:
        acm.tagged_certificates(NAME)
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


@pytest.fixture(scope="module")
def ca() -> certs.Issued:
    return certs.create_ca("constructs-cvpn CA", validity_days=30)


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "RequestInProgressException"])
def test_a_certificate_acm_cannot_hand_out_is_not_issued_by_the_ca(
    stub: Stubber, ca: certs.Issued, code: str
) -> None:
    stub.add_client_error("get_certificate", code, expected_params={"CertificateArn": ARNS[0]})
    assert acm.issued_by_ca(ARNS[0], ca.cert) is False


def test_a_refused_certificate_lookup_is_raised(stub: Stubber, ca: certs.Issued) -> None:
    stub.add_client_error("get_certificate", "AccessDeniedException")
    with pytest.raises(ClientError):
        acm.issued_by_ca(ARNS[0], ca.cert)


def test_a_body_that_is_no_certificate_is_not_issued_by_the_ca(
    stub: Stubber, ca: certs.Issued
) -> None:
    stub.add_response("get_certificate", {"Certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n"})
    assert acm.issued_by_ca(ARNS[0], ca.cert) is False


def test_a_server_certificate_of_the_ca_is_issued_by_it(stub: Stubber, ca: certs.Issued) -> None:
    server = certs.issue_server_cert(ca, "vpn.example", validity_days=10)
    stub.add_response("get_certificate", {"Certificate": certs.cert_to_pem(server.cert)})
    assert acm.issued_by_ca(ARNS[0], ca.cert) is True


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` for ``acm``: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(
        acm, "time", types.SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep)
    )
    return fake


class InUse:
    """An ACM client whose DeleteCertificate answers ResourceInUseException ``busy`` times."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.attempts = 0

    def delete_certificate(self, CertificateArn: str) -> dict[str, Any]:
        self.attempts += 1
        if self.attempts <= self.busy:
            error = {"Error": {"Code": "ResourceInUseException", "Message": "in use"}}
            raise ClientError(error, "DeleteCertificate")  # type: ignore[arg-type]
        return {}


@pytest.mark.parametrize("wait", [12, 60, 240])
def test_an_in_use_certificate_is_retried_for_the_wait_and_no_longer(
    clock: FakeClock, wait: int
) -> None:
    acm_client = InUse(busy=1000)
    aws.set_client("acm", acm_client)
    try:
        assert acm.delete_certificate(ARNS[0], wait) is False
    finally:
        aws.reset()

    assert acm_client.attempts == len(clock.slept) + 1  # an attempt after every wait
    assert sum(clock.slept) <= wait  # never waits past the deadline
    assert clock.slept  # it does wait before giving up
    # it gives up only when the next wait would pass the deadline
    assert sum(clock.slept) + min(clock.slept[-1] * 2, 30.0) > wait


def test_a_certificate_freed_while_waiting_is_deleted(clock: FakeClock) -> None:
    acm_client = InUse(busy=2)
    aws.set_client("acm", acm_client)
    try:
        assert acm.delete_certificate(ARNS[0], 60) is True
    finally:
        aws.reset()
    assert acm_client.attempts == 3
    assert len(clock.slept) == 2


def test_the_scrubbed_certificate_is_valid_one_day_and_not_cut_by_its_ca(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imported: list[tuple[CaBundle, str | None]] = []
    monkeypatch.setattr(acm, "import_certificate", lambda b, _n, arn: imported.append((b, arn)))

    acm.scrub(ARNS[0], "vpn.example")

    [(bundle, arn)] = imported
    assert arn == ARNS[0]  # over the certificate still in use: the ARN is kept
    server = x509.load_pem_x509_certificate(bundle.server_cert_pem.encode())
    throwaway_ca = x509.load_pem_x509_certificate(bundle.ca_cert_pem.encode())
    assert server.not_valid_after_utc - server.not_valid_before_utc == dt.timedelta(days=1)
    assert server.not_valid_after_utc < throwaway_ca.not_valid_after_utc
    server.verify_directly_issued_by(throwaway_ca)
    assert bundle.ca_key_pem == ""  # the throwaway CA's key is not kept anywhere
