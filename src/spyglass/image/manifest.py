"""Parse manifests, indexes and image configs, and choose a platform from an index.

Handles Docker v2 schema 2 manifests and manifest lists, OCI manifests and indexes, and
refuses, with a message a person can act on, what a scanner cannot read: Docker schema 1,
OCI artifacts that are not images, encrypted layers, unknown media types and schema versions.
Written by hand because no maintained Python library parses these documents; the rules follow
the OCI image-spec and containerd's platform matching.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from spyglass.errors import ManifestError, PlatformNotFound
from spyglass.image.interface import (
    DOCKER_CONFIG,
    DOCKER_LAYER_FOREIGN,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST_V1,
    DOCKER_MANIFEST_V1_SIGNED,
    DOCKER_MANIFEST_V2,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_NONDIST,
    OCI_LAYER_NONDIST_GZIP,
    OCI_LAYER_NONDIST_ZSTD,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    Platform,
)
from spyglass.inventory import DiffId, Digest

CONFIG_TYPES = (DOCKER_CONFIG, OCI_CONFIG)
LAYER_TYPES = frozenset(
    {
        OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
        OCI_LAYER_NONDIST, OCI_LAYER_NONDIST_GZIP, OCI_LAYER_NONDIST_ZSTD,
        DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN,
        # Not in Docker's spec, but written by Docker for uncompressed and foreign layers.
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.foreign.diff.tar",
    }
)
# Content types that say nothing about the document (registries behind some proxies send them).
GENERIC_TYPES = ("", "application/octet-stream", "text/plain", "application/json")
ATTESTATION_REF_TYPE = "attestation-manifest"
_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$")
_DAMAGED = "the source is damaged or is not a container image"
_SCHEMA1_ADVICE = (
    "Docker schema 1 manifests are not supported; push the image again with a current Docker "
    "or use `crane copy` to convert it"
)


def manifest_digest(data: bytes) -> Digest:
    """The content digest (sha256) of raw manifest bytes."""
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def parse_manifest_document(data: bytes, media_type: str | None) -> Manifest | Index:
    """Parse a manifest or index; the media type is the Content-Type or descriptor's, if known."""
    doc = _load_json(data, "manifest")
    kind = _document_type(doc, (media_type or "").split(";")[0].strip())
    if kind in INDEX_TYPES:
        return _parse_index(doc, kind, data)
    return _parse_manifest(doc, kind, data)


def _load_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"the {what} is not JSON ({exc}); {_DAMAGED}") from exc
    if not isinstance(doc, dict):
        raise ManifestError(f"the {what} is JSON but not an object; {_DAMAGED}")
    return doc


def _document_type(doc: dict[str, Any], given: str) -> str:
    """The media type to parse by: the given one where it is specific, else the document's."""
    declared = doc.get("mediaType") or ""
    version = doc.get("schemaVersion")
    if given in (DOCKER_MANIFEST_V1, DOCKER_MANIFEST_V1_SIGNED) or version == 1:
        raise ManifestError(_SCHEMA1_ADVICE)
    if version != 2:
        raise ManifestError(f"unknown manifest schemaVersion {version!r}; only 2 is supported")
    if given and given not in GENERIC_TYPES:
        _check_known(given)
        if declared and declared != given:
            raise ManifestError(f"the manifest says it is {declared} but was served as {given}")
        return given
    if declared:
        _check_known(declared)
        return str(declared)
    return _guess_type(doc)


def _check_known(media_type: str) -> None:
    if media_type not in (*MANIFEST_TYPES, *INDEX_TYPES):
        raise ManifestError(
            f"unsupported manifest media type {media_type!r}; expected an image manifest or index"
        )


def _guess_type(doc: dict[str, Any]) -> str:
    """Recognise a document without ``mediaType`` by its shape (allowed by the OCI spec)."""
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc and "layers" in doc:
        config = doc["config"] if isinstance(doc["config"], dict) else {}
        return DOCKER_MANIFEST_V2 if config.get("mediaType") == DOCKER_CONFIG else OCI_MANIFEST
    if "fsLayers" in doc:
        raise ManifestError(_SCHEMA1_ADVICE)
    raise ManifestError("the document is neither an image manifest nor an index")


def _parse_index(doc: dict[str, Any], kind: str, data: bytes) -> Index:
    entries = doc.get("manifests")
    if not isinstance(entries, list):
        raise ManifestError("the index has no 'manifests' list")
    manifests = tuple(parse_descriptor(e, "index entry") for e in entries)
    return Index(media_type=kind, manifests=manifests, digest=manifest_digest(data), raw=data)


def _parse_manifest(doc: dict[str, Any], kind: str, data: bytes) -> Manifest:
    if "manifests" in doc and "config" not in doc:
        raise ManifestError(f"the document was given as {kind} but is an index")
    config_type = doc["config"].get("mediaType") if isinstance(doc.get("config"), dict) else None
    # Docker 1.10 pushed schema 2 configs as octet-stream; those are still image configs.
    legacy = kind == DOCKER_MANIFEST_V2 and config_type == "application/octet-stream"
    if config_type not in CONFIG_TYPES and not legacy:
        raise ManifestError(
            f"this is an OCI artifact (config type {config_type!r}), not a container image; "
            "nothing to scan"
        )
    config = parse_descriptor(doc.get("config"), "config")
    raw_layers = doc.get("layers")
    if not isinstance(raw_layers, list):
        raise ManifestError("the manifest has no 'layers' list")
    layers = tuple(_layer(entry) for entry in raw_layers)
    return Manifest(kind, config, layers, manifest_digest(data), raw=data)


