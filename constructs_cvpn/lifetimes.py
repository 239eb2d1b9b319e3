"""Lifetimes of the generated PKI, checked at synth (``ClientVpnConfigError``).

The generated CA is never re-issued in place (its certificate is the endpoint's client root
chain, part of ``AuthenticationOptions``: a new one replaces the endpoint), and a
certificate it signs ends at the latest with it. So:

- each certificate lifetime must exceed the renewal window (``renew_before_days``, 30):
  otherwise every run (every 12 hours) renews it, with a new key each time;
- the CA must outlive the certificates it signs plus the renewal window: otherwise the first
  renewal already meets the CA's end.

Past these checks the CA still ends (year ten with the defaults): the ``DaysToExpiry``
metric counts the CA's days as well, its alarm fires months ahead, and the README's
"Day two" section has the runbook.
"""

from __future__ import annotations

from .errors import ClientVpnConfigError

__all__ = ["RENEW_BEFORE_DAYS", "check_lifetimes"]

RENEW_BEFORE_DAYS = 30
"""Certificates are renewed when they expire within this many days."""


def check_lifetimes(path: str, *, ca_days: int, signed: dict[str, int], renew_before: int) -> None:
    """Refuse lifetimes the renewal cannot live with.

    ``signed`` maps the prop name of each certificate lifetime (e.g.
    ``client_certificate_validity_days``) to its value.
    """
    for prop, days in signed.items():
        if days <= renew_before:
            raise ClientVpnConfigError(
                path,
                prop,
                f"{days} days is within the {renew_before}-day renewal window: every run "
                f"would renew the certificate with a new key; use more than {renew_before}",
            )
    need = max(signed.values()) + renew_before
    if ca_days < need:
        longest = max(signed, key=lambda p: signed[p])
        raise ClientVpnConfigError(
            path,
            "ca_validity_days",
            f"{ca_days} days does not outlive the certificates the CA signs "
            f"({longest}={signed[longest]}) plus the {renew_before}-day renewal window; "
            f"use at least {need} (the CA is never re-issued in place)",
        )
