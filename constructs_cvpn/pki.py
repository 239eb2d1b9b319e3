"""The generated PKI: a CA, the server certificate, and per-user client certificates.

Used by ``ClientVpn`` when no ``server_certificate_arn`` is given. Two custom resources run
``handlers/pki``:

- ``CertificateAuthority`` (before the endpoint): the CA key and certificate live in a
  Secrets Manager secret that the handler creates itself (never adopts), encrypted with a
  KMS key of its own (``CaKey``) that only the two handler roles may use, through Secrets
  Manager; the secret's resource policy denies its value to every other principal. The
  server certificate
  (CN and DNS SAN with a domain) is imported into ACM and serves as the client root chain
  too, since the client certificates come from the same CA. Only ARNs come back.
- ``UserCertificates`` (after the associations, in ``user_certificates.py``): one key and
  certificate per user, each user's ``.ovpn`` with inline certificate and key at
  ``<prefix>users/<name>.ovpn`` (SSE-KMS); removing a user revokes their certificate through
  the endpoint's CRL.

Both handler functions are also invoked every 12 hours by an EventBridge rule
(``RequestType: Renew`` with the custom resource's own properties): certificates are
renewed before they expire without a deploy, and each run logs the days left as the
CloudWatch metric ``constructs-cvpn`` / ``DaysToExpiry`` (dimension ``Vpn``).

No private key appears in a template, an output, a log line or a custom-resource response.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import (
    ArnFormat,
    CustomResource,
    Duration,
    IStableListProducer,
    Lazy,
    Names,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .descriptions import KEY_DESCRIPTION, with_path
from .handler_function import HandlerFunction
from .handlers.pki.limits import MAX_USERS, USER_NAME_PATTERN
from .keys import administration_statement, deny_grants_statement, via_service_statement
from .lifetimes import RENEW_BEFORE_DAYS, check_lifetimes

HANDLER = "handlers.pki.index.handler"
#: A safe user name (it becomes a certificate CN and part of an S3 key); the handler
#: enforces the same pattern.
USER_NAME = USER_NAME_PATTERN
#: The tag the handler puts on the imported ACM certificate (value: the CA secret name).
ACM_TAG = "constructs-cvpn:ca-secret"
#: CloudFormation waits this long for either resource before failing it: only a function
#: that died without answering (the handlers answer before their own timeout) lets it pass.
SERVICE_TIMEOUT = Duration.minutes(14)
#: The users function's timeout: a slow run stops 90 seconds before it (with its progress
#: saved) and answers CloudFormation.
USERS_TIMEOUT = Duration.minutes(12)
#: How often EventBridge invokes both PKI functions to renew what expires soon.
RENEWAL_RATE = Duration.hours(12)
#: The CloudWatch metric both PKI functions log on every run (embedded metric format).
METRIC_NAMESPACE = "constructs-cvpn"
METRIC_NAME = "DaysToExpiry"


@jsii.implements(IStableListProducer)
class _Readers:
    """Produces the reader role ARNs at synthesis, so readers added later count."""

    def __init__(self, arns: list[str]) -> None:
        self._arns = arns

    def produce(self) -> list[str]:
        return list(self._arns)


class CertificateAuthority(Construct):
    """The CA secret, its KMS key and the ACM server certificate.

    Attributes:
        server_certificate_arn: for the endpoint's server certificate and, with mutual
            authentication, its client root chain.
        ca_secret_arn: the secret holding the CA key and certificate.
        key: the CA secret's KMS key (``CaKey``): rotation on, retained. Its policy gives
            the account key administration only (no use, no grants), lets the CA handler
            role (Decrypt, GenerateDataKey) and each reader added with ``add_reader``
            (Decrypt) use it only through Secrets Manager in this region, and denies
            grants that are not for an AWS resource (Control Tower CT.KMS.PR.3).
        key_arn: its ARN.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        secret_prefix: str,
        encryption_key: kms.IKey,
        log_group_name: str,
        metric_dimension: str,
        ca_validity_days: int,
        server_validity_days: int,
        break_glass_arn: str,
        renew_before_days: int = RENEW_BEFORE_DAYS,
    ) -> None:
        """Create the CA custom resource.

        Args:
            encryption_key: encrypts the handler's log groups (not the CA secret).
            secret_prefix: the CA secret's name prefix; the handler names the secret
                ``<secret_prefix>-<16 hex>`` on Create (a new name per Create, so a
                destroyed and redeployed stack never meets its predecessor's secret).
            log_group_name: the handler's log group.
            metric_dimension: the value of the ``Vpn`` dimension of ``DaysToExpiry``.
            ca_validity_days: CA lifetime in days (the CA is never re-issued).
            server_validity_days: server certificate lifetime in days; the certificate's
                name is ``server.<secret name as a label>.cvpn.internal``.
            renew_before_days: the scheduled renewal (and any update) re-issues the server
                certificate when it expires within this many days, re-imported under the
                same ACM ARN. Default: 30.
            break_glass_arn: besides the CA handler role, the one principal the secret's
                guard lets delete the secret or change its resource policy (the VPN's
                ``break_glass_arn``, the account root unless the app names another).

        Raises:
            ClientVpnConfigError: a server lifetime within the renewal window, or a CA that
                does not outlive it plus the window (:mod:`.lifetimes`).
        """
        check_lifetimes(
            scope.node.path,
            ca_days=ca_validity_days,
            signed={"server_certificate_validity_days": server_validity_days},
            renew_before=renew_before_days,
        )
        super().__init__(scope, id)
        self.ca_validity_days = ca_validity_days
        handler = HandlerFunction(
            self,
            "Handler",
            handler=HANDLER,
            description="Client VPN certificate authority and server certificate",
            encryption_key=encryption_key,
            log_group_name=log_group_name,
            service_timeout=SERVICE_TIMEOUT,
            timeout=Duration.minutes(10),
        )
        stack = Stack.of(self)
        self._secrets_manager = f"secretsmanager.{stack.region}.amazonaws.com"
        self._key_policy = iam.PolicyDocument(
            statements=[
                administration_statement("AccountAdministersTheKeyOnly"),
                deny_grants_statement("DenyGrantsExceptForAwsResources"),
                via_service_statement(
                    "CaHandlerUsesTheKeyThroughSecretsManager",
                    handler.role.role_arn,
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    self._secrets_manager,
                ),
            ]
        )
        #: The CA secret's own key: it encrypts nothing else, and only the two handler
        #: roles may use it, through Secrets Manager (the config key encrypts the rest).
        self.key = kms.CfnKey(
            self,
            "CaKey",
            description=with_path(
                "Client VPN {path}: the generated CA's secret", scope.node.path, KEY_DESCRIPTION
            ),
            enable_key_rotation=True,
            key_policy=self._key_policy,
        )
        self.key.apply_removal_policy(RemovalPolicy.RETAIN)
        self.key_arn: str = self.key.attr_arn
        self._readers: list[str] = [handler.role.role_arn]
        # <prefix>-<16 hex from the request id>-<6 characters Secrets Manager appends>:
        # exactly this CA's secrets, never another name that merely starts with the prefix.
        secret_arn = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{secret_prefix}-{'?' * 16}-{'?' * 6}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        certificates = stack.format_arn(service="acm", resource="certificate", resource_name="*")
        tag_value = f"{secret_prefix}-*"
        handler.allow(
            [
                "secretsmanager:CreateSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecret",
                "secretsmanager:RestoreSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:TagResource",
                "secretsmanager:PutResourcePolicy",
            ],
            [secret_arn],
        )
        acm_reason = (
            "ACM assigns a certificate's ARN at import. Importing (and so tagging) a new "
            "certificate needs the tag naming one of this CA's secrets and no other tag key; "
            "re-importing, "
            "reading and deleting one needs that tag already on it. Describe and list-tags "
            "are read-only look-ups."
        )
        # (a) First import. ACM authorizes an ImportCertificate that carries Tags as
        # acm:AddTagsToCertificate too (Service Authorization Reference), so tagging is
        # allowed here, under the same conditions: only our tag key, only this CA's value.
        handler.allow(
            ["acm:ImportCertificate", "acm:AddTagsToCertificate"],
            [certificates],
            conditions={
                "StringLike": {f"aws:RequestTag/{ACM_TAG}": tag_value},
                "ForAllValues:StringEquals": {"aws:TagKeys": [ACM_TAG]},
            },
            wildcard_reason=acm_reason,
        )
        # (b) Re-import, delete and the issuer check: only a certificate already tagged so.
        handler.allow(
            ["acm:ImportCertificate", "acm:DeleteCertificate", "acm:GetCertificate"],
            [certificates],
            conditions={"StringLike": {f"aws:ResourceTag/{ACM_TAG}": tag_value}},
            wildcard_reason=acm_reason,
        )
        # A Delete with an id CloudFormation generated (the Create never answered) finds the
        # secrets that Create made by name prefix and owner tags (names and tags only).
        handler.allow(
            ["secretsmanager:ListSecrets"],
            ["*"],
            wildcard_reason="ListSecrets has no resource-level permissions; it returns names "
            "and tags, never values. A Delete whose physical id CloudFormation generated "
            "after a Create that never answered finds that Create's CA secret with it.",
        )
        # (c) Look-ups.
        handler.allow(
            ["acm:ListCertificates"],
            ["*"],
            wildcard_reason="ListCertificates has no resource-level permissions; the handler "
            "finds its certificate by the constructs-cvpn tag and checks its issuer.",
        )
        handler.allow(
            ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
            [certificates],
            wildcard_reason=acm_reason,
        )
        properties: dict[str, Any] = {
            "Kind": "Authority",
            "CaSecretPrefix": secret_prefix,
            "KmsKeyArn": self.key_arn,
            "ReaderRoleArns": Lazy.list(_Readers(self._readers)),
            "CaValidityDays": str(ca_validity_days),
            "ServerValidityDays": str(server_validity_days),
            "RenewBeforeDays": str(renew_before_days),
            "MetricDimension": metric_dimension,
        }
        properties["GuardAdminArns"] = [handler.role.role_arn, break_glass_arn]
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=handler.service_token,
            resource_type="Custom::ClientVpnCertificateAuthority",
            service_timeout=SERVICE_TIMEOUT,
            properties=properties,
        )
        handler.pin(
            self.resource,
            pinned={k: properties[k] for k in ("Kind", "CaSecretPrefix", "KmsKeyArn")},
            imposed={k: properties[k] for k in ("ReaderRoleArns", "GuardAdminArns")},
            settings=properties,
        )
        self.renewal = renewal_schedule(
            self, handler.function, self.resource, "CA and server certificate"
        )
        self.server_certificate_arn: str = self.resource.get_att_string("ServerCertificateArn")
        self.client_root_certificate_arn: str = self.resource.get_att_string(
            "ClientRootCertificateArn"
        )
        self.ca_secret_arn: str = self.resource.ref

    def add_reader(self, role: iam.IRole) -> None:
        """Let ``role`` read the CA secret: the CA key's policy lets it decrypt through
        Secrets Manager, and the handler puts ``role`` into the secret's resource policy
        (which denies the value to everyone else). Grant ``GetSecretValue`` separately.
        """
        self._readers.append(role.role_arn)
        self._key_policy.add_statements(
            via_service_statement(
                f"ReadsTheCaSecretThroughSecretsManager{Names.unique_id(role)}",
                role.role_arn,
                ["kms:Decrypt"],
                self._secrets_manager,
            )
        )


def renewal_schedule(
    scope: Construct,
    function: lambda_.IFunction,
    resource: CustomResource,
    what: str,
) -> events.Rule:
    """Invoke ``function`` every ``RENEWAL_RATE`` as a ``Renew`` request for ``resource``.

    The event carries the request type and the resource's physical id only: the handler
    takes everything else from its pinned configuration (and the Users handler its users
    from the state the last deploy left), so the rule's target input decides nothing.
    """
    rule = events.Rule(
        scope,
        "Renewal",
        description=f"Client VPN: renew the {what} before they expire",
        schedule=events.Schedule.rate(RENEWAL_RATE),
    )
    rule.add_target(
        targets.LambdaFunction(
            function,
            event=events.RuleTargetInput.from_object(
                {"RequestType": "Renew", "PhysicalResourceId": resource.ref}
            ),
        )
    )
    return rule


__all__ = [
    "ACM_TAG",
    "MAX_USERS",
    "METRIC_NAME",
    "METRIC_NAMESPACE",
    "USER_NAME",
    "CertificateAuthority",
    "renewal_schedule",
]