def _layer(entry: Any) -> Descriptor:
    layer = parse_descriptor(entry, "layer")
    if "+encrypted" in layer.media_type:
        raise ManifestError(
            f"layer {layer.digest} is encrypted ({layer.media_type}); decrypt the image "
            "(e.g. `skopeo copy --decryption-key`) before scanning it"
        )
    if layer.media_type not in LAYER_TYPES:
        raise ManifestError(f"layer {layer.digest} has an unknown media type {layer.media_type!r}")
    return layer


def parse_descriptor(entry: Any, what: str) -> Descriptor:
    """Validate one descriptor object (media type, digest, size, urls, platform, annotations)."""
    if not isinstance(entry, dict):
        raise ManifestError(f"the {what} descriptor is missing or not an object")
    digest, size, media_type = entry.get("digest"), entry.get("size"), entry.get("mediaType")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ManifestError(f"the {what} descriptor has an invalid digest {digest!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"the {what} descriptor {digest} has an invalid size {size!r}")
    if not isinstance(media_type, str) or not media_type:
        raise ManifestError(f"the {what} descriptor {digest} has no media type")
    annotations = entry.get("annotations") or {}
    return Descriptor(
        media_type=media_type,
        digest=Digest(digest),
        size=size,
        urls=tuple(str(u) for u in entry.get("urls") or ()),
        platform=_platform(entry.get("platform")),
        annotations=tuple(sorted((str(k), str(v)) for k, v in annotations.items())),
    )


def _platform(value: Any) -> Platform | None:
    if not isinstance(value, dict):
        return None
    variant = value.get("variant")
    return Platform(str(value.get("os", "")), str(value.get("architecture", "")), variant or None)


def parse_config(data: bytes) -> ImageConfig:
    """Parse an image config blob: platform, ``rootfs.diff_ids`` and the layer history."""
    doc = _load_json(data, "image config")
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise ManifestError("the image config has no rootfs.diff_ids; it is not an image config")
    diff_ids = tuple(DiffId(str(d)) for d in rootfs["diff_ids"])
    for diff_id in diff_ids:
        if not _DIGEST.match(diff_id):
            raise ManifestError(f"the image config lists an invalid diff_id {diff_id!r}")
    return ImageConfig(
        os=str(doc.get("os") or ""),
        architecture=str(doc.get("architecture") or ""),
        variant=doc.get("variant") or None,
        diff_ids=diff_ids,
        history=_layer_history(doc.get("history"), len(diff_ids)),
        raw=doc,
    )


def _layer_history(history: Any, layer_count: int) -> tuple[str, ...]:
    """``created_by`` per layer; empty when the history does not line up with the layers."""
    if not isinstance(history, list):
        return ()
    made = [h for h in history if isinstance(h, dict) and not h.get("empty_layer")]
    if len(made) != layer_count:
        return ()
    return tuple(str(h.get("created_by") or "") for h in made)


# --- platform choice ---------------------------------------------------------------------

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "i386": "386"}
_ARM_ORDER = ("v5", "v6", "v7", "v8")


def normalize_platform(platform: Platform) -> Platform:
    """containerd's normalisation: arm64 means arm64/v8, arm means arm/v7, amd64/v1 is amd64."""
    os_name = platform.os.lower()
    arch = _ARCH_ALIASES.get(platform.architecture.lower(), platform.architecture.lower())
    variant = (platform.variant or "").lower() or None
    if arch == "armhf":
        arch, variant = "arm", "v7"
    elif arch == "armel":
        arch, variant = "arm", "v6"
    if arch == "arm64" and variant in (None, "8"):
        variant = "v8"
    elif arch == "arm" and variant in (None, "7"):
        variant = "v7"
    elif arch == "amd64" and variant == "v1":
        variant = None
    return Platform(os_name, arch, variant)


def is_attestation(descriptor: Descriptor) -> bool:
    """BuildKit attestations sit in indexes as ``unknown/unknown`` manifests; never an image."""
    annotations = dict(descriptor.annotations)
    if annotations.get("vnd.docker.reference.type") == ATTESTATION_REF_TYPE:
        return True
    p = descriptor.platform
    return p is not None and p.os == "unknown" and p.architecture == "unknown"


def _compatible_rank(wanted: Platform, offered: Platform) -> int | None:
    """0 for an exact match, n for an older arm variant n steps back, None for no match."""
    if (wanted.os, wanted.architecture) != (offered.os, offered.architecture):
        return None
    if wanted.variant == offered.variant:
        return 0
    arm = wanted.architecture == "arm"
    if arm and wanted.variant in _ARM_ORDER and offered.variant in _ARM_ORDER:
        step = _ARM_ORDER.index(wanted.variant) - _ARM_ORDER.index(offered.variant)
        return step if step > 0 else None
    return None


def platform_satisfies(offered: Platform, wanted: Platform) -> bool:
    """Whether an image for ``offered`` serves a request for ``wanted`` (as ``choose_platform``
    decides: the same platform after normalisation, or an older arm variant)."""
    return _compatible_rank(normalize_platform(wanted), normalize_platform(offered)) is not None


def choose_platform(index: Index, platform: Platform) -> Descriptor:
    """The index entry for the platform, preferring an exact match, then an older arm variant."""
    wanted = normalize_platform(platform)
    images = [d for d in index.manifests if not is_attestation(d)]
    ranked: list[tuple[int, int, Descriptor]] = []
    for position, entry in enumerate(images):
        if entry.platform is None:
            continue
        rank = _compatible_rank(wanted, normalize_platform(entry.platform))
        if rank is not None:
            ranked.append((rank, position, entry))
    if ranked:
        return min(ranked, key=lambda r: (r[0], r[1]))[2]
    available = sorted({str(d.platform) for d in images if d.platform is not None})
    raise PlatformNotFound(
        f"no image for {platform} in index {index.digest}; available: "
        f"{', '.join(available) or 'none'}; choose one with --platform"
    )
