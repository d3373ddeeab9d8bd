"""Opening any IMAGE argument: transport prefixes, bare paths (with ':' in them) and references."""

from __future__ import annotations

import gzip
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

import pytest

from spyglass.errors import ArchiveError, UsageError
from spyglass.image import registry as registry_package
from spyglass.image.archive import DockerArchiveImage
from spyglass.image.interface import Image, ImageConfig, Layer, OpenOptions
from spyglass.image.layout import LayoutImage
from spyglass.image.open import open_image, split_existing
from tests.helpers.images import (
    build_image,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)

OPTIONS = OpenOptions()
BUILT = build_image([{"etc/os-release": b"ID=test\n"}, {"app/x": b"1"}])


class FakeRegistryImage(Image):
    """Stands in for the registry source: records what it was asked for and if it was closed."""

    def __init__(self, ref: Any) -> None:
        self.ref, self.reference, self.digest, self.closed = ref, str(ref), None, False
        self.config = ImageConfig("linux", "amd64", None, ())
        self.layers = ()

    def open_layer(self, layer: Layer) -> AbstractContextManager[IO[bytes]]:
        raise AssertionError("not used")

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def registry_calls(monkeypatch: pytest.MonkeyPatch) -> list[FakeRegistryImage]:
    calls: list[FakeRegistryImage] = []

    def fake(ref: Any, options: OpenOptions) -> FakeRegistryImage:
        calls.append(FakeRegistryImage(ref))
        return calls[-1]

    monkeypatch.setattr(registry_package, "open_registry_image", fake)
    return calls


def test_docker_archive_prefix_with_colons_in_path_and_name(tmp_path: Path) -> None:
    folder = tmp_path / "release:2024"
    folder.mkdir()
    path = write_docker_archive(BUILT, folder / "img.tar", ["example.com:5000/app:1", "app:2"])
    with open_image(f"docker-archive:{path}:example.com:5000/app:1", OPTIONS) as image:
        assert isinstance(image, DockerArchiveImage)
        assert image.config.diff_ids == BUILT.diff_ids
    with open_image(f"docker-archive:{path}:app:2", OPTIONS) as image:
        assert image.reference == f"docker-archive:{path}:app:2"


def test_bare_paths_are_recognised_by_content(tmp_path: Path) -> None:
    docker = write_docker_archive(BUILT, tmp_path / "docker.tar", ["app:1"])
    oci_tar = write_oci_archive(BUILT, tmp_path / "oci.tar", tag="1")
    (tmp_path / "layout").mkdir()
    layout = write_oci_layout(BUILT, tmp_path / "layout", tag="1")
    gz = tmp_path / "docker.tgz"
    gz.write_bytes(gzip.compress(docker.read_bytes()))
    with open_image(str(docker), OPTIONS) as image:
        assert isinstance(image, DockerArchiveImage)
    with open_image(str(gz), OPTIONS) as image:
        assert isinstance(image, DockerArchiveImage)
    with open_image(f"{oci_tar}:1", OPTIONS) as image:
        assert isinstance(image, LayoutImage) and image.digest == BUILT.digest
    with open_image(str(layout), OPTIONS) as image:
        assert isinstance(image, LayoutImage) and image.digest == BUILT.digest


def test_oci_prefixes(tmp_path: Path) -> None:
    layout = tmp_path / "lay:out"
    layout.mkdir()
    write_oci_layout(BUILT, layout, tag="v1")
    archive = write_oci_archive(BUILT, tmp_path / "x.tar", tag="v1")
    with open_image(f"oci:{layout}:v1", OPTIONS) as image:
        assert image.digest == BUILT.digest and image.reference == f"oci:{layout}:v1"
    with open_image(f"oci:{layout}", OPTIONS) as image:
        assert image.digest == BUILT.digest
    with open_image(f"oci-archive:{archive}:v1", OPTIONS) as image:
        assert image.digest == BUILT.digest


