"""Registry discovery and credentials by kind: any OCI registry, Docker Hub, Amazon ECR, Azure ACR.

``provider_for(Link(kind, host, username, password, ...))`` gives the kind's
:class:`~spyglass.integrations.interface.RegistryProvider`, one per distinct link for the life
of the process, so that a login (a 12-hour ECR token, a 3-hour ACR refresh token) is fetched
once and shared by the poller and the workers until shortly before it expires.
The SDK of a kind (boto3, azure-identity) is imported only when that kind is first used.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from spyglass.errors import UsageError
from spyglass.integrations.interface import Grant, Link, Login, RegistryProvider, Tag

__all__ = ["PROVIDERS", "Grant", "Link", "Login", "RegistryProvider", "Tag", "provider_for"]

_CACHE_SIZE = 64


def _oci() -> type[RegistryProvider]:
    from spyglass.integrations.oci import OciProvider

    return OciProvider


def _ecr() -> type[RegistryProvider]:
    from spyglass.integrations.ecr import EcrProvider

    return EcrProvider


def _acr() -> type[RegistryProvider]:
    from spyglass.integrations.acr import AcrProvider

    return AcrProvider


PROVIDERS: dict[str, Callable[[], type[RegistryProvider]]] = {
    "oci": _oci,
    "dockerhub": _oci,
    "ecr": _ecr,
    "acr": _acr,
}
"""Every registry kind and (lazily, to import each SDK only when used) its provider class."""

_lock = threading.Lock()
_providers: OrderedDict[Link, RegistryProvider] = OrderedDict()


def provider_for(link: Link) -> RegistryProvider:
    """The provider for ``link``'s kind, shared while the link is unchanged (logins cached)."""
    with _lock:
        found = _providers.get(link)
        if found is not None:
            _providers.move_to_end(link)
            return found
    made = provider_class(link.kind)(link)
    with _lock:
        found = _providers.setdefault(link, made)
        while len(_providers) > _CACHE_SIZE:
            _providers.popitem(last=False)
        return found


def provider_class(kind: str) -> type[RegistryProvider]:
    """The provider class of a registry kind; UsageError naming the known kinds."""
    loader = PROVIDERS.get(kind)
    if loader is None:
        raise UsageError(f"unknown registry kind {kind!r}; use one of {', '.join(PROVIDERS)}")
    return loader()
