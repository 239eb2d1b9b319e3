"""Lifecycle harness: the real handlers driven the way CloudFormation drives them, no AWS.

What it is made of:

- :func:`synthesize`: a generated-PKI ``ClientVpn`` stack and a shared-export stack
  (bring-your-own certificates + ``client_credentials_secret``), synthesized in-process with
  ``CVPN_SKIP_BUNDLING=1``. :class:`StackTemplate` finds each handler's role and its
  ``AWS::IAM::Policy`` documents by following custom resource -> ``ServiceToken`` -> handler
  function -> ``Role``.
- :func:`resolve`: the intrinsic functions of those policies and of the custom resources'
  properties (``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
  ``Fn::Sub`` without a variable map, the pseudo parameters) resolved against a
  :class:`Refs` mapping filled from moto and the fake EC2. An unknown reference raises
  :class:`UnresolvedReference`.
- :class:`World`: moto (S3, KMS, Secrets Manager, ACM, IAM) with IAM enforcement on; one IAM
  user per handler whose inline policy is the handler role's synthesized policy; the
  handler's boto3 clients use that user's keys and pass every call through
  :class:`PolicyChecker` as well (see below); :class:`FakeClientVpn` stands in for EC2.
- :class:`Cfn`: CloudFormation's requests (real event shapes) through the handlers' own
  answering code (``handlers/cloudformation.py``, its PUT captured), including a failed
  Create's marker physical id and its rollback Delete, the clean-up Delete after a
  replacement, and the rollback Update after a failed Update.
- :class:`KeyPool`: pre-generated RSA keys handed out one per ``certs.generate_key`` call
  (never the same key twice within a test; keys are cached on disk under
  ``.pytest_cache``). The 1,000-user sequence uses a pool of 1,600 1024-bit keys (about
  8 s to generate once, then read from the cache): 1,000 2048-bit keys take ~45 s. Client
  VPN accepts RSA 1024 and 2048; the handlers never look at the size.
- :meth:`World.inspect`: the end state (:class:`EndState`): every object version in the
  bucket, each user file's certificate, key and remote, the state and the ledger JSON, the
  CRLs each endpoint received.

What is checked, and by whom
----------------------------
Every call a handler makes goes through two checks:

1. :class:`PolicyChecker` (this module): evaluates the handler's *resolved synthesized
   policy* exactly as written: actions and resources with ``*``/``?`` wildcards, ``Deny``,
   and the condition operators ``StringEquals``, ``StringLike``, ``StringNotEquals``,
   ``StringNotLike``, ``ArnLike``, ``ArnEquals`` (an unknown operator fails the test). It
   knows the resource ARN and the condition keys of each call: ``s3:prefix`` for
   ``ListBucket``/``ListBucketVersions``; ``aws:ResourceTag/<key>`` of ACM certificates and
   secrets; ``DeleteObjects`` needs ``s3:DeleteObject`` (or ``s3:DeleteObjectVersion``) on
   each key; a ``VersionId`` turns Get/Delete into the ``...Version`` action; the KMS
   permissions AWS checks on the caller's behalf (``kms:GenerateDataKey`` for an SSE-KMS
   ``PutObject`` or a secret write, ``kms:Decrypt`` for reading an SSE-KMS object or a
   secret). A missing object reads as 404 only when ``s3:ListBucket`` on the bucket is
   allowed for ``s3:prefix`` = the object key (AWS answers 403 otherwise; whether AWS
   evaluates an ``s3:prefix`` condition for that decision is not documented: the lenient
   reading is used). A denied call raises ``ClientError`` ``AccessDenied`` like AWS
   (``DeleteObjects`` fails as a whole instead of listing per-key errors). A call the
   harness does not model fails the test (``NotModelled``).
2. moto's own IAM enforcement, with the same policy as the user's inline policy. What moto
   can and cannot check (moto 5.2.5, read from its source):

   - S3 actions are matched against the real object/bucket ARN; conditions are ignored
     (``s3:prefix`` is never evaluated; only ``StringEquals`` exists in moto and it passes
     when the request carries no value for the key).
   - For KMS, Secrets Manager and ACM moto matches ``Resource`` only against ``"*"``: a
     policy scoped to an ARN would deny everything. The moto user therefore gets the S3
     statements exactly and an action-only copy of the other statements (``Resource: "*"``,
     no conditions): moto checks the action names, :class:`PolicyChecker` the ARNs and
     conditions. moto's matcher also crashes on ``?`` in a resource (it only translates
     ``*``): ``?`` becomes ``*`` in the moto copy.
   - ``DeleteObjects`` is checked by moto against the *bucket* ARN (real S3 checks each
     key) and then against the bucket policy only: the moto user gets ``s3:DeleteObject``
     on the bucket ARN for it; per-key checks are :class:`PolicyChecker`'s.
   - KMS key policies and bucket policies are not evaluated by anyone here (moto does not;
     the CDK key policy delegates to IAM, and the bucket policy only denies non-TLS
     requests). moto does not call KMS for SSE-KMS: ``kms:*`` on the object path is checked
     by :class:`PolicyChecker` only.
   - The EC2 Client VPN calls never reach moto (it has no Client VPN): :class:`FakeClientVpn`
     checks them against the handler's policy on the endpoint ARN.

moto deviations patched here (so the handlers see what AWS returns): ACM ``Serial`` is a
colon-separated hex string (moto: decimal), a re-import keeps the certificate's tags (moto
drops them), and ACM's validity check uses the harness clock (moto uses the real time,
which refuses certificates issued "in the future" by a renewal test).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import datetime as dt
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from constructs_cvpn.handlers import cloudformation

from .client_vpn import ACCOUNT as ACCOUNT
from .client_vpn import CONFIG_TEMPLATE as CONFIG_TEMPLATE
from .client_vpn import PARTITION as PARTITION
from .client_vpn import REGION as REGION
from .client_vpn import CrlImport as CrlImport
from .client_vpn import Endpoint as Endpoint
from .client_vpn import FakeClientVpn as FakeClientVpn
from .client_vpn import FakeEc2Client as FakeEc2Client
from .client_vpn import endpoint_not_found as endpoint_not_found

URL_SUFFIX = "amazonaws.com"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Lifecycle/" + str(uuid.UUID(int=1))
#: Our handlers' physical id for a failed Create (written here, not imported).
CREATE_FAILED = "constructs-cvpn::CREATE_FAILED"
BYO_SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:cvpn/lifecycle-client-AbCdEf"
BYO_SERVER_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000001"
BYO_CLIENT_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000002"

# Custom resource types of the three handlers.
AUTHORITY = "Custom::ClientVpnCertificateAuthority"
USERS = "Custom::ClientVpnUsers"
EXPORT = "Custom::ClientVpnConfigExport"


# --------------------------------------------------------------------------------------
# Synthesis and the template
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synthesized:
    pki: StackTemplate
    export: StackTemplate


def synthesize() -> Synthesized:
    """Synthesize the two stacks (env-agnostic: account and region are pseudo parameters)."""
    os.environ["CVPN_SKIP_BUNDLING"] = "1"
    from aws_cdk import App, Stack
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_secretsmanager as secretsmanager

    from constructs_cvpn import AuthorizationRule, ClientVpn

    app = App(context={"cvpn:skipBundling": True})
    pki = Stack(app, "LifecyclePki")
    ClientVpn(
        pki,
        "Vpn",
        vpc=ec2.Vpc(pki, "Vpc", max_azs=2, nat_gateways=0),
        cidr="10.100.0.0/22",
        users=["alice", "bob", "carol"],
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
    )
    export = Stack(app, "LifecycleExport")
    ClientVpn(
        export,
        "Vpn",
        vpc=ec2.Vpc(export, "Vpc", max_azs=2, nat_gateways=0),
        cidr="10.100.0.0/22",
        server_certificate_arn=BYO_SERVER_ARN,
        client_certificate_arn=BYO_CLIENT_ARN,
        client_credentials_secret=secretsmanager.Secret.from_secret_complete_arn(
            export, "Credentials", BYO_SECRET_ARN
        ),
        authorization_rules=[AuthorizationRule(cidr="10.0.0.0/16", all_users=True)],
    )
    assembly = app.synth()
    return Synthesized(
        pki=StackTemplate(assembly.get_stack_by_name("LifecyclePki").template),
        export=StackTemplate(assembly.get_stack_by_name("LifecycleExport").template),
    )


class StackTemplate:
    """A synthesized template and the handler behind each custom resource type."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.template = template
        self.resources: dict[str, Any] = dict(template["Resources"])

    def of_type(self, type_: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_}

    def custom_resource(self, type_: str) -> tuple[str, dict[str, Any]]:
        """``(logical id, Properties without ServiceToken)`` of the one resource of a type."""
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
        ((logical_id, resource),) = found.items()
        props = {k: v for k, v in resource["Properties"].items() if k != "ServiceToken"}
        return logical_id, props

    def handler_function(self, type_: str) -> str:
        """Logical id of the handler function behind the custom resource of ``type_``."""
        _, resource = next(iter(self.of_type(type_).items()))
        token = resource["Properties"]["ServiceToken"]
        handler_id: str = token["Fn::GetAtt"][0]
        assert self.resources[handler_id]["Type"] == "AWS::Lambda::Function"
        return handler_id

    def handler_role(self, type_: str) -> str:
        function = self.resources[self.handler_function(type_)]
        role_id: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
        return role_id

    def handler_policy(self, type_: str) -> dict[str, Any]:
        """The handler role's policy (every ``AWS::IAM::Policy`` naming the role, merged)."""
        role_id = self.handler_role(type_)
        statements: list[Any] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"]["Roles"]:
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        role = self.resources[role_id]["Properties"]
        assert not role.get("ManagedPolicyArns"), "handler roles carry no managed policies"
        for inline in role.get("Policies", []):
            statements.extend(inline["PolicyDocument"]["Statement"])
        assert statements, f"no policy for the role of {type_}"
        return {"Version": "2012-10-17", "Statement": statements}

    def handler_timeout(self, type_: str) -> int:
        return int(self.resources[self.handler_function(type_)]["Properties"].get("Timeout", 3))


