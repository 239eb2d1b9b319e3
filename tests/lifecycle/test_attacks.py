"""Issue 10's attacks, played against the real handlers under the SYNTHESIZED policies.

Every actor here is a moto IAM user with IAM authentication on (see
:mod:`tests.lifecycle.harness`): the handlers with their roles' resolved policies, a
grantee with the managed policy that ``vpn.grant_read_user_config("alice", role)``
synthesizes, and an attacker with only what the attack needs.

The grantee's reads are decided twice, and each test asserts both:

1. by moto, with the grantee's managed policy attached exactly as synthesized (resolved).
   moto matches S3 actions (``GetObject`` vs ``GetObjectVersion`` for a ``versionId``,
   ``ListBucket``/``ListBucketVersions``) against the real object and bucket ARNs, and
   refuses Secrets Manager calls the policy has no action for.
2. by the harness's :class:`~tests.lifecycle.harness.PolicyChecker` on the same resolved
   document, with the requests AWS authorizes for the call, including the ``kms:Decrypt``
   that S3 makes on the caller's behalf, with ``kms:ViaService`` and the encryption
   context ``kms:EncryptionContext:aws:s3:arn`` (the object's ARN, since the handlers
   write without an S3 Bucket Key; the bucket's ARN for an object that has one).

What moto cannot check, and how it is covered instead:

- moto never calls KMS for SSE-KMS objects and evaluates no ``kms:ViaService`` or
  ``kms:EncryptionContext:*`` condition: the ``kms:Decrypt`` statement's condition is
  asserted literally in the policy text, and evaluated by the PolicyChecker (layer 2).
  With a broad S3 read from elsewhere (``test_broad_s3_read_elsewhere_...``), the KMS
  condition is the only guard: moto lets that read through; the PolicyChecker refuses it.
- Key policies, the CA secret's resource policy and bucket policies are evaluated by
  nobody here. The squatting tests therefore model an attacker who cannot use the CA key
  (in AWS the CA key's policy admits only the two handler roles: asserted in the
  template); an attacker who could encrypt with that key is out of scope.
- moto authorizes ``CreateSecret`` with ``Tags`` without ``secretsmanager:TagResource``
  (AWS needs both): the attacker here is stronger than AWS would let them be.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509

from constructs_cvpn.handlers.pki import certs, store
from constructs_cvpn.handlers.pki.state import CaBundle

from .harness import (
    AUTHORITY,
    EXPORT,
    PARTITION,
    REGION,
    USERS,
    Cfn,
    OvpnFile,
    PkiStack,
    PolicyChecker,
    Request,
    Response,
    StackTemplate,
    Synthesized,
    World,
    resolve,
)
from .test_export_sequences import ByoPki

GRANTEE_ROLE = "Grantee"
# The handler's tag keys, written here as the role's IAM conditions name them (an oracle
# imported from the handler would follow a renamed tag and pass).
ACM_TAG = "constructs-cvpn:ca-secret"
REQUEST_TAG = "constructs-cvpn:ca-request"
DENIED = ("AccessDenied", "AccessDeniedException")


# --------------------------------------------------------------------------------------
# The PKI stack with a grantee (overrides the conftest's ``synthesized`` in this module)
# --------------------------------------------------------------------------------------


def _pki_with_grantee() -> StackTemplate:
    """The harness's PKI stack (same ids, so the same prefix and logical ids) plus a Role
    in the same stack with ``vpn.grant_read_user_config("alice", role)``."""
    os.environ["CVPN_SKIP_BUNDLING"] = "1"
    from aws_cdk import App, Stack
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam

    from constructs_cvpn import AuthorizationRule, ClientVpn

    app = App(context={"cvpn:skipBundling": True})
    pki = Stack(app, "LifecyclePki")
    vpn = ClientVpn(
        pki,
        "Vpn",
        vpc=ec2.Vpc(pki, "Vpc", max_azs=2, nat_gateways=0),
        cidr="10.100.0.0/22",
        users=["alice", "bob", "carol"],
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
    )
    role = iam.Role(pki, GRANTEE_ROLE, assumed_by=iam.AccountRootPrincipal())
    vpn.grant_read_user_config("alice", role)
    return StackTemplate(app.synth().get_stack_by_name("LifecyclePki").template)


@pytest.fixture(scope="module")
def synthesized(synthesized: Synthesized) -> Synthesized:
    return Synthesized(pki=_pki_with_grantee(), export=synthesized.export)


@pytest.fixture
def stack(world: World, authority: Cfn, users: Cfn) -> PkiStack:
    return PkiStack(world, authority, users)


def grant_document(template: StackTemplate) -> dict[str, Any]:
    """Every statement the grantee role holds (managed, ``AWS::IAM::Policy`` and inline
    policies merged), unresolved: what an IAM principal with that role may do."""
    (role_id,) = [k for k in template.of_type("AWS::IAM::Role") if k.startswith(GRANTEE_ROLE)]
    statements: list[Any] = []
    for type_ in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in template.of_type(type_).values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    for inline in template.resources[role_id]["Properties"].get("Policies", []):
        statements.extend(inline["PolicyDocument"]["Statement"])
    assert statements, "the grant gave the role nothing"
    return {"Version": "2012-10-17", "Statement": statements}


# --------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------


def _user(world: World, name: str, documents: list[Mapping[str, Any]]) -> tuple[str, str]:
    """A moto IAM user with each document attached as a customer-managed policy."""
    iam = world.admin("iam")
    iam.create_user(UserName=name)
    for index, document in enumerate(documents):
        arn = iam.create_policy(PolicyName=f"{name}-{index}", PolicyDocument=json.dumps(document))[
            "Policy"
        ]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _client(service: str, key: tuple[str, str]) -> Any:
    make: Any = boto3.client  # the service name is not a literal here
    return make(service, region_name=REGION, aws_access_key_id=key[0], aws_secret_access_key=key[1])


@dataclass
class Outcome:
    moto: bool
    checker: bool
    denied_by_checker: list[str] = field(default_factory=list)
    body: bytes | None = None


class Principal:
    """A moto IAM user whose calls are also decided by the PolicyChecker (layer 2)."""

    def __init__(self, world: World, name: str, documents: list[Mapping[str, Any]]) -> None:
        self.world = world
        self.checker = PolicyChecker({"Statement": [s for d in documents for s in d["Statement"]]})
        self.key = _user(world, name, documents)

    def _requests(self, service: str, op: str, params: Mapping[str, Any]) -> list[Request]:
        requests = self.world.requests(service, op, params)
        if service != "s3" or "Key" not in params:
            return requests
        bucket, key = params["Bucket"], params["Key"]
        version = {"VersionId": params["VersionId"]} if params.get("VersionId") else {}
        head = self.world.admin("s3").head_object(Bucket=bucket, Key=key, **version)
        context = f"arn:{PARTITION}:s3:::{bucket}"
        if not head.get("BucketKeyEnabled"):
            context += f"/{key}"
        return [
            Request(
                r.action, r.resource, {**r.context, "kms:EncryptionContext:aws:s3:arn": context}
            )
            if r.action == "kms:Decrypt"
            else r
            for r in requests
        ]

    def attempt(self, service: str, op: str, **params: Any) -> Outcome:
        requests = self._requests(service, op, params)
        refused = [str(r) for r in requests if not self.checker.allowed(r)]
        method = getattr(_client(service, self.key), _snake(op))
        try:
            out = method(**params)
        except ClientError as err:
            code = err.response["Error"]["Code"]
            # moto answers a refused Secrets Manager call with code "403".
            assert code in DENIED or (code == "403" and "not authorized" in str(err)), err
            return Outcome(False, not refused, refused)
        body = out["Body"].read() if "Body" in out else None
        return Outcome(True, not refused, refused, body)


def _snake(op: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in op).lstrip("_")


# --------------------------------------------------------------------------------------
# Sequences
# --------------------------------------------------------------------------------------


def deploy_export_beside(world: World, export: Cfn) -> str:
    """Deploy the shared-export stack into the same bucket; return its ``client.ovpn`` key.
    The PKI endpoint stays the current one for the PKI handlers' policies."""
    pki_endpoint = world.endpoint
    assert pki_endpoint is not None
    byo = ByoPki(world)
    world.create_endpoint(byo.ca_pem)
    props = world.props(EXPORT)
    response = export.create(props)
    assert response.ok, repr(response.error)
    world.use_endpoint(pki_endpoint)
    return str(props["Key"])


