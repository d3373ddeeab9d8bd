"""The generic provider against real docker-registry processes on loopback."""

from __future__ import annotations

import pytest

from spyglass.errors import AuthError
from spyglass.integrations import provider_for
from spyglass.integrations.interface import Link, Login, Tag
from spyglass.integrations.oci import OciProvider
from tests.helpers.images import build_image
from tests.helpers.push import push_image
from tests.helpers.registry import USERS, RunningRegistry

[(USER, PASSWORD)] = USERS.items()


def _push(registry: RunningRegistry, repository: str, tag: str) -> str:
    image = build_image([{"etc/marker": f"{repository}:{tag}".encode()}])
    return push_image(registry.url, repository, tag, image, registry.push_headers(repository))


def test_anonymous_catalog_and_tags(registry: RunningRegistry) -> None:
    one = _push(registry, "integrations/oci-app", "1.0")
    two = _push(registry, "integrations/oci-app", "2.0")
    _push(registry, "integrations/oci-base", "edge")
    provider = OciProvider(Link("oci", registry.host))
    assert provider.credentials() is None
    assert {"integrations/oci-app", "integrations/oci-base"} <= set(provider.repositories())
    assert provider.tags("integrations/oci-app") == [Tag("1.0", one), Tag("2.0", two)]


def test_basic_auth_login(basic_registry: RunningRegistry) -> None:
    digest = _push(basic_registry, "integrations/private", "v1")
    provider = OciProvider(Link("oci", basic_registry.host, USER, PASSWORD))
    assert provider.credentials() == Login(USER, PASSWORD)
    assert provider.options().username == USER
    assert "integrations/private" in provider.repositories()
    assert provider.tags("integrations/private") == [Tag("v1", digest)]


def test_a_wrong_password_is_refused(basic_registry: RunningRegistry) -> None:
    with pytest.raises(AuthError):
        OciProvider(Link("oci", basic_registry.host, USER, "wrong")).repositories()


def test_docker_hub_is_an_oci_registry() -> None:
    provider = provider_for(Link("dockerhub", "docker.io", "someone", "token"))
    assert isinstance(provider, OciProvider)
    assert provider.credentials() == Login("someone", "token")
