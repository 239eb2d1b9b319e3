"""The CA secret's resource policy (the guard), written by the CA handler.

Two explicit Deny statements, so that no identity policy in the account, however broad, reaches
the CA key (Secrets Manager user guide, "Resource-based policies"; an explicit deny overrides
any allow, IAM "Policy evaluation logic"):

- :data:`GUARDED_ACTIONS` (the value) to every principal but the reader roles;
- :data:`ADMIN_ACTIONS` (deleting the secret, replacing or removing this policy) to every
  principal but ``GuardAdminArns``: the CA handler role and the break-glass principal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .aws import client
from .props import get_str_list

__all__ = ["ADMIN_ACTIONS", "GUARDED_ACTIONS", "admins", "guard"]

GUARDED_ACTIONS = (
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
)
"""What the secret's resource policy denies to every principal but the reader roles."""
ADMIN_ACTIONS = (
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:DeleteResourcePolicy",
)
"""What it denies to every principal but ``GuardAdminArns``."""


def admins(props: Mapping[str, Any], readers: list[str]) -> list[str]:
    """``GuardAdminArns``, or the readers when the property is absent."""
    return get_str_list(props, "GuardAdminArns") if "GuardAdminArns" in props else readers


def guard(secret_arn: str, readers: list[str], administrators: list[str]) -> None:
    """Deny the secret's value to every principal that is not one of ``readers``, and its
    deletion and resource policy to every principal that is not one of ``administrators``."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyTheClientVpnPkiHandlers",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(GUARDED_ACTIONS),
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": readers}},
            },
            {
                "Sid": "OnlyTheCaHandlerAndBreakGlassAdminister",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(ADMIN_ACTIONS),
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": administrators}},
            },
        ],
    }
    client("secretsmanager").put_resource_policy(
        SecretId=secret_arn, ResourcePolicy=json.dumps(policy), BlockPublicPolicy=True
    )
