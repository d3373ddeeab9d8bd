"""An :class:`~spyglass.image.interface.Image` read from a registry.

Opening one fetches the manifest (through the index when the tag names several platforms, picking
``OpenOptions.platform``) and the config; layers are fetched only when opened, as verified
streams, so an image whose layers are all cached costs two or three small requests.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import IO

import httpx

from spyglass.errors import ManifestError
from spyglass.image.interface import Image, ImageConfig, Index, Layer, Manifest, OpenOptions
from spyglass.image.manifest import choose_platform, parse_config, parse_manifest_document
from spyglass.image.reference import Reference
from spyglass.image.registry.client import RegistryClient
from spyglass.inventory import Digest


class RegistryImage(Image):
    """An image in a registry: manifest and config fetched, layers streamed on demand."""

    def __init__(
        self,
        ref: Reference,
        client: RegistryClient,
        manifest: Manifest,
        config: ImageConfig,
        index_digest: Digest | None = None,
    ) -> None:
        self.ref = ref
        self.reference = str(ref)
        self.digest: Digest | None = manifest.digest
        self.index_digest = index_digest
        """The digest of the index the tag named, when it named one (what a tag resolves to)."""
        self.manifest = manifest
        self.config = config
        self.layers = _layers(manifest, config)
        self._client = client

    def open_layer(self, layer: Layer) -> AbstractContextManager[IO[bytes]]:
        """Stream the layer blob as stored; DigestMismatch when the last byte is read."""
        return self._client.open_blob(self.ref.repository, layer.descriptor)

    def close(self) -> None:
        """Close the registry connections."""
        self._client.close()


def open_registry_image(
    ref: Reference, options: OpenOptions, *, transport: httpx.BaseTransport | None = None
) -> Image:
    """Open an image in a registry by tag or digest (``transport`` is a test seam)."""
    client = RegistryClient(ref.registry, options, transport=transport)
    try:
        manifest, index_digest = _resolve(client, ref, options)
        config = parse_config(client.read_blob(ref.repository, manifest.config))
        return RegistryImage(ref, client, manifest, config, index_digest)
    except BaseException:
        client.close()
        raise


def _resolve(
    client: RegistryClient, ref: Reference, options: OpenOptions
) -> tuple[Manifest, Digest | None]:
    """The image manifest for the reference (through an index if it names one), index digest."""
    fetched = client.get_manifest(ref.repository, ref.version)
    document = parse_manifest_document(fetched.data, fetched.media_type)
    if not isinstance(document, Index):
        return document, None
    chosen = choose_platform(document, options.platform)
    fetched = client.get_manifest(ref.repository, chosen.digest)
    manifest = parse_manifest_document(fetched.data, fetched.media_type or chosen.media_type)
    if isinstance(manifest, Index):
        raise ManifestError(
            f"the index {ref} points at another index for {options.platform}; "
            "nested indexes are not supported"
        )
    return manifest, document.digest


def _layers(manifest: Manifest, config: ImageConfig) -> tuple[Layer, ...]:
    if len(manifest.layers) != len(config.diff_ids):
        raise ManifestError(
            f"manifest {manifest.digest} lists {len(manifest.layers)} layers but its config "
            f"has {len(config.diff_ids)} diff_ids; the image is damaged"
        )
    history = config.history or ("",) * len(config.diff_ids)
    return tuple(
        Layer(descriptor, diff_id, created_by)
        for descriptor, diff_id, created_by in zip(
            manifest.layers, config.diff_ids, history, strict=True
        )
    )
