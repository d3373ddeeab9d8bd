"""``docker save`` archives (``docker-archive:PATH[:NAME:TAG]``) as an :class:`Image`.

Reads ``manifest.json`` (``Config``, ``RepoTags``, ``Layers``, ``LayerSources``), which both the
legacy layout (``<id>/layer.tar``) and Docker 25's OCI-layout-inside form carry. An archive
holding several images is narrowed by ``NAME:TAG`` (or ``@N``, the N-th image). Layers are read
in place through :mod:`spyglass.image.archivefs` and verified against the config's diff_id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from spyglass.errors import ArchiveError, DigestMismatch, ImageError
from spyglass.image.archivefs import TarStore
from spyglass.image.blobstream import CHUNK, new_hasher, verifying_stream
from spyglass.image.interface import (
    MANIFEST_TYPES,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    Descriptor,
    Image,
    ImageConfig,
    Layer,
    Manifest,
)
from spyglass.image.layout import read_index
from spyglass.image.manifest import parse_config, parse_manifest_document
from spyglass.inventory import DiffId, Digest

_BLOB_PATH = re.compile(r"^blobs/(sha256|sha512)/([a-f0-9]{64,128})$")
_HUB_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/")
_MAGIC = {b"\x1f\x8b": OCI_LAYER_GZIP, b"\x28\xb5\x2f\xfd": OCI_LAYER_ZSTD}


@dataclass(frozen=True)
class ArchiveEntry:
    """One image of ``manifest.json``."""

    config: str
    layers: tuple[str, ...]
    repo_tags: tuple[str, ...]


def read_entries(store: TarStore) -> list[ArchiveEntry]:
    """The images listed by ``manifest.json``; ArchiveError when it is missing or malformed."""
    if not store.exists("manifest.json"):
        if store.exists("repositories"):
            raise ArchiveError(
                f"{store.location} is `docker save` output from before Docker 1.10 (no "
                "manifest.json); save the image again with a current Docker"
            )
        raise ArchiveError(
            f"{store.location} is not an image archive: it has neither manifest.json nor "
            "index.json; give a `docker save` archive or an OCI layout"
        )
    try:
        doc = json.loads(store.read_bytes("manifest.json"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"manifest.json in {store.location} is not JSON: {exc}") from exc
    if not isinstance(doc, list) or not doc:
        raise ArchiveError(f"manifest.json in {store.location} lists no images (it is {doc!r:.40})")
    return [_entry(item, store.location) for item in doc]


def _entry(item: Any, location: str) -> ArchiveEntry:
    config, layers = (item.get("Config"), item.get("Layers")) if isinstance(item, dict) else (0, 0)
    if not isinstance(config, str) or not isinstance(layers, list):
        raise ArchiveError(f"manifest.json in {location} has an entry without Config or Layers")
    tags = tuple(map(str, item.get("RepoTags") or ()))
    return ArchiveEntry(config, tuple(map(str, layers)), tags)


def _normal_tag(tag: str) -> str:
    """``alpine`` and ``docker.io/library/alpine:latest`` name the same image."""
    for prefix in _HUB_PREFIXES:
        if tag.startswith(prefix):
            tag = tag[len(prefix):]
            break
    return tag if ":" in tag.rpartition("/")[2] else tag + ":latest"


def select_entry(entries: list[ArchiveEntry], name: str | None, location: str) -> ArchiveEntry:
    """The entry named ``name`` (a tag or ``@N``), or the only one when no name is given."""
    tags = [t for e in entries for t in e.repo_tags]
    listing = ", ".join(tags) or "(untagged images)"
    if name is None:
        if len(entries) == 1:
            return entries[0]
        raise ArchiveError(
            f"{location} holds {len(entries)} images; choose one with "
            f"docker-archive:{location}:NAME:TAG or :@N; tags: {listing}"
        )
    if name.startswith("@") and name[1:].isdigit():
        if int(name[1:]) < len(entries):
            return entries[int(name[1:])]
        raise ArchiveError(f"{location} has only {len(entries)} images; {name} is out of range")
    matches = [e for e in entries if _normal_tag(name) in map(_normal_tag, e.repo_tags)]
    if not matches:
        raise ArchiveError(f"{location} has no image tagged {name}; tags: {listing}")
    return matches[0]


class DockerArchiveImage(Image):
    """One image of a ``docker save`` archive; layers are read in place."""

    def __init__(self, store: TarStore, entry: ArchiveEntry, reference: str) -> None:
        self._store = store
        self.reference = reference
        self.digest = None
        self.config = _load_config(store, entry.config)
        if len(entry.layers) != len(self.config.diff_ids):
            raise ArchiveError(
                f"{store.location}: manifest.json lists {len(entry.layers)} layers but the config "
                f"has {len(self.config.diff_ids)} diff_ids; the archive is inconsistent"
            )
        self._paths: dict[str, str] = {}
        self.layers = tuple(self._layer(path, i) for i, path in enumerate(entry.layers))

    def _layer(self, path: str, position: int) -> Layer:
        diff_id = self.config.diff_ids[position]
        media_type, digest = self._describe(path, diff_id)
        self._paths[diff_id] = path
        history = self.config.history
        descriptor = Descriptor(media_type, digest, self._store.size(path))
        return Layer(descriptor, diff_id, history[position] if history else "")

    def _describe(self, path: str, diff_id: DiffId) -> tuple[str, Digest]:
        """Media type from the magic bytes; digest from the blob path, else the diff_id."""
        source = self._store.open(path)
        head = source.read(4)
        source.close()
        media_type = next((t for m, t in _MAGIC.items() if head.startswith(m)), OCI_LAYER)
        named = _BLOB_PATH.match(path)
        if named:
            return media_type, Digest(f"{named.group(1)}:{named.group(2)}")
        if media_type == OCI_LAYER:  # an uncompressed layer file is the diff_id's preimage
            return media_type, Digest(diff_id)
        return media_type, _hash_member(self._store, path)

    @contextmanager
    def _open(self, layer: Layer) -> Iterator[IO[bytes]]:
        path = self._paths.get(layer.diff_id)
        if path is None:
            raise ImageError(f"layer {layer.diff_id} is not part of {self.reference}")
        stream = verifying_stream(
            self._store.open(path), layer.diff_id, layer.descriptor.size, uncompressed=True
        )
        with stream:
            yield stream

    def open_layer(self, layer: Layer) -> Any:
        """The stored layer bytes; reading them to EOF verifies them against the diff_id."""
        return self._open(layer)

    def close(self) -> None:
        """Close the archive file."""
        self._store.close()


def _hash_member(store: TarStore, path: str) -> Digest:
    """sha256 of a compressed layer that the archive does not name by its digest."""
    hasher, source = new_hasher("sha256:"), store.open(path)
    while chunk := source.read(CHUNK):
        hasher.update(chunk)
    return Digest("sha256:" + hasher.hexdigest())


def _load_config(store: TarStore, path: str) -> ImageConfig:
    data = store.read_bytes(path)
    # Only content-addressed paths are checked: tools that edit legacy archives keep the old
    # <id>.json name (go-containerregistry's mutate does).
    named = _BLOB_PATH.match(path)
    if named:
        algorithm, digest = named.group(1), f"{named.group(1)}:{named.group(2)}"
        hasher = new_hasher(digest)
        hasher.update(data)
        if f"{algorithm}:{hasher.hexdigest()}" != digest:
            raise DigestMismatch(f"config {path} in {store.location} does not match its name")
    return parse_config(data)


def docker_archive_from_store(store: TarStore, name: str | None) -> DockerArchiveImage:
    """The image named ``name`` of an archive already indexed; the image owns the store."""
    entry = select_entry(read_entries(store), name, store.location)
    reference = f"docker-archive:{store.location}" + (f":{name}" if name else "")
    image = DockerArchiveImage(store, entry, reference)
    image.digest = _manifest_digest(store, entry.config)
    return image


def _manifest_digest(store: TarStore, config_path: str) -> Digest | None:
    """Docker 25 also writes the manifests: the one whose config is ours gives the digest."""
    named = _BLOB_PATH.match(config_path)
    if not named or not store.exists("index.json"):
        return None
    config_digest = f"{named.group(1)}:{named.group(2)}"
    try:
        for entry in read_index(store).manifests:
            path = "blobs/" + entry.digest.replace(":", "/")
            if entry.media_type in MANIFEST_TYPES and store.exists(path):
                found = parse_manifest_document(store.read_bytes(path), None)
                if isinstance(found, Manifest) and found.config.digest == config_digest:
                    return found.digest
    except ImageError:
        return None  # the digest is a convenience; manifest.json alone describes the image
    return None


def open_docker_archive(path: Path, name: str | None = None) -> DockerArchiveImage:
    """Open one image of a ``docker save`` archive (plain or gzip-compressed)."""
    store = TarStore(path)
    try:
        return docker_archive_from_store(store, name)
    except BaseException:
        store.close()
        raise
