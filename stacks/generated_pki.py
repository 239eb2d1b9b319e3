"""Example (c): no certificate ARNs at all: a generated PKI and three users.

Each user's ready-to-import file is ``client-config/<vpn-id>/users/<name>.ovpn`` in the
config bucket, where ``<vpn-id>`` is ``Names.unique_id`` of the ``ClientVpn`` (output
``UserConfigPrefix``; ``cvpn config get --stack CvpnGeneratedPki --user alice``). The key does
not contain the endpoint id, so it survives an endpoint replacement. Remove a name and
deploy: that user's certificate is revoked on the endpoint and their file deleted.
Certificates are renewed every 12 hours by a schedule; ``self.vpn.expiry_alarm`` watches
the days left (add an SNS action to be notified).
"""

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import Construct

from constructs_cvpn import AuthorizationRule, ClientVpn

from .network import example_vpc


class GeneratedPkiStack(Stack):
    """Mutual authentication with per-user certificates; every user reaches the VPC."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = example_vpc(self)
        self.vpn = ClientVpn(
            self,
            "Vpn",
            vpc=vpc,
            cidr="10.150.0.0/22",
            split_tunnel=True,
            users=["alice", "bob", "carol"],
            authorization_rules=[
                AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True, description="VPC")
            ],
        )
        Validations.of(self.vpn).acknowledge(
            Acknowledgment(
                id="ClientVpn-SplitTunnel",
                reason="Only the VPC is meant to be reached through this VPN; users keep "
                "their own internet path.",
            )
        )
