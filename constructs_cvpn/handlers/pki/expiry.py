"""The end of a certificate's and of the CA's life: when to renew, and when nothing can be.

A certificate the CA signs ends with the CA at the latest (``certs``); one that already ends
with its CA is not renewed (:func:`renewal_due`), or every run would re-issue it. Once the CA
has expired nothing it signs verifies: :func:`check_ca_alive` fails every run with what to do
(README, "The CA's end of life").
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from . import certs

__all__ = ["CaExpiredError", "check_ca_alive", "renewal_due"]


class CaExpiredError(RuntimeError):
    """The generated CA has expired: nothing it signs verifies any more."""


def check_ca_alive(ca: x509.Certificate, now: dt.datetime | None = None) -> None:
    """Raise :class:`CaExpiredError` once ``ca`` has expired (with what to do)."""
    end = ca.not_valid_after_utc
    if (now or dt.datetime.now(dt.UTC)) > end:  # valid through notAfter (RFC 5280)
        raise CaExpiredError(
            f"the certificate authority expired on {end:%Y-%m-%d}: no user or server "
            "certificate it signs verifies any more, and it cannot be re-issued in place (it "
            "is the endpoint's client root). Follow the README, 'Day two: the CA's end of "
            "life': deploy a new ClientVpn beside this one, hand out its files, then remove "
            "this one"
        )


def renewal_due(
    cert: x509.Certificate, ca: x509.Certificate, *, renew_before_days: int, now: dt.datetime
) -> bool:
    """True if ``cert`` expires within ``renew_before_days`` and a new certificate would
    last longer: one that already ends with its CA is kept until then (re-issuing it would
    give the same end, on every run)."""
    if cert.not_valid_after_utc >= ca.not_valid_after_utc:
        return False
    return certs.needs_reissue(cert, renew_before_days=renew_before_days, now=now)
