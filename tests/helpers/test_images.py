"""The test image builder is deterministic and writes archives other readers can open."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from spyglass.errors import DigestMismatch
from tests.helpers.images import (
    Dir,
    Hardlink,
    OpaqueWhiteout,
    Symlink,
    Whiteout,
    build_image,
    build_index,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)

LAYER = {
    "etc/os-release": b"ID=alpine\n",
    "usr/bin/sh": Symlink("busybox"),
    "usr/bin/ls": Hardlink("usr/bin/sh"),
    "tmp/old": Whiteout(),
    "opt": OpaqueWhiteout(),
    "var/empty": Dir(),
}


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none", "bzip2", "xz"])
def test_same_input_same_digests(compression: str) -> None:
    a = build_image([LAYER, {"x": b"1"}], compression=compression)
    b = build_image([LAYER, {"x": b"1"}], compression=compression)
    assert (a.digest, a.diff_ids) == (b.digest, b.diff_ids)


def test_entries_become_tar_members() -> None:
    with tarfile.open(fileobj=io.BytesIO(build_image([LAYER]).layer_tars[0])) as tar:
        members = tar.getmembers()
    by_name = {m.name: m for m in members}
    assert list(by_name) == [
        "etc/os-release", "usr/bin/sh", "usr/bin/ls", "tmp/.wh.old", "opt/.wh..wh..opq",
        "var/empty",
    ]
    assert by_name["usr/bin/sh"].issym() and by_name["usr/bin/ls"].islnk()
    assert {m.mtime for m in members} == {0} and {m.uid for m in members} == {0}


def test_writers(tmp_path: Path) -> None:
    image = build_image([LAYER])
    index = build_index([image, build_image([LAYER], platform="linux/arm64/v8")])
    layout = write_oci_layout(index, tmp_path / "layout")
    top = json.loads((layout / "index.json").read_bytes())["manifests"][0]
    assert top["digest"] == index.digest
    assert (layout / "blobs/sha256" / image.layer_digests[0].split(":")[1]).exists()
    with tarfile.open(write_oci_archive(image, tmp_path / "a.tar")) as tar:
        assert "index.json" in tar.getnames()
    with tarfile.open(write_docker_archive(image, tmp_path / "d.tar")) as saved:
        manifest = json.loads(saved.extractfile("manifest.json").read())  # type: ignore[union-attr]
        layer = saved.extractfile(manifest[0]["Layers"][0])
        assert layer is not None and layer.read() == image.layer_tars[0]


def test_memory_image_counts_opens_and_verifies() -> None:
    image = build_image([LAYER]).as_image()
    layer = image.layers[0]
    with image.open_layer(layer) as stream:
        stream.read()
    assert image.opened[layer.descriptor.digest] == 1
    image.blobs[layer.descriptor.digest] += b"junk"
    with pytest.raises(DigestMismatch), image.open_layer(layer) as stream:
        stream.read()
