"""The members of one layer, as they go by: tree changes recorded, wanted files analyzed.

Member names are normalised (no ``/``, ``./``, ``.`` or empty parts; ``..`` resolved
lexically) and a name that would leave the image root is refused with an Unknown. Wanted files
are spooled once (a small file as one ``bytes`` object that the analyzers read without a copy,
a larger one in a temporary file) and given to every analyzer that asked.

Hard links: the recently spooled files are kept for the rest of the layer within small limits
(:data:`KEEP_MEMORY` in memory, :data:`KEEP_DISK` on disk), so that a hard link to one of them
is analyzed with its target's content. When the target's content is gone, an analyzer that
analyzed the target gets its result again with the target's path changed to the link's (what
an analyzer finds depends on the content; the path is only stamped on it), and only an analyzer
that wants the link but did not analyze the target gets an Unknown.
"""

from __future__ import annotations

import io
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import IO

from spyglass.analyze.dispatch import Dispatch
from spyglass.analyze.hidden import HiddenFiles
from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.analyze.layer import EMPTY, FileResults, LayerResult
from spyglass.analyze.tarstream import Kind, Member, TarStream
from spyglass.errors import AnalyzerError
from spyglass.inventory import DiffId, Unknown

SPOOL_MEMORY = 4 * 1024 * 1024
"""A wanted file larger than this is spooled to a temporary file instead of memory."""
KEEP_MEMORY = 4 * 1024 * 1024
KEEP_DISK = 1024 * 1024 * 1024
KEEP_FILES = 256
"""Limits on spooled files kept for hard links; the oldest are released first. Memory is kept
small because it adds to the peak of every scan; disk costs only space."""


def _plain(name: str) -> bool:
    """Already normal, as nearly every name in a layer is: no need to split it."""
    return not (
        name.startswith(("/", "../")) or name.endswith(("/", "/.", "/..")) or name in (".", "..")
        or "//" in name or "/./" in name or "/../" in name
    )


def normalise(name: str) -> str | None:
    """``./a//b/./c/`` -> ``a/b/c``; ``""`` for the root; None when ``..`` leaves the root."""
    while name.startswith("./"):
        name = name[2:]
    if _plain(name):
        return name
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


class _KeptFiles:
    """Spooled files kept for hard links, in memory or on disk: the oldest go first."""

    def __init__(self) -> None:
        # Keyed by "in memory": each kind has its own limit and its own oldest file.
        self._files: dict[bool, OrderedDict[str, _Kept]] = {m: OrderedDict() for m in (True, False)}
        self._bytes = {True: 0, False: 0}

    def get(self, path: str) -> _Kept | None:
        return self._files[True].get(path) or self._files[False].get(path)

    def add(self, path: str, kept: _Kept) -> None:
        """Keep a file; its path is not kept already (LayerFiles forgets a path it sees again)."""
        memory = isinstance(kept.spool, io.BytesIO)
        files, limit = self._files[memory], KEEP_MEMORY if memory else KEEP_DISK
        files[path] = kept
        self._bytes[memory] += kept.size
        while len(files) > 1 and (self._bytes[memory] > limit or len(files) > KEEP_FILES):
            self.release(next(iter(files)))

    def release(self, path: str) -> None:
        for memory in (True, False):
            old = self._files[memory].pop(path, None)
            if old is not None:
                old.spool.close()
                self._bytes[memory] -= old.size
                return

    def close(self) -> None:
        for files in self._files.values():
            for kept in files.values():
                kept.spool.close()
            files.clear()
        self._bytes = {True: 0, False: 0}


def _relocated(result: AnalyzerResult, old: str, new: str) -> AnalyzerResult:
    """A target's result for a hard link: paths under ``old`` moved to ``new``."""
    if result is EMPTY:
        return EMPTY

    def moved(path: str) -> str:
        return new + path[len(old):] if path.startswith(old) else path

    return replace(
        result,
        packages=tuple(replace(p, path=moved(p.path)) for p in result.packages),
        secrets=tuple(replace(s, path=moved(s.path)) for s in result.secrets),
        unknowns=tuple(replace(u, path=moved(u.path)) for u in result.unknowns),
        captured=tuple((moved(path), text) for path, text in result.captured),
    )


