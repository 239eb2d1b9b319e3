"""Device trust providers and the Cedar policy: the pure checks and the rendered properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_cvpn.posture import (
    AuthorizationPolicy,
    DeviceTrustProvider,
    authorization_policy,
    device_posture_options,
    policy_document,
    policy_text,
    trust_providers,
    unconfigured_providers,
)

PERMIT = 'permit(principal, action, resource) when { context.jamf.risk == "LOW" };'
JAMF = DeviceTrustProvider(type="jamf", tenant_id="t-1")


class TestTrustProviders:
    def test_the_three_supported_vendors_pass(self) -> None:
        trust_providers(
            [
                DeviceTrustProvider("crowdstrike", "cs"),
                DeviceTrustProvider("jamf", "j", "https://example.com/key.pem"),
                DeviceTrustProvider("jumpcloud", "jc"),
            ]
        )

    def test_unknown_vendor(self) -> None:
        with pytest.raises(ValueError, match="'intune' is not one Client VPN supports"):
            trust_providers([DeviceTrustProvider("intune", "x")])

    def test_empty_tenant(self) -> None:
        with pytest.raises(ValueError, match="jamf trust provider has an empty tenant_id"):
            trust_providers([DeviceTrustProvider("jamf", " ")])

    def test_key_url_must_be_https(self) -> None:
        with pytest.raises(ValueError, match="must be an https:// URL"):
            trust_providers([DeviceTrustProvider("jamf", "t", "http://example.com/key")])

    def test_same_tenant_twice(self) -> None:
        with pytest.raises(ValueError, match="lists the jamf tenant 't-1' twice"):
            trust_providers([JAMF, JAMF])

    def test_rendered_as_cloudformation_takes_it(self) -> None:
        assert device_posture_options(
            [JAMF, DeviceTrustProvider("crowdstrike", "cs", "https://k")]
        ) == {
            "Enabled": True,
            "TrustProviders": [
                {"TrustProviderType": "jamf", "TenantId": "t-1"},
                {
                    "TrustProviderType": "crowdstrike",
                    "TenantId": "cs",
                    "PublicSigningKeyUrl": "https://k",
                },
            ],
        }


class TestPolicyText:
    def test_inline(self) -> None:
        assert policy_text(AuthorizationPolicy.from_text(PERMIT)) == PERMIT

    def test_from_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "vpn.cedar"
        path.write_text(PERMIT, encoding="utf-8")
        assert policy_text(AuthorizationPolicy.from_file(path)) == PERMIT

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match=r"vpn\.cedar' does not exist"):
            policy_text(AuthorizationPolicy.from_file(tmp_path / "vpn.cedar"))

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "vpn.cedar"
        path.write_bytes(b"\xff\xfe permit")
        with pytest.raises(ValueError, match="cannot be read as UTF-8"):
            policy_text(AuthorizationPolicy.from_file(path))

    def test_text_and_file_together(self) -> None:
        with pytest.raises(ValueError, match="as text or as a file, not both"):
            policy_text(AuthorizationPolicy(text=PERMIT, file="vpn.cedar"))


class TestPolicyDocument:
    def test_a_permit_passes(self) -> None:
        policy_document(PERMIT + "\nforbid(principal, action, resource) when { true };")

    def test_empty(self) -> None:
        with pytest.raises(ValueError, match="the policy is empty"):
            policy_document("  \n")

    @pytest.mark.parametrize(
        "text",
        [
            'forbid(principal, action, resource) when { context.jamf.risk == "HIGH" };',
            "// permit(principal, action, resource);\nforbid(principal, action, resource);",
            'forbid(principal, action, resource) when { context.saml.name == "permit(" };',
        ],
        ids=["forbid-only", "permit-in-a-comment", "permit-in-a-string"],
    )
    def test_without_permit_everyone_is_denied(self, text: str) -> None:
        with pytest.raises(ValueError, match="would deny every connection"):
            policy_document(text)

    def test_providers_the_policy_reads_but_nobody_configured(self) -> None:
        text = (
            'permit(principal, action, resource) when { context.jamf.risk == "LOW" && '
            'context . crowdstrike.assessment.overall > 50 && context.saml.email != "" };'
        )
        assert unconfigured_providers(text, [JAMF]) == ["crowdstrike"]
        assert unconfigured_providers("// context.jumpcloud.x\n" + PERMIT, [JAMF]) == []


def test_policy_rendered_with_explicit_shadow_mode() -> None:
    assert authorization_policy(AuthorizationPolicy.from_text(PERMIT), PERMIT) == {
        "PolicyDocument": PERMIT,
        "ShadowMode": "disabled",
    }
    shadow = AuthorizationPolicy.from_text(PERMIT, shadow_mode=True, description="Jamf")
    assert authorization_policy(shadow, PERMIT) == {
        "PolicyDocument": PERMIT,
        "ShadowMode": "enabled",
        "Description": "Jamf",
    }
