"""Deterministic OCI images for tests: the same input always gives the same digests.

Layers are built from a fixture tree (a directory) or a dict of entries::

    {"etc/os-release": b"ID=alpine\\n", "usr/bin/sh": Symlink("busybox"),
     "usr/bin/ls": Hardlink("usr/bin/sh"), "tmp/old": Whiteout(), "opt": OpaqueWhiteout(),
     "var/empty": Dir()}

in the dict's order (directories in sorted order), with mtime 0, uid/gid 0 and no user names.
A layer may also be given as raw tar bytes (a real layer from test data), used as is.
:func:`build_image` compresses them ("gzip" with mtime 0, "zstd", "bzip2", "xz" or "none") and
returns a :class:`BuiltImage`; writers put it on disk as an OCI layout, an oci-archive or a
legacy ``docker save`` archive; :func:`build_index` makes a multi-platform index, and
:meth:`BuiltImage.as_image` gives an in-memory :class:`~spyglass.image.interface.Image` that
counts how often each layer was opened.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import stat
import tarfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import zstandard

from spyglass.errors import DigestMismatch
from spyglass.image import interface as oci
from spyglass.inventory import DiffId, Digest


@dataclass(frozen=True)
class File:
    """A regular file with explicit content and mode (plain ``bytes`` means mode 0o644)."""

    data: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to ``target`` (written verbatim: relative, absolute or hostile)."""

    target: str


@dataclass(frozen=True)
class Hardlink:
    """A hard link to ``target``, a path written earlier in the same layer."""

    target: str


@dataclass(frozen=True)
class Whiteout:
    """Deletes the path from lower layers (written as ``dir/.wh.name``)."""


@dataclass(frozen=True)
class OpaqueWhiteout:
    """Hides everything lower layers put under this directory (``dir/.wh..wh..opq``)."""


@dataclass(frozen=True)
class Dir:
    """A directory entry."""

    mode: int = 0o755


Entry = bytes | File | Symlink | Hardlink | Whiteout | OpaqueWhiteout | Dir
LayerSource = Mapping[str, Entry] | Path | bytes
"""A dict of entries, a fixture directory, or raw (uncompressed) tar bytes used as is."""

MEDIA_TYPES = {
    "oci": {
        "gzip": oci.OCI_LAYER_GZIP,
        "zstd": oci.OCI_LAYER_ZSTD,
        "none": oci.OCI_LAYER,
        "bzip2": oci.OCI_LAYER,
        "xz": oci.OCI_LAYER,
    },
    "docker": {c: oci.DOCKER_LAYER_GZIP for c in ("gzip", "zstd", "none", "bzip2", "xz")},
}


def sha256(data: bytes) -> Digest:
    """``sha256:<hex>`` of some bytes."""
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def _info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, link
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


def _whiteout_name(path: str, opaque: bool) -> str:
    head, _, tail = path.rstrip("/").rpartition("/")
    name = ".wh..wh..opq" if opaque else f".wh.{tail}"
    if opaque:
        return f"{path.rstrip('/')}/{name}" if path.strip("/") else name
    return f"{head}/{name}" if head else name


def _member(path: str, entry: Entry) -> tuple[tarfile.TarInfo, bytes | None]:
    if isinstance(entry, bytes):
        entry = File(entry)
    if isinstance(entry, type):  # allow the marker classes themselves: {"x": Whiteout}
        entry = entry()
    if isinstance(entry, File):
        return _info(path, tarfile.REGTYPE, entry.mode, len(entry.data)), entry.data
    if isinstance(entry, Symlink):
        return _info(path, tarfile.SYMTYPE, 0o777, link=entry.target), None
    if isinstance(entry, Hardlink):
        return _info(path, tarfile.LNKTYPE, 0o644, link=entry.target), None
    if isinstance(entry, Dir):
        return _info(path.rstrip("/") + "/", tarfile.DIRTYPE, entry.mode), None
    if isinstance(entry, (Whiteout, OpaqueWhiteout)):
        name = _whiteout_name(path, isinstance(entry, OpaqueWhiteout))
        return _info(name, tarfile.REGTYPE, 0o644), b""
    raise TypeError(f"not a layer entry: {entry!r}")


