"""What a ``Kind=Users`` run issues and keeps, checked against documented limits and rules.

- The CRL quota: Client VPN takes at most 20,000 entries (admin guide, quotas: "certificate
  revocation list entries: 20,000", not adjustable); the ledger drops certificates that
  have expired (an expired certificate is refused anyway), so what counts is the number of
  revoked certificates that have not expired yet.
- The renewal spread (users.py): client certificates are shortened by 0 to
  min(30, days // 10) days by name, so users created together do not all renew on the
  same day.
- A user's file is kept only if the key in it is a usable RSA key for its certificate; a
  file whose private key was altered (its public half still matching) is not what was
  issued: the certificate is revoked and a new one issued.

Oracles: certificates, keys and CRLs parsed with ``cryptography`` from what the handler
left, and counts computed here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from constructs_cvpn.handlers.pki import index

from .conftest import BUCKET, REGION, USERS_PREFIX, Clock, Ec2Stub, export_config, read_bundle
from .conftest import users_event as _event

CRL_QUOTA = 20_000  # Client VPN admin guide, quotas (not adjustable)


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _ovpn(name: str) -> str:
    key = f"{USERS_PREFIX}users/{name}.ovpn"
    return str(_s3().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())


def _block(text: str, tag: str) -> str:
    return text.split(f"<{tag}>\n", 1)[1].split(f"\n</{tag}>", 1)[0]


def _cert(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(_block(_ovpn(name), "cert").encode())


def _crl(ec2: Ec2Stub) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(ec2.crl_imports[-1]["CertificateRevocationList"].encode())


# -- the CRL quota counts unexpired certificates only -------------------------------------


def test_a_ledger_that_fits_once_expired_entries_are_dropped_is_accepted(
    ec2: Ec2Stub, clock: Clock, kms_key: str, ca_secret: str, config: str
) -> None:
    """19,999 unexpired + 10 expired revocations stored; removing bob adds one: 20,000
    unexpired, exactly the quota. The run must import a CRL of those 20,000."""
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, ["alice", "bob"], "Create"))
    bob = _cert("bob").serial_number
    now = clock.now()
    later, past = now + dt.timedelta(days=400), now - dt.timedelta(days=1)
    entries = [
        {"serial": format(i, "x"), "not_after": later.isoformat(), "revoked_at": now.isoformat(),
         "user": f"u{i}"}
        for i in range(1, CRL_QUOTA)
    ] + [
        {"serial": format(10**9 + i, "x"), "not_after": past.isoformat(),
         "revoked_at": now.isoformat(), "user": f"gone{i}"}
        for i in range(10)
    ]  # fmt: skip
    ca_id = hashlib.sha256(ca_secret.encode()).hexdigest()[:16]
    ledger_key = f"{USERS_PREFIX}revocations/{ca_id}.json"
    ledger = {"version": 1, "ca_secret_arn": ca_secret, "crl_number": 0, "entries": entries}
    _s3().put_object(Bucket=BUCKET, Key=ledger_key, Body=json.dumps(ledger).encode())

    ec2.expect_export(config)
    ec2.expect_crl_import()
    out = index.on_event(_event(kms_key, ca_secret, ["alice"], "Update"))
    assert out["Data"]["RevokedTotal"] == CRL_QUOTA
    revoked = {r.serial_number for r in _crl(ec2)}
    assert len(revoked) == CRL_QUOTA
    assert bob in revoked
    assert not revoked & {10**9 + i for i in range(10)}  # the expired ones are gone


# -- the renewal spread is applied when certificates are issued ---------------------------


def test_users_created_together_get_spread_lifetimes(
    ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    names = [f"user{i:02d}" for i in range(40)]
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, names, "Create", ClientValidityDays="825"))
    lifetimes = {}
    for name in names:
        cert = _cert(name)
        lifetimes[name] = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert all(825 - 30 <= days <= 825 for days in lifetimes.values()), lifetimes
    # 40 names over 31 possible lifetimes: a spread by name gives many different days.
    assert len(set(lifetimes.values())) >= 10, sorted(set(lifetimes.values()))


def test_a_short_validity_is_spread_by_at_most_a_tenth(
    ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    names = [f"user{i:02d}" for i in range(40)]
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, names, "Create", ClientValidityDays="50"))
    days = {(c.not_valid_after_utc - c.not_valid_before_utc).days for c in map(_cert, names)}
    assert days <= set(range(45, 51)) and len(days) >= 3, sorted(days)


# -- a file whose private key was altered is not kept --------------------------------------


def _altered_private_exponent(pem: str) -> str:
    """The same key with its private exponent changed; public half and CRT values kept."""
    key = serialization.load_pem_private_key(pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    n = key.private_numbers()
    altered = rsa.RSAPrivateNumbers(
        p=n.p, q=n.q, d=n.d ^ 2, dmp1=n.dmp1, dmq1=n.dmq1, iqmp=n.iqmp,
        public_numbers=n.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)  # fmt: skip
    return altered.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_a_file_whose_private_exponent_was_altered_is_revoked_and_reissued(
    ec2: Ec2Stub, kms_key: str, ca_secret: str, config: str
) -> None:
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, ["alice"], "Create"))
    text = _ovpn("alice")
    old = _cert("alice").serial_number
    key_pem = _block(text, "key")
    broken = _altered_private_exponent(key_pem)
    # OpenSSL's own check refuses it; its public half still matches the certificate.
    try:
        serialization.load_pem_private_key(broken.encode(), None)
    except ValueError:
        pass
    else:
        raise AssertionError("the altered key passes OpenSSL's check: no test")
    loaded = serialization.load_pem_private_key(
        broken.encode(), None, unsafe_skip_rsa_key_validation=True
    )
    assert loaded.public_key().public_numbers() == _cert("alice").public_key().public_numbers()  # type: ignore[union-attr]
    key = f"{USERS_PREFIX}users/alice.ovpn"
    tampered = text.replace(key_pem, broken.strip())
    _s3().put_object(Bucket=BUCKET, Key=key, Body=tampered.encode())

    # A configuration change makes the run read every file (re-render).
    ec2.expect_export(export_config(read_bundle().ca_cert_pem, port=1194))
    ec2.expect_crl_import()
    out = index.on_event(_event(kms_key, ca_secret, ["alice"], "Update"))
    assert (out["Data"]["Issued"], out["Data"]["RevokedTotal"]) == (1, 1)
    assert _cert("alice").serial_number != old
    assert {r.serial_number for r in _crl(ec2)} == {old}
    serialization.load_pem_private_key(_block(_ovpn("alice"), "key").encode(), None)  # sound


# -- the DaysToExpiry metric -------------------------------------------------------------------


def test_days_to_expiry_is_reported_to_the_hundredth(
    ec2: Ec2Stub,
    clock: Clock,
    kms_key: str,
    ca_secret: str,
    config: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """metrics.py: days to the soonest expiry, rounded to hundredths. 0.37 days after the
    Create the value has a fraction a coarser or finer rounding would change. The EMF
    Timestamp: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html"""
    ec2.expect_export(config)
    index.on_event(_event(kms_key, ca_secret, ["alice"], "Create", MetricDimension="Vpn1"))
    clock.advance(0.37)
    capsys.readouterr()
    ec2.expect_export(config)
    before, real_before = clock.now(), time.time()
    index.on_event(_event(kms_key, ca_secret, ["alice"], "Update", MetricDimension="Vpn1"))
    after, real_after = clock.now(), time.time()
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    value = line["DaysToExpiry"]
    expiry = _cert("alice").not_valid_after_utc
    low, high = ((expiry - t).total_seconds() / 86400 for t in (after, before))
    assert low - 0.005 <= value <= high + 0.005
    assert value == round(value, 2)
    # EMF specification: Timestamp "MUST be expressed as the number of milliseconds after
    # Jan 1, 1970 00:00:00 UTC" (the line's real time of emission; the moved clock is for
    # certificates only).
    stamp = line["_aws"]["Timestamp"]
    assert int(real_before * 1000) <= stamp <= int(real_after * 1000) + 1