def test_missing_local_sources(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no such file"):
        open_image(f"docker-archive:{tmp_path}/absent.tar", OPTIONS).__enter__()
    with pytest.raises(ArchiveError, match="no such directory"):
        open_image(f"oci:{tmp_path}/absent:tag", OPTIONS).__enter__()
    with pytest.raises(UsageError):
        open_image("  ", OPTIONS).__enter__()
    for typo in (f"{tmp_path}/absent.tar:app:1", "./missing-layout", "image.tar"):
        with pytest.raises(ArchiveError, match="no such file or directory"):
            open_image(typo, OPTIONS).__enter__()


def test_references_go_to_the_registry_and_are_closed(
    registry_calls: list[FakeRegistryImage], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alpine").mkdir()  # a directory that is not a layout does not shadow the name
    with open_image("alpine:3.19", OPTIONS) as image:
        assert isinstance(image, FakeRegistryImage)
    with open_image("registry:localhost:5000/team/app@sha256:" + "a" * 64, OPTIONS):
        pass
    refs = [call.ref for call in registry_calls]
    assert refs[0].repository == "library/alpine" and refs[0].tag == "3.19"
    assert refs[1].registry == "localhost:5000" and refs[1].digest == "sha256:" + "a" * 64
    assert all(call.closed for call in registry_calls)


def test_image_is_closed_when_the_block_raises(registry_calls: list[FakeRegistryImage]) -> None:
    with pytest.raises(RuntimeError), open_image("alpine", OPTIONS):
        raise RuntimeError("scan failed")
    assert registry_calls[0].closed


def test_split_existing_prefers_the_longest_path(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"")
    (tmp_path / "a:b").write_bytes(b"")
    assert split_existing(f"{tmp_path}/a:b:c") == (tmp_path / "a:b", "c")
    assert split_existing(f"{tmp_path}/a:x") == (tmp_path / "a", "x")
    assert split_existing(f"{tmp_path}/a") == (tmp_path / "a", None)
    assert split_existing(f"{tmp_path}/zzz:1") is None


@pytest.mark.realdata
def test_real_archives_through_open_image(testdata: Path) -> None:
    bundle = testdata / "images/go-containerregistry/tarball/test_bundle.tar"
    with open_image(f"docker-archive:{bundle}:test_image_1", OPTIONS) as image:
        assert len(image.layers) == 1
    hello = testdata / "images/go-containerregistry/tarball/hello-world-v25.tar"
    with open_image(str(hello), OPTIONS) as image:
        assert image.layers[0].created_by == "COPY hello / # buildkit"
    layout = testdata / "images/containers-image/oci-layout/delete_image_multiple_images"
    with open_image(f"{layout}:3.17.5", OPTIONS) as image:
        assert image.digest is not None and image.digest.startswith("sha256:5b2aba4d")


def test_explicit_platform_is_checked_for_every_source(tmp_path: Path) -> None:
    from spyglass.errors import PlatformNotFound
    from spyglass.image.interface import Platform
    from tests.helpers.images import build_image, write_oci_layout

    arm = build_image([{"etc/arch": b"arm64\n"}], platform="linux/arm64/v8")
    layout = write_oci_layout(arm, tmp_path / "layout", tag="1")
    asked = OpenOptions(platform=Platform("linux", "amd64"), platform_explicit=True)
    refused = pytest.raises(PlatformNotFound, match="is for linux/arm64/v8, not linux/amd64")
    with refused, open_image(f"oci:{layout}:1", asked):
        pass
    with open_image(f"oci:{layout}:1", OpenOptions()) as image:  # not asked: taken as it is
        assert str(image.platform) == "linux/arm64/v8"
    arm64 = OpenOptions(platform=Platform("linux", "arm64"), platform_explicit=True)
    with open_image(f"oci:{layout}:1", arm64) as image:  # arm64 means arm64/v8
        assert image.platform.architecture == "arm64"
