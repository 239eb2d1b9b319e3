"""``UsersProps.parse``: the users resource's properties at the edges of their ranges.

Oracle: the property list in ``handlers/pki/users.py``'s docstring (``ClientValidityDays``
1-3650, ``RenewBeforeDays`` 0-3650, defaults 825 and 30; duplicates ignored) and the README
("one certificate and ``.ovpn`` per user, at most 2000").
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_cvpn.handlers.pki.props import PropertyError
from constructs_cvpn.handlers.pki.users import UsersProps


def _props(**extra: Any) -> dict[str, Any]:
    return {
        "EndpointId": "cvpn-endpoint-0123456789abcdef0",
        "Users": ["alice"],
        "Bucket": "configs",
        "KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k",
        "CaSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ca-AbCdEf",
        "StateKey": "state.json",
        **extra,
    }


def test_defaults() -> None:
    p = UsersProps.parse(_props())
    assert (p.client_days, p.renew_before, p.prefix, p.block_ipv6_leak) == (825, 30, "", False)


@pytest.mark.parametrize(
    ("name", "accepted", "refused"),
    [
        ("ClientValidityDays", ["1", "3650"], ["0", "3651"]),
        ("RenewBeforeDays", ["0", "3650"], ["-1", "3651"]),
    ],
)
def test_day_counts_take_both_ends_of_their_range_and_nothing_past(
    name: str, accepted: list[str], refused: list[str]
) -> None:
    field = {"ClientValidityDays": "client_days", "RenewBeforeDays": "renew_before"}[name]
    for value in accepted:
        assert getattr(UsersProps.parse(_props(**{name: value})), field) == int(value)
    for value in refused:
        with pytest.raises(PropertyError, match=name):
            UsersProps.parse(_props(**{name: value}))


def test_at_most_2000_users_duplicates_not_counted() -> None:
    names = [f"user{i:04d}" for i in range(2000)]
    assert len(UsersProps.parse(_props(Users=[*names, names[0]])).users) == 2000
    with pytest.raises(PropertyError, match="2001 names; at most 2000"):
        UsersProps.parse(_props(Users=[*names, "one-more"]))
