"""scan_image: layers from cache or walked once, merged, OS detected, purls and origins set."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest

from spyglass.analyze.cache import LayerCache
from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.analyze.registry import select
from spyglass.analyze.scan import scan_image
from spyglass.errors import CorruptLayer, DigestMismatch
from spyglass.image.interface import OCI_LAYER_GZIP
from spyglass.inventory import DiffId, OSRelease
from tests.analyze.fakes import Lines
from tests.helpers.images import MemoryImage, Symlink, Whiteout, build_image, sha256

OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'


class Release(Analyzer):
    """Captures release files, as the real os/release analyzer does."""

    name = "test/release"
    version = 1

    def required(self, path: str, size: int) -> bool:
        return path.endswith("os-release")

    def analyze(self, file: FileInput) -> AnalyzerResult:
        return AnalyzerResult(captured=((file.path, file.reader.read().decode()),))


def _image() -> MemoryImage:
    return build_image([
        {"usr/lib/os-release": OS_RELEASE, "etc/os-release": Symlink("../usr/lib/os-release"),
         "var/lib/thing": b"base 1\nold 1\n"},
        {"var/lib/thing": b"base 1\nnew 2\n", "tmp/x": b"", "etc/bad/thing": b"BAD"},
        {"tmp/x": Whiteout()},
    ], history=["FROM debian", "RUN install", "RUN cleanup"]).as_image("example/app:1")


def test_inventory() -> None:
    image = _image()
    inventory = scan_image(image, [Lines(), Release()])
    assert inventory.os == OSRelease("debian", "12", "Debian GNU/Linux 12 (bookworm)", "")
    by_name = {p.name: p for p in inventory.packages}
    assert set(by_name) == {"base", "new"}
    assert by_name["base"].layer == image.layers[0].diff_id
    assert by_name["new"].layer == image.layers[1].diff_id
    assert by_name["new"].purl == "pkg:deb/debian/new@2?distro=debian-12"
    assert [u.path for u in inventory.unknowns] == ["etc/bad/thing"]
    assert inventory.analyzers == (("test/lines", 1), ("test/release", 1))
    assert (inventory.reference, inventory.digest) == ("example/app:1", image.digest)
    assert [layer.created_by for layer in inventory.layers] == ["FROM debian", "RUN install",
                                                                "RUN cleanup"]
    assert inventory.platform == "linux/amd64"


def test_cache_hit_does_not_open_the_layer() -> None:
    cache = LayerCache()
    first = scan_image(_image(), [Lines(), Release()], cache=cache)
    again = _image()
    second = scan_image(again, [Lines(), Release()], cache=cache)
    assert sum(again.opened.values()) == 0
    assert [layer.cached for layer in first.layers] == [False] * 3
    assert [layer.cached for layer in second.layers] == [True] * 3
    assert replace(second, layers=first.layers) == first


def test_analyzer_version_bump_reads_the_layers_again() -> None:
    class ReleaseV2(Release):
        version = 2

    cache = LayerCache()
    scan_image(_image(), [Lines(), Release()], cache=cache)
    image = _image()
    inventory = scan_image(image, [Lines(), ReleaseV2()], cache=cache)
    assert sum(image.opened.values()) == 3 and not any(x.cached for x in inventory.layers)


def test_shared_base_layer_is_read_once() -> None:
    cache = LayerCache()
    base = {"var/lib/thing": b"base 1\n"}
    scan_image(build_image([base, {"a": b"1"}]).as_image(), [Lines()], cache=cache)
    other = build_image([base, {"b": b"2"}]).as_image()
    inventory = scan_image(other, [Lines()], cache=cache)
    assert [x.cached for x in inventory.layers] == [True, False]
    assert list(other.opened.values()) == [1]


def test_progress_reports_every_layer() -> None:
    seen: dict[str, tuple[int, int | None]] = {}

    def progress(layer: str, done: int, total: int | None) -> None:
        seen[layer] = (done, total)

    image = _image()
    cache = LayerCache()
    scan_image(image, [Lines()], cache=cache, progress=progress)
    assert seen == {x.descriptor.digest: (x.descriptor.size, x.descriptor.size)
                    for x in image.layers}
    seen.clear()
    scan_image(_image(), [Lines()], cache=cache, progress=progress)
    assert len(seen) == 3


def _truncate_layer(image: MemoryImage, index: int, *, fix_digest: bool) -> None:
    layer = image.layers[index]
    blob = image.blobs[layer.descriptor.digest]
    short = blob[: len(blob) // 2]
    if not fix_digest:  # a truncated download: the stream's digest check fires first
        image.blobs[layer.descriptor.digest] = short
        return
    descriptor = replace(layer.descriptor, digest=sha256(short), size=len(short))
    image.blobs[descriptor.digest] = short
    layers = list(image.layers)
    layers[index] = replace(layer, descriptor=descriptor)
    image.layers = tuple(layers)


def test_broken_layers_raise_and_are_not_cached() -> None:
    image, cache = _image(), LayerCache()
    _truncate_layer(image, 1, fix_digest=True)
    with pytest.raises(CorruptLayer, match=r"layer 2/3 \(sha256:.*\) of example/app:1"):
        scan_image(image, [Lines()], cache=cache)
    assert cache.get(image.layers[1].diff_id, [Lines()]) is None

    image = _image()
    _truncate_layer(image, 1, fix_digest=False)
    with pytest.raises(DigestMismatch):
        scan_image(image, [Lines()], cache=cache)

    image = _image()
    wrong = DiffId("sha256:" + "e" * 64)
    image.layers = (image.layers[0], replace(image.layers[1], diff_id=wrong), image.layers[2])
    with pytest.raises(DigestMismatch, match="diff_id"):
        scan_image(image, [Lines()], cache=cache)


def test_zstd_and_uncompressed_layers_labelled_as_gzip() -> None:
    built = build_image([{"var/lib/thing": b"z 1\n"}, {"a/thing": b"n 1\n"}],
                        compression=["zstd", "none"], layer_media_type=OCI_LAYER_GZIP)
    names = sorted(p.name for p in scan_image(built.as_image(), [Lines()]).packages)
    assert names == ["n", "z"]


@pytest.mark.realdata
@pytest.mark.parametrize("version", ["3.10.9", "3.20.3"])
def test_alpine_minirootfs_end_to_end(testdata: Path, version: str) -> None:
    folder = testdata / "images/alpine-minirootfs"
    want = json.loads((folder / f"alpine-minirootfs-{version}-x86_64.packages.json").read_text())
    rootfs = gzip.decompress((folder / f"alpine-minirootfs-{version}-x86_64.tar.gz").read_bytes())
    image = build_image([rootfs, {"lib/apk/db/.wh.lock": b""}]).as_image("alpine:" + version)
    cache = LayerCache()
    inventory = scan_image(image, select(["os", "pkgdb/apk"]), cache=cache)
    assert inventory.os is not None and (inventory.os.family, inventory.os.version) == (
        "alpine", version)
    assert {(p.name, p.version) for p in inventory.packages} == {
        (p["name"], p["version"]) for p in want["packages"]}
    assert {p.layer for p in inventory.packages} == {image.layers[0].diff_id}
    assert all(p.purl.startswith("pkg:apk/alpine/") for p in inventory.packages)
    again = scan_image(image, select(["os", "pkgdb/apk"]), cache=cache)
    assert again.packages == inventory.packages and all(x.cached for x in again.layers)