class LayerFiles:
    """Collects one layer's result while its members stream past; use as a context manager."""

    def __init__(self, analyzers: Sequence[Analyzer], diff_id: DiffId) -> None:
        self._dispatch, self._diff_id = Dispatch(analyzers), diff_id
        self._files: dict[str, FileResults] = {}
        self._symlinks: dict[str, str] = {}
        self._hardlinks: dict[str, str] = {}
        self._dirs: dict[str, None] = {}
        self._whiteouts: dict[str, None] = {}
        self._opaque: dict[str, None] = {}
        self._unknowns: list[Unknown] = []
        self._kept = _KeptFiles()
        self._sizes: dict[str, int] = {}  # of the files in _files, for hard links to them
        self._hidden = HiddenFiles()

    def __enter__(self) -> LayerFiles:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._kept.close()

    def result(self, *, size: int, compression: str) -> LayerResult:
        """The layer's result once every member has been added."""
        return LayerResult(
            diff_id=self._diff_id, files=dict(self._files), whiteouts=tuple(self._whiteouts),
            opaque_dirs=tuple(self._opaque), symlinks=dict(self._symlinks),
            hardlinks=dict(self._hardlinks), dirs=tuple(self._dirs), hidden=self._hidden.packed(),
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
        for entries in (self._files, self._symlinks, self._hardlinks, self._dirs, self._sizes):
            entries.pop(path, None)
        self._kept.release(path)

    def _wanting(self, path: str, size: int) -> list[Analyzer]:
        wanted = []
        for analyzer in self._dispatch.candidates(path):
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
            kept = _Kept(self._spool(member.size, tar), member.size, member.mode)
            self._kept.add(path, kept)
        results = tuple((a.name, self._analyze(a, path, kept, member.size)) for a in wanted)
        self._record(path, member.size, results)

    @staticmethod
    def _spool(size: int, tar: TarStream) -> IO[bytes]:
        if size <= SPOOL_MEMORY:
            # BytesIO shares the bytes object; an analyzer's read() of it all copies nothing.
            return io.BytesIO(tar.read_data())
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _release or __exit__
        tar.copy_data(spool)
        return spool

    def _record(self, path: str, size: int, results: FileResults) -> None:
        if all(result is EMPTY for _, result in results):
            self._hidden.add(path, size, tuple(name for name, _ in results))
        else:
            self._files[path] = results
            self._sizes[path] = size

    def _hardlink(self, path: str, member: Member) -> None:
        target = normalise(member.linkname)
        if target is None:
            self._unknown(path, f"hard link to {member.linkname!r} leaves the image root; ignored")
            return
        target = self._hardlinks.get(target, target)
        self._hardlinks[path] = target
        size, earlier = self._sizes.get(target), dict(self._files.get(target, ()))
        if size is None and (hidden := self._hidden.get(target)) is not None:
            size, earlier = hidden[0], dict.fromkeys(hidden[1], EMPTY)
        wanted = self._wanting(path, size or 0)
        if not wanted:
            return
        kept = self._kept.get(target)
        results = tuple(
            (a.name, self._linked(a, path, target, kept, earlier, size)) for a in wanted
        )
        self._record(path, size or 0, results)

    def _linked(
        self, analyzer: Analyzer, path: str, target: str, kept: _Kept | None,
        earlier: dict[str, AnalyzerResult], size: int | None,
    ) -> AnalyzerResult:
        if kept is None and analyzer.name in earlier:
            return _relocated(earlier[analyzer.name], target, path)
        over = size is not None and size > analyzer.max_size
        return self._analyze(analyzer, path, kept, size if kept or over else None)

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
        if not (result.packages or result.secrets or result.unknowns or result.captured
                or result.owned_files):
            return EMPTY  # the usual case; cheaper to test field by field than with ==
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
