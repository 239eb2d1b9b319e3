"""Device posture and the Cedar authorization policy (``ClientVpn(device_trust_providers=...,
authorization_policy=...)``).

Facts (admin guide, "Device posture": device-posture-concepts.html,
device-posture-policies-cedar.html, device-posture-step2.html, step3; EC2 API reference;
CloudFormation ``AWS::EC2::ClientVpnEndpoint`` ``AuthorizationPolicy``/``DevicePostureOptions``):

- Device trust providers: ``crowdstrike``, ``jamf`` or ``jumpcloud``; "one or more" per
  endpoint; each needs a tenant id. ``DevicePostureOptions.Enabled`` "must be set to true to
  turn on device posture".
- One authorization policy per endpoint, written in Cedar. "A connection is allowed only if it
  satisfies at least one permit statement and is not matched by any forbid statement": a
  policy without ``permit`` denies every connection.
- Shadow mode: "Client VPN evaluates the policy and records the decision in your connection
  logs, but never blocks a connection" (``ShadowMode`` ``enabled``/``disabled``, default
  disabled).
- The policy's context: device signals under ``context.crowdstrike.*``, ``context.jamf.*``,
  ``context.jumpcloud.*``; the user under ``context.saml.*``, ``context.active-directory.*`` or
  ``context.mutual-authentication.*``; ``context.connection.*`` always.
- ``ConnectionLogOptions.IncludeAuthorizationPolicyContext`` adds that evaluation context to
  the connection logs.
- None of these properties is create-only: changing them updates the endpoint in place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRUST_PROVIDER_TYPES = ("crowdstrike", "jamf", "jumpcloud")
"""``ClientVpnDeviceTrustProviderType`` in the EC2 API."""


@dataclass(frozen=True)
class DeviceTrustProvider:
    """A device trust vendor whose posture token Client VPN evaluates.

    Attributes:
        type: ``"crowdstrike"``, ``"jamf"`` or ``"jumpcloud"``.
        tenant_id: your tenant (account) id with that vendor.
        public_signing_key_url: HTTPS URL of the key that signs the vendor's posture token.
            Default: none (the vendor's default).
    """

    type: str
    tenant_id: str
    public_signing_key_url: str | None = None


@dataclass(frozen=True)
class AuthorizationPolicy:
    """The endpoint's Cedar authorization policy, from text or from a file.

    Use ``AuthorizationPolicy.from_text(...)`` or ``AuthorizationPolicy.from_file(...)``.

    Attributes:
        text: the Cedar policy.
        file: a file holding it, read at synth time (relative to the working directory of
            the synthesis, like ``Code.from_asset``).
        shadow_mode: evaluate the policy and log the decision without blocking anyone: the
            way to try a policy on real traffic before enforcing it. Default: False
            (enforced).
        description: shown by ``get-client-vpn-endpoint-authorization-policy``.
            Default: none.
    """

    text: str | None = None
    file: str | os.PathLike[str] | None = None
    shadow_mode: bool = False
    description: str | None = None

    @classmethod
    def from_text(
        cls, text: str, *, shadow_mode: bool = False, description: str | None = None
    ) -> AuthorizationPolicy:
        """A policy given inline."""
        return cls(text=text, shadow_mode=shadow_mode, description=description)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        shadow_mode: bool = False,
        description: str | None = None,
    ) -> AuthorizationPolicy:
        """A policy kept in a ``.cedar`` file next to your app."""
        return cls(file=path, shadow_mode=shadow_mode, description=description)


def trust_providers(providers: Sequence[DeviceTrustProvider]) -> None:
    """Known types, a tenant each, HTTPS key URLs, no provider twice."""
    seen: set[tuple[str, str]] = set()
    for provider in providers:
        if provider.type not in TRUST_PROVIDER_TYPES:
            raise ValueError(
                f"trust provider type {provider.type!r} is not one Client VPN supports; use "
                + ", ".join(repr(t) for t in TRUST_PROVIDER_TYPES)
            )
        if not provider.tenant_id.strip():
            raise ValueError(f"the {provider.type} trust provider has an empty tenant_id")
        url = provider.public_signing_key_url
        if url is not None and not url.startswith("https://"):
            raise ValueError(
                f"public_signing_key_url {url!r} of the {provider.type} trust provider must be "
                "an https:// URL"
            )
        key = (provider.type, provider.tenant_id)
        if key in seen:
            raise ValueError(f"lists the {provider.type} tenant {provider.tenant_id!r} twice")
        seen.add(key)


def policy_text(policy: AuthorizationPolicy) -> str:
    """The policy's Cedar text: given inline or read from its file; exactly one of the two."""
    if (policy.text is None) == (policy.file is None):
        raise ValueError(
            "give the policy as text or as a file, not both and not neither "
            "(AuthorizationPolicy.from_text / AuthorizationPolicy.from_file)"
        )
    if policy.text is not None:
        return policy.text
    assert policy.file is not None
    path = Path(policy.file)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(
            f"the policy file {str(path)!r} does not exist (relative paths are read from "
            f"{os.getcwd()})"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(
            f"the policy file {str(path)!r} cannot be read as UTF-8 text: {err}"
        ) from None


_COMMENT = re.compile(r"//[^\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_PERMIT = re.compile(r"\bpermit\s*\(")
_CONTEXT_NAMESPACE = re.compile(r"\bcontext\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")


def _code(text: str) -> str:
    """Cedar text without comments and string literals (which may hold any word)."""
    return _COMMENT.sub("", _STRING.sub('""', text))


def policy_document(text: str) -> None:
    """A policy that can allow someone: it has at least one ``permit`` statement."""
    if not text.strip():
        raise ValueError("the policy is empty; write at least one Cedar permit statement")
    if not _PERMIT.search(_code(text)):
        raise ValueError(
            "the policy has no permit statement, so Client VPN would deny every connection "
            "(a connection needs at least one matching permit); add one, e.g. "
            "permit(principal, action, resource) when { context.crowdstrike.assessment.overall "
            "> 50 };"
        )


def unconfigured_providers(text: str, providers: Sequence[DeviceTrustProvider]) -> list[str]:
    """Device-signal namespaces the policy reads (``context.jamf``...) with no such provider."""
    used = set(_CONTEXT_NAMESPACE.findall(_code(text)))
    configured = {p.type for p in providers}
    return sorted(t for t in TRUST_PROVIDER_TYPES if t in used and t not in configured)


def device_posture_options(providers: Sequence[DeviceTrustProvider]) -> dict[str, Any]:
    """``DevicePostureOptions`` as CloudFormation takes it."""
    rendered = []
    for provider in providers:
        entry = {"TrustProviderType": provider.type, "TenantId": provider.tenant_id}
        if provider.public_signing_key_url is not None:
            entry["PublicSigningKeyUrl"] = provider.public_signing_key_url
        rendered.append(entry)
    return {"Enabled": True, "TrustProviders": rendered}


def authorization_policy(policy: AuthorizationPolicy, text: str) -> dict[str, Any]:
    """``AuthorizationPolicy`` as CloudFormation takes it (``ShadowMode`` always explicit)."""
    rendered: dict[str, Any] = {
        "PolicyDocument": text,
        "ShadowMode": "enabled" if policy.shadow_mode else "disabled",
    }
    if policy.description is not None:
        rendered["Description"] = policy.description
    return rendered
