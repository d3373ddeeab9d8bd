"""What one layer holds, as far as the scan cares: the unit that is cached by diff_id.

A :class:`LayerResult` keeps, per path, what each analyzer found in the files it asked for,
plus the layer's changes to the file tree (whiteouts, opaque directories, symlinks, hard links,
directories) so that layers can be merged later without reading them again.

Its JSON form (for the layer cache) is written piece by piece with :meth:`LayerResult.write_json`,
so that a layer with a million files costs no more memory to store than one with a hundred; a
file in which nothing was found is written as the index of its analyzers' names in
``empty_groups``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

from spyglass.analyze.interface import AnalyzerResult
from spyglass.inventory import DiffId, Unknown

FileResults = tuple[tuple[str, AnalyzerResult], ...]
"""(analyzer name, what it found) for one file, in the order the analyzers ran."""
EMPTY = AnalyzerResult()
"""Shared by every file in which an analyzer found nothing (most files the secrets analyzer
reads): a layer holds one entry per analyzed file, so each entry is kept small, in memory and
in the cache (where it is ``{}``)."""


_BATCH = 1024
"""Entries encoded per ``json.dumps`` call when writing: bounds the memory of a write."""


def _encode(result: AnalyzerResult) -> dict[str, Any]:
    return {k: v for k, v in result.to_dict().items() if v}


def _empty(results: FileResults) -> bool:
    return all(result is EMPTY or result == EMPTY for _, result in results)


class _Groups:
    """Analyzer-name tuples of the files in which nothing was found, numbered as first seen."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, ...], int] = {}

    def encode(self, results: FileResults) -> int | list[list[Any]]:
        if _empty(results):
            return self.names.setdefault(tuple(name for name, _ in results), len(self.names))
        return [[name, _encode(result)] for name, result in results]


def _decoder(groups: list[list[str]]) -> Callable[[Any], FileResults]:
    """Decodes one file's results; files in which nothing was found share one tuple."""
    shared = [tuple((str(name), EMPTY) for name in names) for names in groups]

    def decode(results: Any) -> FileResults:
        if isinstance(results, int):
            return shared[results]
        return tuple((str(n), AnalyzerResult.from_dict(r) if r else EMPTY) for n, r in results)

    return decode


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, _BATCH)):
        yield batch


def _write_object(out: IO[str], pairs: Iterable[tuple[str, Any]]) -> None:
    out.write("{")
    for i, batch in enumerate(_batches(pairs)):
        out.write(("," if i else "") + json.dumps(dict(batch), separators=(",", ":"))[1:-1])
    out.write("}")


def _write_array(out: IO[str], values: Iterable[Any]) -> None:
    out.write("[")
    for i, batch in enumerate(_batches(values)):
        out.write(("," if i else "") + json.dumps(batch, separators=(",", ":"))[1:-1])
    out.write("]")


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
    hidden: bytes = b""
    """Regular files in which no analyzer found anything (most files, for a secrets scan), as
    8-byte path digests end to end (:mod:`~spyglass.analyze.hidden`): they have no entry in
    ``files``, but they still replace a lower layer's file at the same path."""
    unknowns: tuple[Unknown, ...] = ()
    """Entries that could not be taken into the tree at all (a name escaping the root)."""
    size: int = 0
    """Bytes of the uncompressed tar stream."""
    compression: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the layer cache (what :meth:`write_json` writes)."""
        groups = _Groups()
        files = {path: groups.encode(results) for path, results in self.files.items()}
        return self._scalars() | {
            "files": files, "empty_groups": [list(names) for names in groups.names],
            "whiteouts": list(self.whiteouts), "opaque_dirs": list(self.opaque_dirs),
            "symlinks": dict(self.symlinks), "hardlinks": dict(self.hardlinks),
            "dirs": list(self.dirs), "hidden": base64.b64encode(self.hidden).decode(),
        }

    def _scalars(self) -> dict[str, Any]:
        return {
            "diff_id": self.diff_id, "unknowns": [u.to_dict() for u in self.unknowns],
            "size": self.size, "compression": self.compression,
        }

    def write_json(self, out: IO[str]) -> None:
        """Write :meth:`to_dict`'s JSON to ``out`` a batch of entries at a time."""
        groups = _Groups()
        out.write(json.dumps(self._scalars(), separators=(",", ":"))[:-1] + ',"files":')
        _write_object(out, ((p, groups.encode(r)) for p, r in self.files.items()))
        out.write(',"empty_groups":' + json.dumps([list(n) for n in groups.names]))
        for key, values in (("whiteouts", self.whiteouts), ("opaque_dirs", self.opaque_dirs),
                            ("dirs", self.dirs)):
            out.write(f',"{key}":')
            _write_array(out, values)
        for key, pairs in (("symlinks", self.symlinks), ("hardlinks", self.hardlinks)):
            out.write(f',"{key}":')
            _write_object(out, pairs.items())
        out.write(',"hidden":"')
        for start in range(0, len(self.hidden), _BATCH * 3 * 8):  # whole 3-byte groups
            out.write(base64.b64encode(self.hidden[start : start + _BATCH * 3 * 8]).decode())
        out.write('"}')

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerResult:
        """Inverse of :meth:`to_dict`; raises KeyError/TypeError/ValueError on bad input."""
        decode = _decoder(data.get("empty_groups", []))
        files = {str(path): decode(results) for path, results in data["files"].items()}
        return cls(
            diff_id=DiffId(data["diff_id"]),
            files=files,
            whiteouts=tuple(data["whiteouts"]),
            opaque_dirs=tuple(data["opaque_dirs"]),
            symlinks={str(k): str(v) for k, v in data["symlinks"].items()},
            hardlinks={str(k): str(v) for k, v in data["hardlinks"].items()},
            dirs=tuple(data["dirs"]),
            hidden=base64.b64decode(data.get("hidden", ""), validate=True),
            unknowns=tuple(Unknown.from_dict(u) for u in data["unknowns"]),
            size=int(data["size"]),
            compression=str(data["compression"]),
        )
