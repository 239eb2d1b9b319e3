"""Which region ``cvpn`` uses: ``--region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``,
else the profile's ``region``.

The AWS SDKs' shared settings name ``AWS_REGION`` as the region variable, above the config
file (AWS SDKs and Tools reference guide, "AWS Region": feature-region.html); botocore 1.44
reads only ``AWS_DEFAULT_REGION`` and the profile (``botocore/configprovider.py``:
``'region': ('region', 'AWS_DEFAULT_REGION', None, None)``), which is why the CLI reads
``AWS_REGION`` itself. Oracle: the region of the clients ``SessionClients`` makes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_cvpn.cli.clients import SessionClients


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No region anywhere; a config file whose profile ``p`` has region ap-southeast-2."""
    config = tmp_path / "config"
    config.write_text("[profile p]\nregion = ap-southeast-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def regions(clients: SessionClients) -> set[str]:
    return {
        clients.s3().meta.region_name,
        clients.ec2().meta.region_name,
        clients.cloudformation().meta.region_name,
    }


def test_aws_region_is_honoured(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_REGION", "eu-central-1")
    assert regions(SessionClients(None, None)) == {"eu-central-1"}


def test_aws_default_region_is_honoured(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert regions(SessionClients(None, None)) == {"us-west-2"}


def test_aws_region_wins_over_aws_default_region(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_REGION", "eu-central-1")
    env.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert regions(SessionClients(None, None)) == {"eu-central-1"}


def test_the_profiles_region_is_honoured(env: pytest.MonkeyPatch) -> None:
    assert regions(SessionClients("p", None)) == {"ap-southeast-2"}


def test_aws_region_wins_over_the_profile(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_REGION", "eu-central-1")
    assert regions(SessionClients("p", None)) == {"eu-central-1"}


def test_the_option_wins_over_everything(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_REGION", "eu-central-1")
    env.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert regions(SessionClients("p", "sa-east-1")) == {"sa-east-1"}
