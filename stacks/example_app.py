"""The example app: the five example stacks and the cdk-nag packs."""

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from constructs_cvpn.nag import ClientVpnChecks

from .dual_stack_transit_gateway import DualStackTransitGatewayStack
from .generated_pki import GeneratedPkiStack
from .mutual_full_tunnel import MutualFullTunnelStack
from .office_hours import OfficeHoursStack
from .saml_split_tunnel import SamlSplitTunnelStack


def build_app(app: App) -> App:
    """Add the five example stacks and the cdk-nag packs to ``app``."""
    MutualFullTunnelStack(app, "CvpnMutualFullTunnel")
    SamlSplitTunnelStack(app, "CvpnSamlSplitTunnel")
    GeneratedPkiStack(app, "CvpnGeneratedPki")
    DualStackTransitGatewayStack(app, "CvpnDualStackTransitGateway")
    OfficeHoursStack(app, "CvpnOfficeHours")
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app), NIST80053R5Checks(app), ClientVpnChecks(app)
    )
    return app
