"""Sequences of CloudFormation requests to the shared-export handler (own certificates).

The stack brings its own server and client certificates and a ``client_credentials_secret``
(``{"certificate", "private_key"}``); the handler writes one ``<base>client.ovpn`` with the
client key inlined. Each test asserts what is left in the bucket, every version included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_cvpn.handlers.pki import certs

from .harness import ACCOUNT, BYO_SECRET_ARN, EXPORT, REGION, Cfn, EndState, OvpnFile, World


class ByoPki:
    """The stack's own CA and client certificate, the credentials secret in moto."""

    def __init__(self, world: World) -> None:
        self.ca = certs.create_ca("lifecycle BYO CA")
        client = certs.issue_client_cert(self.ca, "shared-client")
        self.client = client
        secret = {
            "certificate": certs.cert_to_pem(client.cert),
            "private_key": certs.key_to_pem(client.key),
        }
        sm = world.admin("secretsmanager")
        sm.create_secret(
            Name="cvpn/lifecycle-client",
            SecretString=json.dumps(secret),
        )  # encrypted with the AWS managed key (aws/secretsmanager), as most such secrets
        # The template names the secret by its complete ARN; moto picks its own suffix.
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[ACCOUNT][REGION]
        backend.secrets["cvpn/lifecycle-client"].arn = BYO_SECRET_ARN

    def ca_pem(self) -> str:
        return certs.cert_to_pem(self.ca.cert)


@pytest.fixture
def byo(world: World) -> ByoPki:
    return ByoPki(world)


def deploy(world: World, export: Cfn, byo: ByoPki) -> tuple[dict[str, Any], str]:
    world.create_endpoint(byo.ca_pem)
    props = world.props(EXPORT)
    response = export.create(props)
    assert response.ok, repr(response.error)
    return props, response.physical_id


def state(world: World, props: dict[str, Any]) -> EndState:
    return world.inspect(str(props["Key"]).rsplit("/", 1)[0] + "/")


def test_create(world: World, export: Cfn, byo: ByoPki) -> None:
    props, _ = deploy(world, export, byo)
    end = state(world, props)
    assert list(end.current) == [props["Key"]]
    f = OvpnFile(end.current[props["Key"]].decode())
    assert world.endpoint is not None
    assert all(h.endswith(world.endpoint.host) for h, _ in f.remotes)
    assert f.serial == byo.client.cert.serial_number
    assert f.key_matches_cert()
    assert len(end.versions_of(props["Key"])) == 1
    assert not world.handlers[EXPORT].denied


def test_endpoint_replacement(world: World, export: Cfn, byo: ByoPki) -> None:
    props, pid = deploy(world, export, byo)
    old = world.endpoint
    assert old is not None
    new = world.create_endpoint(byo.ca_pem, proto="tcp")
    new_props = world.props(EXPORT)
    assert new_props["Key"] == props["Key"], "the object key is stable across replacement"
    response = export.update(new_props, props, pid)
    assert response.ok, repr(response.error)
    end = state(world, new_props)
    key = str(new_props["Key"])
    assert list(end.current) == [key], "the clean-up Delete must not remove the new file"
    f = OvpnFile(end.current[key].decode())
    assert all(h.endswith(new.host) for h, _ in f.remotes), f.remotes
    assert f.proto == "tcp"
    assert len(end.versions_of(key)) == 1, "older versions (old endpoint, same key) purged"
    assert not world.handlers[EXPORT].denied


def test_update_port(world: World, export: Cfn, byo: ByoPki) -> None:
    props, pid = deploy(world, export, byo)
    assert world.endpoint is not None
    world.endpoint.port = 1194
    new_props = {**world.props(EXPORT), "Port": "1194"}
    response = export.update(new_props, props, pid)
    assert response.ok, repr(response.error)
    end = state(world, new_props)
    f = OvpnFile(end.current[str(new_props["Key"])].decode())
    assert {port for _, port in f.remotes} == {1194}
    assert len(end.versions_of(str(new_props["Key"]))) == 1


def test_delete(world: World, export: Cfn, byo: ByoPki) -> None:
    props, pid = deploy(world, export, byo)
    assert export.update({**props, "ConfigVersion": "2"}, props, pid).ok  # a second version
    response = export.delete(props, pid)
    assert response.ok, repr(response.error)
    end = state(world, props)
    assert end.versions_of(str(props["Key"])) == [], "every version (and the key) is gone"
    assert end.versions_holding_a_private_key() == []


@pytest.mark.parametrize("gone", ["bucket", "endpoint"])
def test_delete_when_already_gone(world: World, export: Cfn, byo: ByoPki, gone: str) -> None:
    props, pid = deploy(world, export, byo)
    if gone == "bucket":
        s3 = world.admin("s3")
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=world.bucket):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=world.bucket, Key=v["Key"], VersionId=v["VersionId"])
        s3.delete_bucket(Bucket=world.bucket)
    else:
        assert world.endpoint is not None
        world.ec2.delete(world.endpoint.endpoint_id)
    response = export.delete(props, pid)
    assert response.ok, repr(response.error)


def test_failed_create_leaves_nothing(world: World, export: Cfn, byo: ByoPki) -> None:
    from botocore.exceptions import ClientError

    world.create_endpoint(byo.ca_pem)
    props = world.props(EXPORT)

    def fail_list(type_: str, op: str, params: Any) -> None:
        if type_ == EXPORT and op == "ListObjectVersions":
            raise ClientError({"Error": {"Code": "InternalError", "Message": "test"}}, op)

    with world.fault(fail_list):
        response = export.create(props)
    end = state(world, props)
    if not response.ok:
        assert end.versions_holding_a_private_key() == [], "a failed Create leaves no key"
