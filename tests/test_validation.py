"""Pure unit tests of ``constructs_cvpn.validation`` (no CDK, no jsii)."""

import ipaddress

import pytest

from constructs_cvpn import validation
from constructs_cvpn.ip_address_type import IpAddressType

ACM_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"


class TestIpv4Network:
    def test_parses_a_cidr_block(self) -> None:
        assert validation.ipv4_network("10.0.0.0/16") == ipaddress.IPv4Network("10.0.0.0/16")

    @pytest.mark.parametrize("value", ["0.0.0.0/0", "10.0.0.1/32"])
    def test_accepts_the_extreme_prefix_lengths(self, value: str) -> None:
        assert str(validation.ipv4_network(value)) == value

    def test_rejects_a_bare_address(self) -> None:
        with pytest.raises(ValueError, match=r"'10\.0\.0\.1' is not a CIDR block; write it as"):
            validation.ipv4_network("10.0.0.1")

    def test_rejects_host_bits(self) -> None:
        with pytest.raises(ValueError, match=r"'10\.0\.0\.1/16' is not a valid IPv4 CIDR.*host"):
            validation.ipv4_network("10.0.0.1/16")

    @pytest.mark.parametrize("value", ["10.0.0.0/33", "10.0.0.256/24", "ten/8", "fd00::/8"])
    def test_rejects_malformed_and_ipv6_blocks(self, value: str) -> None:
        with pytest.raises(ValueError, match="is not a valid IPv4 CIDR block"):
            validation.ipv4_network(value)


class TestIpNetwork:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("10.0.0.0/16", ipaddress.IPv4Network("10.0.0.0/16")),
            ("2001:db8::/32", ipaddress.IPv6Network("2001:db8::/32")),
            ("::/0", ipaddress.IPv6Network("::/0")),
            ("2001:db8:0:1::1/128", ipaddress.IPv6Network("2001:db8:0:1::1/128")),
        ],
    )
    def test_parses_both_versions(self, value: str, expected: object) -> None:
        assert validation.ip_network(value) == expected

    def test_rejects_a_bare_ipv6_address(self) -> None:
        with pytest.raises(ValueError, match=r"'2001:db8::1' is not a CIDR block; write it as an"):
            validation.ip_network("2001:db8::1")

    @pytest.mark.parametrize("value", ["2001:db8::1/32", "2001:db8::/129", "2001:db8:::/32"])
    def test_rejects_host_bits_and_malformed_ipv6(self, value: str) -> None:
        with pytest.raises(ValueError, match="is not a valid IPv6 CIDR block"):
            validation.ip_network(value)

    def test_ipv4_keeps_its_own_messages(self) -> None:
        with pytest.raises(ValueError, match="is not a valid IPv4 CIDR block"):
            validation.ip_network("10.0.0.1/16")


class TestIpAddressType:
    # The EC2 API's enum (CreateClientVpnEndpoint EndpointIpAddressType/TrafficIpAddressType).
    @pytest.mark.parametrize("value", ["ipv4", "ipv6", "dual-stack"])
    def test_accepts_the_api_values(self, value: str) -> None:
        assert validation.ip_address_type(value).value == value

    def test_accepts_the_enum(self) -> None:
        assert validation.ip_address_type(IpAddressType.DUAL_STACK) is IpAddressType.DUAL_STACK

    @pytest.mark.parametrize("value", ["dualstack", "IPv6", "both", ""])
    def test_rejects_other_spellings(self, value: str) -> None:
        with pytest.raises(ValueError, match="is not an IP address type; use IpAddressType"):
            validation.ip_address_type(value)


class TestClientCidrFor:
    @pytest.mark.parametrize("traffic", [IpAddressType.IPV4, IpAddressType.DUAL_STACK])
    def test_ipv4_and_dual_stack_need_an_ipv4_block(self, traffic: IpAddressType) -> None:
        assert validation.client_cidr_for("10.100.0.0/22", traffic) == ipaddress.IPv4Network(
            "10.100.0.0/22"
        )
        with pytest.raises(
            ValueError, match=f"is required with traffic_ip_address_type '{traffic.value}'"
        ):
            validation.client_cidr_for(None, traffic)

    def test_dual_stack_keeps_the_12_to_22_rule(self) -> None:
        with pytest.raises(ValueError, match="is a /24; Client VPN needs a block from /12"):
            validation.client_cidr_for("10.100.0.0/24", IpAddressType.DUAL_STACK)

    def test_ipv6_traffic_takes_no_client_cidr(self) -> None:
        assert validation.client_cidr_for(None, IpAddressType.IPV6) is None
        with pytest.raises(ValueError, match="Client VPN assigns the clients' IPv6 addresses"):
            validation.client_cidr_for("10.100.0.0/22", IpAddressType.IPV6)