# --------------------------------------------------------------------------------------
# Intrinsic functions
# --------------------------------------------------------------------------------------


class UnresolvedReference(LookupError):
    """A ``Ref``/``Fn::GetAtt`` the harness has no value for."""


@dataclass
class Refs:
    """Values for ``Ref`` (by logical id) and ``Fn::GetAtt`` (by ``(logical id, attr)``)."""

    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": "Lifecycle",
            "AWS::StackId": STACK_ID,
        }


def resolve(value: Any, refs: Refs) -> Any:
    """Resolve CloudFormation intrinsics in ``value``; unknown references raise."""
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, arg),) = value.items()
        if name == "Ref":
            pseudo = refs.pseudo()
            if arg in pseudo:
                return pseudo[arg]
            if arg not in refs.refs:
                raise UnresolvedReference(f"no value for Ref {arg}")
            return refs.refs[arg]
        if name == "Fn::GetAtt":
            logical_id, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            if (logical_id, attr) not in refs.attrs:
                raise UnresolvedReference(f"no value for Fn::GetAtt {logical_id}.{attr}")
            return refs.attrs[(logical_id, attr)]
        if name == "Fn::Join":
            sep, parts = arg
            return str(sep).join(str(resolve(p, refs)) for p in resolve(parts, refs))
        if name == "Fn::Select":
            index, items = arg
            return resolve(items, refs)[int(resolve(index, refs))]
        if name == "Fn::Split":
            sep, text = arg
            return str(resolve(text, refs)).split(sep)
        if name == "Fn::Sub":
            if not isinstance(arg, str):
                raise UnresolvedReference("Fn::Sub with a variable map is not modelled")

            def sub(match: re.Match[str]) -> str:
                ref = match.group(1)
                if "." in ref:
                    return str(resolve({"Fn::GetAtt": ref.split(".", 1)}, refs))
                return str(resolve({"Ref": ref}, refs))

            return re.sub(r"\$\{([^}!]+)\}", sub, arg)
        if name.startswith("Fn::") or name == "Condition":
            raise UnresolvedReference(f"intrinsic {name} is not modelled")
    return {k: resolve(v, refs) for k, v in value.items()}


# --------------------------------------------------------------------------------------
# IAM policy evaluation
# --------------------------------------------------------------------------------------


