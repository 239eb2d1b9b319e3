"""``Kind=Users``: per-user certificates and .ovpn files, re-rendering, renewal, removals,
the CA's revocation ledger and CRL, the lease, retries, failed Create clean-up, scale.

Oracles are independent of the handler: certificates and keys are read back from the
``.ovpn`` files and parsed with ``cryptography``, CRLs are parsed, the state and the ledger
are read as raw JSON, and their keys are computed here from the contract
(``<Prefix>revocations/<sha256(CaSecretArn)[:16]>.json``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from constructs_cvpn.handlers.pki import aws, certs, index, lease, store, users
from constructs_cvpn.handlers.pki import clock as pki_clock
from constructs_cvpn.handlers.pki.ledger import Ledger, LedgerFullError

from .conftest import (
    BUCKET,
    ENDPOINT_ID,
    REGION,
    Clock,
    Ec2Stub,
    KeyPool,
    authority_props,
    export_config,
    read_bundle,
    secret_name,
)

PREFIX = "cvpn/VpnA1B2C3D4/"
STATE_KEY = f"{PREFIX}state.json"
OTHER_ENDPOINT = "cvpn-endpoint-0fedcba9876543210"


def _props(kms_key: str, ca_secret: str, names: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "Kind": "Users",
        "EndpointId": ENDPOINT_ID,
        "Users": names,
        "Bucket": BUCKET,
        "Prefix": PREFIX,
        "StateKey": STATE_KEY,
        "KmsKeyArn": kms_key,
        "CaSecretArn": ca_secret,
        "Triggers": {"Port": "443"},
        **extra,
    }


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
        context: object = None,
        **extra: Any,
    ) -> dict[str, Any]:
        props = _props(kms_key, ca_secret, names, **extra)
        endpoint = props["EndpointId"]
        ec2.expect_export(export or config, endpoint)
        if crl:
            ec2.expect_crl_import(endpoint)
        event: dict[str, Any] = {"RequestType": request, "ResourceProperties": props}
        if old is not None:
            event["OldResourceProperties"] = old
        if request != "Create":
            event["PhysicalResourceId"] = f"cvpn-users:{BUCKET}/{STATE_KEY}"
        out = index.on_event(event, context)
        ec2.stubber.assert_no_pending_responses()
        return out

    return _run


# -- reading what the handler left -----------------------------------------------------


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _user_key(name: str) -> str:
    return f"{PREFIX}users/{name}.ovpn"


def _ovpn(name: str) -> bytes:
    return bytes(_s3().get_object(Bucket=BUCKET, Key=_user_key(name))["Body"].read())


def _keys() -> set[str]:
    out = _s3().list_objects_v2(Bucket=BUCKET)
    return {o["Key"] for o in out.get("Contents", [])}


def _versions(prefix: str = "") -> list[tuple[str, str]]:
    """(key, "version" | "marker") of every version and delete marker under ``prefix``."""
    out = _s3().list_object_versions(Bucket=BUCKET, Prefix=prefix)
    found = [(v["Key"], "version") for v in out.get("Versions", [])]
    found += [(m["Key"], "marker") for m in out.get("DeleteMarkers", [])]
    return sorted(found)


def _state_bytes() -> bytes:
    return bytes(_s3().get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read())


def _state() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_state_bytes())
    return data


def _ledger_key(ca_secret: str) -> str:
    return f"{PREFIX}revocations/{hashlib.sha256(ca_secret.encode()).hexdigest()[:16]}.json"


def _ledger(ca_secret: str) -> dict[str, Any] | None:
    try:
        body = _s3().get_object(Bucket=BUCKET, Key=_ledger_key(ca_secret))["Body"].read()
    except ClientError as err:
        if err.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise
    data: dict[str, Any] = json.loads(body)
    return data


def _ledger_serials(ca_secret: str) -> set[int]:
    ledger = _ledger(ca_secret)
    return {int(e["serial"], 16) for e in (ledger or {}).get("entries", [])}


def _block(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", text, re.DOTALL)
    assert match, tag
    return match.group(1)


def _cert(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(_block(_ovpn(name).decode(), "cert").encode())


def _key(name: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(_block(_ovpn(name).decode(), "key").encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _credentials(name: str) -> tuple[str, str]:
    text = _ovpn(name).decode()
    return _block(text, "cert"), _block(text, "key")


def _serial(name: str) -> int:
    return _cert(name).serial_number


def _last_crl(ec2: Ec2Stub) -> x509.CertificateRevocationList:
    pem = ec2.crl_imports[-1]["CertificateRevocationList"]
    assert pem.startswith("-----BEGIN X509 CRL-----")
    return x509.load_pem_x509_crl(pem.encode())


def _revoked(crl: x509.CertificateRevocationList) -> set[int]:
    return {r.serial_number for r in crl}


def _ca() -> x509.Certificate:
    return x509.load_pem_x509_certificate(read_bundle().ca_cert_pem.encode())


def _check_crl(ec2: Ec2Stub, expected: set[int]) -> None:
    crl = _last_crl(ec2)
    public = _ca().public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert crl.is_signature_valid(public)
    assert crl.issuer == _ca().subject
    assert _revoked(crl) == expected


def _emf(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


DATA_KEYS = {
    "Users",
    "Issued",
    "Renewed",
    "Rerendered",
    "Removed",
    "RevokedTotal",
    "StateSha256",
}


def _data(**counts: int) -> dict[str, Any]:
    """Expected Data: the counts given, zero for the others, the stored state's hash."""
    data: dict[str, Any] = dict.fromkeys(DATA_KEYS - {"StateSha256"}, 0)
    data.update(counts)
    data["StateSha256"] = hashlib.sha256(_state_bytes()).hexdigest()
    return data


# -- creating, adding, removing --------------------------------------------------------