def tree_entries(root: Path) -> dict[str, Entry]:
    """The entries of a fixture directory, sorted, with symlinks kept as links."""
    entries: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = base / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                entries[rel] = Symlink(os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                entries[rel] = Dir(stat.S_IMODE(st.st_mode))
            else:
                entries[rel] = File(path.read_bytes(), stat.S_IMODE(st.st_mode))
    return entries


def layer_tar(source: LayerSource) -> bytes:
    """The uncompressed tar bytes of one layer, deterministic for the same input."""
    if isinstance(source, bytes):
        return source
    entries = tree_entries(source) if isinstance(source, Path) else source
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, entry in entries.items():
            info, data = _member(path, entry)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def compress(data: bytes, compression: str) -> bytes:
    """Compress deterministically: gzip with mtime 0, zstd level 3, bzip2, xz, or "none"."""
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return bytes(zstandard.ZstdCompressor(level=3).compress(data))
    if compression == "bzip2":
        return bz2.compress(data)
    if compression == "xz":
        return lzma.compress(data)
    if compression == "none":
        return data
    raise ValueError(f"unknown compression {compression!r}")


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class BuiltImage:
    """An image built in memory: manifest, config and every blob by digest."""

    manifest: bytes
    config: bytes
    blobs: dict[str, bytes]
    """Every blob (config and layers) by digest; the manifest is not among them."""
    diff_ids: tuple[DiffId, ...]
    layer_digests: tuple[Digest, ...]
    layer_media_types: tuple[str, ...]
    layer_tars: tuple[bytes, ...] = field(repr=False)
    """The uncompressed tar of each layer (what ``docker save`` stores)."""
    media_type: str
    platform: oci.Platform
    history: tuple[str, ...] = ()

    @property
    def digest(self) -> Digest:
        """The manifest digest."""
        return sha256(self.manifest)

    @property
    def config_digest(self) -> Digest:
        """The config blob digest."""
        return sha256(self.config)

    def descriptor(self) -> dict[str, Any]:
        """The manifest's descriptor as an index lists it (with platform)."""
        platform = {"os": self.platform.os, "architecture": self.platform.architecture}
        if self.platform.variant:
            platform["variant"] = self.platform.variant
        return {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.manifest),
            "platform": platform,
        }

    def as_image(self, reference: str = "test/image:latest") -> MemoryImage:
        """An in-memory Image over these blobs that counts layer opens."""
        return MemoryImage(self, reference)


def _config(diff_ids: Sequence[str], platform: oci.Platform, history: Sequence[str]) -> bytes:
    config: dict[str, Any] = {
        "architecture": platform.architecture,
        "os": platform.os,
        "config": {},
        "created": "1970-01-01T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": h} for h in history],
    }
    if platform.variant:
        config["variant"] = platform.variant
    return _canonical(config)


def build_image(
    layers: Sequence[LayerSource],
    *,
    compression: str | Sequence[str] = "gzip",
    platform: oci.Platform | str = "linux/amd64",
    kind: str = "oci",
    history: Sequence[str] | None = None,
    layer_media_type: str | None = None,
) -> BuiltImage:
    """Build an image from layer sources, base first.

    ``compression`` is one method for all layers or one per layer; ``kind`` is "oci" or
    "docker" (media types); ``layer_media_type`` overrides the declared type (to make it lie).
    """
    plat = oci.Platform.parse(platform) if isinstance(platform, str) else platform
    methods = [compression] * len(layers) if isinstance(compression, str) else list(compression)
    tars = tuple(layer_tar(src) for src in layers)
    stored = [compress(t, m) for t, m in zip(tars, methods, strict=True)]
    types = tuple(layer_media_type or MEDIA_TYPES[kind][m] for m in methods)
    diff_ids = tuple(DiffId(sha256(t)) for t in tars)
    hist = tuple(history) if history is not None else tuple(f"layer {i}" for i in range(len(tars)))
    config = _config(diff_ids, plat, hist)
    docker = kind == "docker"
    manifest = _canonical({
        "schemaVersion": 2,
        "mediaType": oci.DOCKER_MANIFEST_V2 if docker else oci.OCI_MANIFEST,
        "config": {"mediaType": oci.DOCKER_CONFIG if docker else oci.OCI_CONFIG,
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": t, "digest": sha256(b), "size": len(b)}
                   for t, b in zip(types, stored, strict=True)],
    })
    blobs: dict[str, bytes] = {sha256(config): config, **{sha256(b): b for b in stored}}
    return BuiltImage(
        manifest=manifest, config=config, blobs=blobs, diff_ids=diff_ids,
        layer_digests=tuple(sha256(b) for b in stored), layer_media_types=types,
        layer_tars=tars, media_type=oci.DOCKER_MANIFEST_V2 if docker else oci.OCI_MANIFEST,
        platform=plat, history=hist,
    )


@dataclass(frozen=True)
class BuiltIndex:
    """A multi-platform index over several built images."""

    index: bytes
    images: tuple[BuiltImage, ...]
    media_type: str

    @property
    def digest(self) -> Digest:
        """The index digest."""
        return sha256(self.index)

    @property
    def blobs(self) -> dict[str, bytes]:
        """Every blob of every image, plus each image's manifest."""
        out: dict[str, bytes] = {}
        for image in self.images:
            out.update(image.blobs)
            out[image.digest] = image.manifest
        return out


def build_index(images: Sequence[BuiltImage], *, kind: str = "oci") -> BuiltIndex:
    """An OCI image index ("oci") or Docker manifest list ("docker") of the images."""
    media_type = oci.DOCKER_MANIFEST_LIST if kind == "docker" else oci.OCI_INDEX
    index = _canonical({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [image.descriptor() for image in images],
    })
    return BuiltIndex(index=index, images=tuple(images), media_type=media_type)


