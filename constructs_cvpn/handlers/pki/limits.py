"""What the PKI handlers accept, shared with the construct (which checks it at synth).

No imports beyond the standard library: the construct reads these without loading
``cryptography`` or ``boto3``, which only the Lambda (and the ``cvpn`` command) need.
"""

from __future__ import annotations

import re

__all__ = ["MAX_USERS", "USER_NAME_PATTERN"]

USER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
"""A safe user name: 1-64 characters, letters, digits, ``.``, ``_`` and ``-``, starting with a
letter or digit. It is used as the certificate CN and as a file name (``<name>.ovpn``), so
no slashes, spaces or leading dots (no ``..`` path escape) are allowed."""

MAX_USERS = 2000
"""Upper bound on ``Users``: all of them new (one RSA key each, ~50 ms on one vCPU) fits in a
few minutes of the 12-minute handler (see bench/DAY_TWO.md)."""
