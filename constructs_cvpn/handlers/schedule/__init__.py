"""The off-hours reconciler: associations and routes of a scheduled Client VPN endpoint."""
