"""cdk-nag 3 rule pack for AWS Client VPN.

Usage::

    from aws_cdk import Acknowledgment, App, Validations
    from constructs_cvpn.nag import ClientVpnChecks

    app = App()
    ...  # your stacks
    Validations.of(app).add_plugins(ClientVpnChecks(app))
    Validations.of(endpoint).acknowledge(
        Acknowledgment(id="ClientVpn-SplitTunnel", reason="split tunnel is intended")
    )
"""

from constructs_cvpn.nag.pack import ClientVpnChecks
from constructs_cvpn.nag.rules import ALL_RULES, PACK_NAME, ClientVpnRule

__all__ = ["ALL_RULES", "PACK_NAME", "ClientVpnChecks", "ClientVpnRule"]
