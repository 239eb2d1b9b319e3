"""constructs-cvpn: an AWS CDK construct library for AWS Client VPN."""
