"""Descriptions and names that carry a construct path, fitted to what each resource takes.

A construct path has no length limit and may hold any character but ``/``; the properties
below have limits (``maxLength`` in the CloudFormation resource provider schemas, as
cfn-lint ships them), and a security group's description a set of characters. A template
past them synthesizes and fails at deploy. :func:`with_path` keeps the end of a path that
is too long (where the construct's own id is) behind ``...``.
"""

from __future__ import annotations

import re

#: ``AWS::EC2::SecurityGroup`` ``GroupDescription``: 255 characters of this set.
SECURITY_GROUP_DESCRIPTION = 255
SECURITY_GROUP_CHARACTERS = re.compile(r"[^a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]")
#: ``AWS::CloudWatch::Alarm`` ``AlarmDescription``.
ALARM_DESCRIPTION = 1024
#: ``AWS::IAM::ManagedPolicy`` ``Description``.
MANAGED_POLICY_DESCRIPTION = 1000
#: ``AWS::KMS::Key`` ``Description``.
KEY_DESCRIPTION = 8192
#: ``AWS::Scheduler::Schedule`` ``Description``.
SCHEDULE_DESCRIPTION = 512
#: ``AWS::Logs::QueryDefinition`` ``Name``.
QUERY_NAME = 255

ELLIPSIS = "..."


def with_path(text: str, path: str, limit: int) -> str:
    """``text`` with ``{path}`` replaced by ``path``, within ``limit`` characters: a path
    that does not fit loses its start (``...`` and its last characters)."""
    whole = text.replace("{path}", path)
    if len(whole) <= limit:
        return whole
    room = limit - len(text.replace("{path}", ELLIPSIS))
    return text.replace("{path}", ELLIPSIS + path[len(path) - room :])


def security_group_description(path: str, what: str) -> str:
    """``Client VPN <path>: <what>`` as EC2 takes it: 255 characters of its set (any
    other character of the path becomes ``_``)."""
    allowed = SECURITY_GROUP_CHARACTERS.sub("_", path)
    return with_path(f"Client VPN {{path}}: {what}", allowed, SECURITY_GROUP_DESCRIPTION)
