"""Every ```python block of README.md (indented ones too) runs and synthesizes.

Each block is executed on its own, in a scaffold that supplies the names the README leaves
to the reader's app: ``self`` (a Stack), ``vpc``, ``database``, ``alice_role``,
``server_arn``, ``client_root_arn``, ``secret``, ``idp``, ``portal_idp``, ``topic``,
``MyVpnStack`` (a stack with a ``vpn``), ``snapshot`` (syrupy's fixture), and the names the
Usage section imports (``ec2``, ``ClientVpn``, ``AuthorizationRule``, ``Route``). Every App
the block touches is then synthesized, and a ``test_*`` function the block defines is called.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_cvpn import AuthorizationRule, ClientVpn, Route

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.DOTALL | re.MULTILINE)
BLOCKS = [textwrap.dedent(code) for _, code in BLOCK.findall(README.read_text())]

SERVER_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
CLIENT_ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"


class MyVpnStack(Stack):
    """The reader's stack that the nag and snapshot examples refer to."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = ec2.Vpc(self, "Vpc", max_azs=2)
        self.vpn = ClientVpn(
            self,
            "Vpn",
            vpc=vpc,
            cidr="10.100.0.0/22",
            split_tunnel=True,
            users=["alice"],
            authorization_rules=[AuthorizationRule(cidr=vpc.vpc_cidr_block, all_users=True)],
        )


class _Snapshot:
    """Stands in for syrupy's ``snapshot``: equal to any template, which it keeps."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def __eq__(self, other: object) -> bool:
        self.seen.append(other)
        return True

    __hash__ = None  # type: ignore[assignment]


def scaffold() -> dict[str, Any]:
    app = App()
    stack = Stack(app, "ReaderStack")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    return {
        "__name__": "readme_example",
        "self": stack,
        "vpc": vpc,
        "database": rds.DatabaseInstance(
            stack,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
            vpc=vpc,
        ),
        "alice_role": iam.Role(stack, "AliceRole", assumed_by=iam.AccountPrincipal("111111111111")),
        "server_arn": SERVER_ARN,
        "client_root_arn": CLIENT_ARN,
        "secret": secretsmanager.Secret.from_secret_name_v2(stack, "Secret", "cvpn/client"),
        "idp": iam.SamlProvider.from_saml_provider_arn(
            stack, "Idp", "arn:aws:iam::111111111111:saml-provider/Idp"
        ),
        "portal_idp": iam.SamlProvider.from_saml_provider_arn(
            stack, "PortalIdp", "arn:aws:iam::111111111111:saml-provider/Portal"
        ),
        "topic": sns.Topic(stack, "Topic"),
        "MyVpnStack": MyVpnStack,
        "snapshot": _Snapshot(),
        "ec2": ec2,
        "ClientVpn": ClientVpn,
        "AuthorizationRule": AuthorizationRule,
        "Route": Route,
    }


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs_and_synthesizes(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVPN_SKIP_BUNDLING", "1")  # no wheel download for a template
    namespace = scaffold()
    exec(compile(code, str(README), "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value(snapshot=namespace["snapshot"])
    apps = {id(v): v for v in namespace.values() if isinstance(v, App)}
    apps[id(namespace["self"].node.root)] = namespace["self"].node.root
    for app in apps.values():
        app.synth()