def test_create_writes_one_kms_encrypted_ovpn_per_user(
    run: Run, kms_key: str, config: str, ca_secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["alice", "bob", "carol"]
    capsys.readouterr()
    before = dt.datetime.now(dt.UTC)
    out = run(names, request="Create", MetricDimension="VpnA1B2C3D4")
    after = dt.datetime.now(dt.UTC)
    assert out["PhysicalResourceId"] == f"cvpn-users:{BUCKET}/{STATE_KEY}"
    assert out["Data"] == _data(Users=3, Issued=3)
    assert _keys() == {STATE_KEY} | {_user_key(n) for n in names}
    assert _ledger(ca_secret) is None

    ca = _ca()
    state = _state()
    assert state["version"] == 2 and "revoked" not in state
    assert state["lease_owner"] == ""  # released
    moduli = set()
    for name in names:
        head = _s3().head_object(Bucket=BUCKET, Key=_user_key(name))
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == kms_key
        text = _ovpn(name).decode()
        assert text.startswith(config.split("<ca>")[0])  # AWS's lines kept
        cert, key = _cert(name), _key(name)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
        cert.verify_directly_issued_by(ca)
        public = cert.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        assert key.public_key().public_numbers() == public.public_numbers()
        moduli.add(public.public_numbers().n)
        assert int(state["users"][name]["serial"], 16) == cert.serial_number
        assert not state["users"][name]["pending"]
        # 825 days, shortened by at most 30 days to spread renewals.
        days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
        assert 795 <= days <= 825
    assert len(moduli) == 3  # every user has a key of their own
    head = _s3().head_object(Bucket=BUCKET, Key=STATE_KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert b"PRIVATE KEY" not in _state_bytes()

    (line,) = _emf(capsys.readouterr().out)
    assert line["Vpn"] == "VpnA1B2C3D4"
    # Days from the run's "now" (between before and after) to the soonest expiry, in
    # hundredths of a day (the documented precision: rounding moves it by at most 0.005).
    soonest = min(_cert(n).not_valid_after_utc for n in names)
    low, high = ((soonest - t).total_seconds() / 86400 for t in (after, before))
    assert low - 0.005 <= line["DaysToExpiry"] <= high + 0.005
    assert line["DaysToExpiry"] == round(line["DaysToExpiry"], 2)  # hundredths, no finer


def test_add_and_remove_keep_other_users_identical(run: Run, ec2: Ec2Stub, ca_secret: str) -> None:
    run(["alice", "bob"], request="Create")
    alice, bob = _ovpn("alice"), _ovpn("bob")
    bob_serial = _serial("bob")

    out = run(["alice", "bob", "carol"])
    assert out["Data"] == _data(Users=3, Issued=1)
    assert (_ovpn("alice"), _ovpn("bob")) == (alice, bob)
    assert ec2.crl_imports == []  # nothing revoked yet
    carol = _ovpn("carol")

    out = run(["alice", "carol"], crl=True)
    assert out["Data"] == _data(Users=2, Removed=1, RevokedTotal=1)
    assert (_ovpn("alice"), _ovpn("carol")) == (alice, carol)
    assert _user_key("bob") not in _keys()
    _check_crl(ec2, {bob_serial})
    (entry,) = _ledger(ca_secret)["entries"]  # type: ignore[index]
    assert int(entry["serial"], 16) == bob_serial and entry["user"] == "bob"

    # bob comes back: new certificate, nothing newly revoked, no CRL import.
    run(["alice", "bob", "carol"])
    assert _serial("bob") != bob_serial
    assert _ovpn("bob") != bob
    assert len(ec2.crl_imports) == 1

    # carol leaves: the CRL keeps bob's old serial too.
    carol_serial = _serial("carol")
    run(["alice", "bob"], crl=True)
    _check_crl(ec2, {bob_serial, carol_serial})
    numbers = [
        x509.load_pem_x509_crl(c["CertificateRevocationList"].encode())
        .extensions.get_extension_for_class(x509.CRLNumber)
        .value.crl_number
        for c in ec2.crl_imports
    ]
    assert numbers == [1, 2]
    assert _ovpn("alice") == alice


def test_lost_file_found_at_a_rerender_is_revoked_and_reissued(run: Run, ec2: Ec2Stub) -> None:
    # Unchanged users' files are not read; a re-render reads them all. A file that is gone
    # (or holds another certificate) may have leaked its key anywhere: revoke and re-issue.
    run(["alice", "bob"], request="Create")
    old = _serial("alice")
    bob = _credentials("bob")
    _s3().delete_object(Bucket=BUCKET, Key=_user_key("alice"))
    new_config = export_config(read_bundle().ca_cert_pem, port=1194)
    out = run(["alice", "bob"], crl=True, export=new_config)
    assert out["Data"] == _data(Users=2, Issued=1, Rerendered=1, RevokedTotal=1)
    assert _serial("alice") != old
    _check_crl(ec2, {old})
    # the revoked certificate is not kept among alice's still-valid (renewed) ones
    assert _state()["users"]["alice"]["previous"] == []
    assert _credentials("bob") == bob


def test_file_whose_key_does_not_match_its_cert_is_revoked_and_reissued(
    run: Run, ec2: Ec2Stub, key_pool: KeyPool
) -> None:
    # The handler loads the key without OpenSSL's consistency check and compares its public
    # half with the certificate: a file holding alice's certificate with another key was
    # not delivered as issued.
    run(["alice", "bob"], request="Create")
    old = _serial("alice")
    bob = _credentials("bob")
    text = _ovpn("alice").decode()
    other = key_pool.take().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    swapped = text.replace(_block(text, "key"), other.decode().strip())
    assert swapped != text and _block(swapped, "cert") == _block(text, "cert")
    _s3().put_object(Bucket=BUCKET, Key=_user_key("alice"), Body=swapped.encode())

    new_config = export_config(read_bundle().ca_cert_pem, port=1194)
    out = run(["alice", "bob"], crl=True, export=new_config)
    assert out["Data"] == _data(Users=2, Issued=1, Rerendered=1, RevokedTotal=1)
    assert _serial("alice") != old
    assert _key("alice").public_key().public_numbers() == (
        _cert("alice").public_key().public_numbers()  # type: ignore[union-attr]
    )
    _check_crl(ec2, {old})
    assert _credentials("bob") == bob


# -- configuration changes: re-render, same certificate and key ------------------------


def test_config_change_rerenders_every_file_with_same_cert_and_key(
    run: Run, ec2: Ec2Stub, ca_secret: str
) -> None:
    run(["alice", "bob"], request="Create")
    before = {n: _credentials(n) for n in ("alice", "bob")}
    new_config = export_config(read_bundle().ca_cert_pem, port=1194)

    out = run(["alice", "bob"], export=new_config, Triggers={"Port": "1194"})
    assert out["Data"] == _data(Users=2, Rerendered=2)
    for name in ("alice", "bob"):
        text = _ovpn(name).decode()
        assert re.search(r"^remote \S+ 1194$", text, re.MULTILINE)
        assert " 443\n" not in text
        assert _credentials(name) == before[name]
    assert ec2.crl_imports == []
    assert _ledger(ca_secret) is None

    # The same configuration again: nothing to do, files byte-identical.
    files = {n: _ovpn(n) for n in ("alice", "bob")}
    out = run(["alice", "bob"], export=new_config)
    assert out["Data"] == _data(Users=2)
    assert {n: _ovpn(n) for n in ("alice", "bob")} == files


def test_a_config_version_bump_rerenders_every_file_with_same_cert_and_key(
    run: Run, ec2: Ec2Stub
) -> None:
    """``Triggers.ConfigVersion`` (UsersProps): a change re-renders every file, the exported
    configuration unchanged; the same version again does nothing."""
    run(["alice", "bob"], request="Create")
    before = {n: _credentials(n) for n in ("alice", "bob")}

    out = run(["alice", "bob"], Triggers={"Port": "443", "ConfigVersion": "2"})
    assert out["Data"] == _data(Users=2, Rerendered=2)
    assert {n: _credentials(n) for n in ("alice", "bob")} == before
    assert ec2.crl_imports == []
    assert run(["alice", "bob"], Triggers={"Port": "443", "ConfigVersion": "2"})["Data"] == (
        _data(Users=2)
    )
    out = run(["alice", "bob"], Triggers={"Port": "443", "ConfigVersion": "3"})
    assert out["Data"] == _data(Users=2, Rerendered=2)


def test_remote_label_change_rerenders_without_revocation(run: Run, ec2: Ec2Stub) -> None:
    run(["alice"], request="Create")
    before = _credentials("alice")
    out = run(["alice"], RemoteRandomLabel="x7k2")
    assert out["Data"] == _data(Users=1, Rerendered=1)
    text = _ovpn("alice").decode()
    assert re.search(r"^remote x7k2\.cvpn-endpoint-0123456789abcdef0\.prod\.", text, re.MULTILINE)
    assert _credentials("alice") == before
    assert ec2.crl_imports == []


# AWS Client VPN administrator guide, "IPv6 considerations" (written here, not imported).
LEAK_BLOCK = (
    "ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1\nroute-ipv6 2000::/3\nroute-ipv6 fc00::/7\n"
)


def test_ipv6_leak_block_rerenders_every_file_with_its_own_key(
    run: Run, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    run(["alice", "bob"], request="Create")
    before = {n: _credentials(n) for n in ("alice", "bob")}
    out = run(["alice", "bob"], BlockIpv6Leak="true")
    assert out["Data"] == _data(Users=2, Rerendered=2)
    for name in ("alice", "bob"):
        assert _ovpn(name).decode().endswith(LEAK_BLOCK)
        assert _credentials(name) == before[name]
    assert ec2.crl_imports == []

    # A Renew with the schedule's stale copy (no BlockIpv6Leak) keeps what the deploy set.
    files = {n: _ovpn(n) for n in ("alice", "bob")}
    ec2.expect_export(config)
    index.on_event(
        {
            "RequestType": "Renew",
            "ResourceProperties": _props(kms_key, ca_secret, ["alice", "bob"]),
            "PhysicalResourceId": f"cvpn-users:{BUCKET}/{STATE_KEY}",
        }
    )
    assert {n: _ovpn(n) for n in ("alice", "bob")} == files

    # Turning it off re-renders the files without the block.
    out = run(["alice", "bob"])
    assert out["Data"] == _data(Users=2, Rerendered=2)
    assert LEAK_BLOCK not in _ovpn("alice").decode()


def test_new_endpoint_rerenders_and_gets_the_whole_ledger(
    run: Run, ec2: Ec2Stub, ca_secret: str
) -> None:
    run(["alice", "bob", "carol"], request="Create")
    bob = _serial("bob")
    run(["alice", "carol"], crl=True)
    before = {n: _credentials(n) for n in ("alice", "carol")}

    other = export_config(read_bundle().ca_cert_pem, endpoint=OTHER_ENDPOINT)
    out = run(["alice", "carol"], crl=True, export=other, EndpointId=OTHER_ENDPOINT)
    assert out["PhysicalResourceId"] == f"cvpn-users:{BUCKET}/{STATE_KEY}"  # same key, same id
    assert out["Data"] == _data(Users=2, Rerendered=2, RevokedTotal=1)
    assert ec2.crl_imports[-1]["ClientVpnEndpointId"] == OTHER_ENDPOINT
    _check_crl(ec2, {bob})
    for name in ("alice", "carol"):
        assert OTHER_ENDPOINT in _ovpn(name).decode()
        assert _credentials(name) == before[name]
    assert ec2.exports[-1] == OTHER_ENDPOINT  # the old endpoint is never called

    # Once imported, the new endpoint does not get it again.
    out = run(["alice", "carol"], export=other, EndpointId=OTHER_ENDPOINT)
    assert out["Data"] == _data(Users=2, RevokedTotal=1)
    assert len(ec2.crl_imports) == 2


def test_new_endpoint_without_revocations_imports_no_crl(run: Run, ec2: Ec2Stub) -> None:
    run(["alice"], request="Create")
    other = export_config(read_bundle().ca_cert_pem, endpoint=OTHER_ENDPOINT)
    out = run(["alice"], export=other, EndpointId=OTHER_ENDPOINT)
    assert out["Data"] == _data(Users=1, Rerendered=1)
    assert ec2.crl_imports == []


# -- renewal ---------------------------------------------------------------------------


def test_renewal_issues_new_certs_without_revoking_and_removal_revokes_both(
    run: Run, ec2: Ec2Stub, clock: Clock, ca_secret: str
) -> None:
    names = ["alice", "bob"]
    props = {"ClientValidityDays": "100", "RenewBeforeDays": "30"}
    run(names, request="Create", **props)
    first = {n: _cert(n) for n in names}
    for cert in first.values():  # 100 days, shortened by at most 100 // 10
        assert 90 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 100

    clock.advance(50)  # at least 40 days left: nothing is due
    out = run(names, request="Renew", **props)
    assert out["Data"] == _data(Users=2)

    clock.advance(25)  # at most 25 days left: both are due
    out = run(names, request="Renew", **props)
    assert out["Data"] == _data(Users=2, Issued=2, Renewed=2)
    assert ec2.crl_imports == []
    assert _ledger(ca_secret) is None
    second = {n: _cert(n) for n in names}
    for name in names:
        cert = second[name]
        assert cert.serial_number != first[name].serial_number
        assert abs(cert.not_valid_before_utc - clock.now()) < dt.timedelta(minutes=10)
        assert _key(name).public_key().public_numbers() != (
            first[name].public_key().public_numbers()  # type: ignore[union-attr]
        )
    assert all(len(_state()["users"][n]["previous"]) == 1 for n in names)

    # Removing alice revokes the certificate she holds and the one renewal replaced.
    out = run(["bob"], crl=True, **props)
    assert out["Data"] == _data(Users=1, Removed=1, RevokedTotal=2)
    _check_crl(ec2, {first["alice"].serial_number, second["alice"].serial_number})


def test_ledger_drops_expired_certificates(
    run: Run, ec2: Ec2Stub, clock: Clock, ca_secret: str
) -> None:
    props = {"ClientValidityDays": "10", "RenewBeforeDays": "0"}
    run(["alice", "bob"], request="Create", **props)
    run(["alice"], crl=True, **props)
    assert len(_ledger_serials(ca_secret)) == 1

    clock.advance(11)  # every 10-day certificate has expired, bob's revoked one too
    out = run(["alice"], request="Renew", **props)
    assert out["Data"] == _data(Users=1, Issued=1, Renewed=1, RevokedTotal=0)
    assert _ledger(ca_secret)["entries"] == []  # type: ignore[index]
    assert len(ec2.crl_imports) == 1


# -- versions: nothing with a key is left behind ---------------------------------------


def test_removal_deletes_every_version_of_the_file(run: Run, ec2: Ec2Stub, versioned: str) -> None:
    run(["alice", "bob"], request="Create")
    run(["alice", "bob"], export=export_config(read_bundle().ca_cert_pem, port=1194))
    # A rewritten file keeps no older version (it would hold the same key, or an old one).
    users_prefix = f"{PREFIX}users/"
    assert _versions(users_prefix) == [
        (_user_key("alice"), "version"),
        (_user_key("bob"), "version"),
    ]
    run(["alice"], crl=True, export=export_config(read_bundle().ca_cert_pem, port=1194))
    assert _versions(_user_key("bob")) == []
    assert _versions(users_prefix) == [(_user_key("alice"), "version")]


def test_delete_removes_every_version_of_files_and_state_and_keeps_the_ledger(
    run: Run, ec2: Ec2Stub, versioned: str, ca_secret: str
) -> None:
    run(["alice", "bob", "carol"], request="Create")
    run(["alice", "bob"], crl=True)
    _s3().put_object(Bucket=BUCKET, Key=f"{PREFIX}users/unrelated.txt", Body=b"keep")
    props = {"Kind": "Users", "Bucket": BUCKET, "Prefix": PREFIX, "StateKey": STATE_KEY}
    props["KmsKeyArn"] = _s3().head_object(Bucket=BUCKET, Key=STATE_KEY)["SSEKMSKeyId"]
    pid = f"cvpn-users:{BUCKET}/{STATE_KEY}"
    event = {"RequestType": "Delete", "ResourceProperties": props, "PhysicalResourceId": pid}
    assert index.on_event(event) == {"PhysicalResourceId": pid}
    assert _versions(f"{PREFIX}users/") == [(f"{PREFIX}users/unrelated.txt", "version")]
    assert _versions(STATE_KEY) == []
    assert _ledger_serials(ca_secret)  # the ledger stays with the CA
    # A second delete (no state any more) is a no-op and leaves nothing either.
    assert index.on_event(event) == {"PhysicalResourceId": pid}
    assert _versions(STATE_KEY) == []


def test_delete_with_the_bucket_gone_succeeds(aws_env: None) -> None:
    props = {
        "Kind": "Users",
        "Bucket": "bucket-that-was-deleted",
        "Prefix": PREFIX,
        "StateKey": STATE_KEY,
        "KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/gone",
    }
    event = {"RequestType": "Delete", "ResourceProperties": props, "PhysicalResourceId": "x"}
    assert index.on_event(event) == {"PhysicalResourceId": "x"}


# -- failures and retries --------------------------------------------------------------


def _fail_puts(when: Callable[[str], bool]) -> Callable[[], None]:
    """Make the handler's PutObject fail for keys where ``when(key)``; return the undo."""
    s3 = aws.client("s3")

    def hook(params: dict[str, Any], **_: Any) -> None:
        if when(str(params.get("Key"))):
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "injected"}}, "PutObject"
            )

    event = "provide-client-params.s3.PutObject"
    s3.meta.events.register(event, hook)
    return lambda: s3.meta.events.unregister(event, hook)


