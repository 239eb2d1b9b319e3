"""Client VPN's quotas that ``ClientVpn`` checks at synth time, each with its source.

A quota AWS does not raise is a ``ClientVpnConfigError``; a default quota that can be raised
is an annotation warning (``constructs-cvpn:quota<Id>``): the deploy fails unless the
account's quota was raised first (Service Quotas, service "Amazon EC2").

Sources: the AWS Client VPN administrator guide, "AWS Client VPN quotas"
(https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/limits.html) and "Client VPN target
network requirements" (.../clientvpn-admin/cvpn-working-target.html).
"""

from __future__ import annotations

from dataclasses import dataclass

LIMITS_PAGE = "https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/limits.html"
TARGET_NETWORKS_PAGE = (
    "https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/cvpn-working-target.html"
)


@dataclass(frozen=True)
class Quota:
    """One limit: AWS's name for it, its default value, whether AWS raises it, and the source.

    ``id`` is the suffix of the warning id (``constructs-cvpn:quota<id>``) for an adjustable
    quota.
    """

    id: str
    name: str
    limit: int
    adjustable: bool
    source: str

    def exceeded(self, count: int, what: str) -> str | None:
        """A sentence naming this quota when ``count`` is over it, else ``None``."""
        if count <= self.limit:
            return None
        if self.adjustable:
            return (
                f'{what}: {count}, over the default quota "{self.name}" ({self.limit}); the '
                "deploy fails unless the quota is raised first (Service Quotas, Amazon EC2) "
                f"[{self.source}]"
            )
        return (
            f'{what}: {count}, over the quota "{self.name}" ({self.limit}), which AWS does '
            f"not raise [{self.source}]"
        )


AUTHORIZATION_RULES = Quota(
    id="AuthorizationRules",
    name="Authorization rules per Client VPN endpoint",
    limit=200,
    adjustable=True,
    source=LIMITS_PAGE,
)
"""Counted per endpoint; for dual-stack endpoints IPv4 and IPv6 rules share it."""

ROUTES_PER_ASSOCIATION = Quota(
    id="RoutesPerAssociation",
    name="Routes per Client VPN target network association",
    limit=100,
    adjustable=True,
    source=LIMITS_PAGE,
)
"""Counted per association: ``add_route`` without a subnet adds one route through each
associated subnet, so each association carries every such route. For a transit gateway
endpoint (routes have no target subnet) every route counts against each AZ association."""

GROUP_ID_LENGTH = Quota(
    id="GroupIdLength",
    name="Maximum length of a group ID (users and groups quotas)",
    limit=255,
    adjustable=False,
    source=LIMITS_PAGE,
)
"""Characters of an authorization rule's ``group_id`` (AD group SID or SAML group name)."""

CRL_ENTRIES = Quota(
    id="CrlEntries",
    name="Entries in a client certificate revocation list for Client VPN endpoints",
    limit=20_000,
    adjustable=False,
    source=LIMITS_PAGE,
)
"""Not checked at synth: revocations accumulate at run time. The generated PKI's users handler
enforces it (``handlers/pki/ledger.py`` ``MAX_CRL_ENTRIES``, kept equal by a test), and
``ClientVpn`` takes at most ``pki.MAX_USERS`` current users, far below it."""

CONCURRENT_OPERATIONS = Quota(
    id="ConcurrentOperations",
    name="Concurrent operations per Client VPN endpoint",
    limit=10,
    adjustable=False,
    source=LIMITS_PAGE,
)
"""Not a count of resources: ``ClientVpn`` chains rules and routes into lanes so that
CloudFormation never runs more than this many changes at once (``MAX_CONCURRENT_MUTATIONS``)."""

TARGET_SUBNET_MIN_PREFIX = 27
"""A target subnet needs "a CIDR block with at least a /27 bitmask" [cvpn-working-target]."""

TARGET_SUBNET_FREE_ADDRESSES = 20
"""... and "at least 20 available IP addresses at all times" [cvpn-working-target]: not
knowable at synth time (other interfaces use the subnet), so documented, not checked."""