def revoke_alice_leaving_versions(
    stack: PkiStack, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int]:
    """Someone deletes alice's file (a delete marker: the old version, with her key, stays
    noncurrent); the next run revokes her certificate and issues a new one. The run is
    taken as killed between writing the new file and purging the old versions (purge is a
    no-op here), so noncurrent versions of alice's own file exist. Returns (revoked serial,
    new serial)."""
    world = stack.world
    key = f"{stack.prefix}users/alice.ovpn"
    old = stack.end_state().users()["alice"].serial
    world.admin("s3").delete_object(Bucket=world.bucket, Key=key)
    endpoint = world.endpoint
    assert endpoint is not None
    endpoint.port = 1194  # a change that re-renders every file (the files are read first)
    with monkeypatch.context() as patch:
        patch.setattr(store, "purge_noncurrent_under", lambda *args: 0)
        response = stack.update_users(stack.props(["alice", "bob"], Triggers={"Port": "1194"}))
    assert response.ok, repr(response.error)
    end = stack.end_state()
    new = end.users()["alice"].serial
    assert old is not None and new is not None and new != old
    assert old in end.revoked(), "alice's old certificate is revoked"
    return old, new


def deploy_with(stack: PkiStack, before_create: Any, names: list[str]) -> Response:
    """:meth:`PkiStack.deploy`, with ``before_create(event)`` run once the Authority's
    Create request (and so its RequestId) exists and before it is sent."""
    world = stack.world
    stack.authority_props = world.props(AUTHORITY)
    event = stack.authority._event("Create", stack.authority_props)
    before_create(event)
    created = stack.authority.send(event)
    if not created.ok:
        return created
    stack.authority_pid = created.physical_id
    world.set_authority(created.physical_id, created.data)
    world.create_endpoint(world.authority_ca_pem)
    stack.users_props = stack.props(names)
    response = stack.users.create(stack.users_props)
    stack.users_pid = response.physical_id
    return response


