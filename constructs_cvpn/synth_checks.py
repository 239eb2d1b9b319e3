"""Checks of a ``ClientVpn`` that need the whole app as it is synthesized.

They run as a validation of the construct, after every aspect (``Tags.of``) has run and
after the app had its chance to call ``add_authorization_rule``, ``add_route`` and
``add_user``:

- a Client VPN rule or route of this endpoint that ``ClientVpn`` did not make (the L2's
  ``ec2.ClientVpnAuthorizationRule`` / ``ec2.ClientVpnRoute`` given the ``ClientVpn``,
  ``vpn.endpoint.add_route`` / ``add_authorization_rule``, an L1) is refused, naming the
  method to use: such a rule opens no egress in the endpoint's security group (clients are
  authorized and reach nothing), such a route waits for no association (the deploy can
  fail) and neither joins the lanes that keep within Client VPN's 10 concurrent changes;
- a tag that reaches the endpoint from an enclosing scope (``Tags.of(stack)``, the ``Name``
  tag a ``Vpc`` gives everything under it) warns ``constructs-cvpn:inheritedTag``, naming
  the tag and the scope: the endpoint takes tags only at creation (``TagSpecifications``
  is create-only), so changing that tag there replaces the endpoint;
- a VPN nobody can use warns: ``constructs-cvpn:noUsers`` (the generated PKI and no user:
  nobody has a certificate), ``constructs-cvpn:noAuthorizationRule`` (users and no rule:
  connected clients reach nothing), ``constructs-cvpn:routeNotAuthorized`` (a route whose
  destination no rule overlaps: AWS sends traffic there only for authorized clients, admin
  guide "Routes");
- an info annotation states the VPN's monthly fixed cost (``cost.MonthlyCost``), with the
  price it uses, its source and date, in every app's synth output.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jsii
from aws_cdk import Annotations, Aspects, Reference, Tag, TagManager, Tokenization
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, IValidation

from .cost import MonthlyCost
from .errors import ClientVpnConfigError
from .tokens import LOOKUP_PLACEHOLDER_CIDR, known


@dataclass(frozen=True)
class Built:
    """What the rooms of one ``ClientVpn`` made, read when the checks run."""

    endpoint: ec2.CfnClientVpnEndpoint
    own_resources: set[str]
    tags: TagManager
    given_tags: frozenset[str]
    rule_cidrs: list[str]
    route_cidrs: list[str]
    users: Callable[[], Iterable[str]]
    generated_pki: bool
    monthly_cost: Callable[[], MonthlyCost]


@jsii.implements(IValidation)
class SynthChecks:
    """The checks above for ``vpn``; add with ``vpn.node.add_validation(SynthChecks(...))``."""

    def __init__(self, vpn: Construct, built: Built) -> None:
        self._vpn = vpn
        self._built = built

    def validate(self) -> list[str]:
        self._refuse_foreign_rules_and_routes()
        self._warn_inherited_tags()
        self._warn_unusable()
        Annotations.of(self._vpn).add_info(self._built.monthly_cost().note(self._vpn.node.path))
        return []

    # -- rules and routes made elsewhere --------------------------------------------

    def _refuse_foreign_rules_and_routes(self) -> None:
        foreign: list[str] = []
        for construct in self._vpn.node.root.node.find_all():
            if isinstance(construct, ec2.CfnClientVpnAuthorizationRule):
                method = "vpn.add_authorization_rule(cidr, group_id=... | all_users=True)"
                why = "its security group gets no egress to the destination"
            elif isinstance(construct, ec2.CfnClientVpnRoute):
                method = "vpn.add_route(cidr, subnet=...)"
                why = "it does not wait for the target network associations"
            else:
                continue
            path = construct.node.path
            if path in self._built.own_resources or not self._targets_us(
                construct.client_vpn_endpoint_id
            ):
                continue
            owner = construct.node.scope  # the L2 rule or route whose resource this is
            child = owner.node.default_child if owner is not None else None
            if owner is not None and child is not None and child.node.path == path:
                path = owner.node.path
            foreign.append(f"{path} ({why}): use {method}")
        if foreign:
            raise ClientVpnConfigError(
                self._vpn.node.path,
                "authorization_rules/routes",
                "rules and routes of this endpoint must be added through the ClientVpn, which "
                "opens the security group's egress, waits for the associations and keeps "
                "within Client VPN's concurrent changes; made elsewhere: " + "; ".join(foreign),
            )

    def _targets_us(self, endpoint_id: str) -> bool:
        token = Tokenization.reverse_string(endpoint_id).first_token
        return isinstance(token, Reference) and token.target.node.path == (
            self._built.endpoint.node.path
        )

    # -- tags from enclosing scopes ---------------------------------------------------

    def _warn_inherited_tags(self) -> None:
        inherited = sorted(set(self._built.tags.tag_values()) - self._built.given_tags)
        for key in inherited:
            source = self._tag_source(key)
            if source is None:
                continue
            Annotations.of(self._vpn).add_warning_v2(
                "constructs-cvpn:inheritedTag",
                f"the endpoint carries tag {key!r} from {source} (Tags.of on an enclosing "
                "scope): the endpoint takes tags only at creation, so changing or removing "
                "that tag there replaces the endpoint (new id and DNS name, every .ovpn "
                "handed out stops working). Keep it stable, or keep it off the endpoint: "
                f"Tags.of(scope).add({key!r}, value, exclude_resource_types="
                '["AWS::EC2::ClientVpnEndpoint"])',
            )

    def _tag_source(self, key: str) -> str | None:
        """The nearest enclosing scope whose ``Tags.of`` set ``key`` (the construct's own
        and its children's tags are the user's choice here: none)."""
        for scope in reversed(self._vpn.node.scopes[:-1]):
            for aspect in Aspects.of(scope).all:
                if isinstance(aspect, Tag) and aspect.key == key:
                    return scope.node.path or "the app"
        return None

    # -- VPNs nobody can use ----------------------------------------------------------

    def _warn_unusable(self) -> None:
        built = self._built
        users = list(built.users())
        if built.generated_pki and not users:
            self._warn(
                "noUsers",
                "the generated PKI issues a certificate only to each user, and there is "
                "none: nobody can connect. Pass users=[...] or call vpn.add_user(name)",
            )
        if users and not built.rule_cidrs:
            self._warn(
                "noAuthorizationRule",
                f"{len(users)} user(s) and no authorization rule: connected clients reach "
                "nothing. Add authorization_rules=[AuthorizationRule(cidr=..., all_users=True)]"
                ", vpn.add_authorization_rule(...) or authorize_all_users_to_vpc_cidr=True",
            )
        for cidr in dict.fromkeys(built.route_cidrs):
            if not any(_overlap(cidr, rule) for rule in built.rule_cidrs):
                self._warn(
                    "routeNotAuthorized",
                    f"the route to {cidr} has no authorization rule for any part of it: "
                    "Client VPN lets no client use it. Add a rule for it (or for the part "
                    "clients may reach), or remove the route",
                )

    def _warn(self, id_: str, message: str) -> None:
        Annotations.of(self._vpn).add_warning_v2(f"constructs-cvpn:{id_}", message)


def _overlap(route: str, rule: str) -> bool:
    """True when the two destinations share addresses. A value not known yet (a token, or
    ``Vpc.from_lookup``'s placeholder CIDR before the lookup) is given the benefit of the
    doubt; every other destination was checked to be a network when it was added."""
    if not all(known(c) and c != LOOKUP_PLACEHOLDER_CIDR for c in (route, rule)):
        return True
    a, b = ipaddress.ip_network(route), ipaddress.ip_network(rule)
    return a.version == b.version and a.overlaps(b)
