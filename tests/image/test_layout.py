"""OCI image layouts and oci-archives: real upstream layouts, built ones, damaged copies."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from contextlib import closing
from pathlib import Path

import pytest

from spyglass.errors import ArchiveError, DigestMismatch, ManifestError, PlatformNotFound
from spyglass.image.blobstream import drain
from spyglass.image.interface import OCI_INDEX, OpenOptions, Platform
from spyglass.image.layout import LayoutImage, open_oci_archive, open_oci_layout
from tests.helpers.images import build_image, build_index, write_oci_archive, write_oci_layout

GCR = "images/go-containerregistry/layout"
CI = "images/containers-image/oci-layout"
AMD64 = OpenOptions()
ONE_IMAGE = "98ceaf93e482fe91b9bfd6bba07137c098e49ee2d55e69f09fb6c951e75e0e46"


def verify_layers(image: LayoutImage) -> int:
    """Read every layer to EOF (which verifies it); the number of bytes read."""
    total = 0
    for layer in image.layers:
        with image.open_layer(layer) as stream:
            total += drain(stream)
    return total


def sha(prefix: str) -> str:
    return "sha256:" + prefix


@pytest.mark.realdata
@pytest.mark.parametrize("tag", ["1", "3", "4"])
def test_gcr_index_names_and_nested_indexes(testdata: Path, tag: str) -> None:
    # "1" is a manifest, "3" an OCI index and "4" a Docker list, both holding that manifest.
    with closing(open_oci_layout(testdata / GCR / "test_index", tag, AMD64)) as image:
        assert image.digest is not None and image.digest.startswith(sha("eebff607"))
        assert len(image.layers) == 1
        assert image.config.diff_ids[0].startswith(sha("8897395f"))
        assert verify_layers(image) == image.layers[0].descriptor.size
        assert image.reference.endswith(f"test_index:{tag}")


@pytest.mark.realdata
def test_gcr_layout_errors(testdata: Path) -> None:
    listing = "holds 4 images; add :NAME to choose one of: 1, 2, 3, 4"
    with pytest.raises(ArchiveError, match=listing):
        open_oci_layout(testdata / GCR / "test_index", None, AMD64)
    with pytest.raises(ManifestError, match=r"vnd\.oci\.descriptor\.v1\+json"):
        open_oci_layout(testdata / GCR / "test_index", "2", AMD64)
    with pytest.raises(ManifestError, match="not an image manifest or index"):
        open_oci_layout(testdata / GCR / "test_gc_image_unknown_mediatype", None, AMD64)
    with pytest.raises(ManifestError, match=r"OCI artifact .*helm"):
        open_oci_layout(testdata / GCR / "test_index_media_type", None, AMD64)


@pytest.mark.realdata
def test_gcr_single_image_layout(testdata: Path) -> None:
    with closing(open_oci_layout(testdata / GCR / "test_index_one_image", None, AMD64)) as image:
        assert image.digest == sha(ONE_IMAGE)
        assert verify_layers(image) > 0


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("tag", "platform", "manifest"),
    [
        ("latest", "linux/amd64", "93cbd11a"),
        ("latest", "linux/386", "f6d60fd5"),
        ("3.18.3", "linux/386", "f6d60fd5"),
        ("3.16.7", "linux/amd64", "39c52441"),
        ("3.16.7", "linux/386", "be6036f9"),
        ("3.17.5", "linux/amd64", "5b2aba4d"),
        ("3", "linux/amd64", "93cbd11a"),
        ("1.0.0", "linux/amd64", "0dc27f36"),
    ],
)
def test_multiple_images_by_name_and_platform(
    testdata: Path, tag: str, platform: str, manifest: str
) -> None:
    options = OpenOptions(platform=Platform.parse(platform))
    path = testdata / CI / "delete_image_multiple_images"
    with closing(open_oci_layout(path, tag, options)) as image:
        assert image.digest is not None and image.digest.startswith(sha(manifest))
        verify_layers(image)


@pytest.mark.realdata
def test_platform_not_in_the_layout(testdata: Path) -> None:
    options = OpenOptions(platform=Platform.parse("linux/arm64"))
    path = testdata / CI / "delete_image_multiple_images"
    with pytest.raises(PlatformNotFound, match="available: linux/386, linux/amd64"):
        open_oci_layout(path, "latest", options)


@pytest.mark.realdata
def test_duplicate_and_ambiguous_names(testdata: Path) -> None:
    path = testdata / CI / "delete_image_two_identical_references"
    with pytest.raises(ArchiveError, match=r"2 different images named '1\.0\.0'"):
        open_oci_layout(path, "1.0.0", AMD64)
    with closing(open_oci_layout(testdata / CI / "delete_image_only_one_image", None, AMD64)) as im:
        assert im.digest is not None and im.digest.startswith(sha("eaa95f3c"))
    with closing(open_oci_layout(testdata / CI / "delete_image_only_one_image", "latest", AMD64)):
        pass


@pytest.mark.realdata
def test_shared_blob_dir(testdata: Path) -> None:
    path = testdata / CI / "delete_image_shared_blobs_dir"
    with pytest.raises(ArchiveError, match=r"blob sha256:eaa95f3c.* is missing"):
        open_oci_layout(path, None, AMD64)
    options = OpenOptions(oci_shared_blob_dir=str(path / "shared_blobs"))
    with closing(open_oci_layout(path, "latest", options)) as image:
        assert len(image.layers) == 1
        verify_layers(image)


@pytest.mark.realdata
@pytest.mark.parametrize("fixture", ["manifest", "name_lookups", "two_images_manifest"])
def test_index_only_layouts_report_missing_blobs(testdata: Path, fixture: str) -> None:
    index = json.loads((testdata / CI / fixture / "index.json").read_bytes())
    annotations = [m.get("annotations", {}) for m in index["manifests"]]
    names = [a.get("org.opencontainers.image.ref.name") for a in annotations]
    for name in names:
        expected = ManifestError if name == "invalid-mime" else ArchiveError
        with pytest.raises(expected):
            open_oci_layout(testdata / CI / fixture, name, AMD64)


@pytest.mark.realdata
def test_tampered_layer_raises_digest_mismatch(testdata: Path, tmp_path: Path) -> None:
    copy = tmp_path / "layout"
    shutil.copytree(testdata / GCR / "test_index_one_image", copy)
    with closing(open_oci_layout(copy, None, AMD64)) as image:
        layer_path = copy / "blobs" / image.layers[0].descriptor.digest.replace(":", "/")
    data = bytearray(layer_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    layer_path.write_bytes(bytes(data))
    with closing(open_oci_layout(copy, None, AMD64)) as image:
        opened = image.open_layer(image.layers[0])
        with pytest.raises(DigestMismatch), opened as stream:
            drain(stream)


@pytest.mark.realdata
def test_tampered_manifest_is_refused_at_open(testdata: Path, tmp_path: Path) -> None:
    copy = tmp_path / "layout"
    shutil.copytree(testdata / GCR / "test_index_one_image", copy)
    manifest = copy / "blobs/sha256" / ONE_IMAGE
    manifest.write_bytes(manifest.read_bytes().replace(b'"schemaVersion"', b'"schemaVersion" '))
    with pytest.raises(DigestMismatch, match="damaged or was altered"):
        open_oci_layout(copy, None, AMD64)


@pytest.mark.realdata
def test_docker_25_index_with_null_manifests(testdata: Path) -> None:
    path = testdata / "images/go-containerregistry/tarball/hello-world-v25.tar"
    with pytest.raises(ArchiveError, match="holds no images"):
        open_oci_archive(path, None, AMD64)


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_built_multi_platform_layout(tmp_path: Path, platform: str) -> None:
    amd = build_image([{"etc/arch": b"amd64"}], platform="linux/amd64")
    arm = build_image([{"etc/arch": b"arm64"}, {"x": b"y"}], platform="linux/arm64/v8")
    write_oci_layout(build_index([amd, arm]), tmp_path, tag="v1")
    wanted = amd if platform == "linux/amd64" else arm
    options = OpenOptions(platform=Platform.parse(platform))
    with closing(open_oci_layout(tmp_path, "v1", options)) as image:
        assert image.digest == wanted.digest
        assert image.config.diff_ids == wanted.diff_ids
        assert image.platform == wanted.platform
        verify_layers(image)


def test_built_nested_index(tmp_path: Path) -> None:
    amd = build_image([{"a": b"1"}], platform="linux/amd64")
    arm = build_image([{"a": b"2"}], platform="linux/arm64")
    inner = build_index([amd, arm])
    write_oci_layout(inner, tmp_path, tag=None)
    outer = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_INDEX, "digest": inner.digest, "size": len(inner.index)}],
    }).encode()
    outer_digest = "sha256:" + hashlib.sha256(outer).hexdigest()
    (tmp_path / "blobs" / outer_digest.replace(":", "/")).write_bytes(outer)
    (tmp_path / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": OCI_INDEX, "digest": outer_digest, "size": len(outer),
                       "annotations": {"org.opencontainers.image.ref.name": "nested"}}],
    }))
    options = OpenOptions(platform=Platform.parse("linux/arm64"))
    with closing(open_oci_layout(tmp_path, "nested", options)) as image:
        assert image.digest == arm.digest


@pytest.mark.parametrize("compressed", [False, True])
def test_built_oci_archive(tmp_path: Path, compressed: bool) -> None:
    built = build_image([{"a": b"1"}, {"b": b"2"}], compression=["gzip", "zstd"])
    path = write_oci_archive(built, tmp_path / "image.tar", tag="1.0")
    if compressed:
        packed = tmp_path / "image.tar.gz"
        packed.write_bytes(gzip.compress(path.read_bytes()))
        path = packed
    with closing(open_oci_archive(path, "1.0", AMD64)) as image:
        assert image.digest == built.digest
        assert [layer.descriptor.digest for layer in image.layers] == list(built.layer_digests)
        assert verify_layers(image) == sum(len(built.blobs[d]) for d in built.layer_digests)
        assert image.reference == f"oci-archive:{path}:1.0"


def test_layout_version_and_missing_index(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"no index\.json"):
        open_oci_layout(tmp_path, None, AMD64)
    write_oci_layout(build_image([{"a": b"1"}]), tmp_path)
    (tmp_path / "oci-layout").write_text('{"imageLayoutVersion": "2.0.0"}')
    with pytest.raises(ArchiveError, match=r"layout version '2\.0\.0'"):
        open_oci_layout(tmp_path, None, AMD64)


def test_missing_layer_blob_is_reported_at_open(tmp_path: Path) -> None:
    built = build_image([{"a": b"1"}])
    write_oci_layout(built, tmp_path)
    (tmp_path / "blobs" / built.layer_digests[0].replace(":", "/")).unlink()
    with pytest.raises(ArchiveError, match="is missing"):
        open_oci_layout(tmp_path, "latest", AMD64)
