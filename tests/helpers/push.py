"""Push test images to a registry with the OCI Distribution upload API.

Blobs go up as monolithic uploads (``POST /v2/<name>/blobs/uploads/`` then ``PUT <location>
?digest=…`` with the whole body), skipped when ``HEAD`` says the registry has them already;
manifests and indexes with ``PUT /v2/<name>/manifests/<reference>``. Images come from
:mod:`tests.helpers.images`. Plain HTTP, for the loopback registry of
:mod:`tests.helpers.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from spyglass.inventory import Digest
from tests.helpers.images import BuiltImage, BuiltIndex


def push_blob(client: httpx.Client, repository: str, digest: str, data: bytes) -> None:
    """Upload one blob unless the registry already has it."""
    if client.head(f"/v2/{repository}/blobs/{digest}").status_code == 200:
        return
    started = client.post(f"/v2/{repository}/blobs/uploads/")
    _expect(started, 202, f"start upload of {digest}")
    # Location carries the upload state in its query; add the digest to it, not replace it.
    location = httpx.URL(started.headers["Location"])
    done = client.put(
        location.copy_merge_params({"digest": digest}),
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    _expect(done, 201, f"upload of {digest}")


def push_manifest(
    client: httpx.Client, repository: str, reference: str, data: bytes, media_type: str
) -> Digest:
    """PUT a manifest or index under a tag or digest; returns the digest the registry gives."""
    response = client.put(
        f"/v2/{repository}/manifests/{reference}",
        content=data,
        headers={"Content-Type": media_type},
    )
    _expect(response, 201, f"manifest {repository}:{reference}")
    return Digest(response.headers["Docker-Content-Digest"])


def push_image(
    base_url: str,
    repository: str,
    tag: str,
    image: BuiltImage | BuiltIndex,
    headers: Mapping[str, str] | None = None,
) -> Digest:
    """Push an image (its blobs and manifest), or an index and every image in it, under a tag."""
    with httpx.Client(base_url=base_url, headers=dict(headers or {}), timeout=30.0) as client:
        return _push(client, repository, tag, image)


def _push(
    client: httpx.Client, repository: str, tag: str, image: BuiltImage | BuiltIndex
) -> Digest:
    if isinstance(image, BuiltIndex):
        for child in image.images:
            _push(client, repository, child.digest, child)
        return push_manifest(client, repository, tag, image.index, image.media_type)
    for digest, data in image.blobs.items():
        push_blob(client, repository, digest, data)
    return push_manifest(client, repository, tag, image.manifest, image.media_type)


def _expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise AssertionError(
            f"push failed: {what}: HTTP {response.status_code} {response.text[:500]}"
        )
