"""Output-key parsing: CDK output keys -> one VpnOutputs per ClientVpn construct."""

from __future__ import annotations

import pytest

from constructs_cvpn.cli.discovery import VpnOutputs, parse_outputs, select_vpn
from constructs_cvpn.cli.errors import NotFoundError, UsageError


def out(key: str, value: str) -> dict[str, str]:
    """One stack output."""
    return {"OutputKey": key, "OutputValue": value}


def test_groups_outputs_by_construct_path_prefix() -> None:
    vpns = parse_outputs(
        "S",
        [
            out("NetworkOfficeVpnEndpointIdA1B2C3D4", "cvpn-endpoint-1"),
            out("NetworkOfficeVpnConfigBucketName0F0F0F0F", "bucket-1"),
            out("NetworkOfficeVpnConfigKey12345678", "client-config/cvpn-endpoint-1/client.ovpn"),
            out("NetworkOfficeVpnUserConfigPrefixABCDEF01", "client-config/cvpn-endpoint-1/users/"),
            out("LabEndpointId00000000", "cvpn-endpoint-2"),
            out("LabConfigBucketNameFFFFFFFF", "bucket-2"),
        ],
    )

    assert vpns == {
        "Lab": VpnOutputs("S", "Lab", "cvpn-endpoint-2", "bucket-2", None, None),
        "NetworkOfficeVpn": VpnOutputs(
            "S",
            "NetworkOfficeVpn",
            "cvpn-endpoint-1",
            "bucket-1",
            "client-config/cvpn-endpoint-1/client.ovpn",
            "client-config/cvpn-endpoint-1/users/",
        ),
    }


def test_prefix_may_contain_output_names() -> None:
    vpns = parse_outputs(
        "S",
        [
            out("ConfigKeyVpnEndpointIdDEADBEEF", "cvpn-endpoint-3"),
            out("ConfigKeyVpnConfigKeyDEADBEEF", "k"),
        ],
    )

    assert list(vpns) == ["ConfigKeyVpn"]
    assert vpns["ConfigKeyVpn"].config_key == "k"


@pytest.mark.parametrize(
    "key",
    [
        "VpnEndpointId",  # no hash
        "VpnEndpointIdabcdef12",  # lowercase hash
        "VpnEndpointId1A2B3C4",  # seven hex digits
        "Vpn-EndpointId1A2B3C4D",  # non-alphanumeric prefix
        "VpnEndpointIdentifier1A2B3C4D",
    ],
)
def test_ignores_keys_that_are_not_clientvpn_outputs(key: str) -> None:
    assert parse_outputs("S", [out(key, "cvpn-endpoint-1")]) == {}


def test_groups_without_endpoint_id_are_ignored() -> None:
    assert parse_outputs("S", [out("OtherConfigKey1A2B3C4D", "some/key")]) == {}


def test_outputs_of_other_constructs_anywhere_in_the_list_are_skipped() -> None:
    """A stack's other outputs come in any order: one before the VPN's must not end the scan."""
    vpns = parse_outputs(
        "S",
        [
            out("ApiUrlE1F2A3B4", "https://example.com"),
            out("VpnEndpointId0A1B2C3D", "cvpn-endpoint-1"),
            {"OutputKey": "VpnConfigBucketNameDEADBEEF"},  # no value (yet): skipped
            out("DatabaseHost5E6F7A8B", "db.internal"),
            out("VpnConfigKey9C8D7E6F", "client-config/cvpn-endpoint-1/client.ovpn"),
        ],
    )
    assert vpns == {
        "Vpn": VpnOutputs(
            "S", "Vpn", "cvpn-endpoint-1", None, "client-config/cvpn-endpoint-1/client.ovpn", None
        )
    }


def test_select_vpn() -> None:
    a = VpnOutputs("S", "Alpha", "cvpn-endpoint-a")
    b = VpnOutputs("S", "Beta", "cvpn-endpoint-b")

    assert select_vpn("S", {"Alpha": a}, None) is a
    assert select_vpn("S", {"Alpha": a, "Beta": b}, "Beta") is b
    assert select_vpn("S", {"Alpha": a, "Beta": b}, "beta") is b
    with pytest.raises(UsageError, match="holds 2 Client VPNs; choose one with --vpn: Alpha, Beta"):
        select_vpn("S", {"Beta": b, "Alpha": a}, None)
    with pytest.raises(NotFoundError, match="no Client VPN 'Gamma'; choose one of: Alpha, Beta"):
        select_vpn("S", {"Alpha": a, "Beta": b}, "Gamma")
