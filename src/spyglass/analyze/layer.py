"""What one layer holds, as far as the scan cares: the unit that is cached by diff_id.

A :class:`LayerResult` keeps, per path, what each analyzer found in the files it asked for,
plus the layer's changes to the file tree (whiteouts, opaque directories, symlinks, hard links,
directories) so that layers can be merged later without reading them again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spyglass.analyze.interface import AnalyzerResult
from spyglass.inventory import DiffId, Unknown

FileResults = tuple[tuple[str, AnalyzerResult], ...]
"""(analyzer name, what it found) for one file, in the order the analyzers ran."""
EMPTY = AnalyzerResult()
"""Shared by every file in which an analyzer found nothing (most files the secrets analyzer
reads): a layer holds one entry per analyzed file, so each entry is kept small, in memory and
in the cache (where it is ``{}``)."""


def _encode(result: AnalyzerResult) -> dict[str, Any]:
    return {} if result == EMPTY else {k: v for k, v in result.to_dict().items() if v}


def _decoder() -> Callable[[list[list[Any]]], FileResults]:
    """Decodes one file's results; files in which nothing was found share one tuple."""
    shared: dict[tuple[str, ...], FileResults] = {}

    def decode(results: list[list[Any]]) -> FileResults:
        if not any(r for _, r in results):
            names = tuple(str(n) for n, _ in results)
            return shared.setdefault(names, tuple((n, EMPTY) for n in names))
        return tuple((str(n), AnalyzerResult.from_dict(r) if r else EMPTY) for n, r in results)

    return decode


@dataclass(frozen=True)
class LayerResult:
    """The analysis of one layer: per-file analyzer results and the layer's tree changes."""

    diff_id: DiffId
    files: Mapping[str, FileResults] = field(default_factory=dict)
    """Regular files (and hard links) that at least one analyzer asked for."""
    whiteouts: tuple[str, ...] = ()
    """Paths this layer deletes from the layers below (``a/.wh.b`` gives ``a/b``)."""
    opaque_dirs: tuple[str, ...] = ()
    """Directories whose lower content this layer hides (``a/.wh..wh..opq`` gives ``a``)."""
    symlinks: Mapping[str, str] = field(default_factory=dict)
    """Path -> target, verbatim as the tar has it."""
    hardlinks: Mapping[str, str] = field(default_factory=dict)
    """Path -> normalised path of the linked file."""
    dirs: tuple[str, ...] = ()
    unknowns: tuple[Unknown, ...] = ()
    """Entries that could not be taken into the tree at all (a name escaping the root)."""
    size: int = 0
    """Bytes of the uncompressed tar stream."""
    compression: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the layer cache."""
        return {
            "diff_id": self.diff_id,
            "files": {
                path: [[name, _encode(result)] for name, result in results]
                for path, results in self.files.items()
            },
            "whiteouts": list(self.whiteouts),
            "opaque_dirs": list(self.opaque_dirs),
            "symlinks": dict(self.symlinks),
            "hardlinks": dict(self.hardlinks),
            "dirs": list(self.dirs),
            "unknowns": [u.to_dict() for u in self.unknowns],
            "size": self.size,
            "compression": self.compression,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerResult:
        """Inverse of :meth:`to_dict`; raises KeyError/TypeError/ValueError on bad input."""
        decode = _decoder()
        files = {str(path): decode(results) for path, results in data["files"].items()}
        return cls(
            diff_id=DiffId(data["diff_id"]),
            files=files,
            whiteouts=tuple(data["whiteouts"]),
            opaque_dirs=tuple(data["opaque_dirs"]),
            symlinks={str(k): str(v) for k, v in data["symlinks"].items()},
            hardlinks={str(k): str(v) for k, v in data["hardlinks"].items()},
            dirs=tuple(data["dirs"]),
            unknowns=tuple(Unknown.from_dict(u) for u in data["unknowns"]),
            size=int(data["size"]),
            compression=str(data["compression"]),
        )