def _glob(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return (
        re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
        is not None
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_POSITIVE = {
    "Bool": lambda want, have: want.lower() == have.lower(),
    "StringEquals": lambda want, have: want == have,
    "StringLike": lambda want, have: _glob(want, have),
    "ArnEquals": lambda want, have: want == have,
    "ArnLike": lambda want, have: _glob(want, have),
}
_NEGATIVE = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
}


@dataclass(frozen=True)
class Request:
    """One authorization request: an action on a resource with condition keys."""

    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        ctx = f" {dict(self.context)}" if self.context else ""
        return f"{self.action} on {self.resource}{ctx}"


class PolicyChecker:
    """Evaluates one resolved identity policy (no resource policies, no SCPs)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.statements = [dict(s) for s in _as_list(document["Statement"])]
        self.used: set[int] = set()

    def _conditions_hold(self, conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
        for raw_operator, tests in conditions.items():
            qualifier, _, operator = raw_operator.rpartition(":")
            if_exists = operator.endswith("IfExists")
            operator = operator.removesuffix("IfExists")
            negative = operator in _NEGATIVE
            base = _NEGATIVE.get(operator, operator)
            if base not in _POSITIVE:
                raise AssertionError(f"condition operator {raw_operator} is not modelled")
            compare = _POSITIVE[base]
            for key, wanted in tests.items():
                have = context.get(key)
                if have is None:
                    if not negative and not if_exists and qualifier != "ForAllValues":
                        return False
                    continue
                values = [str(h) for h in _as_list(have)]
                hits = [any(compare(str(w), h) for w in _as_list(wanted)) for h in values]
                hit = all(hits) if qualifier == "ForAllValues" else any(hits)
                if hit == negative:
                    return False
        return True

    def _matches(self, statement: Mapping[str, Any], request: Request) -> bool:
        if "Action" in statement:
            if not any(
                _glob(a, request.action, ignore_case=True) for a in _as_list(statement["Action"])
            ):
                return False
        elif any(
            _glob(a, request.action, ignore_case=True) for a in _as_list(statement["NotAction"])
        ):
            return False
        if "Resource" in statement:
            if not any(_glob(str(r), request.resource) for r in _as_list(statement["Resource"])):
                return False
        elif any(_glob(str(r), request.resource) for r in _as_list(statement["NotResource"])):
            return False
        return self._conditions_hold(statement.get("Condition", {}), request.context)

    def allowed(self, request: Request) -> bool:
        allow = False
        for index, statement in enumerate(self.statements):
            if not self._matches(statement, request):
                continue
            if statement["Effect"] == "Deny":
                return False
            allow = True
            self.used.add(index)
        return allow


def _via(service: str) -> dict[str, str]:
    """``kms:ViaService`` of a KMS call a service makes on the caller's behalf."""
    return {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}


def access_denied(operation: str, request: Request) -> ClientError:
    code = "AccessDenied" if request.action.startswith("s3:") else "AccessDeniedException"
    if request.action.startswith("ec2:"):
        code = "UnauthorizedOperation"
    return ClientError(
        {
            "Error": {
                "Code": code,
                "Message": f"User is not authorized to perform: {request} (lifecycle harness)",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        operation,
    )


class NotModelledError(AssertionError):
    """A handler called an AWS operation the harness has no authorization model for."""


# --------------------------------------------------------------------------------------
# RSA key pool
# --------------------------------------------------------------------------------------


def _load_or_generate(path: Path, count: int, bits: int) -> list[rsa.RSAPrivateKey]:
    if path.exists():
        pems = path.read_text().split("\n\n")
        if len(pems) >= count:
            return [
                serialization.load_pem_private_key(
                    p.encode(), None, unsafe_skip_rsa_key_validation=True
                )  # type: ignore[misc]
                for p in pems[:count]
            ]
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=bits) for _ in range(count)]
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n\n".join(
        k.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
        .strip()
        for k in keys
    )
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return keys


class KeyPool:
    """Distinct pre-generated keys; :meth:`take` hands each out once per test."""

    def __init__(self, keys: list[rsa.RSAPrivateKey]) -> None:
        self.keys = keys
        self._next = 0
        self._lock = threading.Lock()

    @classmethod
    def cached(cls, directory: Path, count: int, bits: int = 2048) -> KeyPool:
        return cls(_load_or_generate(directory / f"rsa{bits}-{count}.pem", count, bits))

    def reset(self) -> None:
        with self._lock:
            self._next = 0

    @property
    def handed_out(self) -> int:
        return self._next

    def take(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._next >= len(self.keys):
                raise AssertionError(
                    f"key pool exhausted: {len(self.keys)} keys handed out in one test"
                )
            key = self.keys[self._next]
            self._next += 1
            return key


# --------------------------------------------------------------------------------------
# The .ovpn files and the end state
# --------------------------------------------------------------------------------------


def _block(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>\s*(.*?)\s*</{tag}>", text, re.DOTALL)
    return match.group(1) if match else None


@dataclass(frozen=True)
class OvpnFile:
    """A parsed ``.ovpn`` (user file or shared export)."""

    text: str

    @property
    def remotes(self) -> list[tuple[str, int]]:
        return [
            (m.group(1), int(m.group(2)))
            for m in re.finditer(r"^remote\s+(\S+)\s+(\d+)\s*$", self.text, re.MULTILINE)
        ]

    @property
    def proto(self) -> str | None:
        match = re.search(r"^proto\s+(\S+)", self.text, re.MULTILINE)
        return match.group(1) if match else None

    @property
    def ca(self) -> x509.Certificate | None:
        pem = _block(self.text, "ca")
        return x509.load_pem_x509_certificate(pem.encode()) if pem else None

    @property
    def cert(self) -> x509.Certificate | None:
        pem = _block(self.text, "cert")
        return x509.load_pem_x509_certificate(pem.encode()) if pem else None

    @property
    def key_pem(self) -> str | None:
        return _block(self.text, "key")

    @property
    def key(self) -> rsa.RSAPrivateKey | None:
        pem = self.key_pem
        if pem is None:
            return None
        key = serialization.load_pem_private_key(pem.encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    @property
    def serial(self) -> int | None:
        cert = self.cert
        return cert.serial_number if cert else None

    @property
    def cn(self) -> str | None:
        cert = self.cert
        if cert is None:
            return None
        attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else None

    def key_matches_cert(self) -> bool:
        key, cert = self.key, self.cert
        if key is None or cert is None:
            return False
        return key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]

    def verifies_against(self, ca: x509.Certificate) -> bool:
        cert = self.cert
        if cert is None or cert.issuer != ca.subject:
            return False
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, Exception):
            return False
        return True


def key_fingerprint(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return base64.b16encode(digest.finalize()).decode()[:16]


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    body: bytes | None


@dataclass
class EndState:
    """Everything the bucket, the fake EC2 and the secrets hold after a sequence."""

    versions: list[ObjectVersion]
    prefix: str
    crls: dict[str, list[CrlImport]]

    @property
    def current(self) -> dict[str, bytes]:
        """Current (latest, not deleted) objects: key -> body."""
        return {v.key: v.body or b"" for v in self.versions if v.is_latest and not v.delete_marker}

    def versions_of(self, key: str) -> list[ObjectVersion]:
        return [v for v in self.versions if v.key == key]

    @property
    def keys_with_any_version(self) -> set[str]:
        return {v.key for v in self.versions}

    def users(self) -> dict[str, OvpnFile]:
        """Current user files by user name."""
        out = {}
        for key, body in self.current.items():
            match = re.fullmatch(re.escape(self.prefix) + r"users/([^/]+)\.ovpn", key)
            if match:
                out[match.group(1)] = OvpnFile(body.decode())
        return out

    def user_keys_in_any_version(self) -> set[str]:
        return {
            v.key
            for v in self.versions
            if re.fullmatch(re.escape(self.prefix) + r"users/[^/]+\.ovpn", v.key)
        }

    def versions_holding_a_private_key(self) -> list[ObjectVersion]:
        return [v for v in self.versions if v.body and b"PRIVATE KEY" in v.body]

    @property
    def state(self) -> dict[str, Any] | None:
        body = self.current.get(f"{self.prefix}state.json")
        return json.loads(body) if body is not None else None

    def state_serials(self) -> dict[str, int]:
        """User -> current serial according to the state."""
        state = self.state or {}
        return {name: int(rec["serial"], 16) for name, rec in state.get("users", {}).items()}

    @property
    def ledgers(self) -> dict[str, dict[str, Any]]:
        return {
            key: json.loads(body)
            for key, body in self.current.items()
            if key.startswith(f"{self.prefix}revocations/") and key.endswith(".json")
        }

    def revoked(self) -> set[int]:
        """Every serial in any current ledger."""
        serials: set[int] = set()
        for ledger in self.ledgers.values():
            for entry in ledger.get("entries", []):
                serials.add(int(entry["serial"], 16))
        return serials


# --------------------------------------------------------------------------------------
# The world: moto, IAM users, fake EC2, clients
# --------------------------------------------------------------------------------------

ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass
class Handler:
    """One handler function: its custom resource type, policy, IAM user and clients."""

    type_: str
    template: StackTemplate
    user_name: str
    access_key: tuple[str, str] = ("", "")
    checker: PolicyChecker | None = None
    denied: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)


Fault = Callable[[str, str, Mapping[str, Any]], None]
"""``fault(handler type, operation, params)``: raise to make that call fail."""


class Killed(BaseException):
    """The Lambda run was killed (timeout, out of memory): a ``BaseException`` the handlers'
    ``except Exception`` cannot catch. Raised by :class:`Killer`, at the chosen call and at
    every later call of the same run, so that no clean-up reaches AWS either."""


class Killer:
    """A fault that kills a run of ``type_`` at its ``at``-th AWS call (1-based).

    That call does not happen, nor does any later call of the run (each raises
    :class:`Killed` again; ``after`` lists them: the clean-up a real kill never runs).
    :attr:`fired` names the call killed; :meth:`stop` ends the kill (the next run lives).
    """

    def __init__(self, type_: str, at: int) -> None:
        self.type_, self.at = type_, at
        self.seen = 0
        self.fired = ""
        self.after: list[str] = []
        self.active = True
        self._lock = threading.Lock()

    def __call__(self, type_: str, op: str, params: Mapping[str, Any]) -> None:
        if type_ != self.type_ or not self.active:
            return
        with self._lock:
            if self.fired:
                self.after.append(op)
                raise Killed(op)
            self.seen += 1
            if self.seen == self.at:
                self.fired = op
                raise Killed(op)

    def stop(self) -> None:
        self.active = False


class Clock:
    """The handlers' time, movable and virtual.

    ``now`` replaces ``constructs_cvpn.handlers.pki.clock.now``; :meth:`sleep` and
    :meth:`monotonic` replace ``time.sleep``/``time.monotonic`` in the handler modules (see
    :meth:`time_module`): a handler that waits (a lease held by another run, ACM "in use")
    advances the virtual time instead of sleeping, so a 13-minute wait costs nothing and
    the Lambda deadline (:class:`LambdaContext`) still comes. moto's ACM validity check
    follows ``now`` as well.
    """

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)
        self.slept = 0.0
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        with self._lock:
            self.offset += dt.timedelta(**kwargs)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.offset += dt.timedelta(seconds=max(0.0, seconds))
            self.slept += max(0.0, seconds)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset.total_seconds()

    def time_module(self) -> Any:
        """A stand-in for the ``time`` module with virtual ``sleep``/``monotonic``/``time``."""
        clock = self

        class _Time:
            sleep = staticmethod(clock.sleep)
            monotonic = staticmethod(clock.monotonic)

            @staticmethod
            def time() -> float:
                return clock.now().timestamp()

            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

        return _Time()