def test_failed_create_leaves_no_object_and_no_version(
    run: Run, ec2: Ec2Stub, versioned: str
) -> None:
    undo = _fail_puts(lambda key: key == _user_key("bob"))
    with pytest.raises(ClientError, match="injected"):
        run(["alice", "bob", "carol"], request="Create")
    undo()
    assert _versions() == []


def test_retry_after_failed_file_write_reissues_only_unwritten_users(
    run: Run, ec2: Ec2Stub, ca_secret: str
) -> None:
    run(["alice"], request="Create")
    alice = _ovpn("alice")
    # zed sorts last: the files before his are written by the time his write fails.
    undo = _fail_puts(lambda key: key == _user_key("zed"))
    with pytest.raises(ClientError, match="injected"):
        run(["alice", "dave", "zed"])
    undo()
    half = _state()
    assert half["lease_owner"] == ""  # released after the failure
    assert half["users"]["dave"]["pending"] and half["users"]["zed"]["pending"]
    dave = _ovpn("dave")
    assert int(half["users"]["dave"]["serial"], 16) == _serial("dave")
    assert _user_key("zed") not in _keys()
    zed_half = int(half["users"]["zed"]["serial"], 16)

    out = run(["alice", "dave", "zed"])
    assert out["Data"] == _data(Users=3, Issued=1)
    assert _ovpn("dave") == dave and _ovpn("alice") == alice
    assert _serial("zed") != zed_half
    assert not any(u["pending"] for u in _state()["users"].values())
    assert ec2.crl_imports == []  # the half-issued key never left: nothing to revoke
    assert _ledger(ca_secret) is None


