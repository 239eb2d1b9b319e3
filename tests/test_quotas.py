"""The quota table: figures as the admin guide's quotas page states them, and the messages.

The oracle is the guide's text written here (200, 100, 255, 20,000, 10; /27 and 20 addresses),
not the module's constants: a figure mistyped in ``quotas.py`` fails here.
"""

from __future__ import annotations

import pytest

from constructs_cvpn import quotas
from constructs_cvpn.handlers.pki.ledger import MAX_CRL_ENTRIES


@pytest.mark.parametrize(
    ("quota", "limit", "adjustable"),
    [
        (quotas.AUTHORIZATION_RULES, 200, True),
        (quotas.ROUTES_PER_ASSOCIATION, 100, True),
        (quotas.GROUP_ID_LENGTH, 255, False),
        (quotas.CRL_ENTRIES, 20_000, False),
        (quotas.CONCURRENT_OPERATIONS, 10, False),
    ],
    ids=lambda v: getattr(v, "id", str(v)),
)
def test_figures_are_the_guides(quota: quotas.Quota, limit: int, adjustable: bool) -> None:
    assert (quota.limit, quota.adjustable) == (limit, adjustable)
    assert quota.source.startswith("https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/")


def test_target_subnet_requirements() -> None:
    assert (quotas.TARGET_SUBNET_MIN_PREFIX, quotas.TARGET_SUBNET_FREE_ADDRESSES) == (27, 20)


def test_the_handler_enforces_the_same_crl_limit() -> None:
    """The PKI handler cannot import the CDK side; both must state the one quota."""
    assert quotas.CRL_ENTRIES.limit == MAX_CRL_ENTRIES


def test_at_the_limit_is_fine_one_over_is_not() -> None:
    assert quotas.AUTHORIZATION_RULES.exceeded(200, "rules") is None
    message = quotas.AUTHORIZATION_RULES.exceeded(201, "authorization rules")
    assert message is not None
    assert "authorization rules: 201" in message
    assert '"Authorization rules per Client VPN endpoint" (200)' in message
    assert "raised" in message


def test_a_fixed_quota_says_aws_does_not_raise_it() -> None:
    message = quotas.GROUP_ID_LENGTH.exceeded(256, "group_id length")
    assert message is not None
    assert "does not raise" in message
    assert "(255)" in message