def secret_name(prefix: str, request_id: str) -> str:
    """What the Authority names its secret for a Create request (its documented rule)."""
    return f"{prefix}-{hashlib.sha256(request_id.encode()).hexdigest()[:16]}"


def recorder(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    """Record every call the handlers make (a fault that never raises)."""
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def record(type_: str, op: str, params: Mapping[str, Any]) -> None:
        calls.append((type_, op, dict(params)))

    world.faults.append(record)
    return calls


# --------------------------------------------------------------------------------------
# (a) A grant reaches one file
# --------------------------------------------------------------------------------------


def test_grant_reads_alices_current_file_and_nothing_else(
    stack: PkiStack, world: World, export: Cfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards 23b46bf: before, ``grant_read_user_config`` was ``bucket.grant_read(key)`` +
    ``key.grant_decrypt``: ``s3:GetObject*`` (so ``GetObjectVersion``: every old version of
    alice's file, her revoked keys included), ``s3:List*``/``s3:GetBucket*`` on the bucket
    and an unconditioned ``kms:Decrypt``; the listing and version reads below succeeded."""
    assert stack.deploy(["alice", "bob"]).ok
    shared_key = deploy_export_beside(world, export)
    revoked, current = revoke_alice_leaving_versions(stack, monkeypatch)
    prefix = stack.prefix
    alice_key = f"{prefix}users/alice.ovpn"
    grantee = Principal(
        world, "alice-grantee", [resolve(grant_document(world.synth.pki), world.refs)]
    )
    bucket = world.bucket

    # alice's current file: both layers allow it, and it is hers.
    got = grantee.attempt("s3", "GetObject", Bucket=bucket, Key=alice_key)
    assert got.moto and got.checker, got.denied_by_checker
    assert got.body is not None and OvpnFile(got.body.decode()).serial == current

    # Every other object and every version of any object, alice's included: refused.
    everything = world.inspect(prefix).versions
    keys = {v.key for v in everything}
    assert {
        f"{prefix}users/bob.ovpn",
        f"{prefix}state.json",
        shared_key,
    } <= keys, f"the sequence did not produce the objects under attack: {sorted(keys)}"
    assert any(k.startswith(f"{prefix}revocations/") for k in keys), "no ledger"
    alice_versions = [v for v in everything if v.key == alice_key and not v.is_latest]
    assert any(v.body and OvpnFile(v.body.decode()).serial == revoked for v in alice_versions), (
        "no noncurrent version of alice's file holds her revoked certificate"
    )
    refused: list[str] = []
    for v in everything:
        attempts = []
        if v.is_latest and not v.delete_marker and v.key != alice_key:
            attempts.append(("GetObject", {"Bucket": bucket, "Key": v.key}))
        if not v.delete_marker:
            attempts.append(
                ("GetObject", {"Bucket": bucket, "Key": v.key, "VersionId": v.version_id})
            )
        for op, params in attempts:
            outcome = grantee.attempt("s3", op, **params)
            assert not outcome.moto, f"moto let the grantee read {params}"
            assert not outcome.checker, f"the synthesized policy allows reading {params}"
            refused.append(f"{params['Key']}@{params.get('VersionId', 'current')}")
    assert len(refused) >= 6

    # No listing of names or versions, and no CA secret.
    for op in ("ListObjectsV2", "ListObjectVersions"):
        outcome = grantee.attempt("s3", op, Bucket=bucket, Prefix=prefix)
        assert not outcome.moto and not outcome.checker, op
    secret = grantee.attempt("secretsmanager", "GetSecretValue", SecretId=stack.authority_pid)
    assert not secret.moto and not secret.checker


def test_grant_decrypt_is_conditioned_on_s3_and_alices_object(world: World) -> None:
    """The ``kms:Decrypt`` statement, literally: moto evaluates no KMS condition.

    Guards 23b46bf (before: ``key.grant_decrypt(grantee)``, no condition at all)."""
    template = world.synth.pki
    (role_id,) = [k for k in template.of_type("AWS::IAM::Role") if k.startswith(GRANTEE_ROLE)]
    managed = [
        p["Properties"]
        for p in template.of_type("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    assert len(managed) == 1, "one customer-managed policy per grantee and ClientVpn"
    assert managed[0]["PolicyDocument"]["Statement"] == grant_document(template)["Statement"]
    resolved = resolve(grant_document(template), world.refs)
    prefix = resolve(world.synth.pki.custom_resource(USERS)[1]["Prefix"], world.refs)
    object_arn = f"arn:{PARTITION}:s3:::{world.bucket}/{prefix}users/alice.ovpn"
    statements = resolved["Statement"]
    assert sorted((s["Effect"], json.dumps(s["Action"])) for s in statements) == [
        ("Allow", '"kms:Decrypt"'),
        ("Allow", '"s3:GetObject"'),
    ]
    (read,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert read["Resource"] == object_arn and "Condition" not in read
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt["Resource"] == world.kms_key_arn
    assert decrypt["Condition"] == {
        "StringEquals": {
            "kms:ViaService": f"s3.{REGION}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": object_arn,
        }
    }


def test_broad_s3_read_elsewhere_still_decrypts_only_alices_file(
    stack: PkiStack, world: World
) -> None:
    """The grantee also holds an ordinary broad S3 read (``s3:Get*``/``s3:List*`` on
    ``*``, like AmazonS3ReadOnlyAccess). moto then lets every S3 read through (it never
    calls KMS); the conditioned ``kms:Decrypt`` is what refuses bob's file, the state and
    the ledger (PolicyChecker, layer 2).

    Guards 23b46bf: with the old unconditioned ``kms:Decrypt`` the same principal read every
    user's file (shown below with the old grant's statements)."""
    assert stack.deploy(["alice", "bob"]).ok
    prefix = stack.prefix
    broad: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}],
    }
    grant = resolve(grant_document(world.synth.pki), world.refs)
    grantee = Principal(world, "alice-broad", [grant, broad])
    bucket_arn = f"arn:{PARTITION}:s3:::{world.bucket}"
    old_grant: dict[str, Any] = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                "Resource": [bucket_arn, f"{bucket_arn}/{prefix}users/alice.ovpn"],
            },
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": world.kms_key_arn},
        ]
    }
    before = PolicyChecker({"Statement": old_grant["Statement"] + broad["Statement"]})
    alice = grantee.attempt("s3", "GetObject", Bucket=world.bucket, Key=f"{prefix}users/alice.ovpn")
    assert alice.moto and alice.checker
    others = [k for k in stack.end_state().current if not k.endswith("users/alice.ovpn")]
    assert f"{prefix}users/bob.ovpn" in others and f"{prefix}state.json" in others
    for key in others:
        outcome = grantee.attempt("s3", "GetObject", Bucket=world.bucket, Key=key)
        assert outcome.moto, "moto let the broad S3 read through (it checks no KMS)"
        assert not outcome.checker, f"the synthesized grant decrypts {key}"
        assert outcome.denied_by_checker and all(
            d.startswith("kms:Decrypt") for d in outcome.denied_by_checker
        ), outcome.denied_by_checker
        old = grantee._requests("s3", "GetObject", {"Bucket": world.bucket, "Key": key})
        assert all(before.allowed(r) for r in old), "the old grant is no control"


# --------------------------------------------------------------------------------------
# (b) A squatted CA secret
# --------------------------------------------------------------------------------------

ATTACKER_SECRETS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "secretsmanager:CreateSecret", "Resource": "*"}],
}


def attacker_bundle() -> tuple[CaBundle, x509.Certificate]:
    ca = certs.create_ca("attacker CA")
    server = certs.issue_server_cert(ca, "server.attacker.example")
    bundle = CaBundle(
        ca_key_pem=certs.key_to_pem(ca.key),
        ca_cert_pem=certs.cert_to_pem(ca.cert),
        server_key_pem=certs.key_to_pem(server.key),
        server_cert_pem=certs.cert_to_pem(server.cert),
    )
    return bundle, ca.cert


def test_squatted_secret_names_are_never_read(stack: PkiStack, world: World) -> None:
    """An attacker who may only create secrets creates every name they can guess before
    the stack exists, under the AWS managed key; the Create makes its own secret and never
    touches theirs.

    Guards 87be62e/cb0232f: before, the secret was ``CaSecretName`` =
    ``client-vpn/<unique name>/ca`` (the prefix itself, guessed below) and the handler
    adopted a pre-existing secret of that name: it signed the server certificate with the
    attacker's CA and imported that CA as the client root chain."""
    attacker = _client("secretsmanager", _user(world, "squatter", [ATTACKER_SECRETS]))
    prefix = world.props(AUTHORITY)["CaSecretPrefix"]
    bundle, attacker_ca = attacker_bundle()
    guesses = {prefix, f"{prefix}-0000000000000000"}
    guesses |= {secret_name(prefix, str(uuid.uuid4())) for _ in range(20)}
    guesses |= {secret_name(prefix, str(uuid.UUID(int=i))) for i in range(5)}
    squatted = {
        attacker.create_secret(Name=name, SecretString=bundle.to_json())["ARN"]: name
        for name in sorted(guesses)
    }
    calls = recorder(world)
    response = stack.deploy(["alice"])
    assert response.ok, repr(response.error)
    assert stack.authority_pid not in squatted
    touched = {str(p.get("SecretId")) for _, _, p in calls if p.get("SecretId") is not None}
    assert not touched & (set(squatted) | set(squatted.values())), "a squatted secret was used"
    sm = world.admin("secretsmanager")
    for arn in squatted:
        assert sm.get_secret_value(SecretId=arn)["SecretString"] == bundle.to_json()
    ca = stack.ca()
    assert ca.subject != attacker_ca.subject
    (cert,) = world.admin("acm").list_certificates()["CertificateSummaryList"]
    chain = world.admin("acm").get_certificate(CertificateArn=cert["CertificateArn"])
    assert x509.load_pem_x509_certificate(chain["CertificateChain"].encode()) == ca


def test_secret_squatted_under_the_exact_name_is_refused(stack: PkiStack, world: World) -> None:
    """The attacker knows the exact name (and so the marker tag, which derives from the
    same request id): the Create refuses the secret (not under our KMS key), signs
    nothing with the attacker's CA and imports nothing into ACM.

    Guards 87be62e: before, the handler took any secret of its name as its own."""
    attacker = _client("secretsmanager", _user(world, "squatter", [ATTACKER_SECRETS]))
    bundle, _ = attacker_bundle()
    squatted: dict[str, str] = {}

    def squat(event: Mapping[str, Any]) -> None:
        props = event["ResourceProperties"]
        name = secret_name(props["CaSecretPrefix"], event["RequestId"])
        marker = name.rsplit("-", 1)[1]
        squatted["arn"] = attacker.create_secret(
            Name=name,
            SecretString=bundle.to_json(),
            Tags=[
                {"Key": "constructs-cvpn:kind", "Value": "certificate-authority"},
                {"Key": REQUEST_TAG, "Value": marker},
            ],
        )["ARN"]
        squatted["name"] = name

    calls = recorder(world)
    response = deploy_with(stack, squat, ["alice"])
    assert not response.ok, "the Create used a secret it did not create"
    assert "refusing to use the existing secret" in str(response.error)
    assert squatted["name"] in str(response.error)
    ops = [(t, op) for t, op, _ in calls]
    assert (AUTHORITY, "ImportCertificate") not in ops
    assert world.admin("acm").list_certificates()["CertificateSummaryList"] == []
    for _, op, params in calls:
        if params.get("SecretId") in (squatted["arn"], squatted["name"]):
            assert op == "DescribeSecret", f"{op} on the attacker's secret"
    sm = world.admin("secretsmanager")
    assert sm.get_secret_value(SecretId=squatted["arn"])["SecretString"] == bundle.to_json()
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=squatted["arn"])
    names = [s["Name"] for s in sm.list_secrets()["SecretList"]]
    assert names == [squatted["name"]], "the handler left a secret of its own"


def test_only_the_handler_roles_can_encrypt_with_the_ca_key(world: World) -> None:
    """What keeps the exact-name attacker from creating the secret under our key: the CA
    key's policy (not evaluated by moto) lets only the CA handler role encrypt, and only
    through Secrets Manager. Asserted in the synthesized template."""
    template = world.synth.pki
    (ca_key,) = [r for k, r in template.of_type("AWS::KMS::Key").items() if "CaKey" in k]
    ca_role = template.handler_role(AUTHORITY)
    users_role = template.handler_role(USERS)
    use = ("kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt", "kms:ReEncrypt", "kms:*")
    for st in ca_key["Properties"]["KeyPolicy"]["Statement"]:
        if st["Effect"] != "Allow":
            continue
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if not any(a.startswith(use) for a in actions):
            continue
        principal = st["Principal"]["AWS"]
        assert principal in (
            {"Fn::GetAtt": [ca_role, "Arn"]},
            {"Fn::GetAtt": [users_role, "Arn"]},
        ), st
        assert st["Condition"]["StringEquals"]["kms:ViaService"] == {
            "Fn::Join": ["", ["secretsmanager.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
        }, st
        if principal == {"Fn::GetAtt": [users_role, "Arn"]}:
            assert actions == ["kms:Decrypt"], st


# --------------------------------------------------------------------------------------
# (c) A foreign certificate with our tag
# --------------------------------------------------------------------------------------

ATTACKER_ACM = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["acm:ImportCertificate", "acm:AddTagsToCertificate"],
            "Resource": "*",
        }
    ],
}


