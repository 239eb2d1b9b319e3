"""Custom-resource handler that exports a Client VPN client configuration to S3."""
