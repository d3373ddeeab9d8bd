"""Scan orchestration: image -> inventory.

For each layer, base first: the cached result when there is one (the layer is then not
opened), else one streaming walk, stored in the cache. Then the layers are merged, the OS is
detected from the merged release files, and purls are assigned.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

from spyglass.analyze.cache import LayerCache
from spyglass.analyze.interface import Analyzer
from spyglass.analyze.layer import LayerResult
from spyglass.analyze.merge import merge
from spyglass.analyze.purl import with_purl
from spyglass.analyze.walker import walk_layer
from spyglass.image.interface import Image, Layer
from spyglass.inventory import Inventory, LayerInfo, OSRelease, Unknown

ScanProgress = Callable[[str, int, "int | None"], None]
"""Called as ``(layer digest, stored bytes read so far, layer size or None)``; a cached layer
reports once, complete."""


def _detect_os(files: Mapping[str, str]) -> OSRelease | None:
    # Imported by name at run time: OS detection lives in its own package and may be absent
    # from a trimmed install; a scan without it still lists packages.
    try:
        module = importlib.import_module("spyglass.analyze.os.release")
    except ImportError:
        return None
    detect: Callable[[Mapping[str, str]], OSRelease | None] = module.detect
    return detect(files)


def _layer_name(image: Image, index: int, layer: Layer) -> str:
    return (
        f"layer {index + 1}/{len(image.layers)} ({layer.descriptor.digest}) of {image.reference}"
    )


def _analyze_layer(
    image: Image,
    index: int,
    analyzers: Sequence[Analyzer],
    cache: LayerCache | None,
    progress: ScanProgress | None,
) -> tuple[LayerResult, bool]:
    """The layer's result and whether it came from the cache."""
    layer = image.layers[index]
    digest, total = layer.descriptor.digest, layer.descriptor.size or None
    cached = cache.get(layer.diff_id, analyzers) if cache is not None else None
    if cached is not None:
        if progress is not None:
            progress(digest, total or 0, total)
        return cached, True

    def report(done: int) -> None:
        if progress is not None:
            progress(digest, done, total)

    with image.open_layer(layer) as stream:
        result = walk_layer(
            stream, analyzers, diff_id=layer.diff_id, name=_layer_name(image, index, layer),
            progress=report,
        )
    if cache is not None:
        cache.put(result, analyzers)
    return result, False


def _unknown_order(u: Unknown) -> tuple[str, str, str, str]:
    return (u.path, u.analyzer, u.layer or "", u.reason)


def scan_image(
    image: Image,
    analyzers: Sequence[Analyzer],
    *,
    cache: LayerCache | None = None,
    progress: ScanProgress | None = None,
) -> Inventory:
    """Analyze every layer of ``image`` (from the cache where possible) into an Inventory."""
    results: list[LayerResult] = []
    infos: list[LayerInfo] = []
    for index, layer in enumerate(image.layers):
        result, cached = _analyze_layer(image, index, analyzers, cache, progress)
        results.append(result)
        infos.append(LayerInfo(
            digest=layer.descriptor.digest, diff_id=layer.diff_id, size=layer.descriptor.size,
            media_type=layer.descriptor.media_type, created_by=layer.created_by, cached=cached,
        ))
    merged = merge(results)
    os = _detect_os(merged.captured)
    return Inventory(
        reference=image.reference,
        digest=image.digest,
        platform=str(image.platform),
        os=os,
        layers=tuple(infos),
        packages=tuple(with_purl(p, os) for p in merged.packages),
        secrets=merged.secrets,
        unknowns=tuple(sorted(set(merged.unknowns), key=_unknown_order)),
        analyzers=tuple(sorted({(a.name, a.version) for a in analyzers})),
    )
