"""``handlers/pki/ca_secret.py``: the server certificate's import claim and the orphan search.

Oracles: ``claim_or_wait``'s contract (Secrets Manager refuses a second version with the same
ClientRequestToken and other content, ResourceExistsException in the PutSecretValue API
reference, so exactly one run imports; the other waits for a certificate with this serial,
issued by this CA, and gives up after IMPORT_WAIT_SECONDS) and ``orphans``' (live secrets
tagged with both this stack and this resource).
"""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.x509.oid import NameOID

from constructs_cvpn.handlers.pki import ca_secret
from constructs_cvpn.handlers.pki.state import CaBundle

ARN = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:cvpn-ca-AbCdEf"
CERT = "arn:aws:acm:eu-west-1:111111111111:certificate/"
CA: Any = object()


class _SecretsManager:
    def __init__(self, *, claimed: bool, secrets: list[dict[str, Any]] | None = None) -> None:
        self.claimed, self.secrets, self.puts = claimed, secrets or [], 0

    def put_secret_value(self, **kw: Any) -> None:
        self.puts += 1
        if self.claimed:
            error = {"Error": {"Code": "ResourceExistsException", "Message": "token used"}}
            raise ClientError(error, "PutSecretValue")  # type: ignore[arg-type]

    def get_paginator(self, name: str) -> Any:
        assert name == "list_secrets"
        pages = [{"SecretList": self.secrets}]
        return types.SimpleNamespace(paginate=lambda **kw: pages)


class _Acm:
    """ACM as the waiting run sees it: certificates appear after ``after`` looks."""

    def __init__(self, certificates: dict[str, tuple[str, bool]], after: int) -> None:
        self.certificates, self.after, self.looks = certificates, after, 0

    def tagged_certificates(self, name: str) -> list[str]:
        self.looks += 1
        return list(self.certificates) if self.looks > self.after else []

    def acm_serial(self, arn: str) -> str:
        return self.certificates[arn][0]

    def issued_by_ca(self, arn: str, ca: object) -> bool:
        assert ca is CA
        return self.certificates[arn][1]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A monotonic clock that a sleep moves on; the sleeps are recorded."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(ca_secret.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(ca_secret.time, "sleep", sleep)
    return slept


def _use(monkeypatch: pytest.MonkeyPatch, sm: _SecretsManager, acm: _Acm | None = None) -> None:
    monkeypatch.setattr(ca_secret, "client", lambda service: sm)
    if acm is not None:
        monkeypatch.setattr(ca_secret, "acm", acm)


def _claim() -> str:
    bundle = CaBundle(ca_key_pem="K", ca_cert_pem="C")
    return ca_secret.claim_or_wait(bundle, ARN, "cvpn-ca", "0a1b", CA)


def test_the_first_run_claims_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    sm = _SecretsManager(claimed=False)
    _use(monkeypatch, sm)
    assert _claim() == "" and sm.puts == 1


def test_the_other_run_waits_for_this_serial_from_this_ca(
    monkeypatch: pytest.MonkeyPatch, clock: list[float]
) -> None:
    certificates = {
        f"{CERT}other-serial": ("ffff", True),
        f"{CERT}other-ca": ("0a1b", False),
        f"{CERT}the-one": ("0a1b", True),
    }
    _use(monkeypatch, _SecretsManager(claimed=True), _Acm(certificates, after=2))
    assert _claim() == f"{CERT}the-one"
    assert len(clock) == 2


def test_the_other_run_gives_up_after_the_wait(
    monkeypatch: pytest.MonkeyPatch, clock: list[float]
) -> None:
    only_other_ca = {f"{CERT}other-ca": ("0a1b", False)}
    _use(monkeypatch, _SecretsManager(claimed=True), _Acm(only_other_ca, after=0))
    with pytest.raises(RuntimeError, match="has not finished it within"):
        _claim()
    assert sum(clock) >= ca_secret.IMPORT_WAIT_SECONDS


