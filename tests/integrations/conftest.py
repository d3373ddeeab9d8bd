"""Loopback services for the provider tests: moto's ECR in server mode, the Entra/ACR stand-in
in front of a real docker-registry, and the plain registries of the image tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.registry import (
    RunningRegistry,
    SigningKey,
    basic_registry,
    free_port,
    registry,
)
from tests.helpers.services import unavailable
from tests.integrations.standin import EntraStandIn, start_acr_registry, start_entra

__all__ = ["basic_registry", "registry"]

_AWS_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR", "AWS_REGION",
            "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN")
_AZURE_ENV = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
              "AZURE_AUTHORITY_HOST", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
              "AZURE_USERNAME", "AZURE_PASSWORD")


@pytest.fixture(autouse=True)
def _no_cloud_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The developer's own AWS and Azure settings must not leak into a test."""
    for name in (*_AWS_ENV, *_AZURE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto in server mode on 127.0.0.1 and a free port, for the whole session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        unavailable("moto[server] is not installed; pip install -e '.[dev]'")
        raise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def ecr_url(moto_url: str) -> str:
    """The moto endpoint with every account's state emptied (repositories, IAM users)."""
    httpx.post(f"{moto_url}/moto-api/reset").raise_for_status()
    return moto_url


@pytest.fixture(scope="session")
def entra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EntraStandIn]:
    """The Entra ID / ACR OAuth2 stand-in over TLS on loopback."""
    state = start_entra(tmp_path_factory.mktemp("entra"), SigningKey.generate())
    yield state
    assert state.server is not None
    state.server.shutdown()
    state.server.server_close()


@pytest.fixture(scope="session")
def acr_registry(
    tmp_path_factory: pytest.TempPathFactory, entra: EntraStandIn
) -> Iterator[RunningRegistry]:
    """A docker-registry whose token realm is the stand-in, as an ACR login server's is."""
    running = start_acr_registry(tmp_path_factory.mktemp("acr-registry"), entra)
    yield running
    running.stop()