def test_foreign_certificate_with_our_tag_is_neither_reused_nor_deleted(
    stack: PkiStack, world: World
) -> None:
    """Before the Authority Create, the attacker imports their own certificate tagged
    ``constructs-cvpn:ca-secret`` = the exact secret name (and one with the bare prefix);
    the deploy imports its own, and the stack's delete removes only its own.

    Guards 87be62e/60b2f3c: before, the handler took ``tagged[0]`` (re-imported over the
    attacker's certificate) and deleted every tagged certificate on Delete."""
    acm = _client("acm", _user(world, "tagger", [ATTACKER_ACM]))
    bundle, _ = attacker_bundle()
    foreign: dict[str, str] = {}

    def plant(event: Mapping[str, Any]) -> None:
        prefix = event["ResourceProperties"]["CaSecretPrefix"]
        for value in (secret_name(prefix, event["RequestId"]), prefix):
            foreign[value] = acm.import_certificate(
                Certificate=bundle.server_cert_pem.encode(),
                PrivateKey=bundle.server_key_pem.encode(),
                CertificateChain=bundle.ca_cert_pem.encode(),
                Tags=[{"Key": ACM_TAG, "Value": value}],
            )["CertificateArn"]

    response = deploy_with(stack, plant, ["alice"])
    assert response.ok, repr(response.error)
    admin = world.admin("acm")

    def unchanged() -> None:
        for value, arn in foreign.items():
            got = admin.get_certificate(CertificateArn=arn)
            assert got["Certificate"].strip() == bundle.server_cert_pem.strip(), value
            tags = admin.list_tags_for_certificate(CertificateArn=arn)["Tags"]
            assert tags == [{"Key": ACM_TAG, "Value": value}]

    ours = world.refs.attrs[(world.synth.pki.custom_resource(AUTHORITY)[0], "ServerCertificateArn")]
    assert ours not in foreign.values(), "the Create reused the attacker's certificate"
    chain = admin.get_certificate(CertificateArn=ours)["CertificateChain"]
    assert x509.load_pem_x509_certificate(chain.encode()) == stack.ca()
    unchanged()
    assert stack.update_users(stack.props(["alice", "bob"])).ok
    assert stack.authority.renew(stack.authority_props, stack.authority_pid).ok
    unchanged()
    assert stack.users.delete(stack.users_props, stack.users_pid).ok
    assert world.endpoint is not None
    world.ec2.delete(world.endpoint.endpoint_id)  # before the CA, as CloudFormation does
    deleted = stack.authority.delete(stack.authority_props, stack.authority_pid)
    assert deleted.ok, repr(deleted.error)
    left = {c["CertificateArn"] for c in admin.list_certificates()["CertificateSummaryList"]}
    assert left == set(foreign.values()), "our certificate deleted, the attacker's kept"
    unchanged()