def test_orphans_are_this_resources_live_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = ca_secret.Owner(stack_id="stack-1", logical_id="Authority")

    def secret(name: str, stack: str, resource: str, deleted: bool = False) -> dict[str, Any]:
        tags = [
            {"Key": ca_secret.STACK_TAG, "Value": stack},
            {"Key": ca_secret.RESOURCE_TAG, "Value": resource},
        ]
        entry: dict[str, Any] = {"ARN": f"{ARN[:-6]}{name}", "Tags": tags}
        if deleted:
            entry["DeletedDate"] = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        return entry

    listed = [
        secret("mine", "stack-1", "Authority"),
        secret("deleted", "stack-1", "Authority", deleted=True),
        secret("other-resource", "stack-1", "Users"),
        secret("other-stack", "stack-2", "Authority"),
    ]
    _use(monkeypatch, _SecretsManager(claimed=False, secrets=listed))
    assert ca_secret.orphans("cvpn-ca", owner) == [f"{ARN[:-6]}mine"]
    assert ca_secret.orphans("cvpn-ca", ca_secret.Owner()) == []
    assert ca_secret.orphans("cvpn-ca", ca_secret.Owner(stack_id="stack-1")) == []


class _Existing(_SecretsManager):
    """A CA secret of this name exists already, made by ``marker`` with ``key``."""

    def __init__(self, marker: str, key: str) -> None:
        super().__init__(claimed=False)
        self.marker, self.key = marker, key
        self.stored = CaBundle(ca_key_pem="THEIR-KEY", ca_cert_pem="THEIR-CERT")

    def create_secret(self, **kw: Any) -> None:
        error = {"Error": {"Code": "ResourceExistsException", "Message": "exists"}}
        raise ClientError(error, "CreateSecret")  # type: ignore[arg-type]

    def describe_secret(self, SecretId: str) -> dict[str, Any]:
        tags = [{"Key": ca_secret.REQUEST_TAG, "Value": self.marker}]
        return {"ARN": ARN, "Name": SecretId, "KmsKeyId": self.key, "Tags": tags}

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        assert SecretId == ARN
        return {"SecretString": self.stored.to_json()}


def _create(monkeypatch: pytest.MonkeyPatch, sm: _SecretsManager) -> tuple[Any, ...]:
    _use(monkeypatch, sm)
    return ca_secret.create_bundle(
        "cvpn-ca", "req-1", "key-1", 3650, ("vpn.example.com", 825), ca_secret.Owner()
    )


def test_a_secret_an_overlapping_run_of_this_request_made_is_used_not_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its bundle comes back with created=False: a failing run never deletes it."""
    sm = _Existing(ca_secret.request_marker("req-1"), "key-1")
    bundle, arn, name, created = _create(monkeypatch, sm)
    assert (bundle, arn, created) == (sm.stored, ARN, False)
    assert name == f"cvpn-ca-{ca_secret.request_marker('req-1')}"


@pytest.mark.parametrize(("marker", "key"), [("another-request", "key-1"), (None, "key-2")])
def test_a_secret_this_handler_did_not_make_is_refused(
    monkeypatch: pytest.MonkeyPatch, marker: str | None, key: str
) -> None:
    sm = _Existing(marker or ca_secret.request_marker("req-1"), key)
    with pytest.raises(RuntimeError, match="refusing to use the existing secret"):
        _create(monkeypatch, sm)


class _New(_SecretsManager):
    def __init__(self) -> None:
        super().__init__(claimed=False)
        self.created: dict[str, Any] = {}

    def create_secret(self, **kw: Any) -> dict[str, str]:
        self.created = kw
        return {"ARN": ARN}


def test_a_new_ca_keeps_as_much_of_its_name_as_a_common_name_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RFC 5280 (appendix A.1, ub-common-name): a common name holds at most 64 characters."""
    sm = _New()
    _use(monkeypatch, sm)
    bundle, arn, name, created = ca_secret.create_bundle(
        "p" * 60, "req-1", "key-1", 3650, ("vpn.example.com", 825), ca_secret.Owner()
    )
    assert (arn, created) == (ARN, True)
    subject = x509.load_pem_x509_certificate(bundle.ca_cert_pem.encode()).subject
    (cn,) = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert cn.value == f"constructs-cvpn CA {name}"[:64] and len(str(cn.value)) == 64
