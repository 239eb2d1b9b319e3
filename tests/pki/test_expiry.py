"""``handlers/pki/expiry.py``: when the generated CA counts as expired.

Oracle: RFC 5280, 4.1.2.5: "The validity period for a certificate is the period of time from
notBefore through notAfter, inclusive" (OpenSSL agrees: a certificate is expired only once
the time is past notAfter). The CA is alive at its notAfter second and dead one second later.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from constructs_cvpn.handlers.pki import expiry, planning
from constructs_cvpn.handlers.pki.state import HeldCertificate
from tests.certs import make_ca


def test_the_ca_is_alive_through_its_not_after_inclusive() -> None:
    ca = make_ca(days=30).cert
    end = ca.not_valid_after_utc
    expiry.check_ca_alive(ca, now=end - dt.timedelta(days=29))
    expiry.check_ca_alive(ca, now=end)
    with pytest.raises(expiry.CaExpiredError, match=f"expired on {end:%Y-%m-%d}"):
        expiry.check_ca_alive(ca, now=end + dt.timedelta(seconds=1))


def _ending(at: dt.datetime) -> x509.Certificate:
    """A certificate that ends at ``at`` (renewal_due reads only the ends: no chain needed)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - dt.timedelta(days=400))
        .not_valid_after(at)
        .sign(key, hashes.SHA256())
    )


def test_a_certificate_that_ends_with_its_ca_is_kept() -> None:
    """Re-issuing a certificate that already ends with its CA gives the same end (nothing
    signed by the CA outlives it): it is kept, not re-issued on every run; one ending a
    second earlier is due once inside the renewal window."""
    end = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)
    ca, now = _ending(end), end - dt.timedelta(days=10)
    assert not expiry.renewal_due(_ending(end), ca, renew_before_days=30, now=now)
    earlier = _ending(end - dt.timedelta(seconds=1))
    assert expiry.renewal_due(earlier, ca, renew_before_days=30, now=now)
    assert not expiry.renewal_due(earlier, ca, renew_before_days=5, now=now)


def test_a_previous_certificate_is_held_through_its_not_after() -> None:
    """A renewed-away certificate stays on the user's record (revoked with them) through its
    notAfter second, inclusive, as the ledger keeps an entry; gone one second later."""
    end = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)
    held = [HeldCertificate("0a", end.isoformat())]
    assert planning.still_valid(held, end) == held
    assert planning.still_valid(held, end + dt.timedelta(seconds=1)) == []
