"""Fixtures of the lifecycle sequences (see :mod:`tests.lifecycle.harness`)."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from constructs_cvpn.handlers.export_config import index as export_index
from constructs_cvpn.handlers.pki import aws as pki_aws
from constructs_cvpn.handlers.pki import certs
from constructs_cvpn.handlers.pki import index as pki_index

from ..pki.conftest import _patch_moto_s3_versions
from ..s3_model import ConditionalWrites
from .harness import (
    AUTHORITY,
    EXPORT,
    REGION,
    USERS,
    Cfn,
    Clock,
    KeyPool,
    Synthesized,
    World,
    patch_moto_acm,
    patch_moto_acm_in_use,
    synthesize,
)

ROOT = Path(__file__).resolve().parents[2]
KEY_CACHE = ROOT / ".pytest_cache" / "cvpn-lifecycle-keys"
PKI_SERVICES = ("s3", "secretsmanager", "acm", "kms", "ec2")
EXPORT_SERVICES = ("s3", "secretsmanager", "ec2")


@pytest.fixture(scope="session")
def synthesized() -> Synthesized:
    return synthesize()


@pytest.fixture(scope="session")
def key_pool_2048() -> KeyPool:
    return KeyPool.cached(KEY_CACHE, 64, 2048)


@pytest.fixture
def key_pool(key_pool_2048: KeyPool, monkeypatch: pytest.MonkeyPatch) -> KeyPool:
    """Hands out distinct 2048-bit keys to ``certs.generate_key`` (at most 64 per test)."""
    key_pool_2048.reset()
    monkeypatch.setattr(certs, "generate_key", key_pool_2048.take)
    return key_pool_2048


@pytest.fixture(scope="session")
def key_pool_1024_session() -> KeyPool:
    return KeyPool.cached(KEY_CACHE, 1600, 1024)


@pytest.fixture
def big_key_pool(key_pool_1024_session: KeyPool, monkeypatch: pytest.MonkeyPatch) -> KeyPool:
    """1,600 distinct 1024-bit keys: the 1,000-user sequence issues 999, then re-issues the
    ~500 whose files were never written (their keys died with the killed run)."""
    key_pool_1024_session.reset()
    monkeypatch.setattr(certs, "generate_key", key_pool_1024_session.take)
    return key_pool_1024_session


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The handlers' clock: ``constructs_cvpn.handlers.pki.clock.now`` follows it."""
    clock = Clock()
    shim = clock.time_module()
    for name, module in list(sys.modules.items()):
        if name.startswith("constructs_cvpn.handlers.") and getattr(module, "time", None) is time:
            monkeypatch.setattr(module, "time", shim)
    try:
        module = importlib.import_module("constructs_cvpn.handlers.pki.clock")
    except ImportError:
        return clock  # renewal sequences fail until the handlers read clock.now
    monkeypatch.setattr(module, "now", clock.now)
    if getattr(module, "time", None) is not None:
        monkeypatch.setattr(module, "time", shim)
    return clock


def _inject_export(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    module: Any = export_index.aws
    clients = {s: world.client(EXPORT, s) for s in EXPORT_SERVICES}
    if hasattr(module, "set_client"):
        if hasattr(module, "reset"):
            module.reset()
        for service, value in clients.items():
            module.set_client(service, value)
        return
    monkeypatch.setattr(module, "ec2_client", lambda: clients["ec2"])
    monkeypatch.setattr(module, "s3_client", lambda: clients["s3"])
    monkeypatch.setattr(module, "secrets_client", lambda: clients["secretsmanager"])


@pytest.fixture
def world(
    synthesized: Synthesized,
    clock: Clock,
    key_pool: KeyPool,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    """moto with IAM enforcement, the bucket and key, handler users; no endpoint yet."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    pki_aws.reset()
    with mock_aws():
        # S3's documented conditional writes: atomic, 412/404/409 (tests/s3_model.py).
        ConditionalWrites().install(monkeypatch)
        patch_moto_acm(monkeypatch, clock)
        # moto deep-copies every version in the bucket on each ListObjectVersions; the PKI
        # tests' patch lists only the keys under the prefix (same results, linear time).
        from moto.s3 import models as s3_models

        monkeypatch.setattr(s3_models.S3Backend, "list_object_versions", _patch_moto_s3_versions())
        # S3 conditional writes as documented: atomic compare-and-set, 412 and 409.
        ConditionalWrites().install(monkeypatch)
        w = World(synthesized, clock)
        patch_moto_acm_in_use(monkeypatch, w.ec2)
        w.bootstrap_admin()
        from moto.core.authorization import enable_iam_authentication

        with enable_iam_authentication():
            w.create_base()
            for type_ in (AUTHORITY, USERS, EXPORT):
                w.register(type_)

            def inject(type_: str) -> None:
                if type_ == EXPORT:
                    _inject_export(w, monkeypatch)
                    return
                pki_aws.reset()
                for service in PKI_SERVICES:
                    pki_aws.set_client(service, w.client(type_, service))

            w.injector = inject
            yield w
    pki_aws.reset()


@pytest.fixture
def authority(world: World) -> Cfn:
    return Cfn(world, AUTHORITY, pki_index.on_event)


@pytest.fixture
def users(world: World) -> Cfn:
    return Cfn(world, USERS, pki_index.on_event)


@pytest.fixture
def export(world: World) -> Cfn:
    return Cfn(world, EXPORT, export_index.on_event)
