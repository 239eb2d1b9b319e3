"""How ``cvpn`` names a VPN in its messages: the construct path prefix of its output keys,
or, for a ``ClientVpn`` whose output keys have no prefix, its endpoint id
(``VpnOutputs.label``)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import BUCKET, ENDPOINT_ID, STACK, USER_PREFIX, FakeAws


def generated_pki_outputs(prefix: str) -> list[dict[str, str]]:
    """A generated-PKI ClientVpn: a UserConfigPrefix output and no ConfigKey."""
    return [
        {"OutputKey": f"{prefix}EndpointId1A2B3C40", "OutputValue": ENDPOINT_ID},
        {"OutputKey": f"{prefix}ConfigBucketName1A2B3C41", "OutputValue": BUCKET},
        {"OutputKey": f"{prefix}UserConfigPrefix1A2B3C43", "OutputValue": USER_PREFIX},
    ]


@pytest.mark.parametrize(
    ("prefix", "label"), [("Vpn", "Vpn"), ("OfficeVpn", "OfficeVpn"), ("", ENDPOINT_ID)]
)
def test_messages_name_the_vpn_by_prefix_else_endpoint_id(
    aws: FakeAws, prefix: str, label: str
) -> None:
    aws.expect_stack(generated_pki_outputs(prefix))

    result = aws.run("config", "get", "--stack", STACK)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"cvpn: error: VPN '{label}' in stack '{STACK}' has one ")
