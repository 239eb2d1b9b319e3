"""Example (b): SAML federation with the self-service portal, split tunnel, group rules.

Context (cdk.json, override with ``-c key=value``): ``cvpn:serverCertificateArn``,
``cvpn:samlProviderArn``, ``cvpn:selfServiceSamlProviderArn``, ``cvpn:engineeringGroupId``,
``cvpn:opsGroupId``.
"""

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_cvpn import AuthorizationRule, ClientVpn, Route

from .network import example_vpc


class SamlSplitTunnelStack(Stack):
    """Engineering reaches the whole VPC, ops the private subnets and an on-premises range."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = example_vpc(self)
        ctx = self.node.get_context
        idp = iam.SamlProvider.from_saml_provider_arn(self, "Idp", ctx("cvpn:samlProviderArn"))
        portal_idp = iam.SamlProvider.from_saml_provider_arn(
            self, "PortalIdp", ctx("cvpn:selfServiceSamlProviderArn")
        )
        engineering = ctx("cvpn:engineeringGroupId")
        ops = ctx("cvpn:opsGroupId")
        self.vpn = ClientVpn(
            self,
            "Vpn",
            vpc=vpc,
            cidr="10.200.0.0/22",
            server_certificate_arn=ctx("cvpn:serverCertificateArn"),
            user_based_authentication=ec2.ClientVpnUserBasedAuthentication.federated(
                idp, portal_idp
            ),
            self_service_portal=True,
            split_tunnel=True,
            transport_protocol=ec2.TransportProtocol.TCP,
            dns_servers=["10.0.0.2"],
            client_login_banner="Authorized use only. Sessions are logged.",
            authorization_rules=[
                AuthorizationRule(cidr=vpc.vpc_cidr_block, group_id=engineering),
                AuthorizationRule(cidr="10.0.128.0/17", group_id=ops),
                AuthorizationRule(cidr="192.168.0.0/16", group_id=ops, description="On-premises"),
            ],
            routes=[Route(cidr="192.168.0.0/16", description="On-premises via the VPC")],
        )
        Validations.of(self.vpn).acknowledge(
            Acknowledgment(
                id="ClientVpn-SplitTunnel",
                reason="Engineers keep their own internet path; only VPC and on-premises "
                "ranges are routed through the VPN by design.",
            )
        )