class World:
    """moto + IAM enforcement + the fake EC2, for one test."""

    def __init__(self, synthesized: Synthesized, clock: Clock) -> None:
        self.synth = synthesized
        self.clock = clock
        self.ec2 = FakeClientVpn(clock.now, acm=lambda: self.admin("acm"))
        self.refs = Refs()
        self.faults: list[Fault] = []
        self.handlers: dict[str, Handler] = {}
        self.admin_key: tuple[str, str] = ("", "")
        self.bucket = "cvpn-lifecycle-configs"
        self.kms_key_arn = ""
        self.endpoint: Endpoint | None = None
        self._lock = threading.Lock()
        self._admin: dict[str, Any] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self.injector: Callable[[str], None] = lambda type_: None

    # -- set-up ---------------------------------------------------------------------

    def admin(self, service: str) -> Any:
        if service not in self._admin:
            self._admin[service] = boto3.client(
                service,
                region_name=REGION,
                aws_access_key_id=self.admin_key[0],
                aws_secret_access_key=self.admin_key[1],
            )
        return self._admin[service]

    def activate(self, type_: str) -> None:
        """Give the handler module of ``type_`` this handler's clients (set by conftest)."""
        self.injector(type_)

    def bootstrap_admin(self) -> None:
        """Create the admin user (the only calls made without IAM checks)."""
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        iam = boto3.client("iam", region_name=REGION)
        before = settings.INITIAL_NO_AUTH_ACTION_COUNT
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 3
        ActionAuthenticatorMixin.request_count = 0
        try:
            iam.create_user(UserName="lifecycle-admin")
            iam.put_user_policy(
                UserName="lifecycle-admin",
                PolicyName="admin",
                PolicyDocument=json.dumps(ADMIN_POLICY),
            )
            key = iam.create_access_key(UserName="lifecycle-admin")["AccessKey"]
        finally:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = before
        self.admin_key = (key["AccessKeyId"], key["SecretAccessKey"])

    def create_base(self) -> None:
        """The KMS key and the versioned SSE-KMS bucket (what the stack creates first)."""
        self.kms_key_arn = self.admin("kms").create_key(Description="lifecycle")["KeyMetadata"][
            "Arn"
        ]
        s3 = self.admin("s3")
        s3.create_bucket(
            Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": self.kms_key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        for template in (self.synth.pki, self.synth.export):
            self._fill_static_refs(template)

    def _fill_static_refs(self, template: StackTemplate) -> None:
        for logical_id, resource in template.resources.items():
            kind = resource["Type"]
            if kind == "AWS::S3::Bucket" and "ConfigBucket" in logical_id:
                self.refs.refs[logical_id] = self.bucket
                self.refs.attrs[(logical_id, "Arn")] = f"arn:{PARTITION}:s3:::{self.bucket}"
            elif kind == "AWS::KMS::Key":
                self.refs.refs[logical_id] = self.kms_key_arn.rsplit("/", 1)[1]
                self.refs.attrs[(logical_id, "Arn")] = self.kms_key_arn
            elif kind == "AWS::IAM::Role":
                self.refs.refs[logical_id] = logical_id
                self.refs.attrs[(logical_id, "Arn")] = (
                    f"arn:{PARTITION}:iam::{ACCOUNT}:role/{logical_id}"
                )
            elif kind == "AWS::Logs::LogGroup":
                name = resource["Properties"].get("LogGroupName", logical_id)
                self.refs.refs[logical_id] = name
                self.refs.attrs[(logical_id, "Arn")] = (
                    f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
                )

    def create_endpoint(self, ca_pem: Callable[[], str], **kwargs: Any) -> Endpoint:
        """A new endpoint; every template's endpoint ``Ref`` now resolves to it. With an
        Authority deployed, its server certificate ARN (also the client root chain) is the
        endpoint's, and the fake Client VPN reads both from ACM."""
        logical_id, _ = self.synth.pki.custom_resource(AUTHORITY)
        arn = self.refs.attrs.get((logical_id, "ServerCertificateArn"))
        if arn and "server_arn" not in kwargs:
            kwargs = {**kwargs, "server_arn": arn, "root_arn": arn}
        endpoint = self.ec2.create(ca_pem, **kwargs)
        self.use_endpoint(endpoint)
        return endpoint

    def use_endpoint(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        for template in (self.synth.pki, self.synth.export):
            for logical_id in template.of_type("AWS::EC2::ClientVpnEndpoint"):
                self.refs.refs[logical_id] = endpoint.endpoint_id
        self.refresh_policies()

    def set_authority(self, secret_arn: str, data: Mapping[str, Any]) -> None:
        """The Authority custom resource's ``Ref`` (its physical id: the secret ARN) and its
        ``Fn::GetAtt`` values (its ``Data``)."""
        logical_id, _ = self.synth.pki.custom_resource(AUTHORITY)
        self.refs.refs[logical_id] = secret_arn
        for name, value in data.items():
            self.refs.attrs[(logical_id, name)] = value
        self.refresh_policies()

    def authority_ca_pem(self) -> str:
        """The CA certificate in the Authority's secret (what the endpoint's chain holds)."""
        logical_id, _ = self.synth.pki.custom_resource(AUTHORITY)
        arn = self.refs.refs[logical_id]
        value = self.admin("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        return str(json.loads(value)["ca_cert_pem"])

    # -- handlers ------------------------------------------------------------------------

    def template_of(self, type_: str) -> StackTemplate:
        return self.synth.export if type_ == EXPORT else self.synth.pki

    def policy(self, type_: str) -> dict[str, Any]:
        """The handler's synthesized policy, resolved with the current references."""
        resolved: dict[str, Any] = resolve(self.template_of(type_).handler_policy(type_), self.refs)
        return resolved

    def props(self, type_: str) -> dict[str, Any]:
        """The custom resource's properties as CloudFormation would send them now."""
        _, props = self.template_of(type_).custom_resource(type_)
        resolved: dict[str, Any] = resolve(props, self.refs)
        return resolved

    def register(self, type_: str) -> Handler:
        handler = Handler(type_, self.template_of(type_), user_name=f"handler-{len(self.handlers)}")
        iam = self.admin("iam")
        iam.create_user(UserName=handler.user_name)
        key = iam.create_access_key(UserName=handler.user_name)["AccessKey"]
        handler.access_key = (key["AccessKeyId"], key["SecretAccessKey"])
        self.handlers[type_] = handler
        self._apply_policy(handler)
        return handler

    def refresh_policies(self) -> None:
        for handler in self.handlers.values():
            self._apply_policy(handler)

    def _apply_policy(self, handler: Handler) -> None:
        try:
            document = self.policy(handler.type_)
        except UnresolvedReference:
            # Not deployable yet (e.g. the Users policy before the Authority exists).
            handler.checker = None
            return
        handler.checker = PolicyChecker(document)
        moto_statements = []
        for s in document["Statement"]:
            actions = _as_list(s.get("Action", []))
            if all(str(a).startswith("s3:") for a in actions):
                # moto's matcher turns only "*" into a regex wildcard ("?" crashes it).
                resources = [str(r).replace("?", "*") for r in _as_list(s["Resource"])]
                moto_statements.append({**s, "Resource": resources})
            else:
                moto_statements.append({"Effect": s["Effect"], "Action": actions, "Resource": "*"})
        moto_statements.append(
            {
                "Effect": "Allow",
                "Action": "s3:DeleteObject",
                "Resource": f"arn:{PARTITION}:s3:::{self.bucket}",
            }
        )
        moto_doc = {"Version": "2012-10-17", "Statement": moto_statements}
        iam = self.admin("iam")
        iam.put_user_policy(
            UserName=handler.user_name,
            PolicyName="synthesized",
            PolicyDocument=json.dumps(moto_doc),
        )

    def client(self, type_: str, service: str) -> Any:
        """A boto3 client with the handler's keys, checked by :class:`PolicyChecker`."""
        if (type_, service) not in self._clients:
            self._clients[(type_, service)] = self._new_client(type_, service)
        return self._clients[(type_, service)]

    def _new_client(self, type_: str, service: str) -> Any:
        handler = self.handlers[type_]
        if service == "ec2":

            def ec2_fault(op: str, params: Mapping[str, Any]) -> None:
                with self._lock:
                    handler.calls.append(f"ec2:{op}")
                for fault in list(self.faults):
                    fault(type_, op, params)

            return self.ec2.client_for(
                lambda op, action, arn: self._check(handler, op, Request(action, arn)), ec2_fault
            )
        c = boto3.client(
            service,
            region_name=REGION,
            aws_access_key_id=handler.access_key[0],
            aws_secret_access_key=handler.access_key[1],
        )

        def before(params: dict[str, Any], model: Any, **_: Any) -> None:
            op = model.name
            with self._lock:
                handler.calls.append(f"{service}:{op}")
            for fault in list(self.faults):
                fault(type_, op, params)
            for request in self.requests(service, op, params):
                self._check(handler, op, request)
            self._emulate_missing_object(handler, service, op, params)

        c.meta.events.register("provide-client-params", before)
        return c

    def key_policy(self, type_: str) -> PolicyChecker | None:
        """The KMS key policy statements naming this handler's role (None: none)."""
        template = self.template_of(type_)
        role_arn = resolve({"Fn::GetAtt": [template.handler_role(type_), "Arn"]}, self.refs)
        statements = []
        for key in template.of_type("AWS::KMS::Key").values():
            for st in key["Properties"]["KeyPolicy"]["Statement"]:
                principal = st.get("Principal", {})
                if not isinstance(principal, dict) or "AWS" not in principal:
                    continue
                if role_arn in _as_list(resolve(principal["AWS"], self.refs)):
                    statements.append({k: v for k, v in st.items() if k != "Principal"})
        if not statements:
            return None
        return PolicyChecker(resolve({"Statement": statements}, self.refs))

    def _allowed(self, handler: Handler, request: Request) -> bool:
        assert handler.checker is not None
        if handler.checker.allowed(request):
            return True
        if request.action.startswith("kms:") and request.resource in self._managed_keys():
            # The AWS managed key's policy allows every principal of the account through
            # Secrets Manager.
            return True
        if request.action.startswith("kms:"):
            # The key policy may name the role itself (the CDK key policy also delegates to
            # IAM through the account root, which is the identity policy checked above).
            key_policy = self.key_policy(handler.type_)
            if key_policy is None:
                return False
            return key_policy.allowed(request) or key_policy.allowed(
                dataclasses.replace(request, resource="*")
            )
        return False

    def _check(self, handler: Handler, operation: str, request: Request) -> None:
        if handler.checker is None:
            raise AssertionError(f"{handler.type_} runs before its policy can be resolved")
        if not self._allowed(handler, request):
            with self._lock:
                handler.denied.append(str(request))
            raise access_denied(operation, request)

    # -- authorization model -------------------------------------------------------------

    def _object_kms_key(self, bucket: str, key: str, version: str | None) -> str | None:
        kwargs = {"VersionId": version} if version else {}
        try:
            head = self.admin("s3").head_object(Bucket=bucket, Key=key, **kwargs)
        except ClientError:
            return None
        found = head.get("SSEKMSKeyId")
        return str(found) if found else None

    def _secret(self, secret_id: str) -> dict[str, Any] | None:
        try:
            described: dict[str, Any] = self.admin("secretsmanager").describe_secret(
                SecretId=secret_id
            )
        except ClientError:
            return None
        return described

    def _managed_keys(self) -> set[str]:
        """The AWS managed Secrets Manager key (its alias and, once moto made it, its ARN)."""
        alias = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:alias/aws/secretsmanager"
        try:
            meta = self.admin("kms").describe_key(KeyId="alias/aws/secretsmanager")
        except ClientError:
            return {alias}
        return {alias, str(meta["KeyMetadata"]["Arn"])}

    def _acm_tags(self, arn: str) -> dict[str, Any]:
        try:
            tags = self.admin("acm").list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        except ClientError:
            return {}
        return {f"aws:ResourceTag/{t['Key']}": t.get("Value", "") for t in tags}

    def _kms_arn(self, key_id: str | None) -> str:
        if not key_id:
            return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:alias/aws/secretsmanager"
        if key_id.startswith("arn:"):
            return key_id
        meta = self.admin("kms").describe_key(KeyId=key_id)["KeyMetadata"]
        return str(meta["Arn"])

    def requests(self, service: str, op: str, params: Mapping[str, Any]) -> list[Request]:
        """What AWS authorizes for one call (see the module docstring)."""
        s3_arn = f"arn:{PARTITION}:s3:::"
        if service == "s3":
            bucket = params["Bucket"]
            key = params.get("Key", "")
            version = params.get("VersionId")
            obj = f"{s3_arn}{bucket}/{key}"
            if op in ("GetObject", "HeadObject"):
                out = [Request("s3:GetObjectVersion" if version else "s3:GetObject", obj)]
                kms = self._object_kms_key(bucket, key, version)
                if kms:
                    out.append(Request("kms:Decrypt", self._kms_arn(kms), _via("s3")))
                return out
            if op == "PutObject":
                out = [Request("s3:PutObject", obj)]
                kms = params.get("SSEKMSKeyId") or self.kms_key_arn
                out.append(Request("kms:GenerateDataKey", self._kms_arn(kms), _via("s3")))
                return out
            if op == "DeleteObject":
                return [Request("s3:DeleteObjectVersion" if version else "s3:DeleteObject", obj)]
            if op == "DeleteObjects":
                return [
                    Request(
                        "s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                        f"{s3_arn}{bucket}/{o['Key']}",
                    )
                    for o in params["Delete"]["Objects"]
                ]
            if op in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
                action = "s3:ListBucketVersions" if op == "ListObjectVersions" else "s3:ListBucket"
                ctx = {"s3:prefix": params["Prefix"]} if params.get("Prefix") is not None else {}
                return [Request(action, f"{s3_arn}{bucket}", ctx)]
            if op == "HeadBucket":
                return [Request("s3:ListBucket", f"{s3_arn}{bucket}")]
        if service == "secretsmanager":
            action = f"secretsmanager:{op}"
            secret_arns = f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:"
            if op == "CreateSecret":
                arn = f"{secret_arns}{params['Name']}-AbCdEf"
                out = [Request(action, arn)]
                if params.get("Tags"):
                    out.append(Request("secretsmanager:TagResource", arn))
                kms_arn = self._kms_arn(params.get("KmsKeyId"))
                out.append(Request("kms:GenerateDataKey", kms_arn, _via("secretsmanager")))
                return out
            if op == "ListSecrets":
                return [Request(action, "*")]
            secret_id = str(params["SecretId"])
            described = self._secret(secret_id)
            if described is None:
                arn = (
                    secret_id
                    if secret_id.startswith("arn:")
                    else (
                        f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}-AbCdEf"
                    )
                )
                return [Request(action, arn)]
            arn = str(described["ARN"])
            ctx = {f"aws:ResourceTag/{t['Key']}": t["Value"] for t in described.get("Tags", [])}
            out = [Request(action, arn, ctx)]
            kms = self._kms_arn(described.get("KmsKeyId"))
            via = _via("secretsmanager")
            if op == "GetSecretValue":
                out.append(Request("kms:Decrypt", kms, via))
            if op in ("PutSecretValue",) or (op == "UpdateSecret" and "SecretString" in params):
                out.append(Request("kms:GenerateDataKey", kms, via))
            if op == "UpdateSecret" and params.get("KmsKeyId"):
                out.append(Request("kms:GenerateDataKey", self._kms_arn(params["KmsKeyId"]), via))
                out.append(Request("kms:Decrypt", kms, via))
            return out
        if service == "acm":
            action = f"acm:{op}"
            if op == "ListCertificates":
                return [Request(action, "*")]
            if op == "ImportCertificate":
                tags = params.get("Tags") or []
                request_ctx: dict[str, Any] = {
                    f"aws:RequestTag/{t['Key']}": t.get("Value", "") for t in tags
                }
                if tags:
                    request_ctx["aws:TagKeys"] = [t["Key"] for t in tags]
                arn = params.get("CertificateArn")
                if arn:
                    request_ctx.update(self._acm_tags(arn))
                arn = arn or f"arn:{PARTITION}:acm:{REGION}:{ACCOUNT}:certificate/new"
                out = [Request(action, arn, request_ctx)]
                if tags:
                    out.append(Request("acm:AddTagsToCertificate", arn, request_ctx))
                return out
            arn = str(params["CertificateArn"])
            ctx: dict[str, str] = {}
            try:
                tags = (
                    self.admin("acm").list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
                )
                ctx = {f"aws:ResourceTag/{t['Key']}": t.get("Value", "") for t in tags}
            except ClientError:
                pass
            return [Request(action, arn, ctx)]
        if service == "kms":
            return [Request(f"kms:{op}", self._kms_arn(params.get("KeyId")))]
        raise NotModelledError(f"{service}:{op} has no authorization model in the harness")

    def _emulate_missing_object(
        self, handler: Handler, service: str, op: str, params: Mapping[str, Any]
    ) -> None:
        """S3 answers a missing object with 403 unless ``s3:ListBucket`` is allowed."""
        if service != "s3" or op not in ("GetObject", "HeadObject") or params.get("VersionId"):
            return
        bucket, key = params["Bucket"], params["Key"]
        try:
            self.admin("s3").head_object(Bucket=bucket, Key=key)
            return
        except ClientError:
            pass
        assert handler.checker is not None
        listing = Request("s3:ListBucket", f"arn:{PARTITION}:s3:::{bucket}", {"s3:prefix": key})
        if not handler.checker.allowed(listing):
            with self._lock:
                handler.denied.append(f"{listing} (missing object {key} reads as 403)")
            raise access_denied(op, Request("s3:GetObject", f"arn:{PARTITION}:s3:::{bucket}/{key}"))

    # -- faults --------------------------------------------------------------------------

    @contextlib.contextmanager
    def fault(self, fault: Fault) -> Iterator[None]:
        self.faults.append(fault)
        try:
            yield
        finally:
            if fault in self.faults:
                self.faults.remove(fault)

    def end_kills(self) -> None:
        """The killed run is over: the next run (a new Lambda invocation) lives."""
        for fault in self.faults:
            if isinstance(fault, Killer):
                fault.stop()

    # -- the end state -------------------------------------------------------------------

    def inspect(self, prefix: str) -> EndState:
        s3 = self.admin("s3")
        versions: list[ObjectVersion] = []
        try:
            pages = s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket)
            for page in pages:
                for v in page.get("Versions", []):
                    body = s3.get_object(
                        Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"]
                    )["Body"].read()
                    versions.append(
                        ObjectVersion(v["Key"], v["VersionId"], v["IsLatest"], False, body)
                    )
                for m in page.get("DeleteMarkers", []):
                    versions.append(
                        ObjectVersion(m["Key"], m["VersionId"], m["IsLatest"], True, None)
                    )
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucket":
                raise
        crls = {
            e.endpoint_id: list(e.crls)
            for e in [*self.ec2.endpoints.values(), *self.ec2.deleted.values()]
        }
        return EndState(versions=versions, prefix=prefix, crls=crls)


# --------------------------------------------------------------------------------------
# moto ACM made to behave like ACM
# --------------------------------------------------------------------------------------


def patch_moto_acm(monkeypatch: Any, clock: Clock) -> None:
    from moto.acm import models

    original_describe = models.CertBundle.describe

    def describe(self: Any) -> Any:
        result = original_describe(self)
        serial = int(self._cert.serial_number)
        text = format(serial, "x")
        if len(text) % 2:
            text = "0" + text
        result["Certificate"]["Serial"] = ":".join(text[i : i + 2] for i in range(0, len(text), 2))
        return result

    monkeypatch.setattr(models.CertBundle, "describe", describe)

    original_import = models.AWSCertificateManagerBackend.import_certificate

    def import_certificate(
        self: Any,
        certificate: bytes,
        private_key: bytes,
        chain: bytes | None,
        arn: str | None,
        tags: list[dict[str, str]],
    ) -> str:
        kept = dict(self._certificates[arn].tags) if arn and arn in self._certificates else {}
        result: str = original_import(self, certificate, private_key, chain, arn, tags)
        if kept:
            self._certificates[result].tags.update(kept)
        return result

    monkeypatch.setattr(
        models.AWSCertificateManagerBackend, "import_certificate", import_certificate
    )
    monkeypatch.setattr(models, "utcnow", lambda: clock.now().replace(tzinfo=None))


def patch_moto_acm_in_use(monkeypatch: Any, fake: FakeClientVpn) -> None:
    """ACM refuses to delete a certificate a live endpoint uses (moto deletes it):
    ``ResourceInUseException`` (ACM API reference, DeleteCertificate)."""
    from moto.acm import models
    from moto.acm.exceptions import AWSError

    class InUse(AWSError):
        TYPE = "ResourceInUseException"

    original = models.AWSCertificateManagerBackend.delete_certificate

    def delete_certificate(self: Any, arn: str) -> None:
        if fake.uses(arn):
            raise InUse(message=f"Certificate {arn} is in use")
        original(self, arn)

    monkeypatch.setattr(
        models.AWSCertificateManagerBackend, "delete_certificate", delete_certificate
    )


# --------------------------------------------------------------------------------------
# The CloudFormation driver (through the handlers' own answering code)
# --------------------------------------------------------------------------------------


@dataclass
class Response:
    """What the function answered CloudFormation for one request."""

    request_type: str
    ok: bool
    physical_id: str
    data: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    killed: bool = False
    """The run was killed: no answer reached CloudFormation."""

    def __post_init__(self) -> None:
        if self.ok:
            size = len(json.dumps({"PhysicalResourceId": self.physical_id, "Data": self.data}))
            assert size < 4096, f"response of {size} bytes exceeds CloudFormation's 4,096"


@dataclass
class Cfn:
    """Sends CloudFormation requests to one handler function, as CloudFormation does.

    ``events`` records every request the handler's ``on_event`` received (and the requests
    the function answered without calling it, with ``handled=False``).
    """

    world: World
    type_: str
    on_event: Callable[[Mapping[str, Any], Any], Mapping[str, Any]]
    logical_id: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    context_factory: Callable[[], Any] | None = None
    """A Lambda context per invocation; default: the function's synthesized timeout."""

    def __post_init__(self) -> None:
        if not self.logical_id:
            self.logical_id, _ = self.world.template_of(self.type_).custom_resource(self.type_)
        if self.context_factory is None:
            timeout = self.world.template_of(self.type_).handler_timeout(self.type_)
            clock = self.world.clock
            self.context_factory = lambda: LambdaContext(timeout, clock.monotonic)

    def _event(self, request_type: str, props: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        _, raw = self.world.template_of(self.type_).custom_resource(self.type_)
        event = {
            "RequestType": request_type,
            "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:handler",
            "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x",
            "StackId": STACK_ID,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": self.logical_id,
            "ResourceType": self.type_,
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:handler", **dict(props)},
            **extra,
        }
        del raw
        return event

    def send(self, event: Mapping[str, Any]) -> Response:
        """Deliver one event to the function's entry point and read its answer.

        A CloudFormation request goes through the real ``handlers.cloudformation``
        wrapper; its PUT to the ResponseURL is captured and parsed. An event without a
        ResponseURL (the renewal schedule) calls ``on_event`` as Lambda would.
        """
        request_type = str(event["RequestType"])
        errors: list[BaseException] = []

        def recording(ev: Mapping[str, Any], context: Any) -> Mapping[str, Any]:
            self.events.append({**ev, "handled": True})
            self.world.activate(self.type_)
            try:
                return self.on_event(copy.deepcopy(dict(ev)), context)
            except Exception as err:
                errors.append(err)
                raise

        assert self.context_factory is not None
        if "ResponseURL" not in event:
            try:
                out = recording(event, self.context_factory())
            except Killed as err:
                self.world.end_kills()
                return Response(request_type, False, "", error=err, killed=True)
            except Exception as err:
                pid = str(event.get("PhysicalResourceId"))
                return Response(request_type, False, pid, error=err)
            pid = str(out.get("PhysicalResourceId") or event.get("PhysicalResourceId"))
            return Response(request_type, True, pid, dict(out.get("Data") or {}))

        answers: list[dict[str, Any]] = []
        before = len(self.events)
        answer_with = cloudformation.answering(
            recording,
            put=lambda _url, body: answers.append(json.loads(body)),
            # as handlers/pki/index.py: a failed Create's rollback Delete reaches the handler
            marker_deletes=self.type_ in (AUTHORITY, USERS),
        )
        try:
            answer_with(copy.deepcopy(dict(event)), self.context_factory())
        except Killed as err:
            assert not answers, "a killed run answered CloudFormation"
            self.world.end_kills()
            return Response(request_type, False, "", error=err, killed=True)
        if len(self.events) == before:
            self.events.append(
                {
                    "RequestType": request_type,
                    "PhysicalResourceId": event.get("PhysicalResourceId"),
                    "handled": False,
                }
            )
        assert len(answers) == 1, f"{len(answers)} answers to one request"
        (answer,) = answers
        for key in ("StackId", "RequestId", "LogicalResourceId"):
            assert answer[key] == event[key], f"the answer's {key} is not the request's"
        ok = answer["Status"] == "SUCCESS"
        assert ok or answer["Reason"], "a FAILED answer needs a Reason"
        return Response(
            request_type,
            ok,
            str(answer["PhysicalResourceId"]),
            dict(answer["Data"]),
            error=errors[-1] if errors else None,
        )

    def create(self, props: Mapping[str, Any]) -> Response:
        """A Create; if it fails, CloudFormation's rollback Delete of its physical id."""
        response = self.send(self._event("Create", props))
        if response.killed:
            # No answer: after ServiceTimeout CloudFormation fails the Create and sends a
            # Delete with a physical id it generated (cloudformation-coverage-roadmap#1814).
            self.delete(props, self.generated_id())
        elif not response.ok:
            self.delete(props, response.physical_id)
        return response

    def generated_id(self) -> str:
        """A physical id as CloudFormation generates one (stack, logical id, random)."""
        return f"Lifecycle-{self.logical_id}-{uuid.uuid4().hex[:12].upper()}"

    def update(
        self,
        new: Mapping[str, Any],
        old: Mapping[str, Any],
        physical_id: str,
        *,
        cleanup: bool = True,
        before_rollback: Callable[[], None] | None = None,
    ) -> Response:
        """An Update. A new physical id is followed by the clean-up Delete (old id, old
        properties, current policy). A failure is followed by the rollback Update (old and
        new swapped; ``before_rollback`` runs first, e.g. to restore the old policy)."""
        response = self.send(
            self._event(
                "Update", new, OldResourceProperties=dict(old), PhysicalResourceId=physical_id
            )
        )
        if not response.ok:
            if before_rollback is not None:
                before_rollback()
            rollback = self.send(
                self._event(
                    "Update", old, OldResourceProperties=dict(new), PhysicalResourceId=physical_id
                )
            )
            response.data = {"Rollback": rollback}
            return response
        if cleanup and response.physical_id != physical_id:
            response.data = {**response.data, "_Cleanup": self.delete(old, physical_id)}
        return response

    def delete(self, props: Mapping[str, Any], physical_id: str) -> Response:
        return self.send(self._event("Delete", props, PhysicalResourceId=physical_id))

    def renew(self, props: Mapping[str, Any], physical_id: str) -> Response:
        """The EventBridge schedule's invocation (not CloudFormation: no ResponseURL)."""
        event = {
            "RequestType": "Renew",
            "ResourceProperties": dict(props),
            "PhysicalResourceId": physical_id,
        }
        return self.send(event)

    @property
    def handled(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("handled")]


class LambdaContext:
    """A Lambda context with a deadline (``get_remaining_time_in_millis``)."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._end = clock() + seconds
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - self._clock()) * 1000))


# --------------------------------------------------------------------------------------
# A deployed generated-PKI stack
# --------------------------------------------------------------------------------------


@dataclass
class PkiStack:
    """The Authority and Users custom resources of one deployment of the PKI stack."""

    world: World
    authority: Cfn
    users: Cfn
    authority_props: dict[str, Any] = field(default_factory=dict)
    authority_pid: str = ""
    users_props: dict[str, Any] = field(default_factory=dict)
    users_pid: str = ""

    def deploy(self, names: list[str], **endpoint: Any) -> Response:
        """Create the Authority, then the endpoint, then Users (the stack's order)."""
        self.authority_props = self.world.props(AUTHORITY)
        created = self.authority.create(self.authority_props)
        assert created.ok, f"Authority Create failed: {created.error!r}"
        self.authority_pid = created.physical_id
        self.world.set_authority(self.authority_pid, created.data)
        self.world.create_endpoint(self.world.authority_ca_pem, **endpoint)
        self.users_props = self.props(names)
        response = self.users.create(self.users_props)
        self.users_pid = response.physical_id
        return response

    def props(self, names: list[str], **changes: Any) -> dict[str, Any]:
        """The Users properties of the current template and references, for ``names``."""
        props = self.world.props(USERS)
        props["Users"] = sorted(names)
        for key, value in changes.items():
            if key == "Triggers":
                props["Triggers"] = {**props.get("Triggers", {}), **value}
            else:
                props[key] = value
        return props

    def update_users(self, new: dict[str, Any], **kwargs: Any) -> Response:
        response = self.users.update(new, self.users_props, self.users_pid, **kwargs)
        if response.ok:
            self.users_props, self.users_pid = new, response.physical_id
        return response

    @property
    def prefix(self) -> str:
        return str(self.world.props(USERS)["Prefix"])

    def end_state(self) -> EndState:
        return self.world.inspect(self.prefix)

    def ca(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.world.authority_ca_pem().encode())
