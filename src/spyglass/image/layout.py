"""OCI image layouts (``oci:PATH[:TAG]``) and oci-archives (``oci-archive:PATH[:TAG]``).

``index.json`` names images by the ``org.opencontainers.image.ref.name`` annotation (or
containerd's ``io.containerd.image.name``); an entry may be a manifest or an index, nested to
any depth, from which :func:`~spyglass.image.manifest.choose_platform` picks. Every blob is
verified against its digest; small documents when read, layers at the end of their stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from spyglass.errors import ArchiveError, DigestMismatch, ManifestError, PlatformNotFound
from spyglass.image.archivefs import DirStore, FileStore, TarStore
from spyglass.image.blobstream import Readable, new_hasher, verifying_stream
from spyglass.image.interface import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    Descriptor,
    Image,
    Index,
    Layer,
    Manifest,
    OpenOptions,
    Platform,
)
from spyglass.image.manifest import (
    choose_platform,
    is_attestation,
    parse_config,
    parse_descriptor,
    parse_manifest_document,
)
from spyglass.inventory import Digest

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
_MAX_DEPTH = 8


class BlobSource:
    """Blobs of a layout by digest: ``blobs/<alg>/<hex>``, then an optional shared directory."""

    def __init__(self, store: FileStore, shared: FileStore | None = None) -> None:
        self.store, self.shared = store, shared

    def _locate(self, digest: str) -> tuple[FileStore, str]:
        algorithm, _, hexpart = digest.partition(":")
        if self.store.exists(f"blobs/{algorithm}/{hexpart}"):
            return self.store, f"blobs/{algorithm}/{hexpart}"
        if self.shared is not None and self.shared.exists(f"{algorithm}/{hexpart}"):
            return self.shared, f"{algorithm}/{hexpart}"
        raise ArchiveError(
            f"blob {digest} is missing from {self.store.location} (blobs/{algorithm}/); the "
            "layout is incomplete, or its blobs are in a shared blob directory to name"
        )

    def read(self, descriptor: Descriptor) -> bytes:
        """A small blob, checked against the descriptor's size and digest."""
        store, path = self._locate(descriptor.digest)
        data = store.read_bytes(path)
        hasher = new_hasher(descriptor.digest)
        hasher.update(data)
        actual = f"{descriptor.digest.partition(':')[0]}:{hasher.hexdigest()}"
        # The digest alone is checked: local tools write layouts whose descriptor sizes are
        # off while the content is right (containers/image's own fixtures do).
        if actual != descriptor.digest:
            raise DigestMismatch(
                f"blob {descriptor.digest} in {self.store.location} hashes to {actual}; "
                "the layout is damaged or was altered"
            )
        return data

    def open(self, descriptor: Descriptor) -> Readable:
        """The raw bytes of a blob, unverified."""
        store, path = self._locate(descriptor.digest)
        return store.open(path)

    def check(self, descriptor: Descriptor) -> None:
        """ArchiveError now, rather than mid-scan, when a blob is absent."""
        self._locate(descriptor.digest)


def read_index(store: FileStore) -> Index:
    """The layout's ``index.json``; ``"manifests": null`` (Docker 25) reads as no images."""
    if not store.exists("index.json"):
        raise ArchiveError(f"{store.location} is not an OCI layout: it has no index.json")
    _check_layout_version(store)
    data = store.read_bytes("index.json")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"index.json in {store.location} is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ArchiveError(f"index.json in {store.location} is not a JSON object")
    entries = tuple(parse_descriptor(e, "index.json entry") for e in doc.get("manifests") or ())
    return Index(str(doc.get("mediaType") or OCI_INDEX), entries, Digest(""), raw=data)


def _check_layout_version(store: FileStore) -> None:
    if not store.exists("oci-layout"):
        return  # required by the spec, but index.json alone is unambiguous
    try:
        version = json.loads(store.read_bytes("oci-layout")).get("imageLayoutVersion", "")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise ArchiveError(f"oci-layout in {store.location} is not valid JSON") from exc
    if not str(version).startswith("1."):
        raise ArchiveError(f"{store.location} has OCI layout version {version!r}; only 1.x is read")


def _names(descriptor: Descriptor) -> list[str]:
    annotations = dict(descriptor.annotations)
    return [annotations[k] for k in (REF_NAME, CONTAINERD_NAME) if k in annotations]


def _tag_matches(tag: str, descriptor: Descriptor) -> bool:
    """``tag`` equals the ref name, or the tag part of a full ``repo:tag`` name."""
    for name in _names(descriptor):
        if tag == name or (":" in name.rpartition("/")[2] and name.rpartition(":")[2] == tag):
            return True
    return False


def select_top(index: Index, tag: str | None, location: str) -> list[Descriptor]:
    """The index.json entries the user means, distinct by digest."""
    entries = [d for d in index.manifests if not is_attestation(d)]
    if tag is not None:
        entries = [d for d in entries if _tag_matches(tag, d)]
    distinct = list({d.digest: d for d in entries}.values())
    names = sorted({n for d in index.manifests for n in _names(d)})
    listing = ", ".join(names) or "none"
    if tag is None and len(distinct) > 1 and any(_names(d) for d in distinct):
        raise ArchiveError(
            f"{location} holds {len(distinct)} images; add :NAME to choose one of: {listing}"
        )
    if tag is not None and len(distinct) > 1 and not all(d.platform for d in distinct):
        raise ArchiveError(f"{location} has {len(distinct)} different images named {tag!r}")
    if distinct:
        return distinct
    if tag is None:
        raise ArchiveError(f"{location} holds no images")
    raise ArchiveError(f"{location} has no image named {tag!r}; names: {listing}")


