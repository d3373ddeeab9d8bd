"""open_registry_image: manifest or index, platform choice, config and lazily opened layers."""

from __future__ import annotations

import pytest

from spyglass.errors import DigestMismatch, ManifestError, PlatformNotFound
from spyglass.image.interface import OpenOptions, Platform
from spyglass.image.reference import Reference
from spyglass.image.registry import RegistryImage, open_registry_image
from tests.helpers.images import build_image, build_index
from tests.image.registry.fake import HOST, FakeRegistry

NO_CONFIG = "/nonexistent/config.json"


def options(platform: str = "linux/amd64") -> OpenOptions:
    return OpenOptions(platform=Platform.parse(platform), docker_config=NO_CONFIG, retries=0)


def test_image_by_tag_reads_manifest_config_and_layers() -> None:
    built = build_image(
        [{"etc/os-release": b"ID=alpine\n"}, {"app/run": b"#!/bin/sh\n"}],
        history=["ADD rootfs /", "COPY run /app/"],
        kind="docker",
    )
    fake = FakeRegistry()
    fake.push("team/app", "1.0", built)
    image = open_registry_image(
        Reference.parse(f"{HOST}/team/app:1.0"), options(), transport=fake.transport()
    )
    try:
        assert image.reference == f"{HOST}/team/app:1.0"
        assert image.digest == built.digest
        assert image.config.diff_ids == built.diff_ids
        assert [layer.diff_id for layer in image.layers] == list(built.diff_ids)
        assert [layer.created_by for layer in image.layers] == ["ADD rootfs /", "COPY run /app/"]
        blob_paths = [p for p in fake.paths() if "/blobs/" in p]
        assert blob_paths == [f"/v2/team/app/blobs/{built.config_digest}"]  # layers not yet
        for layer, digest in zip(image.layers, built.layer_digests, strict=True):
            with image.open_layer(layer) as stream:
                assert stream.read() == built.blobs[digest]
    finally:
        image.close()


def test_index_picks_the_requested_platform() -> None:
    amd = build_image([{"arch": b"amd64"}], platform="linux/amd64")
    arm = build_image([{"arch": b"arm64"}], platform="linux/arm64/v8")
    fake = FakeRegistry()
    index = build_index([amd, arm])
    fake.push("team/app", "multi", index)
    ref = Reference.parse(f"{HOST}/team/app:multi")
    for platform, want in (("linux/amd64", amd), ("linux/arm64", arm)):
        image = open_registry_image(ref, options(platform), transport=fake.transport())
        assert isinstance(image, RegistryImage)
        assert image.digest == want.digest
        assert image.index_digest == index.digest
        assert image.platform == want.platform
        image.close()


def test_index_without_the_platform() -> None:
    fake = FakeRegistry()
    fake.push("team/app", "multi", build_index([build_image([{"a": b"1"}])], kind="docker"))
    with pytest.raises(PlatformNotFound, match="linux/amd64"):
        open_registry_image(
            Reference.parse(f"{HOST}/team/app:multi"),
            options("linux/s390x"),
            transport=fake.transport(),
        )


def test_image_by_digest() -> None:
    built = build_image([{"a": b"1"}])
    fake = FakeRegistry()
    fake.push("team/app", "1.0", built)
    ref = Reference.parse(f"{HOST}/team/app@{built.digest}")
    image = open_registry_image(ref, options(), transport=fake.transport())
    assert image.digest == built.digest
    assert f"/v2/team/app/manifests/{built.digest}" in fake.paths()
    image.close()


def test_altered_config_is_refused() -> None:
    built = build_image([{"a": b"1"}])
    fake = FakeRegistry()
    fake.push("team/app", "1.0", built)
    fake.blobs[built.config_digest] = built.config.replace(b"amd64", b"arm64")
    with pytest.raises(DigestMismatch):
        open_registry_image(
            Reference.parse(f"{HOST}/team/app:1.0"), options(), transport=fake.transport()
        )


def test_layer_count_must_match_diff_ids() -> None:
    one = build_image([{"a": b"1"}])
    two = build_image([{"a": b"1"}, {"b": b"2"}])
    fake = FakeRegistry()
    fake.push("team/app", "1.0", one)
    fake.blobs[two.config_digest] = two.config
    # A one-layer manifest whose config descriptor names a two-layer config.
    manifest = one.manifest.replace(one.config_digest.encode(), two.config_digest.encode())
    manifest = manifest.replace(b'"size":%d' % len(one.config), b'"size":%d' % len(two.config))
    fake.manifests[("team/app", "bad")] = (manifest, one.media_type)
    ref = Reference.parse(f"{HOST}/team/app:bad")
    with pytest.raises(ManifestError, match="1 layers but its config has 2 diff_ids"):
        open_registry_image(ref, options(), transport=fake.transport())
