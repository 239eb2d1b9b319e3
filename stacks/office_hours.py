"""Example (e): an off-hours schedule: associated on weekdays 07:00-20:00 in Berlin.

Mutual authentication with the certificates of ``cdk.json`` (as example (a)) and full tunnel
with internet access, but the two associations and their routes exist only in office hours:
65 of 168 hours a week, 61 % fewer association-hours (``make synth`` prints both). Outside
them the endpoint is ``pending-associate``: ``cvpn wake --stack CvpnOfficeHours --for 2h``
associates it for two hours; ``cvpn status`` shows the phase and the next change.
"""

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from constructs_cvpn import AuthorizationRule, ClientVpn, OfficeHours

from .network import example_vpc


class OfficeHoursStack(Stack):
    """Every certificate holder reaches the VPC and the internet, in office hours."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = example_vpc(self)
        ctx = self.node.get_context
        self.vpn = ClientVpn(
            self,
            "Vpn",
            vpc=vpc,
            cidr="10.160.0.0/22",
            server_certificate_arn=ctx("cvpn:serverCertificateArn"),
            client_certificate_arn=ctx("cvpn:clientCertificateArn"),
            authorization_rules=[
                AuthorizationRule(
                    cidr=vpc.vpc_cidr_block, all_users=True, description="The whole VPC"
                )
            ],
            internet_access=True,
            schedule=OfficeHours(
                time_zone="Europe/Berlin", days="MON-FRI", start="07:00", stop="20:00"
            ),
        )
