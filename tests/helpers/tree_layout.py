"""An OCI image layout written from real directory trees, one layer per tree.

Each upper layer is the file-level difference from the tree below it (new or changed files,
whiteouts for removed ones), as ``docker build`` would make it. Layers are gzip tars streamed
straight to disk, never held in memory, so trees of hundreds of megabytes are fine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path


def _walk(root: Path) -> dict[str, os.stat_result]:
    entries: dict[str, os.stat_result] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath, name)
            entries[str(full.relative_to(root))] = full.lstat()
    return entries


def _same(lower: Path, upper: Path, a: os.stat_result, b: os.stat_result) -> bool:
    if (a.st_mode, a.st_size) != (b.st_mode, b.st_size):  # st_mode holds the file type too
        return False
    if stat.S_ISLNK(a.st_mode):
        return os.readlink(lower) == os.readlink(upper)
    if stat.S_ISREG(a.st_mode) and a.st_mtime != b.st_mtime:
        return lower.read_bytes() == upper.read_bytes()
    return True


def _diff(lower: Path | None, upper: Path) -> Iterator[tuple[str, Path | None]]:
    """(path, source) to put in the layer; source None means a whiteout."""
    up = _walk(upper)
    low = _walk(lower) if lower else {}
    for path, st in up.items():
        old = low.get(path)
        if old is None or lower is None or not _same(lower / path, upper / path, old, st):
            yield path, upper / path
    removed = sorted(p for p in low if p not in up)
    for path in removed:
        if os.path.dirname(path) not in removed:
            yield path, None


class _HashingGzipWriter:
    """Write a gzip file while hashing the uncompressed (diff_id) and compressed (digest) bytes."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        self.diff_id = hashlib.sha256()
        self.digest = hashlib.sha256()
        self.size = 0
        self.uncompressed = 0

    def write(self, data: bytes) -> int:
        self.diff_id.update(data)
        self.uncompressed += len(data)
        self._out(self.compressor.compress(data))
        return len(data)

    def _out(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.file.write(data)

    def close(self) -> None:
        self._out(self.compressor.flush())
        self.file.close()


def _write_layer(entries: Iterator[tuple[str, Path | None]], blobs: Path) -> dict[str, object]:
    tmp = blobs / "layer.tmp"
    out = _HashingGzipWriter(tmp)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[arg-type]
        for path, source in entries:
            if source is None:
                head, tail = os.path.split(path)
                info = tarfile.TarInfo(os.path.join(head, ".wh." + tail))
                tar.addfile(info)
            else:
                info = tar.gettarinfo(str(source), arcname=path)
                if info.isreg():
                    with source.open("rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)
    out.close()
    digest = out.digest.hexdigest()
    tmp.rename(blobs / digest)
    return {"digest": f"sha256:{digest}", "diff_id": f"sha256:{out.diff_id.hexdigest()}",
            "size": out.size, "uncompressed": out.uncompressed}


def _blob(blobs: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def write_layout(roots: Sequence[Path], layout: Path, *, tag: str = "latest") -> Path:
    """Write an OCI layout at ``layout`` whose layers are ``roots`` stacked as diffs."""
    tmp_layout = layout.with_name(layout.name + ".tmp")
    shutil.rmtree(tmp_layout, ignore_errors=True)
    blobs = tmp_layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layers = [_write_layer(_diff(lower, upper), blobs)
              for lower, upper in zip([None, *roots[:-1]], roots, strict=True)]
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer["diff_id"] for layer in layers]},
        "history": [{"created_by": f"tree {root.name}"} for root in roots],
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(blobs, config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer["digest"], "size": layer["size"]} for layer in layers],
    }).encode()
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            **_blob(blobs, manifest),
                            "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (tmp_layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (tmp_layout / "index.json").write_text(json.dumps(index))
    shutil.rmtree(layout, ignore_errors=True)
    tmp_layout.rename(layout)
    return layout
