"""The handlers' log levels, set by each handler's ``index`` module at import.

INFO for the handler's own package (``handlers.pki`` in the asset, ``constructs_cvpn.handlers.
pki`` in tests) and the shared module that answers CloudFormation, nothing else: no logger
depends on which index module a process imported first. The AWS SDK's loggers stay at
WARNING even when the function's (or the root) log level is DEBUG: botocore and urllib3 log
request headers and bodies there (private keys in ImportCertificate, PutSecretValue and
PutObject; the exported ``.ovpn``).
"""

from __future__ import annotations

import logging

from . import cloudformation

__all__ = ["SDK_LOGGERS", "set_levels"]

SDK_LOGGERS = ("boto3", "botocore", "urllib3", "s3transfer")


def set_levels(package: str) -> None:
    """INFO for ``package`` and the CloudFormation answerer; WARNING for the SDK."""
    for name in (package, cloudformation.__name__):
        logging.getLogger(name).setLevel(logging.INFO)
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