def _layout_files(built: BuiltImage | BuiltIndex, tag: str | None) -> dict[str, bytes]:
    """Every file of an OCI layout (relative path -> bytes); index.json names ``built``."""
    top_bytes = built.index if isinstance(built, BuiltIndex) else built.manifest
    top: dict[str, Any] = {"mediaType": built.media_type, "digest": built.digest,
                           "size": len(top_bytes)}
    if tag is not None:
        top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    files = {
        "oci-layout": _canonical({"imageLayoutVersion": "1.0.0"}),
        "index.json": _canonical({"schemaVersion": 2, "mediaType": oci.OCI_INDEX,
                                  "manifests": [top]}),
    }
    blobs = {**built.blobs, built.digest: top_bytes}
    for digest, data in sorted(blobs.items()):
        files["blobs/" + digest.replace(":", "/")] = data
    return files


def write_oci_layout(
    built: BuiltImage | BuiltIndex, root: Path, tag: str | None = "latest"
) -> Path:
    """Write an OCI image layout directory; ``index.json`` names the image or index by ``tag``."""
    for name, data in _layout_files(built, tag).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_oci_archive(
    built: BuiltImage | BuiltIndex, path: Path, tag: str | None = "latest"
) -> Path:
    """Write an oci-archive: a tar of an OCI layout, deterministic."""
    return _write_tar(path, _layout_files(built, tag))


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))


def _write_tar(path: Path, files: Mapping[str, bytes]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            _tar_add(tar, name, data)
    return path


def write_docker_archive(
    built: BuiltImage,
    path: Path,
    repo_tags: Sequence[str] = ("test/image:latest",),
    *,
    oci_layout: bool = False,
) -> Path:
    """Write a ``docker save`` archive.

    Legacy form (default): manifest.json, ``<id>.json``, ``<id>/layer.tar`` with layers stored
    uncompressed, as Docker did before 25. ``oci_layout=True``: Docker 25's form, an OCI layout
    plus a manifest.json whose paths point into ``blobs/`` (build with compression "none" to
    match what Docker writes).
    """
    if oci_layout:
        files = _layout_files(built, repo_tags[0].rpartition(":")[2] if repo_tags else None)
        blob = "blobs/sha256/"
        config_name = blob + built.config_digest.split(":", 1)[1]
        layer_names = [blob + d.split(":", 1)[1] for d in built.layer_digests]
    else:
        config_name = built.config_digest.split(":", 1)[1] + ".json"
        layer_names = [d.split(":", 1)[1] + "/layer.tar" for d in built.diff_ids]
        files = {config_name: built.config}
        for name, data in zip(layer_names, built.layer_tars, strict=True):
            files[name.split("/", 1)[0] + "/VERSION"] = b"1.0"
            files[name] = data
    manifest = [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_names}]
    files["manifest.json"] = json.dumps(manifest).encode()
    if not oci_layout:
        files["repositories"] = _repositories(repo_tags, layer_names)
    return _write_tar(path, files)


def _repositories(repo_tags: Sequence[str], layer_names: Sequence[str]) -> bytes:
    top_layer = layer_names[-1].split("/", 1)[0] if layer_names else ""
    repositories: dict[str, dict[str, str]] = {}
    for tag in repo_tags:
        repo, _, name = tag.rpartition(":")
        repositories.setdefault(repo, {})[name] = top_layer
    return json.dumps(repositories).encode()


class _VerifyingReader(io.RawIOBase):
    """Reads bytes and raises DigestMismatch at EOF when they do not hash to ``digest``."""

    def __init__(self, data: bytes, digest: str) -> None:
        self._inner, self._digest, self._hash = io.BytesIO(data), digest, hashlib.sha256()
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._inner.readinto(buffer)
        self._hash.update(memoryview(buffer)[:n])
        if n == 0 and not self._checked:
            self._checked = True
            if "sha256:" + self._hash.hexdigest() != self._digest:
                raise DigestMismatch(f"blob {self._digest} does not match its content; pull again")
        return n


class MemoryImage(oci.Image):
    """An Image over a BuiltImage's blobs; ``opened`` counts opens per layer digest.

    ``blobs`` may be replaced (e.g. with truncated bytes) to simulate a broken source.
    """

    def __init__(self, built: BuiltImage, reference: str) -> None:
        self.reference, self.digest = reference, built.digest
        self.blobs = dict(built.blobs)
        self.opened: Counter[str] = Counter()
        self.config = oci.ImageConfig(
            os=built.platform.os, architecture=built.platform.architecture,
            variant=built.platform.variant, diff_ids=built.diff_ids, history=built.history,
            raw=json.loads(built.config),
        )
        self.layers = tuple(
            oci.Layer(oci.Descriptor(t, d, len(built.blobs[d])), diff, created_by)
            for t, d, diff, created_by in zip(
                built.layer_media_types, built.layer_digests, built.diff_ids,
                built.history or ("",) * len(built.diff_ids), strict=True,
            )
        )

    @contextmanager
    def _open(self, layer: oci.Layer) -> Iterator[IO[bytes]]:
        self.opened[layer.descriptor.digest] += 1
        raw = _VerifyingReader(self.blobs[layer.descriptor.digest], layer.descriptor.digest)
        with io.BufferedReader(raw) as stream:
            yield stream

    def open_layer(self, layer: oci.Layer) -> Any:
        """Open the stored bytes, verifying the digest at EOF."""
        return self._open(layer)
