"""The seam between image sources and the rest of Spyglass.

Every source (registry, ``docker save`` archive, OCI layout, oci-archive) yields an
:class:`Image`: the manifest, the config, and layers that open as byte streams. Layer streams
are the *stored* bytes (usually compressed); the analyzer detects the compression itself.
A stream raises :class:`~spyglass.errors.DigestMismatch` when its bytes do not hash to the
descriptor's digest (checked as the last byte is read).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any

from spyglass.errors import UsageError
from spyglass.inventory import DiffId, Digest

# Media types, one place. Schema 1 is listed only so that it can be refused by name.
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_NONDIST_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

MANIFEST_TYPES = (DOCKER_MANIFEST_V2, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
ACCEPT_MANIFESTS = ", ".join((*MANIFEST_TYPES, *INDEX_TYPES))


@dataclass(frozen=True)
class Platform:
    """``os/architecture[/variant]`` as in an OCI index (``linux/arm64/v8``)."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]``; raises UsageError with the expected form."""
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(
                f"platform {text!r} is not of the form os/arch[/variant], e.g. linux/arm64"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor: what a manifest or index says about one blob."""

    media_type: str
    digest: Digest
    size: int
    urls: tuple[str, ...] = ()
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Manifest:
    """An image manifest (Docker v2 schema 2 or OCI)."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    digest: Digest
    """Digest of the raw manifest bytes."""
    raw: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class Index:
    """A multi-platform index (Docker manifest list or OCI image index)."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    digest: Digest
    raw: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class ImageConfig:
    """The parts of the image config that a scan uses."""

    os: str
    architecture: str
    variant: str | None
    diff_ids: tuple[DiffId, ...]
    history: tuple[str, ...] = ()
    """``created_by`` of the history entries that made a layer (``empty_layer`` ones dropped),
    one per diff_id when the config has them, else empty."""
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def platform(self) -> Platform:
        """The platform the config declares."""
        return Platform(self.os or "linux", self.architecture or "amd64", self.variant or None)


@dataclass(frozen=True)
class Layer:
    """One layer: how it is stored (descriptor) and what it is (diff_id)."""

    descriptor: Descriptor
    diff_id: DiffId
    created_by: str = ""


class Image(ABC):
    """An image from any source: manifest, config and openable layers."""

    reference: str
    """What the user asked for, normalised (``docker.io/library/alpine:3.19``, ``oci:/p:tag``)."""
    digest: Digest | None
    """The manifest digest where the source has one."""
    config: ImageConfig
    layers: tuple[Layer, ...]

    @abstractmethod
    def open_layer(self, layer: Layer) -> AbstractContextManager[IO[bytes]]:
        """Open the stored bytes of a layer as a stream that verifies its digest at EOF."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or files; sources that hold none need not override."""

    @property
    def platform(self) -> Platform:
        """The platform of the chosen manifest."""
        return self.config.platform


@dataclass(frozen=True)
class OpenOptions:
    """How to reach an image: platform choice, registry transport and credentials."""

    platform: Platform = field(default_factory=Platform)
    platform_explicit: bool = False
    """The user named the platform (``--platform``): an image that is not for it is refused, as
    ``docker pull --platform`` does; otherwise a single-platform image is taken as it is."""
    insecure_registries: tuple[str, ...] = ()
    """Hosts (``host[:port]``) that may be reached over plain HTTP; localhost always may."""
    docker_config: str | None = None
    """Path of a Docker ``config.json``; default ``$DOCKER_CONFIG/config.json`` or
    ``~/.docker/config.json``."""
    username: str | None = None
    password: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 4
    ca_bundle: str | None = None
    """A PEM file of extra CAs to trust (private registries)."""
    oci_shared_blob_dir: str | None = None
    """For ``oci:`` layouts whose blobs live in a separate directory (as skopeo's
    ``--shared-blob-dir`` writes them): looked in after the layout's own ``blobs/``."""


def iter_layers(image: Image) -> Iterator[Layer]:
    """The image's layers, base first."""
    yield from image.layers