class TestDestinationFamily:
    v4 = ipaddress.IPv4Network("10.0.0.0/16")
    v6 = ipaddress.IPv6Network("2001:db8::/32")

    def test_dual_stack_carries_both(self) -> None:
        validation.destination_family(self.v4, IpAddressType.DUAL_STACK)
        validation.destination_family(self.v6, IpAddressType.DUAL_STACK)

    def test_ipv6_destination_needs_ipv6_traffic(self) -> None:
        validation.destination_family(self.v6, IpAddressType.IPV6)
        with pytest.raises(
            ValueError,
            match="2001:db8::/32 is an IPv6 destination, but the tunnel carries IPv4 only",
        ):
            validation.destination_family(self.v6, IpAddressType.IPV4)

    def test_ipv4_destination_needs_ipv4_traffic(self) -> None:
        validation.destination_family(self.v4, IpAddressType.IPV4)
        with pytest.raises(
            ValueError, match=r"10\.0\.0\.0/16 is an IPv4 destination, but the tunnel carries IPv6"
        ):
            validation.destination_family(self.v4, IpAddressType.IPV6)


class TestClientCidr:
    @pytest.mark.parametrize("value", ["172.16.0.0/12", "10.100.0.0/16", "10.100.0.0/22"])
    def test_accepts_12_to_22(self, value: str) -> None:
        assert validation.client_cidr(value) == ipaddress.IPv4Network(value)

    @pytest.mark.parametrize(
        ("value", "prefix"),
        [("172.0.0.0/11", 11), ("10.100.0.0/23", 23), ("0.0.0.0/0", 0), ("10.0.0.0/32", 32)],
    )
    def test_rejects_prefixes_outside_12_to_22(self, value: str, prefix: int) -> None:
        with pytest.raises(ValueError, match=rf"is a /{prefix}; Client VPN needs a block from /12"):
            validation.client_cidr(value)

    def test_rejects_host_bits(self) -> None:
        with pytest.raises(ValueError, match="host bits"):
            validation.client_cidr("10.100.0.1/22")


class TestNoOverlap:
    client = ipaddress.IPv4Network("10.100.0.0/22")

    @pytest.mark.parametrize("other", ["10.0.0.0/16", "10.100.4.0/22", "10.99.252.0/22"])
    def test_accepts_disjoint_and_adjacent_blocks(self, other: str) -> None:
        validation.no_overlap(self.client, other, "VPC CIDR")

    @pytest.mark.parametrize(
        "other",
        [
            "10.100.0.0/22",  # identical
            "10.100.1.0/24",  # inside the client block
            "10.0.0.0/8",  # contains the client block
            "10.100.3.255/32",  # last address of the client block
        ],
    )
    def test_rejects_any_overlap(self, other: str) -> None:
        with pytest.raises(
            ValueError, match=rf"client CIDR 10\.100\.0\.0/22 overlaps route {other}; choose"
        ):
            validation.no_overlap(self.client, other, "route")

    def test_rejects_a_malformed_other_block(self) -> None:
        with pytest.raises(ValueError, match="is not a CIDR block"):
            validation.no_overlap(self.client, "10.0.0.0", "route")


class TestDnsServers:
    @pytest.mark.parametrize("values", [[], ["10.0.0.2"], ["10.0.0.2", "1.1.1.1"]])
    def test_accepts_up_to_two_ipv4_addresses(self, values: list[str]) -> None:
        validation.dns_servers(values)

    def test_rejects_three(self) -> None:
        with pytest.raises(ValueError, match="got 3 servers; Client VPN takes at most 2"):
            validation.dns_servers(["10.0.0.2", "1.1.1.1", "8.8.8.8"])

    @pytest.mark.parametrize("value", ["fd00::2", "10.0.0.256", "10.0.0.2/32", "dns.local"])
    def test_rejects_anything_but_an_ipv4_address(self, value: str) -> None:
        with pytest.raises(ValueError, match=rf"'{value}' is not an IPv4 address"):
            validation.dns_servers(["10.0.0.2", value])


class TestBanner:
    @pytest.mark.parametrize("length", [0, 1, 1400])
    def test_accepts_up_to_1400_characters(self, length: int) -> None:
        validation.banner("x" * length)

    def test_rejects_1401_characters(self) -> None:
        with pytest.raises(ValueError, match="is 1401 characters long; the limit is 1400"):
            validation.banner("x" * 1401)

    def test_counts_characters_not_bytes(self) -> None:
        validation.banner("é" * 1400)


