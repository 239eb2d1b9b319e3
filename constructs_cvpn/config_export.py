"""Client configuration export: the locked-down bucket and the custom resource.

After ``cdk deploy`` the endpoint's ready-to-import ``.ovpn`` is at
``s3://<bucket>/<prefix>/<vpn-id>/client.ovpn``, where ``<vpn-id>`` is
``Names.unique_id`` of the ``ClientVpn`` construct: the key does not change when the
endpoint is replaced (the file is re-exported in place). The handler
(``handlers/export_config``) calls ``ExportClientVpnClientConfiguration``, adds the client
certificate and key for mutual authentication, and writes the file with SSE-KMS; only the
bucket, key, version id and sha256 come back to CloudFormation. After each write it
deletes the object's older versions (they may carry a superseded key), and on Delete every
version.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .handler_function import HandlerFunction

#: How long CloudFormation waits for the custom resource before failing it.
SERVICE_TIMEOUT = Duration.minutes(5)
#: Noncurrent versions of a config file are kept this long, then expire.
NONCURRENT_VERSION_DAYS = 90


def config_bucket(scope: Construct, key: kms.IKey) -> s3.Bucket:
    """A new bucket for client configs: private, TLS-only, versioned, SSE-KMS, retained.

    S3 Bucket Keys are off on purpose: with a bucket key, S3 asks KMS for data keys with the
    encryption context ``aws:s3:arn`` = the *bucket* ARN, so a ``kms:Decrypt`` condition on
    one object's ARN (what ``grant_read_user_config`` gives) could not be expressed and a
    grant for one file would decrypt every file. Without it the context is the object ARN.
    The price: one KMS request per object read or write.

    Server access logs go to a second bucket (SSE-S3, as S3 log delivery requires), which
    keeps its logs for a year.
    """
    access_logs = s3.Bucket(
        scope,
        "ConfigAccessLogs",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=Duration.days(365),
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )
    for finding, reason in {
        "AwsSolutions-S1": "This is the access-log bucket of the config bucket; logging it "
        "into itself would loop.",
        "NIST.800.53.R5-S3BucketLoggingEnabled": "This is the access-log bucket of the config "
        "bucket; logging it into itself would loop.",
        "NIST.800.53.R5-S3DefaultEncryptionKMS": "S3 server access log delivery supports only "
        "SSE-S3 on the target bucket.",
        "NIST.800.53.R5-S3BucketReplicationEnabled": "Access logs of one bucket; cross-region "
        "replication is left to the account's backup policy.",
    }.items():
        Validations.of(access_logs).acknowledge(Acknowledgment(id=finding, reason=reason))
    bucket = s3.Bucket(
        scope,
        "ConfigBucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        # Off: the encryption context must be the object's ARN (see the docstring).
        bucket_key_enabled=False,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            s3.LifecycleRule(
                noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )
    _log_access(bucket, access_logs, prefix="config-bucket/")
    Validations.of(bucket).acknowledge(
        Acknowledgment(
            id="NIST.800.53.R5-S3BucketReplicationEnabled",
            reason="Client configs are re-created by every deployment from the endpoint; a "
            "replica would only hold copies of private keys in a second region.",
        )
    )
    return bucket


def _log_access(bucket: s3.Bucket, target: s3.Bucket, *, prefix: str) -> None:
    """Server access logging through a bucket policy (never ACLs).

    Set on the L1 so it does not depend on the app's ``@aws-cdk/aws-s3`` feature flags
    (without them the L2 falls back to log-delivery ACLs, which owner-enforced buckets
    refuse).
    """
    stack = Stack.of(bucket)
    target.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowS3ServerAccessLogs",
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[target.arn_for_objects(f"{prefix}*")],
            conditions={
                "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        )
    )
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=target.bucket_name, log_file_prefix=prefix
    )


class ConfigExport(Construct):
    """Exports one endpoint's client configuration to ``bucket`` at ``object_key``.

    Attributes:
        object_key: where the ``.ovpn`` is written.
        resource: the custom resource; ``get_att_string("Sha256")`` gives the file's hash.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_id: str,
        endpoint_arn: str,
        bucket: s3.IBucket,
        encryption_key: kms.IKey,
        object_key: str,
        log_group_name: str,
        credentials_secret: secretsmanager.ISecret | None = None,
        remote_random_label: bool = False,
        block_ipv6_leak: bool = False,
        triggers: Mapping[str, str] | None = None,
    ) -> None:
        """Create the handler, its least-privilege role and the custom resource.

        Args:
            endpoint_id: the endpoint to export.
            endpoint_arn: its ARN (the only resource the export permission names).
            bucket: where the file goes; ``encryption_key`` encrypts it (SSE-KMS).
            object_key: the object key, e.g. ``client-config/<vpn-id>/client.ovpn``; the
                handler may write, list and delete versions of this one object only.
            log_group_name: the handler's log group name.
            credentials_secret: mutual auth: a secret whose SecretString is
                ``{"certificate": "<PEM>", "private_key": "<PEM>"}``; both are inlined.
            remote_random_label: put a random label in front of the remote host.
            block_ipv6_leak: append AWS's IPv6 leak block (IPv4-only full tunnel; see
                ``handlers.ovpn.IPV6_LEAK_BLOCK``). Sent only when True.
            triggers: values whose change re-exports (certificate ARNs, port, ...).
        """
        super().__init__(scope, id)
        self.object_key = object_key
        handler = HandlerFunction(
            self,
            "Handler",
            handler="handlers.export_config.index.handler",
            description="Exports the Client VPN client configuration to S3",
            encryption_key=encryption_key,
            log_group_name=log_group_name,
            service_timeout=SERVICE_TIMEOUT,
        )
        self.role = handler.role
        handler.allow(["ec2:ExportClientVpnClientConfiguration"], [endpoint_arn])
        handler.allow(
            ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            [bucket.arn_for_objects(object_key)],
        )
        handler.allow(
            ["s3:ListBucketVersions"],
            [bucket.bucket_arn],
            conditions={"StringEquals": {"s3:prefix": object_key}},
        )
        # SSE-KMS writes only need a data key; the handler never reads the object back.
        handler.allow(["kms:GenerateDataKey"], [encryption_key.key_arn])
        if credentials_secret is not None:
            credentials_secret.grant_read(handler.role)
        where = {
            "Bucket": bucket.bucket_name,
            "Key": object_key,
            "KmsKeyArn": encryption_key.key_arn,
            **(
                {"CredentialsSecretArn": credentials_secret.secret_arn}
                if credentials_secret is not None
                else {}
            ),
        }
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=handler.service_token,
            resource_type="Custom::ClientVpnConfigExport",
            service_timeout=SERVICE_TIMEOUT,
            properties={
                "EndpointId": endpoint_id,
                "Bucket": bucket.bucket_name,
                "Key": object_key,
                "KmsKeyArn": encryption_key.key_arn,
                "RemoteRandomLabel": "true" if remote_random_label else "false",
                **({"BlockIpv6Leak": "true"} if block_ipv6_leak else {}),
                **(
                    {"CredentialsSecretArn": credentials_secret.secret_arn}
                    if credentials_secret is not None
                    else {}
                ),
                **dict(triggers or {}),
            },
        )
        handler.pin(self.resource, pinned=where, bucket_owner=bucket.env.account)