def test_pending_user_whose_file_was_written_is_not_reissued(
    run: Run, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    run(["alice", "bob"], request="Create")
    bob = _serial("bob")
    ec2.expect_export(config)
    ec2.stubber.add_client_error(
        "import_client_vpn_client_certificate_revocation_list", service_error_code="InternalError"
    )
    event = {
        "RequestType": "Update",
        "ResourceProperties": _props(kms_key, ca_secret, ["alice", "carol"]),
    }
    with pytest.raises(ClientError):
        index.on_event(event)
    half = _state()
    assert half["users"]["carol"]["pending"]  # her file was written, the state not updated
    assert half["crl_dirty"] and half["pending_deletes"] == ["bob"]
    assert "bob" not in half["users"]
    carol = _ovpn("carol")

    out = run(["alice", "carol"], crl=True)  # imports the CRL and deletes bob's file
    assert out["Data"] == _data(Users=2, RevokedTotal=1)
    assert _ovpn("carol") == carol
    assert _user_key("bob") not in _keys()
    state = _state()
    assert not state["crl_dirty"] and state["pending_deletes"] == []
    assert not state["users"]["carol"]["pending"]
    _check_crl(ec2, {bob})


def test_retry_after_state_save_failure_still_imports_the_removal(
    run: Run, ec2: Ec2Stub, ca_secret: str, kms_key: str, config: str
) -> None:
    run(["alice", "bob", "carol"], request="Create")
    run(["alice", "bob"], crl=True)  # the endpoint has a CRL from now on
    bob = _serial("bob")
    carol = _ledger_serials(ca_secret)
    puts = {"state": 0}

    def second_state_put(key: str) -> bool:
        if key != STATE_KEY:
            return False
        puts["state"] += 1
        return puts["state"] == 2  # 1: take the lease, 2: save after the ledger

    undo = _fail_puts(second_state_put)
    with pytest.raises(ClientError, match="injected"):
        run(["alice"])
    undo()
    assert bob in _ledger_serials(ca_secret)  # the ledger was saved first
    assert "bob" in _state()["users"]  # the state was not
    props = _props(kms_key, ca_secret, ["alice"])

    imports = len(ec2.crl_imports)
    ec2.expect_export(config)
    ec2.expect_crl_import()
    try:
        index.on_event({"RequestType": "Update", "ResourceProperties": props})
    finally:
        ec2.stubber._queue.clear()  # what the retry did not call fails below, not at teardown
    assert len(ec2.crl_imports) == imports + 1, "bob's revocation never reached the endpoint"
    _check_crl(ec2, carol | {bob})


def test_retry_after_crl_import_failure_imports_again(run: Run, ec2: Ec2Stub) -> None:
    run(["alice", "bob"], request="Create")
    bob = _serial("bob")
    ec2.stubber.add_response(
        "export_client_vpn_client_configuration",
        {"ClientConfiguration": export_config(read_bundle().ca_cert_pem)},
    )
    ec2.stubber.add_client_error(
        "import_client_vpn_client_certificate_revocation_list", service_error_code="Throttling"
    )
    with pytest.raises(ClientError):
        index.on_event(
            {
                "RequestType": "Update",
                "ResourceProperties": {
                    **_props(_state_kms(), _secret_arn(), ["alice"]),
                },
            }
        )
    out = run(["alice"], crl=True)
    assert out["Data"] == _data(Users=1, RevokedTotal=1)
    _check_crl(ec2, {bob})
    numbers = [
        x509.load_pem_x509_crl(c["CertificateRevocationList"].encode())
        .extensions.get_extension_for_class(x509.CRLNumber)
        .value.crl_number
        for c in ec2.crl_imports
    ]
    assert numbers[-1] > numbers[0]  # a CRL number is never reused


def _state_kms() -> str:
    return str(_s3().head_object(Bucket=BUCKET, Key=STATE_KEY)["SSEKMSKeyId"])


def _secret_arn() -> str:
    sm = boto3.client("secretsmanager", region_name=REGION)
    return str(sm.describe_secret(SecretId=secret_name())["ARN"])


def test_missing_ledger_after_a_crl_import_is_refused(
    run: Run, ec2: Ec2Stub, ca_secret: str, kms_key: str
) -> None:
    run(["alice", "bob"], request="Create")
    run(["alice"], crl=True)
    _s3().delete_object(Bucket=BUCKET, Key=_ledger_key(ca_secret))
    event = {"RequestType": "Update", "ResourceProperties": _props(kms_key, ca_secret, [])}
    with pytest.raises(RuntimeError, match=r"revocation ledger .* is missing"):
        index.on_event(event)
    assert _user_key("alice") in _keys()
    assert _state()["lease_owner"] == ""


def test_a_new_ca_reissues_everyone_without_revoking(run: Run, ec2: Ec2Stub, kms_key: str) -> None:
    run(["alice", "bob"], request="Create")
    old = {n: _serial(n) for n in ("alice", "bob")}
    event = {
        "RequestType": "Create",
        "RequestId": "another-stack",
        "ResourceProperties": authority_props(kms_key),
    }
    new_ca = str(index.on_event(event)["PhysicalResourceId"])
    ca = x509.load_pem_x509_certificate(read_bundle(new_ca).ca_cert_pem.encode())
    config = export_config(read_bundle(new_ca).ca_cert_pem)
    out = run(["alice", "bob"], export=config, CaSecretArn=new_ca)
    assert out["Data"]["Issued"] == 2 and out["Data"]["RevokedTotal"] == 0
    for name in ("alice", "bob"):
        assert _serial(name) != old[name]
        _cert(name).verify_directly_issued_by(ca)
    assert ec2.crl_imports == []


def test_state_from_version_1_is_refused_without_touching_anything(
    run: Run, ec2: Ec2Stub, ca_secret: str, kms_key: str
) -> None:
    # A version-1 state lived under the endpoint id; the day-two layout cannot take it over
    # in place (its revocations would be lost): the run refuses before any call.
    run(["alice"], request="Create")
    v1 = {"version": 1, "crl_number": 3, "revoked": [], "users": {}, "pending_deletes": []}
    _s3().put_object(
        Bucket=BUCKET,
        Key=STATE_KEY,
        Body=json.dumps(v1).encode(),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=kms_key,
    )
    alice_file = _ovpn("alice")
    event = {"RequestType": "Update", "ResourceProperties": _props(kms_key, ca_secret, ["alice"])}
    with pytest.raises(ValueError, match=r"users state version 1: .*destroy and deploy"):
        index.on_event(event)
    assert json.loads(_s3().get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read()) == v1
    assert _ovpn("alice") == alice_file
    assert ec2.crl_imports == []


# -- the lease -------------------------------------------------------------------------


def _hold_lease(owner: str, until: dt.datetime) -> None:
    data = _state()
    data["lease_owner"], data["lease_expires"] = owner, until.isoformat()
    _s3().put_object(Bucket=BUCKET, Key=STATE_KEY, Body=json.dumps(data).encode())


def test_a_run_waits_while_another_run_holds_the_lease(
    run: Run,
    ec2: Ec2Stub,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lease is held by another run; it finishes while this run waits (during its
    second poll). This run must poll, do nothing before the release, then do its work.
    The lease module's sleep is replaced: the other run finishes inside it, so nothing here
    depends on how long a real sleep lasts."""
    run(["alice"], request="Create")
    _hold_lease("another-run", clock.now() + dt.timedelta(minutes=10))
    caplog.set_level(logging.INFO)
    polls: list[float] = []
    released = threading.Event()

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:  # the other run finishes and releases the lease
            data = _state()
            data["lease_owner"] = data["lease_expires"] = ""
            _s3().put_object(Bucket=BUCKET, Key=STATE_KEY, Body=json.dumps(data).encode())
            released.set()

    monkeypatch.setattr(lease, "time", types.SimpleNamespace(sleep=sleep, monotonic=time.monotonic))
    exported: list[bool] = []
    ec2.client.meta.events.register(
        "provide-client-params.ec2.ExportClientVpnClientConfiguration",
        lambda **_: exported.append(released.is_set()),
    )
    out = run(["alice", "bob"])
    assert polls == [lease.POLL_SECONDS] * 2
    assert exported == [True]  # it did nothing before the release
    waits = [r for r in caplog.records if "waiting for another run" in r.getMessage()]
    assert len(waits) == 2
    assert out["Data"] == _data(Users=2, Issued=1)
    assert _state()["lease_owner"] == ""


def test_a_held_lease_with_no_time_left_is_refused_readably(
    run: Run, ec2: Ec2Stub, clock: Clock, kms_key: str, ca_secret: str
) -> None:
    run(["alice"], request="Create")
    until = clock.now() + dt.timedelta(minutes=10)
    _hold_lease("another-run", until)
    before = _state_bytes()
    context = types.SimpleNamespace(get_remaining_time_in_millis=lambda: 95_000)
    event = {"RequestType": "Update", "ResourceProperties": _props(kms_key, ca_secret, ["bob"])}
    with pytest.raises(RuntimeError) as info:
        index.on_event(event, context)
    message = str(info.value)
    assert "another run of this resource still holds the users state" in message
    assert until.isoformat() in message and "deploy again" in message
    assert _state_bytes() == before  # nothing touched
    assert ec2.exports == [ENDPOINT_ID]  # only the Create's


def test_an_expired_lease_is_taken_over(
    run: Run, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    run(["alice"], request="Create")
    _hold_lease("crashed-run", clock.now() - dt.timedelta(seconds=1))
    caplog.set_level(logging.INFO)
    out = run(["alice", "bob"])
    assert out["Data"] == _data(Users=2, Issued=1)
    assert "waiting for another run" not in caplog.text


def test_near_the_deadline_the_run_stops_with_progress_saved(
    run: Run, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    run(["alice"], request="Create")
    alice = _ovpn("alice")
    context = types.SimpleNamespace(get_remaining_time_in_millis=lambda: 60_000)
    ec2.expect_export(config)
    event = {
        "RequestType": "Update",
        "ResourceProperties": _props(kms_key, ca_secret, ["alice", "bob", "carol"]),
    }
    with pytest.raises(
        RuntimeError,
        match=r"stopped with 2 user files still to write .*"
        r"CloudFormation rolls the change back: add fewer users per deploy",
    ):
        index.on_event(event, context)
    assert _state()["lease_owner"] == ""
    assert _ovpn("alice") == alice
    out = run(["alice", "bob", "carol"])
    assert out["Data"] == _data(Users=3, Issued=2)


def _deadline_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    """The deadline is near from the ``calls + 1``-th check on; file writes one at a time.

    The handler checks before issuing each user, then before writing each file (in name
    order once its pool has one thread).
    """
    seen = {"n": 0}

    def near(self: object) -> bool:
        seen["n"] += 1
        return seen["n"] > calls

    monkeypatch.setattr(store, "S3_THREADS", 1)
    monkeypatch.setattr(pki_clock.Deadline, "near", near)


def test_deadline_during_an_update_keeps_the_files_written(
    run: Run,
    ec2: Ec2Stub,
    kms_key: str,
    ca_secret: str,
    config: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(["alice"], request="Create")
    alice = _ovpn("alice")
    with monkeypatch.context() as patch:
        _deadline_after(patch, 3)  # issue bob, issue carol, write bob; carol's write stops
        ec2.expect_export(config)
        event = {
            "RequestType": "Update",
            "ResourceProperties": _props(kms_key, ca_secret, ["alice", "bob", "carol"]),
        }
        with pytest.raises(RuntimeError, match=r"stopped with 1 user files still to write"):
            index.on_event(event)
    half = _state()
    assert half["lease_owner"] == ""
    assert not half["users"]["bob"]["pending"] and half["users"]["carol"]["pending"]
    assert _user_key("carol") not in _keys()
    bob = _ovpn("bob")
    assert int(half["users"]["bob"]["serial"], 16) == _serial("bob")

    out = run(["alice", "bob", "carol"])
    assert out["Data"] == _data(Users=3, Issued=1)  # carol only; her key never left
    assert _ovpn("alice") == alice and _ovpn("bob") == bob
    assert ec2.crl_imports == []


def test_deadline_during_a_create_removes_what_it_wrote(
    run: Run,
    ec2: Ec2Stub,
    kms_key: str,
    ca_secret: str,
    config: str,
    versioned: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _deadline_after(monkeypatch, 3)  # issue alice, issue bob, write alice; bob's write stops
    ec2.expect_export(config)
    event = {
        "RequestType": "Create",
        "ResourceProperties": _props(kms_key, ca_secret, ["alice", "bob"]),
    }
    with pytest.raises(RuntimeError, match=r"stopped with 1 user files still to write"):
        index.on_event(event)
    assert _versions() == []


# -- refusals and properties -----------------------------------------------------------


@pytest.mark.parametrize(
    "moved",
    [
        {"Bucket": "another-bucket"},
        {"Prefix": "cvpn/Other/", "StateKey": "cvpn/Other/state.json"},
        {"StateKey": "cvpn/x.json"},
    ],
)
def test_moving_the_files_is_refused(
    run: Run, ec2: Ec2Stub, kms_key: str, ca_secret: str, moved: dict[str, str]
) -> None:
    run(["alice"], request="Create")
    alice = _ovpn("alice")
    _s3().create_bucket(
        Bucket="another-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    event = {
        "RequestType": "Update",
        "ResourceProperties": _props(kms_key, ca_secret, ["alice"], **moved),
        "OldResourceProperties": _props(kms_key, ca_secret, ["alice"]),
    }
    with pytest.raises(ValueError, match="cannot move from s3://") as info:
        index.on_event(event)
    assert "config_bucket" in str(info.value) and "destroy the stack" in str(info.value)
    assert _ovpn("alice") == alice
    assert _versions("cvpn/Other/") == [] and _versions("cvpn/x.json") == []
    assert _s3().list_objects_v2(Bucket="another-bucket").get("KeyCount") == 0
    assert ec2.exports == [ENDPOINT_ID]  # only the Create's


def test_rollback_of_a_refused_move_succeeds(
    run: Run, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    run(["alice"], request="Create")
    alice = _ovpn("alice")
    here = _props(kms_key, ca_secret, ["alice"])
    there = _props(
        kms_key, ca_secret, ["alice"], Prefix="cvpn/Other/", StateKey="cvpn/Other/state.json"
    )
    forward = {"RequestType": "Update", "ResourceProperties": there}
    with pytest.raises(ValueError, match="cannot move"):
        index.on_event({**forward, "OldResourceProperties": here})

    ec2.expect_export(config)
    rollback = {"RequestType": "Update", "ResourceProperties": here}
    try:
        out = index.on_event({**rollback, "OldResourceProperties": there})
    finally:
        ec2.stubber._queue.clear()
    assert out["PhysicalResourceId"] == f"cvpn-users:{BUCKET}/{STATE_KEY}"
    assert _ovpn("alice") == alice
    assert _versions("cvpn/Other/") == []


def test_renew_after_delete_writes_nothing(
    run: Run, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    run(["alice", "bob"], request="Create")
    props = _props(kms_key, ca_secret, ["alice", "bob"])
    pid = f"cvpn-users:{BUCKET}/{STATE_KEY}"
    delete = {"RequestType": "Delete", "ResourceProperties": props, "PhysicalResourceId": pid}
    index.on_event(delete)
    assert _versions(f"{PREFIX}users/") == []

    ec2.expect_export(config)
    renew = {"RequestType": "Renew", "ResourceProperties": props, "PhysicalResourceId": pid}
    try:
        with contextlib.suppress(Exception):  # refusing is fine too; writing keys is not
            index.on_event(renew)
    finally:
        ec2.stubber._queue.clear()
    assert _versions(f"{PREFIX}users/") == []
    assert _versions(STATE_KEY) == []


def test_renew_with_a_stale_copy_of_the_properties_adds_and_removes_nobody(
    run: Run, ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    # The schedule's input is updated after the resource: a Renew may carry the user list
    # and endpoint of the deploy before. It must work on what the last deploy left.
    run(["alice"], request="Create")
    run(["alice", "bob"])
    files = {n: _ovpn(n) for n in ("alice", "bob")}
    stale = _props(kms_key, ca_secret, ["alice"], EndpointId="cvpn-endpoint-00000000000000bad")
    ec2.expect_export(config)  # the endpoint of the last deploy, not the stale one
    out = index.on_event(
        {
            "RequestType": "Renew",
            "ResourceProperties": stale,
            "PhysicalResourceId": f"cvpn-users:{BUCKET}/{STATE_KEY}",
        }
    )
    assert out["Data"] == _data(Users=2)
    assert {n: _ovpn(n) for n in ("alice", "bob")} == files
    assert ec2.crl_imports == []


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


def test_state_access_denied_is_not_taken_for_missing_state(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(["alice"], request="Create")
    s3 = aws.client("s3")

    def denied(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "GetObject")

    monkeypatch.setattr(s3, "get_object", denied)
    props = {
        "Kind": "Users",
        "Bucket": BUCKET,
        "Prefix": PREFIX,
        "StateKey": STATE_KEY,
        "KmsKeyArn": "k",
    }
    with pytest.raises(RuntimeError, match="s3:ListBucket"):
        index.on_event(
            {"RequestType": "Delete", "ResourceProperties": props, "PhysicalResourceId": "x"}
        )
    assert _user_key("alice") in _keys()


# -- the ledger itself -----------------------------------------------------------------


def _fill(ledger: Ledger, count: int, not_after: dt.datetime, now: dt.datetime) -> None:
    for i in range(count):
        ledger.revoke(format(i + 1, "x"), not_after=not_after.isoformat(), user="u", now=now)


def test_ledger_refuses_more_than_20000_unexpired_entries() -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    later = now + dt.timedelta(days=100)
    full = Ledger(ca_secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:x")
    _fill(full, 20000, later, now)
    full.check_size()  # exactly the Client VPN limit: accepted
    assert len(full.crl_entries()) == 20000

    over = Ledger(ca_secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:x")
    _fill(over, 20001, later, now)
    with pytest.raises(LedgerFullError, match=r"20001 revoked.*at most 20000"):
        over.check_size()
    # Once enough of them have expired, it fits again.
    assert over.prune(later + dt.timedelta(seconds=1)) == 20001
    over.check_size()


def test_ledger_revoke_prune_and_ownership(bucket: str, kms_key: str) -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    arn = "arn:aws:secretsmanager:eu-west-1:1:secret:ca-0123456789abcdef-AbCdEf"
    ledger = Ledger(ca_secret_arn=arn)
    soon, late = now + dt.timedelta(days=1), now + dt.timedelta(days=30)
    assert ledger.revoke("0a", not_after=soon.isoformat(), user="a", now=now)
    assert not ledger.revoke("0a", not_after=soon.isoformat(), user="a", now=now)
    assert ledger.revoke("ff", not_after=late.isoformat(), user="b", now=now)
    assert ledger.crl_entries() == [(0x0A, now), (0xFF, now)]
    key = f"{PREFIX}revocations/{hashlib.sha256(arn.encode()).hexdigest()[:16]}.json"
    ledger.save(BUCKET, key, kms_key)

    loaded = Ledger.load(BUCKET, key, arn)
    assert set(loaded.entries) == {"0a", "ff"}
    assert loaded.prune(now + dt.timedelta(days=2)) == 1
    assert [s for s, _ in loaded.crl_entries()] == [0xFF]
    with pytest.raises(ValueError, match="belongs to another CA"):
        Ledger.load(BUCKET, key, arn + "x")


# -- scale -----------------------------------------------------------------------------


def test_thousand_users_keep_response_small(run: Run) -> None:
    names = [f"user{i:04d}" for i in range(1000)]
    out = run(names, request="Create")
    assert out["Data"] == _data(Users=1000, Issued=1000)
    assert len(json.dumps(out)) < 400  # far under CloudFormation's 4096-byte limit
    serials = {u["serial"] for u in _state()["users"].values()}
    assert len(serials) == 1000
    sample = [_key(n).public_key().public_numbers().n for n in names[::50]]
    assert len(set(sample)) == len(sample)  # distinct keys, not one shared key

    out = run([*names[1:], "newcomer"], crl=True)
    assert out["Data"] == _data(Users=1000, Issued=1, Removed=1, RevokedTotal=1)
    assert len(json.dumps(out)) < 400
    assert len(users.UsersProps.parse({**_props_stub(), "Users": names}).users) == 1000


def test_more_than_2000_users_are_refused() -> None:
    names = [f"user{i:04d}" for i in range(2001)]
    with pytest.raises(ValueError, match="2001 names; at most 2000"):
        users.UsersProps.parse({**_props_stub(), "Users": names})


def _props_stub() -> dict[str, Any]:
    return {
        "EndpointId": "e",
        "Bucket": "b",
        "KmsKeyArn": "k",
        "CaSecretArn": "s",
        "StateKey": "s.json",
    }


# -- renewal spread ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_days", "widest"),
    [(825, 30), (300, 30), (299, 29), (100, 10), (19, 1), (10, 1), (9, 0)],
)
def test_client_certificates_are_shortened_by_0_to_min_30_or_a_tenth(
    client_days: int, widest: int
) -> None:
    """The documented spread: 0..min(30, days // 10) days off, every offset used by some name
    (2,000 names), so renewals of users created together fall on different days."""
    offsets = {client_days - users.validity_days(f"user{i}", client_days) for i in range(2000)}
    assert offsets == set(range(widest + 1))
