"""Fixtures for the ``cvpn`` tests: stubbed EC2/CloudFormation clients, moto S3, a runner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import typer
from botocore.stub import Stubber
from typer.testing import CliRunner, Result

from constructs_cvpn.cli import create_app
from constructs_cvpn.cli.clients import RETRY_CONFIG, S3_CONFIG

REGION = "eu-west-1"
STACK = "VpnStack"
ENDPOINT_ID = "cvpn-endpoint-0123456789abcdef0"
BUCKET = "vpnstack-configbucket-1a2b3c"
CONFIG_KEY = f"client-config/{ENDPOINT_ID}/client.ovpn"
USER_PREFIX = f"client-config/{ENDPOINT_ID}/users/"
ACCOUNT = "123456789012"
"""The account of the stack (moto's default account owns the moto bucket)."""
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0a1b2c3d-4e5f"
CERT_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate"
WIDE = {"COLUMNS": "200"}
"""Wide terminal so rich tables do not wrap cells in assertions."""


def vpn_outputs(
    prefix: str = "Vpn",
    endpoint_id: str = ENDPOINT_ID,
    *,
    users: bool = True,
    hash_seed: str = "1A2B3C4",
) -> list[dict[str, str]]:
    """The stack outputs a ClientVpn construct at ``prefix`` produces (CDK key format)."""
    outputs = [
        {"OutputKey": f"{prefix}EndpointId{hash_seed}0", "OutputValue": endpoint_id},
        {"OutputKey": f"{prefix}ConfigBucketName{hash_seed}1", "OutputValue": BUCKET},
        {
            "OutputKey": f"{prefix}ConfigKey{hash_seed}2",
            "OutputValue": f"client-config/{endpoint_id}/client.ovpn",
        },
    ]
    if users:
        outputs.append(
            {
                "OutputKey": f"{prefix}UserConfigPrefix{hash_seed}3",
                "OutputValue": f"client-config/{endpoint_id}/users/",
            }
        )
    return outputs


def stack_response(
    outputs: list[dict[str, str]],
    status: str = "CREATE_COMPLETE",
    stack_id: str | None = STACK_ID,
) -> Any:
    """A DescribeStacks response for :data:`STACK` with ``outputs`` (and its ARN, if given)."""
    stack: dict[str, Any] = {
        "StackName": STACK,
        "CreationTime": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "StackStatus": status,
        "Outputs": outputs,
    }
    if stack_id is not None:
        stack["StackId"] = stack_id
    return {"Stacks": [stack]}


def _client(service: str) -> Any:
    """A real botocore client with fake credentials (never sends: stubbed or moto)."""
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=S3_CONFIG if service == "s3" else RETRY_CONFIG,
    )


@dataclass
class FakeAws:
    """Stands in for ``clients.SessionClients``; records the (profile, region) asked for."""

    ec2_client: Any = field(default_factory=lambda: _client("ec2"))
    cfn_client: Any = field(default_factory=lambda: _client("cloudformation"))
    sts_client: Any = field(default_factory=lambda: _client("sts"))
    s3_client: Any = None
    calls: list[tuple[str | None, str | None]] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    now: float = 1000.0

    def __post_init__(self) -> None:
        self.ec2_stub = Stubber(self.ec2_client)
        self.cfn_stub = Stubber(self.cfn_client)
        self.sts_stub = Stubber(self.sts_client)
        self.ec2_stub.activate()
        self.cfn_stub.activate()
        self.sts_stub.activate()

    def ec2(self) -> Any:
        """The stubbed EC2 client."""
        return self.ec2_client

    def cloudformation(self) -> Any:
        """The stubbed CloudFormation client."""
        return self.cfn_client

    def sts(self) -> Any:
        """The stubbed STS client."""
        return self.sts_client

    def s3(self) -> Any:
        """The S3 client a test installed (moto or stubbed)."""
        assert self.s3_client is not None, "test did not set up S3"
        return self.s3_client

    def factory(self, profile: str | None, region: str | None) -> FakeAws:
        """Client factory handed to ``create_app``."""
        self.calls.append((profile, region))
        return self

    def sleep(self, seconds: float) -> None:
        """Fake sleep: advances the fake clock instead of waiting."""
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        """Fake monotonic clock."""
        return self.now

    def app(self) -> typer.Typer:
        """The cvpn app wired to this fake."""
        return create_app(self.factory, sleep=self.sleep, clock=self.clock)

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Invoke ``cvpn <args>`` in-process."""
        return CliRunner().invoke(self.app(), list(args), env={**WIDE, **(env or {})})

    def expect_stack(
        self, outputs: list[dict[str, str]] | None = None, stack_id: str | None = STACK_ID
    ) -> None:
        """Queue a DescribeStacks response for :data:`STACK`."""
        self.cfn_stub.add_response(
            "describe_stacks",
            stack_response(vpn_outputs() if outputs is None else outputs, stack_id=stack_id),
            {"StackName": STACK},
        )

    def expect_caller(self, account: str = ACCOUNT) -> None:
        """Queue an STS GetCallerIdentity response."""
        self.sts_stub.add_response(
            "get_caller_identity",
            {"Account": account, "UserId": "AIDEXAMPLE", "Arn": f"arn:aws:iam::{account}:user/x"},
            {},
        )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    """A FakeAws; fails the test if a queued AWS response was not used."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    fake = FakeAws()
    yield fake
    fake.ec2_stub.assert_no_pending_responses()
    fake.cfn_stub.assert_no_pending_responses()
    fake.sts_stub.assert_no_pending_responses()


def endpoint(
    state: str = "available", endpoint_id: str = ENDPOINT_ID, message: str | None = None
) -> dict[str, Any]:
    """One ClientVpnEndpoint as DescribeClientVpnEndpoints returns it."""
    status: dict[str, str] = {"Code": state}
    if message:
        status["Message"] = message
    return {
        "ClientVpnEndpointId": endpoint_id,
        "Description": "team vpn",
        "Status": status,
        "DnsName": f"*.{endpoint_id}.prod.clientvpn.{REGION}.amazonaws.com",
        "ClientCidrBlock": "10.100.0.0/22",
        "DnsServers": ["10.0.0.2"],
        "SplitTunnel": True,
        "VpnProtocol": "openvpn",
        "TransportProtocol": "udp",
        "VpnPort": 443,
        "VpcId": "vpc-0aaa",
        "ServerCertificateArn": f"{CERT_ARN}/server",
        "AuthenticationOptions": [
            {
                "Type": "certificate-authentication",
                "MutualAuthentication": {"ClientRootCertificateChain": f"{CERT_ARN}/ca"},
            }
        ],
    }


def target_network(association: str, subnet: str, state: str) -> dict[str, Any]:
    """One target network association."""
    return {
        "AssociationId": association,
        "VpcId": "vpc-0aaa",
        "TargetNetworkId": subnet,
        "ClientVpnEndpointId": ENDPOINT_ID,
        "Status": {"Code": state},
    }


def connection(conn_id: str, user: str, state: str, ip: str = "10.100.0.5") -> dict[str, Any]:
    """One client connection."""
    return {
        "ClientVpnEndpointId": ENDPOINT_ID,
        "ConnectionId": conn_id,
        "Username": user,
        "CommonName": f"{user}.vpn.example.com",
        "ClientIp": ip,
        "ConnectionEstablishedTime": "2025-01-01 10:00:00",
        "IngressBytes": "1234",
        "EgressBytes": "5678",
        "Status": {"Code": state},
    }
