"""``docker save`` archives: real ones from upstream projects, built ones, damaged copies."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from contextlib import closing
from pathlib import Path

import pytest

from spyglass.errors import ArchiveError, DigestMismatch, ImageError
from spyglass.image.archive import DockerArchiveImage, open_docker_archive
from spyglass.image.blobstream import drain
from spyglass.image.interface import OCI_LAYER, OCI_LAYER_GZIP
from tests.helpers.images import build_image, write_docker_archive

IMAGES = "images"

# archive -> number of layers; every one of them is read to EOF and verified.
ARCHIVES = {
    "go-containerregistry/tarball/test_image_1.tar": 1,
    "go-containerregistry/tarball/test_image_2.tar": 1,
    "go-containerregistry/tarball/test_load_manifest.tar": 1,
    "go-containerregistry/tarball/hello-world-v25.tar": 1,
    "go-containerregistry/mutate/source_image.tar": 1,
    "go-containerregistry/mutate/source_image_with_empty_layer_history.tar": 1,
    "go-containerregistry/mutate/whiteout_image.tar": 3,
    "go-containerregistry/mutate/overwritten_file.tar": 3,
    "go-containerregistry/mutate/whiteout_dir.tar": 4,
    "containers-image/docker-archive/almostempty.tar": 1,
    "osv-scalibr/layerscanning/basic.tar": 2,
    "osv-scalibr/layerscanning/single-file.tar": 1,
    "osv-scalibr/layerscanning/two-files.tar": 2,
    "osv-scalibr/layerscanning/multiple-files.tar": 2,
    "osv-scalibr/layerscanning/overwrite-file.tar": 2,
    "osv-scalibr/layerscanning/symlink-basic.tar": 1,
    "osv-scalibr/layerscanning/symlink-dangling.tar": 2,
    "osv-scalibr/layerscanning/symlink-cycle.tar": 1,
    "osv-scalibr/layerscanning/symlink-depth-exceeded.tar": 1,
    "osv-scalibr/layerscanning/symlink-attack.tar": 1,
    "osv-scalibr/unpack/basic.tar": 2,
    "osv-scalibr/unpack/symlinks.tar": 2,
    "osv-scalibr/unpack/permissions.tar": 1,
}


def read_all(image: DockerArchiveImage) -> list[bytes]:
    """Every layer's stored bytes, read through the verifying stream."""
    out = []
    for layer in image.layers:
        with image.open_layer(layer) as stream:
            out.append(stream.read())
    return out


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "count"), sorted(ARCHIVES.items()))
def test_real_archives(testdata: Path, name: str, count: int) -> None:
    image = open_docker_archive(testdata / IMAGES / name)
    try:
        assert len(image.layers) == count
        assert [layer.diff_id for layer in image.layers] == list(image.config.diff_ids)
        for layer, data in zip(image.layers, read_all(image), strict=True):
            assert len(data) == layer.descriptor.size
            if layer.descriptor.media_type == OCI_LAYER:  # stored uncompressed: digest is diff_id
                assert f"sha256:{hashlib.sha256(data).hexdigest()}" == layer.diff_id
                assert layer.descriptor.digest == layer.diff_id
            else:
                assert layer.descriptor.media_type == OCI_LAYER_GZIP
                assert f"sha256:{hashlib.sha256(data).hexdigest()}" == layer.descriptor.digest
    finally:
        image.close()


@pytest.mark.realdata
def test_gzip_layers_are_verified_against_diff_ids(testdata: Path) -> None:
    path = testdata / IMAGES / "go-containerregistry/mutate/whiteout_dir.tar"
    with closing(open_docker_archive(path)) as image:
        assert {layer.descriptor.media_type for layer in image.layers} == {OCI_LAYER_GZIP}
        for layer, data in zip(image.layers, read_all(image), strict=True):
            assert f"sha256:{hashlib.sha256(gzip.decompress(data)).hexdigest()}" == layer.diff_id


@pytest.mark.realdata
def test_docker_25_form_reads_blobs_by_digest(testdata: Path) -> None:
    path = testdata / IMAGES / "go-containerregistry/tarball/hello-world-v25.tar"
    with closing(open_docker_archive(path)) as image:
        (layer,) = image.layers
        digest = "sha256:12660636fe55438cc3ae7424da7ac56e845cdb52493ff9cf949c47a7f57f8b43"
        assert layer.descriptor.digest == digest == layer.diff_id
        assert layer.created_by == "COPY hello / # buildkit"
        assert image.reference.startswith("docker-archive:")
        assert image.digest is None  # its index.json lists no manifests
        with image.open_layer(layer) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            assert "hello" in [member.name for member in tar]


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "diff_id_prefix"),
    [
        ("test_image_1", "sha256:8897395f"),
        ("test_image_2", "sha256:3610aa52"),
        ("@0", "sha256:3610aa52"),
    ],
)
def test_bundle_selects_by_tag(testdata: Path, name: str, diff_id_prefix: str) -> None:
    path = testdata / IMAGES / "go-containerregistry/tarball/test_bundle.tar"
    with closing(open_docker_archive(path, name)) as image:
        assert image.config.diff_ids[0].startswith(diff_id_prefix)
        read_all(image)


