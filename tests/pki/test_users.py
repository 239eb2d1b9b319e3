"""``Kind=Users``: per-user certificates and .ovpn files, removals, CRL, retries, scale."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from constructs_cvpn.handlers.pki import aws, certs, index, users
from constructs_cvpn.handlers.pki.state import UsersState

from .conftest import BUCKET, REGION, Ec2Stub, authority_props, export_config, read_bundle

STATE_KEY = "cvpn/state/users.json"
PREFIX = "cvpn/"


@pytest.fixture
def ca_secret(kms_key: str, bucket: str) -> str:
    out = index.on_event({"RequestType": "Create", "ResourceProperties": authority_props(kms_key)})
    return str(out["PhysicalResourceId"])


@pytest.fixture
def config() -> str:
    return export_config(read_bundle().ca_cert_pem)


Run = Callable[..., dict[str, Any]]


@pytest.fixture
def run(ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str) -> Run:
    def _run(
        names: list[str],
        *,
        request: str = "Update",
        crl: bool = False,
        old: dict[str, Any] | None = None,
        export: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        props: dict[str, Any] = {
            "Kind": "Users",
            "EndpointId": "cvpn-endpoint-0123456789abcdef0",
            "Users": names,
            "Bucket": BUCKET,
            "Prefix": PREFIX,
            "KmsKeyArn": kms_key,
            "CaSecretArn": ca_secret,
            "StateKey": STATE_KEY,
            **extra,
        }
        ec2.expect_export(export or config)
        if crl:
            ec2.expect_crl_import()
        event: dict[str, Any] = {"RequestType": request, "ResourceProperties": props}
        if old is not None:
            event["OldResourceProperties"] = old
        out = index.on_event(event)
        ec2.stubber.assert_no_pending_responses()
        return out

    return _run


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _ovpn(name: str) -> bytes:
    return bytes(_s3().get_object(Bucket=BUCKET, Key=f"{PREFIX}users/{name}.ovpn")["Body"].read())


def _keys() -> set[str]:
    out = _s3().list_objects_v2(Bucket=BUCKET)
    return {o["Key"] for o in out.get("Contents", [])}


def _state() -> UsersState:
    return UsersState.from_json(_s3().get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read())


def _block(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", text, re.DOTALL)
    assert match, tag
    return match.group(1)


def _last_crl(ec2: Ec2Stub) -> x509.CertificateRevocationList:
    pem = ec2.crl_imports[-1]["CertificateRevocationList"]
    assert pem.startswith("-----BEGIN X509 CRL-----")
    return x509.load_pem_x509_crl(pem.encode())


def _revoked(crl: x509.CertificateRevocationList) -> set[int]:
    return {r.serial_number for r in crl}


def test_create_writes_one_kms_encrypted_ovpn_per_user(run: Run, kms_key: str, config: str) -> None:
    out = run(["alice", "bob", "carol"], request="Create")
    assert out["PhysicalResourceId"] == f"cvpn-users:{BUCKET}/{STATE_KEY}"
    assert out["Data"]["Users"] == 3 and out["Data"]["Issued"] == 3
    assert out["Data"]["Removed"] == 0 and out["Data"]["RevokedTotal"] == 0
    assert set(out["Data"]) == {"Users", "Issued", "Removed", "RevokedTotal", "StateSha256"}
    assert out["Data"]["StateSha256"] == _state().sha256()
    assert _keys() == {STATE_KEY} | {f"{PREFIX}users/{n}.ovpn" for n in ("alice", "bob", "carol")}

    ca = certs.cert_from_pem(read_bundle().ca_cert_pem)
    state = _state()
    for name in ("alice", "bob", "carol"):
        head = _s3().head_object(Bucket=BUCKET, Key=f"{PREFIX}users/{name}.ovpn")
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == kms_key
        text = _ovpn(name).decode()
        assert text.startswith(config.split("<ca>")[0])  # AWS's lines kept
        cert = x509.load_pem_x509_certificate(_block(text, "cert").encode())
        key = certs.key_from_pem(_block(text, "key"))
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
        assert cert.issuer == ca.subject
        public = cert.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        assert key.public_key().public_numbers() == public.public_numbers()
        assert state.users[name].serial == certs.serial_hex(cert.serial_number)
        assert not state.users[name].pending
    head = _s3().head_object(Bucket=BUCKET, Key=STATE_KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert b"PRIVATE KEY" not in _s3().get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read()


def test_add_and_remove_keep_other_users_identical(run: Run, ec2: Ec2Stub) -> None:
    run(["alice", "bob"], request="Create")
    alice, bob = _ovpn("alice"), _ovpn("bob")
    bob_serial = _state().users["bob"].serial

    out = run(["alice", "bob", "carol"])
    assert out["Data"]["Issued"] == 1
    assert (_ovpn("alice"), _ovpn("bob")) == (alice, bob)
    assert ec2.crl_imports == []  # nothing revoked yet
    carol = _ovpn("carol")

    out = run(["alice", "carol"], crl=True)
    assert out["Data"] == {
        "Users": 2,
        "Issued": 0,
        "Removed": 1,
        "RevokedTotal": 1,
        "StateSha256": _state().sha256(),
    }
    assert (_ovpn("alice"), _ovpn("carol")) == (alice, carol)
    assert f"{PREFIX}users/bob.ovpn" not in _keys()
    assert _revoked(_last_crl(ec2)) == {int(bob_serial, 16)}
    crl = _last_crl(ec2)
    assert crl.is_signature_valid(certs.cert_from_pem(read_bundle().ca_cert_pem).public_key())  # type: ignore[arg-type]

    # bob comes back: new certificate, nothing newly revoked, no CRL import.
    run(["alice", "bob", "carol"])
    assert _state().users["bob"].serial != bob_serial
    assert _ovpn("bob") != bob
    assert len(ec2.crl_imports) == 1

    # carol leaves: the CRL keeps bob's old serial too.
    carol_serial = _state().users["carol"].serial
    run(["alice", "bob"], crl=True)
    assert _revoked(_last_crl(ec2)) == {int(bob_serial, 16), int(carol_serial, 16)}
    numbers = [
        x509.load_pem_x509_crl(c["CertificateRevocationList"].encode())
        .extensions.get_extension_for_class(x509.CRLNumber)
        .value.crl_number
        for c in ec2.crl_imports
    ]
    assert numbers == [1, 2]
    assert _ovpn("alice") == alice


def test_near_expiry_users_are_reissued_and_old_serials_revoked(run: Run, ec2: Ec2Stub) -> None:
    run(["alice", "bob"], request="Create", ClientValidityDays="20")
    old = {n: r.serial for n, r in _state().users.items()}
    out = run(["alice", "bob"], crl=True, RenewBeforeDays="30")
    assert out["Data"]["Issued"] == 2
    new = {n: r.serial for n, r in _state().users.items()}
    assert set(new.values()).isdisjoint(old.values())
    assert _revoked(_last_crl(ec2)) == {int(s, 16) for s in old.values()}
    # Nothing near expiry any more: a further update issues nothing.
    assert run(["alice", "bob"], RenewBeforeDays="30")["Data"]["Issued"] == 0


def test_remote_label_change_reissues_with_new_remote(run: Run, ec2: Ec2Stub) -> None:
    run(["alice"], request="Create")
    old_serial = _state().users["alice"].serial
    out = run(["alice"], crl=True, RemoteRandomLabel="x7k2")
    assert out["Data"]["Issued"] == 1
    text = _ovpn("alice").decode()
    assert re.search(r"^remote x7k2\.cvpn-endpoint-0123456789abcdef0\.prod\.", text, re.MULTILINE)
    assert int(old_serial, 16) in _revoked(_last_crl(ec2))


def test_retry_after_crl_import_failure(run: Run, ec2: Ec2Stub) -> None:
    run(["alice", "bob"], request="Create")
    ec2.expect_export(export_config(read_bundle().ca_cert_pem))
    ec2.stubber.add_client_error(
        "import_client_vpn_client_certificate_revocation_list", service_error_code="InternalError"
    )
    props = {
        "Kind": "Users",
        "EndpointId": "cvpn-endpoint-0123456789abcdef0",
        "Users": ["alice"],
        "Bucket": BUCKET,
        "Prefix": PREFIX,
        "KmsKeyArn": _state_kms(),
        "CaSecretArn": _secret_arn(),
        "StateKey": STATE_KEY,
    }
    with pytest.raises(ClientError):
        index.on_event({"RequestType": "Update", "ResourceProperties": props})
    half = _state()
    assert half.crl_dirty and half.pending_deletes == ["bob"]
    assert "bob" not in half.users

    out = run(["alice"], crl=True)  # the retry imports the CRL and deletes bob's file
    assert out["Data"]["RevokedTotal"] == 1
    assert f"{PREFIX}users/bob.ovpn" not in _keys()
    assert not _state().crl_dirty and _state().pending_deletes == []
    assert len(_revoked(_last_crl(ec2))) == 1


def _state_kms() -> str:
    head = _s3().head_object(Bucket=BUCKET, Key=STATE_KEY)
    return str(head["SSEKMSKeyId"])


def _secret_arn() -> str:
    sm = boto3.client("secretsmanager", region_name=REGION)
    return str(sm.list_secrets()["SecretList"][0]["ARN"])


def test_retry_after_ovpn_write_failure_reissues_pending_user(
    run: Run, ec2: Ec2Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(["alice"], request="Create")
    alice = _ovpn("alice")
    s3 = aws.client("s3")
    real_put = s3.put_object

    def flaky(**kwargs: Any) -> Any:
        if kwargs["Key"].endswith("/dave.ovpn"):
            raise ClientError({"Error": {"Code": "SlowDown"}}, "PutObject")
        return real_put(**kwargs)

    monkeypatch.setattr(s3, "put_object", flaky)
    with pytest.raises(ClientError):
        run(["alice", "dave"])
    half = _state()
    assert half.users["dave"].pending
    half_serial = half.users["dave"].serial
    monkeypatch.setattr(s3, "put_object", real_put)

    out = run(["alice", "dave"], crl=True)
    assert out["Data"]["Issued"] == 1
    done = _state()
    assert not done.users["dave"].pending
    assert done.users["dave"].serial != half_serial
    assert _revoked(_last_crl(ec2)) == {int(half_serial, 16)}
    assert _ovpn("alice") == alice
    assert done.users["dave"].cert_pem.strip() in _ovpn("dave").decode()


def test_moved_state_revokes_old_certificates(run: Run, ec2: Ec2Stub, kms_key: str) -> None:
    run(["alice"], request="Create")
    old_serial = int(_state().users["alice"].serial, 16)
    old_props = {
        "Kind": "Users",
        "EndpointId": "cvpn-endpoint-0123456789abcdef0",
        "Users": ["alice"],
        "Bucket": BUCKET,
        "Prefix": PREFIX,
        "KmsKeyArn": kms_key,
        "CaSecretArn": _secret_arn(),
        "StateKey": STATE_KEY,
    }
    out = run(["alice"], crl=True, old=old_props, StateKey="other/state.json")
    assert out["PhysicalResourceId"] == f"cvpn-users:{BUCKET}/other/state.json"
    assert _revoked(_last_crl(ec2)) == {old_serial}


def test_delete_removes_files_and_state(run: Run, kms_key: str) -> None:
    run(["alice", "bob"], request="Create")
    _s3().put_object(Bucket=BUCKET, Key=f"{PREFIX}users/unrelated.txt", Body=b"keep")
    props = {"Kind": "Users", "Bucket": BUCKET, "Prefix": PREFIX, "StateKey": STATE_KEY}
    pid = f"cvpn-users:{BUCKET}/{STATE_KEY}"
    out = index.on_event(
        {"RequestType": "Delete", "ResourceProperties": props, "PhysicalResourceId": pid}
    )
    assert out == {"PhysicalResourceId": pid}
    assert _keys() == {f"{PREFIX}users/unrelated.txt"}
    # A second delete (no state any more) is a no-op.
    index.on_event(
        {"RequestType": "Delete", "ResourceProperties": props, "PhysicalResourceId": pid}
    )


def test_invalid_user_name_fails_before_any_call(run: Run, ec2: Ec2Stub) -> None:
    with pytest.raises(certs.InvalidUserNameError, match="invalid user name"):
        index.on_event(
            {
                "RequestType": "Create",
                "ResourceProperties": {"Kind": "Users", "Users": ["ok", "../etc/passwd"]},
            }
        )
    assert _keys() == set()


def test_no_private_key_in_data_or_logs(run: Run, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    out = run(["alice", "bob"], request="Create")
    out2 = run(["alice"], crl=True)
    assert "PRIVATE KEY" not in json.dumps([out, out2])
    assert "users: 2 total, 2 issued" in caplog.text
    assert "PRIVATE KEY" not in caplog.text
    assert "BEGIN" not in caplog.text


def test_keygen_time_per_user() -> None:
    count = 10
    start = time.perf_counter()
    for _ in range(count):
        certs.generate_key()
    per_key = (time.perf_counter() - start) / count
    print(f"RSA 2048 keygen: {per_key * 1000:.0f} ms per user")
    # 1000 new users must fit well inside the 15-minute Lambda limit.
    assert per_key * 1000 < 600


def test_thousand_users_keep_response_small(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Key generation is measured above; reuse one key here so the test stays fast.
    key = certs.generate_key()
    monkeypatch.setattr(certs, "generate_key", lambda: key)
    names = [f"user{i:04d}" for i in range(1000)]
    out = run(names, request="Create")
    assert out["Data"]["Users"] == 1000 and out["Data"]["Issued"] == 1000
    assert len(json.dumps(out)) < 400  # far under CloudFormation's 4096-byte limit
    assert len(_state().users) == 1000
    out = run([*names[1:], "newcomer"], crl=True)
    assert out["Data"]["Issued"] == 1 and out["Data"]["Removed"] == 1
    assert len(json.dumps(out)) < 400
    assert len(users.UsersProps.parse({**_props_stub(), "Users": names}).users) == 1000


def _props_stub() -> dict[str, Any]:
    return {
        "EndpointId": "e",
        "Bucket": "b",
        "KmsKeyArn": "k",
        "CaSecretArn": "s",
        "StateKey": "s.json",
    }


def test_state_access_denied_is_not_taken_for_missing_state(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(["alice"], request="Create")
    s3 = aws.client("s3")

    def denied(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "GetObject")

    monkeypatch.setattr(s3, "get_object", denied)
    props = {"Kind": "Users", "Bucket": BUCKET, "Prefix": PREFIX, "StateKey": STATE_KEY}
    with pytest.raises(RuntimeError, match="s3:ListBucket"):
        index.on_event(
            {"RequestType": "Delete", "ResourceProperties": props, "PhysicalResourceId": "x"}
        )
    assert f"{PREFIX}users/alice.ovpn" in _keys()