class TestConnectHandlerName:
    def test_accepts_the_prefix(self) -> None:
        validation.connect_handler_name("AWSClientVPN-posture-check")

    @pytest.mark.parametrize(
        "value",
        ["posture-check", "awsclientvpn-posture", "AWSClientVPN_posture", "x-AWSClientVPN-"],
    )
    def test_rejects_other_names(self, value: str) -> None:
        with pytest.raises(ValueError, match=rf"'{value}' must start with 'AWSClientVPN-'"):
            validation.connect_handler_name(value)


class TestAcmCertificateArn:
    @pytest.mark.parametrize(
        "value",
        [
            ACM_ARN,
            "arn:aws-cn:acm:cn-north-1:111111111111:certificate/00000000-0000-4000-8000-000000000001",
            "arn:aws-us-gov:acm:us-gov-west-1:111111111111:certificate/"
            "ABCDEF00-0000-4000-8000-000000000001",
        ],
    )
    def test_accepts_acm_arns_in_every_partition(self, value: str) -> None:
        validation.acm_certificate_arn(value)

    @pytest.mark.parametrize(
        "value",
        [
            "arn:aws:iam::111111111111:server-certificate/vpn",
            "arn:aws:acm-pca:eu-west-1:111111111111:certificate-authority/"
            "00000000-0000-4000-8000-000000000001",
            "arn:aws:acm:eu-west-1:11111111111:certificate/00000000-0000-4000-8000-000000000001",
            "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-00000000001",
            "arn:aws:acm::111111111111:certificate/00000000-0000-4000-8000-000000000001",
            " " + ACM_ARN,
            "",
        ],
    )
    def test_rejects_other_arns(self, value: str) -> None:
        with pytest.raises(ValueError, match="is not an ACM certificate ARN"):
            validation.acm_certificate_arn(value)

    def test_rejects_a_trailing_newline(self) -> None:
        with pytest.raises(ValueError, match="is not an ACM certificate ARN"):
            validation.acm_certificate_arn(ACM_ARN + "\n")


class TestKeyPrefix:
    @pytest.mark.parametrize("value", ["client-config", "a/b/c", "team_1/vpn.(prod)!'"])
    def test_accepts_safe_segments(self, value: str) -> None:
        validation.key_prefix(value)

    @pytest.mark.parametrize("value", ["", "/config", "config/", "a//b", "a b", "caf\u00e9"])
    def test_rejects_unsafe_prefixes(self, value: str) -> None:
        with pytest.raises(ValueError, match="is not a usable key prefix"):
            validation.key_prefix(value)

    @pytest.mark.parametrize(
        ("value", "named"),
        [("configs*", "'*'"), ("a?b", "'?'"), ("*/x?", "'*' and '?'"), ("team/*", "'*'")],
    )
    def test_rejects_iam_wildcards(self, value: str, named: str) -> None:
        """The prefix flows into IAM ARNs and StringLike conditions, where these match more."""
        with pytest.raises(ValueError) as raised:
            validation.key_prefix(value)
        assert str(raised.value) == (
            f"{value!r} contains {named}, which would be wildcards in the IAM policies and "
            "conditions that name this prefix; use letters, digits and !_.'()-"
        )


class TestVpnPort:
    """Client VPN listens on 443 or 1194 (EC2 API reference, CreateClientVpnEndpoint VpnPort),
    a whole number."""

    @pytest.mark.parametrize("port", [443, 1194])
    def test_the_two_ports(self, port: int) -> None:
        assert validation.vpn_port(port) == port

    @pytest.mark.parametrize("port", [80, 442, 444, 1193, 1195, 443.0, "443", True])
    def test_anything_else_is_refused(self, port: object) -> None:
        with pytest.raises(ValueError, match="443 or 1194"):
            validation.vpn_port(port)  # type: ignore[arg-type]


class TestSessionTimeoutHours:
    """8, 10, 12 or 24 hours (EC2 API reference, CreateClientVpnEndpoint SessionTimeoutHours),
    given in minutes: a whole number of hours only."""

    @pytest.mark.parametrize("hours", [8, 10, 12, 24])
    def test_the_four_timeouts(self, hours: int) -> None:
        assert validation.session_timeout_hours(hours * 60) == hours

    @pytest.mark.parametrize(
        "minutes", [7 * 60, 9 * 60, 11 * 60, 13 * 60, 23 * 60, 25 * 60, 8 * 60 + 30, 90, 0]
    )
    def test_anything_else_is_refused(self, minutes: int) -> None:
        with pytest.raises(
            ValueError, match=f"{minutes} minutes is not a Client VPN session timeout"
        ):
            validation.session_timeout_hours(minutes)