@pytest.mark.realdata
def test_bundle_without_a_name_lists_the_tags(testdata: Path) -> None:
    path = testdata / IMAGES / "go-containerregistry/tarball/test_bundle.tar"
    with pytest.raises(ArchiveError, match=r"holds 2 images.*test_image_2, test_image_1"):
        open_docker_archive(path)
    with pytest.raises(ArchiveError, match="no image tagged nope:1; tags: test_image_2"):
        open_docker_archive(path, "nope:1")
    with pytest.raises(ArchiveError, match="out of range"):
        open_docker_archive(path, "@2")


@pytest.mark.realdata
def test_layer_behind_a_symlink_member(testdata: Path) -> None:
    path = testdata / IMAGES / "go-containerregistry/tarball/test_link.tar"
    with closing(open_docker_archive(path, "bazel/v1/tarball:test_image_3")) as image:
        assert len(image.layers) == 2
        # b159…/layer.tar is a symlink to ../6e77…/layer.tar inside the archive.
        assert [len(d) for d in read_all(image)] == [10240, 2048]


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("go-containerregistry/tarball/null_manifest.tar", "lists no images"),
        ("go-containerregistry/tarball/no_manifest.tar", "before Docker 1.10"),
        ("go-containerregistry/tarball/content.tar", "not an image archive"),
        ("osv-scalibr/layerscanning/empty.tar", "not an image archive"),
        ("osv-scalibr/unpack/escape.tar", "not an image archive"),
    ],
)
def test_not_readable_archives(testdata: Path, name: str, fragment: str) -> None:
    with pytest.raises(ArchiveError, match=fragment):
        open_docker_archive(testdata / IMAGES / name)


def _member_offset(path: Path, suffix: str) -> int:
    with tarfile.open(path) as tar:
        return next(m.offset_data for m in tar.getmembers() if m.name.endswith(suffix))


@pytest.mark.realdata
def test_tampered_layer_raises_digest_mismatch(testdata: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered.tar"
    shutil.copy(testdata / IMAGES / "osv-scalibr/layerscanning/basic.tar", copy)
    offset = _member_offset(copy, "layer.tar") + 600  # inside the first file's content
    data = bytearray(copy.read_bytes())
    data[offset] ^= 0xFF
    copy.write_bytes(bytes(data))
    with closing(open_docker_archive(copy)) as image:
        opened = image.open_layer(image.layers[0])
        with pytest.raises(DigestMismatch), opened as stream:
            drain(stream)


@pytest.mark.realdata
def test_truncated_archive_fails_cleanly(testdata: Path, tmp_path: Path) -> None:
    data = (testdata / IMAGES / "osv-scalibr/layerscanning/basic.tar").read_bytes()
    copy = tmp_path / "short.tar"
    copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError), closing(open_docker_archive(copy)) as image:
        read_all(image)


@pytest.mark.realdata
@pytest.mark.parametrize("suffix", [".tar.gz", ".tgz"])
def test_gzip_compressed_archive(testdata: Path, tmp_path: Path, suffix: str) -> None:
    source = testdata / IMAGES / "osv-scalibr/layerscanning/basic.tar"
    packed = tmp_path / f"basic{suffix}"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    with closing(open_docker_archive(source)) as plain, closing(
        open_docker_archive(packed)
    ) as image:
        assert image.config.diff_ids == plain.config.diff_ids
        assert read_all(image) == read_all(plain)
        # Reading again, in reverse order, needs random access into the gzip stream.
        for layer in reversed(image.layers):
            with image.open_layer(layer) as stream:
                drain(stream)


def test_built_archive_with_several_tags(tmp_path: Path) -> None:
    built = build_image([{"a.txt": b"a"}, {"b.txt": b"b"}], history=["ADD a", "ADD b"])
    path = write_docker_archive(built, tmp_path / "x.tar", ["example/app:1", "example/app:2"])
    with closing(open_docker_archive(path, "docker.io/example/app:2")) as image:
        assert image.config.diff_ids == built.diff_ids
        assert [layer.created_by for layer in image.layers] == ["ADD a", "ADD b"]
        assert read_all(image) == list(built.layer_tars)


def test_built_archive_in_docker_25_form(tmp_path: Path) -> None:
    built = build_image([{"a.txt": b"a"}, {"b.txt": b"b"}], compression="none")
    path = write_docker_archive(built, tmp_path / "x.tar", ["app:latest"], oci_layout=True)
    with closing(open_docker_archive(path, "app")) as image:
        assert [layer.descriptor.digest for layer in image.layers] == list(built.layer_digests)
        assert read_all(image) == list(built.layer_tars)
        assert image.digest == built.digest  # found through index.json


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    reader = tar.extractfile(member)
    assert reader is not None
    return reader.read()


def test_layer_count_must_match_the_config(tmp_path: Path) -> None:
    built = build_image([{"a.txt": b"a"}])
    path = write_docker_archive(built, tmp_path / "x.tar")
    with tarfile.open(path) as tar:
        files = {m.name: _read(tar, m) for m in tar.getmembers() if m.isfile()}
    manifest = json.loads(files["manifest.json"])
    manifest[0]["Layers"] *= 2
    files["manifest.json"] = json.dumps(manifest).encode()
    broken = tmp_path / "broken.tar"
    with tarfile.open(broken, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ArchiveError, match="2 layers but the config has 1"):
        open_docker_archive(broken)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="cannot open"):
        open_docker_archive(tmp_path / "absent.tar")
