"""Example (c): no certificate ARNs at all: a generated PKI and three users.

Each user's ready-to-import file is ``<prefix>/<endpoint-id>/users/<name>.ovpn`` in the
config bucket (``cvpn config get --stack CvpnGeneratedPki --user alice``). Remove a name
and deploy: that user's certificate is revoked on the endpoint and their file deleted.
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
