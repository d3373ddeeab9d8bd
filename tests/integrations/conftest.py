"""Loopback services for the provider tests: moto's ECR in server mode, the Entra/ACR stand-in
in front of a real docker-registry, and the plain registries of the image tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.cloud import clear_cloud_config, moto_url
from tests.helpers.registry import (
    RunningRegistry,
    SigningKey,
    basic_registry,
    registry,
)
from tests.integrations.standin import EntraStandIn, start_acr_registry, start_entra

__all__ = ["basic_registry", "moto_url", "registry"]

@pytest.fixture(autouse=True)
def _no_cloud_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The developer's own AWS and Azure settings must not leak into a test."""
    clear_cloud_config(monkeypatch, tmp_path)


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
