"""The attributes README.md lists on a ``ClientVpn`` ("Attributes: ..."): each readable as a
value, and the PKI's present with the generated PKI only, ``None`` with given certificates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2

from constructs_cvpn import ClientVpn
from constructs_cvpn.pki import CertificateAuthority
from constructs_cvpn.user_certificates import UserCertificates

README = Path(__file__).resolve().parents[1] / "README.md"
SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
PKI_ATTRIBUTES = ("certificate_authority", "user_certificates", "expiry_alarm", "ca_expiry_alarm")


def _readme_attributes() -> list[str]:
    """The names in README.md's paragraph that starts "Attributes:" (up to "Methods:")."""
    text = README.read_text()
    paragraph = text[text.index("\nAttributes: ") : text.index("\nMethods: ")]
    return [name for name in re.findall(r"`(\w+)`", paragraph) if name != "None"]


def _vpn(**props: object) -> ClientVpn:
    stack = Stack(App(context={"cvpn:skipBundling": True}), "Attrs")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    return ClientVpn(stack, "Vpn", vpc=vpc, cidr="10.100.0.0/22", **props)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def generated() -> ClientVpn:
    return _vpn(users=["alice"])


@pytest.fixture(scope="module")
def given() -> ClientVpn:
    return _vpn(server_certificate_arn=SERVER_ARN, client_certificate_arn=CLIENT_ARN)


def test_the_readme_lists_the_pki_attributes() -> None:
    assert set(PKI_ATTRIBUTES) <= set(_readme_attributes())


def test_every_listed_attribute_is_a_value_not_a_method(generated: ClientVpn) -> None:
    for name in _readme_attributes():
        value = getattr(generated, name)
        assert not callable(value), name


def test_the_generated_pkis_attributes_are_its_constructs(generated: ClientVpn) -> None:
    assert isinstance(generated.certificate_authority, CertificateAuthority)
    assert isinstance(generated.user_certificates, UserCertificates)
    assert isinstance(generated.expiry_alarm, cloudwatch.Alarm)
    assert isinstance(generated.ca_expiry_alarm, cloudwatch.Alarm)
    assert generated.expiry_alarm is not generated.ca_expiry_alarm


def test_given_certificates_have_no_pki_attributes(given: ClientVpn) -> None:
    for name in PKI_ATTRIBUTES:
        assert getattr(given, name) is None, name
