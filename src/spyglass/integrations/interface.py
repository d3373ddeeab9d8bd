"""The seam between configured registries and the cloud SDKs that log in to them and list them.

A :class:`RegistryProvider` is made from a :class:`Link` (what the store knows about one
registry) and answers three questions: which login works *now* (:meth:`credentials`, cached
until shortly before it expires), which repositories exist, and which tags point at which
digests. Each provider has a stable ``name`` and integer ``version``; the explicit list of
providers by kind is ``spyglass.integrations.PROVIDERS``.

Every SDK exception (botocore, azure-core, msal, httpx) is wrapped into
:class:`~spyglass.errors.RegistryError` and its subclasses inside the provider's module.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import ClassVar, NamedTuple

from spyglass.image.interface import OpenOptions
from spyglass.inventory import Digest

REFRESH_MARGIN = 300.0
"""Seconds before a login's expiry at which a new one is fetched (a scan must not outlive it)."""


class Login(NamedTuple):
    """A username and password the OCI Distribution client can present (``OpenOptions``)."""

    username: str
    password: str


class Tag(NamedTuple):
    """One tag of a repository and the manifest digest it points at now."""

    tag: str
    digest: Digest


@dataclass(frozen=True)
class Grant:
    """A login and when it stops working (epoch seconds; ``None``: it does not expire)."""

    login: Login | None
    expires_at: float | None = None


@dataclass(frozen=True)
class Link:
    """One configured registry: what the store holds, plus the cloud settings a kind uses.

    ``username``/``password`` mean, by kind: OCI and Docker Hub, the registry login; ECR, an AWS
    access key id and secret (``None``: the normal boto3 chain); ACR, a service principal's
    client id and secret, or an admin-user / repository-token login (``None``: the
    ``DefaultAzureCredential`` chain).
    """

    kind: str
    host: str
    """``host[:port]`` as stored (``123456789012.dkr.ecr.eu-west-1.amazonaws.com``)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    insecure: bool = False
    ca_bundle: str | None = None
    """A PEM file of extra CAs, for the registry and for the cloud's endpoints."""
    endpoint_url: str | None = None
    """ECR: the API endpoint (VPC endpoints, tests); default from boto3's configuration."""
    tenant: str | None = None
    """ACR: the Microsoft Entra tenant of a service principal; default ``AZURE_TENANT_ID``."""
    authority: str | None = None
    """ACR: the Entra authority host; default ``AZURE_AUTHORITY_HOST`` or the public cloud."""
    scope: str | None = None
    """ACR: the Entra scope to ask a token for; default Azure Resource Manager's."""

    def open_options(self, base: OpenOptions | None = None) -> OpenOptions:
        """``base`` with this registry's transport settings (insecure, CA bundle)."""
        options = base or OpenOptions()
        insecure = options.insecure_registries
        if self.insecure:
            insecure = (*insecure, self.host)
        return replace(options, insecure_registries=insecure,
                       ca_bundle=self.ca_bundle or options.ca_bundle)


class RegistryProvider(ABC):
    """Logs in to one registry and lists it; ``credentials()`` is cached and thread-safe."""

    name: ClassVar[str]
    """Stable name, such as ``"registry/ecr"``."""
    version: ClassVar[int]
    """Bumped whenever what the provider returns for the same registry changes."""

    def __init__(self, link: Link, *, clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self._clock = clock
        self._lock = threading.Lock()
        self._grant: Grant | None = None

    def credentials(self) -> Login | None:
        """A login valid now (``None``: anonymous, or the Docker config's); fetched on expiry."""
        with self._lock:
            if self._grant is None or self._expired(self._grant):
                self._grant = self.login()
            return self._grant.login

    def options(self, base: OpenOptions | None = None) -> OpenOptions:
        """``OpenOptions`` to pull from this registry: transport settings and a login valid now."""
        options = self.link.open_options(base)
        login = self.credentials()
        if login is None:
            return options
        return replace(options, username=login.username, password=login.password)

    def _expired(self, grant: Grant) -> bool:
        return grant.expires_at is not None and grant.expires_at - REFRESH_MARGIN <= self._clock()

    @abstractmethod
    def login(self) -> Grant:
        """Fetch a fresh login from the registry's cloud (uncached; use ``credentials()``)."""

    @abstractmethod
    def repositories(self) -> list[str]:
        """Every repository the login may see, sorted."""

    @abstractmethod
    def tags(self, repository: str) -> list[Tag]:
        """Every tag of ``repository`` with its digest, sorted by tag."""
