"""The per-layer cache: a layer's analysis, keyed by its diff_id and the analyzers that made it.

A hit means the layer is not opened, not even downloaded. The key holds every analyzer's
(name, version), so bumping one version misses and the layer is read again. Entries are
JSON files written atomically (a temporary file renamed into place) and a batch of entries at a
time, so that storing a layer of any size needs little memory; a file that cannot be read back
is treated as a miss and overwritten by the next store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from spyglass.analyze.interface import Analyzer
from spyglass.analyze.layer import LayerResult
from spyglass.config import cache_dir
from spyglass.inventory import DiffId

FORMAT = 3
"""Bump when the stored form of LayerResult changes: every older entry then misses.
2: files in which nothing was found are stored as an index into ``empty_groups``;
3: or, from the walker, as path digests in ``hidden``."""

AnalyzerVersions = tuple[tuple[str, int], ...]


def analyzer_versions(analyzers: Iterable[Analyzer]) -> AnalyzerVersions:
    """Sorted (name, version) of the analyzers: the part of the key that is not the layer.

    An analyzer reading application lock files (repository scans) gives other results for the
    same layer than one that does not (image scans), so its name is marked ``+lockfiles``."""
    return tuple(sorted({(f"{a.name}+lockfiles" if a.lockfiles else a.name, a.version)
                         for a in analyzers}))


def cache_key(diff_id: DiffId, versions: AnalyzerVersions) -> str:
    """A stable hex key for (diff_id, analyzer versions, format)."""
    text = json.dumps([FORMAT, diff_id, [list(v) for v in versions]], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class LayerCache:
    """One JSON file per key under a directory (default: ``spyglass.config.cache_dir()``).

    A shared cache for many workers implements the same ``get`` / ``put``.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_dir()

    def path(self, diff_id: DiffId, analyzers: Sequence[Analyzer]) -> Path:
        """The file that holds (or would hold) this entry."""
        key = cache_key(diff_id, analyzer_versions(analyzers))
        return self.root / key[:2] / f"{key}.json"

    def get(self, diff_id: DiffId, analyzers: Sequence[Analyzer]) -> LayerResult | None:
        """The cached result, or None when absent or unreadable."""
        try:
            data = json.loads(self.path(diff_id, analyzers).read_bytes())
            if data.get("format") != FORMAT:
                return None
            if tuple(map(tuple, data["analyzers"])) != analyzer_versions(analyzers):
                return None
            result = LayerResult.from_dict(data["layer"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None  # missing or corrupt: a miss; the next put overwrites it
        return result if result.diff_id == diff_id else None

    def put(self, result: LayerResult, analyzers: Sequence[Analyzer]) -> None:
        """Write atomically; a failure to write only costs the next scan a re-read."""
        target = self.path(result.diff_id, analyzers)
        versions = json.dumps([list(v) for v in analyzer_versions(analyzers)])
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:  # json.dumps writes ASCII
                out.write(f'{{"format":{FORMAT},"analyzers":{versions},"layer":')
                result.write_json(out)
                out.write("}")
            os.replace(tmp, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
