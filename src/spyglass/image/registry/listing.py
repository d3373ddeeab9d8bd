"""What a registry holds: its repositories (``/v2/_catalog``), a repository's tags
(``/v2/<name>/tags/list``), and the digest a tag points at now (``HEAD`` on the manifest).

Both lists are paginated by the registry with ``?n=`` and an RFC 8288 ``Link: <…>; rel="next"``
header, followed here until it stops. Written on the client's ``fetch`` so that auth, retries
and error mapping are the ones every pull uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from spyglass.errors import RegistryError
from spyglass.image.interface import ACCEPT_MANIFESTS
from spyglass.image.registry.client import RegistryClient, read_limited
from spyglass.inventory import Digest

PAGE_SIZE = 1000
MAX_PAGE = 16 << 20
MAX_PAGES = 10_000
"""A registry that keeps answering "next" past this is looping; stop rather than spin."""


def list_repositories(client: RegistryClient, page_size: int = PAGE_SIZE) -> list[str]:
    """Every repository the registry's catalog lists (the credentials may limit it)."""
    pages = _pages(client, f"/v2/_catalog?n={page_size}", "registry:catalog:*", "the catalog")
    return [name for page in pages for name in page.get("repositories") or ()]


def list_tags(client: RegistryClient, repository: str, page_size: int = PAGE_SIZE) -> list[str]:
    """Every tag of ``repository``."""
    path = f"/v2/{repository}/tags/list?n={page_size}"
    what = f"the tags of {client.registry}/{repository}"
    pages = _pages(client, path, f"repository:{repository}:pull", what)
    return [tag for page in pages for tag in page.get("tags") or ()]


def head_digest(client: RegistryClient, repository: str, tag: str) -> Digest:
    """The manifest digest ``repository:tag`` points at, without downloading the manifest
    when the registry sends ``Docker-Content-Digest`` (all common ones do)."""
    what = f"manifest {client.registry}/{repository}:{tag}"
    response = client.fetch("HEAD", f"/v2/{repository}/manifests/{tag}",
                            f"repository:{repository}:pull", {"Accept": ACCEPT_MANIFESTS}, what)
    response.close()
    digest = response.headers.get("docker-content-digest")
    if digest and ":" in digest:
        return Digest(digest)
    return client.get_manifest(repository, tag).digest


def _pages(client: RegistryClient, path: str, scope: str, what: str) -> Iterator[dict[str, Any]]:
    next_path: str | None = path
    for _ in range(MAX_PAGES):
        if next_path is None:
            return
        response = client.fetch("GET", next_path, scope, {"Accept": "application/json"}, what)
        try:
            body = read_limited(response, MAX_PAGE, what, client.host)
        finally:
            response.close()
        yield _json(body, what)
        next_path = _next(response.links.get("next", {}).get("url"))
    raise RegistryError(f"{what}: the registry kept paginating past {MAX_PAGES} pages")


def _next(link: str | None) -> str | None:
    # The Link target is usually relative (``/v2/_catalog?last=x&n=100``); keep path and query.
    if not link:
        return None
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise RegistryError(f"{what}: the registry answered something that is not JSON") from exc
    if not isinstance(data, dict):
        raise RegistryError(f"{what}: the registry answered JSON that is not an object")
    return data
