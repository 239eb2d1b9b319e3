"""``handlers/pki/expiry.py``: when the generated CA counts as expired.

Oracle: RFC 5280, 4.1.2.5: "The validity period for a certificate is the period of time from
notBefore through notAfter, inclusive" (OpenSSL agrees: a certificate is expired only once
the time is past notAfter). The CA is alive at its notAfter second and dead one second later.
"""

from __future__ import annotations

import datetime as dt

import pytest

from constructs_cvpn.handlers.pki import expiry
from tests.certs import make_ca


def test_the_ca_is_alive_through_its_not_after_inclusive() -> None:
    ca = make_ca(days=30).cert
    end = ca.not_valid_after_utc
    expiry.check_ca_alive(ca, now=end - dt.timedelta(days=29))
    expiry.check_ca_alive(ca, now=end)
    with pytest.raises(expiry.CaExpiredError, match=f"expired on {end:%Y-%m-%d}"):
        expiry.check_ca_alive(ca, now=end + dt.timedelta(seconds=1))
