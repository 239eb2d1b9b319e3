"""Who gets which ``.ovpn``: a ``ClientVpn``'s users and its read grants.

``ConfigAccess`` is the base of ``ClientVpn`` (over ``ClientVpnOperations``): ``add_user`` and
``user_config_key`` (generated PKI), and the grants that read exactly one file:
``grant_read_config`` (the shared file), ``grant_read_user_config`` (one user's file) and
``grant_read_own_user_config`` (each caller's own file, by session tag, for single sign-on).
The rooms that build the files and the statements are ``client_configs`` and ``grants``.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam

from .operating import ClientVpnOperations


class ConfigAccess(ClientVpnOperations):
    """The users and read grants of a ``ClientVpn`` (see there)."""

    def grant_read_config(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` download the exported ``.ovpn`` and nothing else.

        See ``grant_read_user_config`` for exactly what is granted and where.
        """
        return self._configs.grant_read_config(grantee)

    def add_user(self, name: str) -> None:
        """Give ``name`` a client certificate and their own ``.ovpn`` (generated PKI only).

        Adding a user leaves every other user's certificate and file untouched; removing
        a name from the list later revokes the certificate and deletes the file.
        """
        self._configs.add_user(name)

    def user_config_key(self, name: str) -> str:
        """The object key of ``name``'s ``.ovpn`` (generated PKI only)."""
        return self._configs.user_config_key(name)

    def grant_read_user_config(self, name: str, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` download ``name``'s ``.ovpn`` and nothing else.

        Exactly two statements: ``s3:GetObject`` on that one object's ARN, and
        ``kms:Decrypt`` on the config key only when S3 asks for it in this region
        (``kms:ViaService``) for that object (``kms:EncryptionContext:aws:s3:arn``). No
        listing, no bucket reads, no other user's file, no CA secret. (The file's older
        versions are deleted by the handler, and ``GetObject`` does not cover
        ``GetObjectVersion``.)

        For an ``iam.Role``, ``iam.User`` or ``iam.Group`` the statements go into one
        customer-managed policy per grantee and ``ClientVpn`` (a child of the grantee,
        ``ReadClientVpnConfig<vpn-id>``), so the grantee's app gets no cdk-nag finding
        for an inline policy; other principals get them in their default policy. A
        managed policy holds about 6 KB: grant one principal at most a dozen files of one
        VPN. The grantee must be in the VPN's account (the key policy trusts the
        account's IAM policies). A bucket you bring (``config_bucket``) must have S3 Bucket
        Keys off, or KMS sees the bucket's ARN as the context and the decrypt is refused.
        """
        return self._configs.grant_read_user_config(name, grantee)

    def grant_read_own_user_config(
        self, grantee: iam.IGrantable, *, principal_tag: str = "cvpn-user"
    ) -> iam.Grant:
        """Let each person behind ``grantee`` download their own ``.ovpn`` and nothing else
        (generated PKI): for single sign-on, one grant for everyone.

        The object is named by the IAM policy variable ``${aws:PrincipalTag/<principal_tag>}``:
        ``s3:GetObject`` on ``<config_base>users/${aws:PrincipalTag/cvpn-user}.ovpn`` and
        ``kms:Decrypt`` only via S3 in this region for that same object ARN
        (``kms:EncryptionContext:aws:s3:arn``; the bucket has S3 Bucket Keys off, so KMS sees
        the object's ARN). IAM substitutes the caller's tag value: a session whose tag
        ``cvpn-user`` is ``alice`` reads ``users/alice.ovpn``; a session without the tag
        reads nothing. With IAM Identity Center, map the user's name in ``users`` to the
        session tag ("attributes for access control", e.g. ``cvpn-user`` =
        ``${path:userName}``) on the permission set whose role is ``grantee``; with an
        assumed role, pass it as a session tag. Whoever can set their own tag can read that
        user's file: let only the identity provider set it. Where the statements go: as
        ``grant_read_user_config``.
        """
        return self._configs.grant_read_own_user_config(grantee, principal_tag)
