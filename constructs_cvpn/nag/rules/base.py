"""What every Client VPN rule is: metadata for the pack plus one pure check function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cdk_nag import NagMessageLevel, NagRuleCompliance

from constructs_cvpn.nag.template import Resource, Template

PACK_NAME = "ClientVpn"
"""Prefix of every rule id (``ClientVpn-<Suffix>``) and the plugin name in validation reports."""

ENDPOINT = "AWS::EC2::ClientVpnEndpoint"
AUTHORIZATION_RULE = "AWS::EC2::ClientVpnAuthorizationRule"
LOG_GROUP = "AWS::Logs::LogGroup"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
SECURITY_GROUP_INGRESS = "AWS::EC2::SecurityGroupIngress"
VPC = "AWS::EC2::VPC"
VPC_CIDR_BLOCK = "AWS::EC2::VPCCidrBlock"

Check = Callable[[Resource, Template], NagRuleCompliance]
"""A rule body: the checked resource and its stack's template in, a compliance verdict out."""


@dataclass(frozen=True)
class ClientVpnRule:
    """A rule of the ``ClientVpn`` pack.

    ``check`` is only called for resources of ``resource_type``; it must answer
    ``NOT_APPLICABLE`` whenever a value it needs is not known at synth time.
    """

    suffix: str
    resource_type: str
    level: NagMessageLevel
    info: str
    explanation: str
    check: Check

    @property
    def rule_id(self) -> str:
        """The id shown in reports and used to acknowledge a finding."""
        return f"{PACK_NAME}-{self.suffix}"