class LayoutResolver:
    """Walks from index.json entries down to one image manifest for the wanted platform."""

    def __init__(self, blobs: BlobSource, options: OpenOptions, location: str) -> None:
        self.blobs, self.options, self.location = blobs, options, location

    def resolve(self, candidates: list[Descriptor], within: str = "", depth: int = 0) -> Manifest:
        """The manifest among ``candidates`` (descending into indexes) for the platform."""
        if depth > _MAX_DEPTH:
            raise ManifestError(f"indexes in {self.location} nest deeper than {_MAX_DEPTH}")
        if len(candidates) == 1:
            chosen = candidates[0]
        else:
            chosen = self._by_platform(candidates, within or f"{self.location}/index.json")
        document = self._document(chosen)
        if isinstance(document, Manifest):
            return document
        inner = [d for d in document.manifests if not is_attestation(d)]
        if not inner:
            raise ManifestError(f"index {chosen.digest} in {self.location} lists no images")
        return self.resolve(inner, chosen.digest, depth + 1)

    def _document(self, descriptor: Descriptor) -> Manifest | Index:
        kind = descriptor.media_type
        if kind not in (*MANIFEST_TYPES, *INDEX_TYPES):
            raise ManifestError(
                f"{descriptor.digest} in {self.location} has media type {kind!r}, which is "
                "not an image manifest or index"
            )
        # The document's own mediaType decides: layouts are often written with a descriptor
        # type of the other family member (OCI vs Docker) than the blob's.
        document = parse_manifest_document(self.blobs.read(descriptor), None)
        if isinstance(document, Index) != (kind in INDEX_TYPES):
            raise ManifestError(f"{descriptor.digest} in {self.location} is not a {kind}")
        return document

    def _by_platform(self, candidates: list[Descriptor], within: str) -> Descriptor:
        """Entries without a platform field get the one their config declares (as containerd)."""
        described = [
            d if d.platform else replace(d, platform=self._platform(d))
            for d in candidates
        ]
        listed = [d for d in described if d.platform is not None]
        index = Index(OCI_INDEX, tuple(listed), Digest(within))
        try:
            return choose_platform(index, self.options.platform)
        except PlatformNotFound as exc:
            names = sorted({n for d in candidates for n in _names(d)})
            if names:
                raise ArchiveError(f"{exc}; or name one of: {', '.join(names)}") from exc
            raise

    def _platform(self, descriptor: Descriptor) -> Platform | None:
        if descriptor.media_type not in MANIFEST_TYPES:
            return None
        document = self._document(descriptor)
        assert isinstance(document, Manifest)
        return parse_config(self.blobs.read(document.config)).platform


class LayoutImage(Image):
    """One image of an OCI layout or oci-archive."""

    def __init__(self, blobs: BlobSource, manifest: Manifest, reference: str) -> None:
        self._blobs = blobs
        self.reference = reference
        self.digest = manifest.digest
        self.manifest = manifest
        self.config = parse_config(blobs.read(manifest.config))
        if len(manifest.layers) != len(self.config.diff_ids):
            raise ManifestError(
                f"manifest {manifest.digest} has {len(manifest.layers)} layers but its config "
                f"has {len(self.config.diff_ids)} diff_ids; the image is inconsistent"
            )
        history = self.config.history or ("",) * len(manifest.layers)
        self.layers = tuple(
            Layer(d, diff_id, created)
            for d, diff_id, created in zip(
                manifest.layers, self.config.diff_ids, history, strict=True
            )
        )
        for layer in self.layers:
            blobs.check(layer.descriptor)

    @contextmanager
    def _open(self, layer: Layer) -> Iterator[IO[bytes]]:
        descriptor = layer.descriptor
        raw = self._blobs.open(descriptor)
        with verifying_stream(raw, descriptor.digest) as stream:
            yield stream

    def open_layer(self, layer: Layer) -> Any:
        """The stored (usually compressed) layer bytes, verified at EOF."""
        return self._open(layer)

    def close(self) -> None:
        """Close the archive, if this layout is one."""
        self._blobs.store.close()
        if self._blobs.shared is not None:
            self._blobs.shared.close()


def open_layout_store(
    store: FileStore, tag: str | None, options: OpenOptions, reference: str
) -> LayoutImage:
    """The image named ``tag`` (or the only one) in a layout held by ``store``."""
    shared = DirStore(Path(options.oci_shared_blob_dir)) if options.oci_shared_blob_dir else None
    blobs = BlobSource(store, shared)
    top = select_top(read_index(store), tag, store.location)
    manifest = LayoutResolver(blobs, options, store.location).resolve(top)
    return LayoutImage(blobs, manifest, reference)


def open_oci_layout(path: Path, tag: str | None, options: OpenOptions) -> LayoutImage:
    """Open ``oci:PATH[:TAG]``: an OCI image layout directory."""
    if not path.is_dir():
        raise ArchiveError(f"{path} is not a directory; oci: needs an OCI layout directory")
    reference = f"oci:{path}" + (f":{tag}" if tag else "")
    return open_layout_store(DirStore(path), tag, options, reference)


def open_oci_archive(path: Path, tag: str | None, options: OpenOptions) -> LayoutImage:
    """Open ``oci-archive:PATH[:TAG]``: a tar (optionally gzip) of an OCI layout, in place."""
    store = TarStore(path)
    try:
        reference = f"oci-archive:{path}" + (f":{tag}" if tag else "")
        return open_layout_store(store, tag, options, reference)
    except BaseException:
        store.close()
        raise
