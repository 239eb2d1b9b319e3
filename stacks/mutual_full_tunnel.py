"""Example (a): mutual (certificate) authentication, full tunnel, internet through the VPN.

Context (cdk.json, override with ``-c key=value``):
``cvpn:serverCertificateArn``, ``cvpn:clientCertificateArn`` and
``cvpn:clientCredentialsSecretArn`` (the client certificate and key the exported .ovpn
carries: SecretString ``{"certificate": "<PEM>", "private_key": "<PEM>"}``).
"""

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_cvpn import AuthorizationRule, ClientVpn

from .network import example_vpc


class MutualFullTunnelStack(Stack):
    """Every certificate holder reaches the VPC and, through the VPN, the internet."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = example_vpc(self)
        ctx = self.node.get_context
        self.vpn = ClientVpn(
            self,
            "Vpn",
            vpc=vpc,
            cidr="10.100.0.0/22",
            server_certificate_arn=ctx("cvpn:serverCertificateArn"),
            client_certificate_arn=ctx("cvpn:clientCertificateArn"),
            client_credentials_secret=secretsmanager.Secret.from_secret_complete_arn(
                self, "ClientCredentials", ctx("cvpn:clientCredentialsSecretArn")
            ),
            dns_servers=["10.0.0.2"],
            authorization_rules=[
                AuthorizationRule(
                    cidr=vpc.vpc_cidr_block, all_users=True, description="The whole VPC"
                )
            ],
            internet_access=True,
        )