# --------------------------------------------------------------------------------------
# (d) A removed user's key lingers nowhere
# --------------------------------------------------------------------------------------


def test_removed_user_leaves_no_version_and_is_in_the_crl(
    stack: PkiStack, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob's file has older versions (a re-render whose purge never ran: a killed run, or
    files from before the purge existed); removing bob deletes every version and delete
    marker of his file and imports a CRL listing his serial into the endpoint.

    Guards 85bc263/50520fc: before, a removal deleted only the current object; every
    version (with bob's private key) stayed noncurrent for 90 days and delete markers
    never expired."""
    assert stack.deploy(["alice", "bob"]).ok
    bob_key = f"{stack.prefix}users/bob.ovpn"
    serial = stack.end_state().users()["bob"].serial
    endpoint = world.endpoint
    assert endpoint is not None
    endpoint.port = 1194
    with monkeypatch.context() as patch:
        patch.setattr(store, "purge_noncurrent_under", lambda *args: 0)
        assert stack.update_users(stack.props(["alice", "bob"], Triggers={"Port": "1194"})).ok
    world.admin("s3").delete_object(Bucket=world.bucket, Key=bob_key)  # a delete marker
    world.admin("s3").put_object(Bucket=world.bucket, Key=bob_key, Body=b"stale copy")
    s3 = world.admin("s3")
    listed = s3.list_object_versions(Bucket=world.bucket, Prefix=bob_key)
    assert len(listed.get("Versions", [])) + len(listed.get("DeleteMarkers", [])) >= 4

    response = stack.update_users(stack.props(["alice"]))
    assert response.ok, repr(response.error)
    listed = s3.list_object_versions(Bucket=world.bucket, Prefix=bob_key)
    assert listed.get("Versions", []) == [] and listed.get("DeleteMarkers", []) == []
    assert serial in stack.end_state().revoked()
    assert endpoint.crls, "no CRL imported into the endpoint"
    crl = x509.load_pem_x509_crl(endpoint.crls[-1].pem.encode())
    ca = stack.ca()
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert world.handlers[USERS].denied == []
