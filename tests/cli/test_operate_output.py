"""What ``cvpn revoke`` and ``cvpn rotate`` print without ``--json``.

The oracle is the README's "Revoke or rotate one person now" example; the function's result
(``handlers/pki/revoke_now.py``: ``CrlImported`` is false when no import was needed, the CRL
in force already listing the serials) is stubbed as in ``tests/cli/test_revoke.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.conftest import REGION, STACK
from tests.cli.test_revoke import REVOKED, LambdaAws, expect_invoke

REVOKE_LINE = (
    "Revoked alice on cvpn-endpoint-0123456789abcdef0: certificates 0a1b, 0c2d; CRL imported; "
    "1 session(s) ended; 2 file version(s) deleted."
)


@pytest.fixture
def laws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaAws]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    fake = LambdaAws()
    yield fake
    for stub in (fake.cfn_stub, fake.sts_stub, fake.lambda_stub):
        stub.assert_no_pending_responses()


def test_revoke_prints_the_readme_lines(laws: LambdaAws) -> None:
    expect_invoke(laws, REVOKED)
    result = laws.run("revoke", "--stack", STACK, "--user", "alice", "--reason", "lost laptop")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        REVOKE_LINE,
        "alice stays blocked while listed in the app: 'cvpn rotate' issues a new certificate; "
        "removing the name ends the block.",
    ]


def test_rotate_prints_the_readme_lines(laws: LambdaAws) -> None:
    expect_invoke(laws, {**REVOKED, "Action": "rotate", "NewSerial": "5f2e8a41c0d9"})
    result = laws.run("rotate", "--stack", STACK, "--user", "alice", "--reason", "new laptop")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        REVOKE_LINE,
        "Issued alice a new certificate (5f2e8a41c0d9): "
        "cvpn config get --stack VpnStack --user alice",
    ]


def test_a_crl_already_in_force_is_said_so(laws: LambdaAws) -> None:
    """Nothing left to revoke, no import: the CRL in force already blocks the user."""
    expect_invoke(
        laws,
        {
            **REVOKED,
            "RevokedSerials": [],
            "CrlImported": False,
            "SessionsEnded": 0,
            "FileVersionsDeleted": 0,
        },
    )
    result = laws.run("revoke", "--stack", STACK, "--user", "alice", "--reason", "again")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Revoked alice on cvpn-endpoint-0123456789abcdef0: certificates none left to revoke; "
        "CRL already in force; 0 session(s) ended; 0 file version(s) deleted."
    )
