"""The members of one layer, as they go by: tree changes recorded, wanted files analyzed.

Member names are normalised (no ``/``, ``./``, ``.`` or empty parts; ``..`` resolved
lexically) and a name that would leave the image root is refused with an Unknown. Wanted files
are spooled once (memory first, a temporary file past a few megabytes) and given to every
analyzer that asked; recently spooled files are kept for the rest of the layer so that a hard
link to one of them can be analyzed with its target's content.
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import IO

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.analyze.layer import FileResults, LayerResult
from spyglass.analyze.tarstream import Kind, Member, TarStream
from spyglass.errors import AnalyzerError
from spyglass.inventory import DiffId, Unknown

SPOOL_MEMORY = 4 * 1024 * 1024
"""A wanted file larger than this is spooled to a temporary file instead of memory."""
KEEP_MEMORY = 32 * 1024 * 1024
KEEP_FILES = 256
"""Limits on spooled files kept for hard links; the oldest are released first."""


def normalise(name: str) -> str | None:
    """``./a//b/./c/`` -> ``a/b/c``; ``""`` for the root; None when ``..`` leaves the root."""
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


@dataclass(frozen=True)
class _Kept:
    spool: IO[bytes]
    size: int
    mode: int


class LayerFiles:
    """Collects one layer's result while its members stream past; use as a context manager."""

    def __init__(self, analyzers: Sequence[Analyzer], diff_id: DiffId) -> None:
        self._analyzers, self._diff_id = analyzers, diff_id
        self._files: dict[str, FileResults] = {}
        self._symlinks: dict[str, str] = {}
        self._hardlinks: dict[str, str] = {}
        self._dirs: dict[str, None] = {}
        self._whiteouts: dict[str, None] = {}
        self._opaque: dict[str, None] = {}
        self._unknowns: list[Unknown] = []
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def __enter__(self) -> LayerFiles:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        for kept in self._kept.values():
            kept.spool.close()
        self._kept.clear()

    def result(self, *, size: int, compression: str) -> LayerResult:
        """The layer's result once every member has been added."""
        return LayerResult(
            diff_id=self._diff_id, files=dict(self._files), whiteouts=tuple(self._whiteouts),
            opaque_dirs=tuple(self._opaque), symlinks=dict(self._symlinks),
            hardlinks=dict(self._hardlinks), dirs=tuple(self._dirs),
            unknowns=tuple(self._unknowns), size=size, compression=compression,
        )

    def add(self, member: Member, tar: TarStream) -> None:
        """Record one member; its data is read from ``tar`` only when an analyzer wants it."""
        path = normalise(member.name)
        if path is None:
            self._unknown(member.name, "the entry's name leaves the image root; entry ignored")
            return
        if not path:
            return
        parent, _, base = path.rpartition("/")
        if base.startswith(".wh."):
            self._whiteout(parent, base)
            return
        self._forget(path)  # a later entry for the same path replaces an earlier one
        if member.kind is Kind.DIR:
            self._dirs[path] = None
        elif member.kind is Kind.SYMLINK:
            self._symlinks[path] = member.linkname
        elif member.kind is Kind.HARDLINK:
            self._hardlink(path, member)
        elif member.kind is Kind.FILE:
            self._file(path, member, tar)

    def _unknown(self, path: str, reason: str, analyzer: str = "") -> None:
        self._unknowns.append(Unknown(path, reason, analyzer, self._diff_id))

    def _whiteout(self, parent: str, base: str) -> None:
        if base == ".wh..wh..opq":
            self._opaque[parent] = None
        elif not base.startswith(".wh..wh."):  # other .wh..wh.* names are AUFS bookkeeping
            self._whiteouts[f"{parent}/{base[4:]}" if parent else base[4:]] = None

    def _forget(self, path: str) -> None:
        for entries in (self._files, self._symlinks, self._hardlinks, self._dirs):
            entries.pop(path, None)

    def _wanting(self, path: str, size: int) -> list[Analyzer]:
        wanted = []
        for analyzer in self._analyzers:
            try:
                if analyzer.required(path, size):
                    wanted.append(analyzer)
            except Exception as exc:  # a broken plugin costs its own results, not the scan
                reason = f"required() failed: {type(exc).__name__}: {exc}"
                self._unknown(path, reason, analyzer.name)
        return wanted

    def _file(self, path: str, member: Member, tar: TarStream) -> None:
        wanted = self._wanting(path, member.size)
        if not wanted:
            return
        kept = None
        if any(member.size <= a.max_size for a in wanted):
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
            tar.copy_data(spool)
            kept = _Kept(spool, member.size, member.mode)
            self._keep(path, kept)
        self._files[path] = tuple(
            (a.name, self._analyze(a, path, kept, member.size)) for a in wanted
        )

    def _hardlink(self, path: str, member: Member) -> None:
        target = normalise(member.linkname)
        if target is None:
            self._unknown(path, f"hard link to {member.linkname!r} leaves the image root; ignored")
            return
        target = self._hardlinks.get(target, target)
        self._hardlinks[path] = target
        kept = self._kept.get(target)
        wanted = self._wanting(path, kept.size if kept else 0)
        if wanted:
            self._files[path] = tuple((a.name, self._analyze(a, path, kept, None)) for a in wanted)

    def _keep(self, path: str, kept: _Kept) -> None:
        self._kept[path] = kept
        in_memory = sum(k.size for k in self._kept.values() if k.size <= SPOOL_MEMORY)
        while len(self._kept) > 1 and (in_memory > KEEP_MEMORY or len(self._kept) > KEEP_FILES):
            _, old = self._kept.popitem(last=False)
            old.spool.close()
            in_memory -= old.size if old.size <= SPOOL_MEMORY else 0

    def _failed(self, analyzer: Analyzer, path: str, reason: str) -> AnalyzerResult:
        return AnalyzerResult(unknowns=(Unknown(path, reason, analyzer.name, self._diff_id),))

    def _analyze(
        self, analyzer: Analyzer, path: str, kept: _Kept | None, size: int | None
    ) -> AnalyzerResult:
        size = kept.size if kept else size
        if kept is None and size is None:
            return self._failed(analyzer, path, "hard link whose target's content was not kept")
        if kept is None or kept.size > analyzer.max_size:
            limit = analyzer.max_size
            reason = f"file is {size} bytes, over this analyzer's limit of {limit}; not analyzed"
            return self._failed(analyzer, path, reason)
        kept.spool.seek(0)
        try:
            result = analyzer.analyze(FileInput(path, kept.size, kept.mode, kept.spool))
        except AnalyzerError as exc:
            return self._failed(analyzer, path, str(exc))
        except Exception as exc:  # a crashing analyzer becomes an Unknown, as promised
            return self._failed(analyzer, path, f"analyzer failed: {type(exc).__name__}: {exc}")
        return self._stamp(analyzer, path, result)

    def _stamp(self, analyzer: Analyzer, path: str, result: AnalyzerResult) -> AnalyzerResult:
        """Fill in what the walker knows better than the analyzer: path, name and layer."""
        return replace(
            result,
            packages=tuple(
                replace(p, path=p.path or path, analyzer=p.analyzer or analyzer.name)
                for p in result.packages
            ),
            secrets=tuple(replace(s, layer=s.layer or self._diff_id) for s in result.secrets),
            unknowns=tuple(
                replace(u, analyzer=u.analyzer or analyzer.name, layer=u.layer or self._diff_id)
                for u in result.unknowns
            ),
        )
