"""Manifest, index and config parsing; platform choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spyglass.errors import ManifestError, PlatformNotFound
from spyglass.image.interface import (
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_V1_SIGNED,
    DOCKER_MANIFEST_V2,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Index,
    Manifest,
    Platform,
)
from spyglass.image.manifest import (
    choose_platform,
    manifest_digest,
    normalize_platform,
    parse_config,
    parse_manifest_document,
)
from spyglass.inventory import Digest

MANIFESTS = "images/containers-image/manifests"

# Every manifest sample of containers/image, and what Spyglass must make of it: the parsed
# kind and entry count, or the error (a fragment of its message).
ACCEPTED = {
    "manifest/v2s2.manifest.json": (DOCKER_MANIFEST_V2, 3),
    "manifest/v2s2.everything.json": (DOCKER_MANIFEST_V2, 1),
    "manifest/v2s2.uncompressed.manifest.json": (DOCKER_MANIFEST_V2, 3),
    "manifest/v2s2.nondistributable.manifest.json": (DOCKER_MANIFEST_V2, 1),
    "manifest/v2s2.nondistributable.gzip.manifest.json": (DOCKER_MANIFEST_V2, 1),
    "manifest/v2s2nomime.manifest.json": (DOCKER_MANIFEST_V2, 0),
    "manifest/ociv1.manifest.json": (OCI_MANIFEST, 3),
    "manifest/ociv1nomime.manifest.json": (OCI_MANIFEST, 3),
    "manifest/ociv1.uncompressed.manifest.json": (OCI_MANIFEST, 3),
    "manifest/ociv1.zstd.manifest.json": (OCI_MANIFEST, 3),
    "manifest/ociv1.nondistributable.manifest.json": (OCI_MANIFEST, 1),
    "manifest/ociv1.nondistributable.gzip.manifest.json": (OCI_MANIFEST, 1),
    "manifest/ociv1.nondistributable.zstd.manifest.json": (OCI_MANIFEST, 1),
    "manifest/ociv1.image.index.json": (OCI_INDEX, 2),
    "manifest/ociv1nomime.image.index.json": (OCI_INDEX, 2),
    "manifest/v2list.manifest.json": (DOCKER_MANIFEST_LIST, 5),
    "internal-manifest/v2s2.manifest.json": (DOCKER_MANIFEST_V2, 3),
    "internal-manifest/v2s2nomime.manifest.json": (DOCKER_MANIFEST_V2, 0),
    "internal-manifest/ociv1.manifest.json": (OCI_MANIFEST, 3),
    "internal-manifest/ociv1nomime.manifest.json": (OCI_MANIFEST, 3),
    "internal-manifest/ociv1.image.index.json": (OCI_INDEX, 2),
    "internal-manifest/ociv1nomime.image.index.json": (OCI_INDEX, 2),
    "internal-manifest/oci1index.json": (OCI_INDEX, 3),
    "internal-manifest/oci1.index.everything.json": (OCI_INDEX, 1),
    "internal-manifest/oci1.index.zstd-selection.json": (OCI_INDEX, 6),
    "internal-manifest/oci1.index.zstd-selection2.json": (OCI_INDEX, 10),
    "internal-manifest/ocilist-variants.json": (OCI_INDEX, 6),
    "internal-manifest/schema2list.json": (DOCKER_MANIFEST_LIST, 7),
    "internal-manifest/schema2list-variants.json": (DOCKER_MANIFEST_LIST, 4),
    "internal-manifest/v2list.manifest.json": (DOCKER_MANIFEST_LIST, 5),
    "internal-manifest/v2list.everything.json": (DOCKER_MANIFEST_LIST, 1),
    "image-conversions/oci1.json": (OCI_MANIFEST, 5),
    "image-conversions/oci1-all-media-types.json": (OCI_MANIFEST, 6),
    "image-conversions/oci1-extra-config-fields.json": (OCI_MANIFEST, 5),
    "image-conversions/oci1-to-schema2.json": (DOCKER_MANIFEST_V2, 5),
    "image-conversions/schema2-to-oci1.json": (OCI_MANIFEST, 5),
    "image-conversions/schema2-all-media-types.json": (DOCKER_MANIFEST_V2, 5),
    "image-conversions/schema2-all-media-types-to-oci1.json": (OCI_MANIFEST, 5),
    # Docker 1.10 pushed schema 2 configs as application/octet-stream.
    "image-conversions/schema2.json": (DOCKER_MANIFEST_V2, 5),
}
SCHEMA1 = "schema 1 manifests are not supported"
REFUSED = {
    "manifest/non-json.manifest.json": "not JSON",
    "internal-manifest/non-json.manifest.json": "not JSON",
    "manifest/unknown-version.manifest.json": "schemaVersion 99999",
    "internal-manifest/unknown-version.manifest.json": "schemaVersion 99999",
    "manifest/ociv1.encrypted.manifest.json": "encrypted",
    "image-conversions/oci1.encrypted.json": "encrypted",
    "manifest/ociv1.invalid.mediatype.manifest.json": "unknown media type",
    "image-conversions/oci1-invalid-media-type.json": "unknown media type",
    "image-conversions/schema2-invalid-media-type.json": "unknown media type",
    "image-conversions/oci1-all-media-types-to-schema2.json": "unknown media type",
    "manifest/ociv1.artifact.json": "OCI artifact",
    "manifest/ociv1nomime.artifact.json": "OCI artifact",
    "internal-manifest/ociv1.artifact.json": "OCI artifact",
    "internal-manifest/ociv1nomime.artifact.json": "OCI artifact",
    "image-conversions/oci1-artifact.json": "OCI artifact",
    "manifest/ociv1.everything.json": "OCI artifact",
    # Conversions by containers/image that write size -1 (unknown) into the config descriptor.
    "image-conversions/schema1-to-schema2.json": "invalid size -1",
    "image-conversions/schema1-to-oci1.json": "invalid size -1",
    **{
        name: SCHEMA1
        for name in (
            "manifest/v2s1.manifest.json",
            "manifest/v2s1.everything.json",
            "manifest/v2s1-unsigned.manifest.json",
            "manifest/v2s1-invalid-signatures.manifest.json",
            "manifest/schema2-to-schema1-by-docker.json",
            "internal-manifest/v2s1.manifest.json",
            "internal-manifest/v2s1-unsigned.manifest.json",
            "internal-manifest/v2s1-invalid-signatures.manifest.json",
            "internal-manifest/schema2-to-schema1-by-docker.json",
            "image-conversions/schema1.json",
            "image-conversions/oci1-to-schema1.json",
            "image-conversions/schema2-to-schema1-by-docker.json",
        )
    },
}
CONFIGS = {
    "image-conversions/oci1-config.json": 5,
    "image-conversions/oci1-config-extra-fields.json": 5,
    "image-conversions/oci1-to-schema2-config.json": 5,
    "image-conversions/oci1-all-media-types-config.json": 6,
    "image-conversions/oci1-all-media-types-to-schema2-config.json": 6,
    "image-conversions/schema2-config.json": 5,
    "image-conversions/schema2-to-oci1-config.json": 5,
    "image-conversions/schema1-to-oci1-config.json": 6,
    "image-conversions/schema1-to-schema2-config.json": 6,
}
SCHEMA1_CONFIG = "image-conversions/schema1-for-oci-config.json"


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "expected"), sorted(ACCEPTED.items()))
def test_accepted_samples(testdata: Path, name: str, expected: tuple[str, int]) -> None:
    data = (testdata / MANIFESTS / name).read_bytes()
    doc = parse_manifest_document(data, None)
    kind, count = expected
    assert doc.media_type == kind
    entries = doc.layers if isinstance(doc, Manifest) else doc.manifests
    assert len(entries) == count
    assert doc.digest == manifest_digest(data)


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "fragment"), sorted(REFUSED.items()))
def test_refused_samples(testdata: Path, name: str, fragment: str) -> None:
    data = (testdata / MANIFESTS / name).read_bytes()
    with pytest.raises(ManifestError, match=fragment):
        parse_manifest_document(data, None)


@pytest.mark.realdata
def test_every_manifest_sample_is_classified(testdata: Path) -> None:
    root = testdata / MANIFESTS
    samples = {p.relative_to(root).as_posix() for p in root.rglob("*.json")}
    assert samples == set(ACCEPTED) | set(REFUSED) | set(CONFIGS) | {SCHEMA1_CONFIG}


@pytest.mark.realdata
def test_schema1_config_is_not_an_image_config(testdata: Path) -> None:
    with pytest.raises(ManifestError, match=r"no rootfs\.diff_ids"):
        parse_config((testdata / MANIFESTS / SCHEMA1_CONFIG).read_bytes())


@pytest.mark.realdata
def test_schema1_refusal_says_what_to_do(testdata: Path) -> None:
    data = (testdata / MANIFESTS / "manifest/v2s1.manifest.json").read_bytes()
    with pytest.raises(ManifestError, match=r"push the image again.*crane"):
        parse_manifest_document(data, None)


@pytest.mark.realdata
def test_non_distributable_layers_are_accepted(testdata: Path) -> None:
    name = "manifest/ociv1.nondistributable.gzip.manifest.json"
    data = (testdata / MANIFESTS / name).read_bytes()
    doc = parse_manifest_document(data, OCI_MANIFEST)
    assert isinstance(doc, Manifest)
    assert doc.layers[0].media_type.startswith("application/vnd.oci.image.layer.nondistributable")


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "count"), sorted(CONFIGS.items()))
def test_configs(testdata: Path, name: str, count: int) -> None:
    config = parse_config((testdata / MANIFESTS / name).read_bytes())
    assert len(config.diff_ids) == count
    assert config.platform == Platform("linux", "amd64")
    assert len(config.history) == count
    assert all(d.startswith("sha256:") for d in config.diff_ids)


@pytest.mark.realdata
def test_config_history_aligned_to_layers(testdata: Path) -> None:
    data = (testdata / MANIFESTS / "image-conversions/oci1-config.json").read_bytes()
    config = parse_config(data)
    # Eleven of the 16 history entries are empty_layer; the other five made the five layers.
    assert config.history[0].startswith("/bin/sh -c #(nop) ADD file:c6c23585")
    assert config.history[1].startswith('/bin/sh -c mkdir -p "$HTTPD_PREFIX"')
    assert config.history[4].startswith("/bin/sh -c #(nop) COPY file:761e3133")


def test_config_history_dropped_when_it_does_not_line_up() -> None:
    config = parse_config(
        json.dumps({
            "os": "linux", "architecture": "arm64", "variant": "v8",
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "a" * 64]},
            "history": [{"created_by": "one"}, {"created_by": "two"}],
        }).encode()
    )
    assert config.history == ()
    assert config.platform == Platform("linux", "arm64", "v8")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"[]", "not an object"),
        (b"{}", "no rootfs.diff_ids"),
        (b'{"rootfs": {"diff_ids": ["md5:1"]}}', "invalid diff_id"),
        (b"\xff", "not JSON"),
    ],
)
def test_bad_configs(data: bytes, fragment: str) -> None:
    with pytest.raises(ManifestError, match=fragment):
        parse_config(data)


def _manifest(**changes: object) -> bytes:
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + "c" * 64, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + "d" * 64, "size": 3}],
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def test_given_media_type_must_agree_with_the_document() -> None:
    with pytest.raises(ManifestError, match="served as"):
        parse_manifest_document(_manifest(), DOCKER_MANIFEST_V2)


def test_index_served_as_a_manifest() -> None:
    index = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
    with pytest.raises(ManifestError, match="is an index"):
        parse_manifest_document(index, OCI_MANIFEST)


def test_generic_content_type_falls_back_to_the_document() -> None:
    doc = parse_manifest_document(_manifest(), "application/json; charset=utf-8")
    assert doc.media_type == OCI_MANIFEST


def test_schema1_content_type_is_refused_before_parsing() -> None:
    with pytest.raises(ManifestError, match="schema 1"):
        parse_manifest_document(_manifest(), DOCKER_MANIFEST_V1_SIGNED)


def test_unknown_media_types_are_refused() -> None:
    with pytest.raises(ManifestError, match="unsupported manifest media type"):
        artifact = _manifest(mediaType="application/vnd.oci.artifact.manifest.v1+json")
        parse_manifest_document(artifact, None)
    with pytest.raises(ManifestError, match="unsupported manifest media type"):
        parse_manifest_document(_manifest(), "application/vnd.example+json")


@pytest.mark.parametrize("digest", ["sha256:abc", "", "md5:" + "a" * 32, "sha256:" + "A" * 64])
def test_invalid_digests_are_refused(digest: str) -> None:
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": 1}
    with pytest.raises(ManifestError, match="invalid digest"):
        parse_manifest_document(_manifest(layers=[layer]), None)


# --- platform choice -----------------------------------------------------------------------


def _entry(platform: str, n: int, **annotations: str) -> Descriptor:
    return Descriptor(
        OCI_MANIFEST, Digest(f"sha256:{n:064x}"), 500,
        platform=Platform.parse(platform) if "/" in platform else Platform(platform, platform),
        annotations=tuple(annotations.items()),
    )


INDEX = Index(
    OCI_INDEX,
    (
        _entry("linux/amd64", 1),
        _entry("linux/arm64/v8", 2),
        _entry("linux/arm/v6", 3),
        _entry("linux/arm/v7", 4),
        _entry("linux/s390x", 5),
        _entry("unknown", 6, **{"vnd.docker.reference.type": "attestation-manifest"}),
        _entry("windows/amd64", 7),
    ),
    Digest("sha256:" + "f" * 64),
)


@pytest.mark.parametrize(
    ("wanted", "n"),
    [
        ("linux/amd64", 1),
        ("linux/amd64/v1", 1),
        ("linux/x86_64", 1),
        ("linux/arm64", 2),  # arm64 means arm64/v8
        ("linux/aarch64", 2),
        ("linux/arm", 4),  # arm means arm/v7
        ("linux/arm/v7", 4),
        ("linux/arm/v6", 3),
        ("windows/amd64", 7),
    ],
)
def test_choose_platform(wanted: str, n: int) -> None:
    assert choose_platform(INDEX, Platform.parse(wanted)).digest == f"sha256:{n:064x}"


def test_older_arm_variant_runs_on_newer() -> None:
    index = Index(OCI_INDEX, (_entry("linux/arm/v6", 3),), Digest("sha256:" + "f" * 64))
    assert choose_platform(index, Platform.parse("linux/arm/v7")).digest.endswith("3")
    with pytest.raises(PlatformNotFound):
        choose_platform(Index(OCI_INDEX, (_entry("linux/arm/v7", 4),), index.digest),
                        Platform.parse("linux/arm/v6"))


def test_platform_not_found_lists_what_is_there_without_attestations() -> None:
    with pytest.raises(PlatformNotFound) as caught:
        choose_platform(INDEX, Platform.parse("linux/riscv64"))
    message = str(caught.value)
    assert "linux/riscv64" in message and "--platform" in message
    assert "linux/arm64/v8" in message and "linux/s390x" in message
    assert "unknown" not in message


def test_attestation_manifests_are_never_chosen() -> None:
    index = Index(OCI_INDEX, (_entry("unknown", 6),), Digest("sha256:" + "f" * 64))
    with pytest.raises(PlatformNotFound, match="available: none"):
        choose_platform(index, Platform.parse("unknown/unknown"))


@pytest.mark.realdata
def test_choose_from_real_variant_index(testdata: Path) -> None:
    data = (testdata / MANIFESTS / "internal-manifest/ocilist-variants.json").read_bytes()
    index = parse_manifest_document(data, None)
    assert isinstance(index, Index)
    # Two arm/v6 entries: the first listed wins; arm with no variant counts as arm/v7.
    assert choose_platform(index, Platform.parse("linux/arm/v6")).digest.startswith("sha256:ddd")
    assert choose_platform(index, Platform.parse("linux/arm/v7")).digest.startswith("sha256:eee")
    assert choose_platform(index, Platform.parse("linux/amd64")).digest.startswith("sha256:59e")


def test_normalize_platform() -> None:
    assert normalize_platform(Platform("Linux", "ARM64")) == Platform("linux", "arm64", "v8")
    assert normalize_platform(Platform("linux", "armhf")) == Platform("linux", "arm", "v7")
    assert normalize_platform(Platform("linux", "amd64", "v3")) == Platform("linux", "amd64", "v3")
