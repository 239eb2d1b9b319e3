"""Certificates for AWS Client VPN mutual authentication, without easy-rsa.

Modules:

- :mod:`.certs`: pure ``cryptography`` functions (CA, server and client certificates, CRL).
- :mod:`.state`: the per-endpoint user state kept in S3 (no private keys) and the CA secret.
- :mod:`.aws`: lazily created boto3 clients (replaceable in tests).
- :mod:`.authority`: the ``Kind=Authority`` custom resource (CA, server certificate, ACM).
- :mod:`.users`: the ``Kind=Users`` custom resource (per-user keys, .ovpn files, CRL).
- :mod:`.index`: the Lambda entry point ``handlers.pki.index.on_event``.
"""
