"""The provider seam: login caching, OpenOptions, and the explicit list of kinds."""

from __future__ import annotations

import threading

import pytest

from spyglass.errors import UsageError
from spyglass.image.interface import OpenOptions, Platform
from spyglass.integrations import PROVIDERS, provider_class, provider_for
from spyglass.integrations.interface import (
    REFRESH_MARGIN,
    Grant,
    Link,
    Login,
    RegistryProvider,
    Tag,
)
from spyglass.store.registries import KINDS


class CountingProvider(RegistryProvider):
    """A provider whose login is a counter, valid for one hour (or forever)."""

    name = "registry/counting"
    version = 1

    def __init__(self, link: Link, now: list[float], lifetime: float | None) -> None:
        super().__init__(link, clock=lambda: now[0])
        self.now, self.lifetime, self.logins = now, lifetime, 0

    def login(self) -> Grant:
        self.logins += 1
        expires = None if self.lifetime is None else self.now[0] + self.lifetime
        return Grant(Login("user", f"token-{self.logins}"), expires)

    def repositories(self) -> list[str]:
        return []

    def tags(self, repository: str) -> list[Tag]:
        return []


def test_a_login_is_reused_until_the_margin_before_expiry() -> None:
    now = [1000.0]
    provider = CountingProvider(Link("oci", "r.example"), now, lifetime=3600)
    assert provider.credentials() == Login("user", "token-1")
    now[0] += 3600 - REFRESH_MARGIN - 1
    assert provider.credentials() == Login("user", "token-1")
    now[0] += 1
    assert provider.credentials() == Login("user", "token-2")


def test_a_login_without_expiry_is_fetched_once() -> None:
    now = [0.0]
    provider = CountingProvider(Link("oci", "r.example"), now, lifetime=None)
    provider.credentials()
    now[0] = 1e12
    provider.credentials()
    assert provider.logins == 1


def test_concurrent_callers_share_one_login() -> None:
    provider = CountingProvider(Link("oci", "r.example"), [0.0], lifetime=3600)
    threads = [threading.Thread(target=provider.credentials) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.logins == 1


def test_options_keep_the_base_and_add_transport_and_login() -> None:
    link = Link("oci", "registry.internal:5000", insecure=True, ca_bundle="/etc/ca.pem")
    provider = CountingProvider(link, [0.0], lifetime=None)
    base = OpenOptions(platform=Platform.parse("linux/arm64"), insecure_registries=("other",))
    options = provider.options(base)
    assert options.platform == Platform("linux", "arm64")
    assert options.insecure_registries == ("other", "registry.internal:5000")
    assert options.ca_bundle == "/etc/ca.pem"
    assert (options.username, options.password) == ("user", "token-1")
    assert Link("oci", "r.example").open_options().insecure_registries == ()


def test_every_stored_kind_has_a_provider() -> None:
    assert set(PROVIDERS) == set(KINDS)
    for kind in KINDS:
        cls = provider_class(kind)
        assert issubclass(cls, RegistryProvider)
        assert cls.name.startswith("registry/") and cls.version >= 1


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="oci, dockerhub, ecr, acr"):
        provider_for(Link("gcr", "gcr.io"))


def test_the_password_is_not_in_the_repr() -> None:
    assert "s3cret" not in repr(Link("oci", "r.example", "user", "s3cret"))
