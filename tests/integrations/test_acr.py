"""The ACR provider through real azure-identity and httpx, against the loopback Entra/ACR
stand-in and a real docker-registry that trusts the stand-in's registry tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.identity import ClientSecretCredential

from spyglass.errors import AuthError, RegistryError, RegistryUnreachable, UsageError
from spyglass.image.reference import Reference
from spyglass.image.registry import open_registry_image
from spyglass.integrations import provider_for
from spyglass.integrations.acr import ARM_SCOPE, AcrProvider
from spyglass.integrations.interface import REFRESH_MARGIN, Link, Login, Tag
from spyglass.inventory import Digest
from tests.helpers.images import build_image
from tests.helpers.push import push_image
from tests.helpers.registry import SERVICE, RunningRegistry, free_port
from tests.integrations.standin import ACR_USER, CLIENT_ID, CLIENT_SECRET, TENANT, EntraStandIn

TOKEN_PATH = f"/{TENANT}/oauth2/v2.0/token"


@pytest.fixture(scope="module")
def pushed(acr_registry: RunningRegistry) -> dict[str, Digest]:
    """team/app:v1, team/app:v2 and base:3 in the ACR-like registry."""
    digests = {}
    for repository, tag in (("team/app", "v1"), ("team/app", "v2"), ("base", "3")):
        image = build_image([{"etc/marker": f"{repository}:{tag}".encode()}])
        digests[f"{repository}:{tag}"] = push_image(
            acr_registry.url, repository, tag, image, acr_registry.push_headers(repository)
        )
    return digests


@pytest.fixture
def stand_in(entra: EntraStandIn) -> Iterator[EntraStandIn]:
    """The stand-in with its request log emptied and its defaults restored afterwards."""
    entra.requests.clear()
    yield entra
    entra.refuse_exchange = False


def _link(registry: RunningRegistry, entra: EntraStandIn, **changes: Any) -> Link:
    fields: dict[str, Any] = {"username": CLIENT_ID, "password": CLIENT_SECRET, "tenant": TENANT,
                              "authority": entra.url, "ca_bundle": str(entra.ca_bundle)}
    return Link("acr", registry.host, **{**fields, **changes})


def test_a_service_principal_logs_in_lists_and_pulls(
    acr_registry: RunningRegistry, stand_in: EntraStandIn, pushed: dict[str, Digest]
) -> None:
    provider = AcrProvider(_link(acr_registry, stand_in))
    login = provider.credentials()
    assert login is not None and login.username == ACR_USER
    assert login.password in stand_in.refresh_tokens
    [grant] = stand_in.forms(TOKEN_PATH)
    assert (grant["client_id"], grant["scope"]) == (CLIENT_ID, ARM_SCOPE)
    [exchange] = stand_in.forms("/oauth2/exchange")
    assert exchange["access_token"] in stand_in.access_tokens
    assert (exchange["grant_type"], exchange["service"], exchange["tenant"]) == \
        ("access_token", SERVICE, TENANT)
    assert provider.repositories() == ["base", "team/app"]
    assert provider.tags("team/app") == [
        Tag("v1", pushed["team/app:v1"]), Tag("v2", pushed["team/app:v2"])
    ]
    ref = Reference.parse(f"{acr_registry.host}/team/app:v2")
    image = open_registry_image(ref, provider.options())
    try:
        assert image.digest == pushed["team/app:v2"]
    finally:
        image.close()


def test_the_refresh_token_is_reused_until_shortly_before_it_expires(
    acr_registry: RunningRegistry, stand_in: EntraStandIn
) -> None:
    now = [0.0]
    provider = AcrProvider(_link(acr_registry, stand_in), clock=lambda: now[0])
    first = provider.credentials()
    assert provider.credentials() == first
    assert len(stand_in.forms("/oauth2/exchange")) == 1
    expiry = provider._grant.expires_at if provider._grant else None
    assert expiry is not None and expiry > 0
    now[0] = expiry - REFRESH_MARGIN
    assert provider.credentials() != first
    assert len(stand_in.forms("/oauth2/exchange")) == 2


def test_default_azure_credential_from_the_environment(
    acr_registry: RunningRegistry, stand_in: EntraStandIn, pushed: dict[str, Digest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in (("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", CLIENT_ID),
                        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
                        ("AZURE_AUTHORITY_HOST", stand_in.url)):
        monkeypatch.setenv(name, value)
    provider = AcrProvider(Link("acr", acr_registry.host, ca_bundle=str(stand_in.ca_bundle)))
    assert provider.repositories() == ["base", "team/app"]
    assert stand_in.forms("/oauth2/exchange")[0]["tenant"] == TENANT


def test_the_tenant_comes_from_the_token_when_not_configured(
    acr_registry: RunningRegistry, stand_in: EntraStandIn
) -> None:
    credential = ClientSecretCredential(TENANT, CLIENT_ID, CLIENT_SECRET, authority=stand_in.url,
                                        disable_instance_discovery=True,
                                        connection_verify=str(stand_in.ca_bundle))
    provider = AcrProvider(Link("acr", acr_registry.host), credential=credential)
    assert provider.credentials() is not None
    assert stand_in.forms("/oauth2/exchange")[0]["tenant"] == TENANT


def test_a_wrong_secret_is_refused_by_entra(
    acr_registry: RunningRegistry, stand_in: EntraStandIn
) -> None:
    provider = AcrProvider(_link(acr_registry, stand_in, password="wrong"))
    with pytest.raises(AuthError, match=r"AADSTS7000215.*check the client id, secret and tenant"):
        provider.credentials()
    assert stand_in.forms("/oauth2/exchange") == []


def test_a_refused_exchange_names_the_role(
    acr_registry: RunningRegistry, stand_in: EntraStandIn
) -> None:
    stand_in.refuse_exchange = True
    with pytest.raises(AuthError, match="AcrPull"):
        AcrProvider(_link(acr_registry, stand_in)).credentials()


def test_an_admin_user_login_is_used_as_it_is(
    acr_registry: RunningRegistry, stand_in: EntraStandIn
) -> None:
    provider = AcrProvider(_link(acr_registry, stand_in, username="myregistry", password="pw"))
    assert provider.credentials() == Login("myregistry", "pw")
    no_tenant = AcrProvider(_link(acr_registry, stand_in, tenant=None))
    assert no_tenant.credentials() == Login(CLIENT_ID, CLIENT_SECRET)
    assert stand_in.requests == []


def test_an_unreachable_entra(acr_registry: RunningRegistry, stand_in: EntraStandIn) -> None:
    provider = AcrProvider(_link(acr_registry, stand_in, authority=f"https://127.0.0.1:{free_port()}"))
    with pytest.raises(RegistryUnreachable, match="Entra ID cannot be reached"):
        provider.credentials()


def test_a_registry_without_a_bearer_challenge(registry: RunningRegistry) -> None:
    with pytest.raises(RegistryError, match="Azure Container Registry"):
        AcrProvider(Link("acr", registry.host)).credentials()


def test_half_a_login_is_a_usage_error(acr_registry: RunningRegistry) -> None:
    with pytest.raises(UsageError, match="both"):
        AcrProvider(Link("acr", acr_registry.host, username=CLIENT_ID))


def test_provider_for_the_acr_kind(acr_registry: RunningRegistry, entra: EntraStandIn) -> None:
    assert isinstance(provider_for(_link(acr_registry, entra)), AcrProvider)
