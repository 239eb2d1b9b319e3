"""Unit tests for the Lambda handlers (no CDK, no AWS account)."""
