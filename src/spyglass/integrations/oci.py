"""Any OCI Distribution registry (and Docker Hub): the stored login, the catalog and the tags.

Listing goes through the existing client (:mod:`spyglass.image.registry.listing`): the
catalog and tag lists with ``Link`` pagination, and one ``HEAD`` per tag for its digest, with
the auth, retries and error mapping every pull uses. ACR reuses this with its own login.
"""

from __future__ import annotations

from spyglass.image.registry.client import RegistryClient
from spyglass.image.registry.listing import head_digest, list_repositories, list_tags
from spyglass.integrations.interface import Grant, Login, RegistryProvider, Tag


class OciProvider(RegistryProvider):
    """A plain v2 registry: the configured username and password, which do not expire."""

    name = "registry/oci"
    version = 1

    def login(self) -> Grant:
        """The configured login, or ``None`` (anonymous, or the Docker config's)."""
        link = self.link
        if link.username is None and link.password is None:
            return Grant(None)
        return Grant(Login(link.username or "", link.password or ""))

    def client(self) -> RegistryClient:
        """A client for this registry with a login valid now; the caller closes it."""
        return RegistryClient(self.link.host, self.options())

    def repositories(self) -> list[str]:
        """The registry's catalog (``/v2/_catalog``), sorted."""
        with self.client() as client:
            return sorted(list_repositories(client))

    def tags(self, repository: str) -> list[Tag]:
        """Every tag of ``repository`` and the digest a ``HEAD`` on its manifest reports."""
        with self.client() as client:
            names = sorted(list_tags(client, repository))
            return [Tag(name, head_digest(client, repository, name)) for name in names]
