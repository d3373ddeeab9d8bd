"""Run an Analyzer over a directory tree or a tar file as if it were one layer.

Usage (a fixture tree with real paths, or a case folder of ../shared/data)::

    from tests.helpers.analyzers import run_tree, run_tar

    run = run_tree(DpkgAnalyzer(), testdata / "pkgdb/dpkg/trivy-valid")
    run.wanted          # paths (relative, no leading "/") that `required` asked for, sorted
    run.packages        # every Package from every wanted file, in walk order
    run.unknowns        # Unknowns returned, plus one per AnalyzerError raised (as the walker does)
    run.captured        # dict path -> text, from AnalyzerResult.captured
    run.owned_files     # dict path -> package name
    run.results         # dict path -> AnalyzerResult (only files that did not raise)

    run = run_tar(ApkAnalyzer(), "alpine-minirootfs-3.20.3-x86_64.tar.gz")  # streamed, any .tar.*

Several analyzers at once: ``run_tree([a, b], root)`` merges their results. Paths are walked in
sorted order; symlinks are not followed (a layer stores them as links), only regular files are fed.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package, Unknown


@dataclass
class TreeRun:
    """What the analyzers asked for and found in one tree."""

    wanted: list[str] = field(default_factory=list)
    results: dict[str, AnalyzerResult] = field(default_factory=dict)
    packages: list[Package] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)
    captured: dict[str, str] = field(default_factory=dict)
    owned_files: dict[str, str] = field(default_factory=dict)

    def add(self, analyzer: Analyzer, file: FileInput) -> None:
        """Feed one wanted file to the analyzer and fold its result in."""
        self.wanted.append(file.path)
        try:
            result = analyzer.analyze(file)
        except AnalyzerError as exc:
            self.unknowns.append(Unknown(path=file.path, reason=str(exc), analyzer=analyzer.name))
            return
        self.results[file.path] = result
        self.packages.extend(result.packages)
        self.unknowns.extend(result.unknowns)
        self.captured.update(result.captured)
        self.owned_files.update(result.owned_files)


def _as_list(analyzers: Analyzer | Sequence[Analyzer]) -> list[Analyzer]:
    return [analyzers] if isinstance(analyzers, Analyzer) else list(analyzers)


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath) / name
            if full.is_file() and not full.is_symlink():
                yield full.relative_to(root).as_posix(), full


def run_tree(analyzers: Analyzer | Sequence[Analyzer], root: str | Path) -> TreeRun:
    """Walk ``root`` as a layer's file system and run the analyzers on the files they want."""
    run = TreeRun()
    for rel, full in _walk(Path(root)):
        size = full.stat().st_size
        for analyzer in _as_list(analyzers):
            if analyzer.required(rel, size):
                with full.open("rb") as reader:
                    run.add(
                        analyzer, FileInput(rel, size, stat.S_IMODE(full.stat().st_mode), reader)
                    )
    run.wanted.sort()
    return run


def _normalise(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def run_tar(analyzers: Analyzer | Sequence[Analyzer], tar: str | Path | IO[bytes]) -> TreeRun:
    """Stream a (possibly compressed) tar once and run the analyzers on the members they want."""
    if isinstance(tar, (str, Path)):
        with open(tar, "rb") as handle:
            return run_tar(analyzers, handle)
    run = TreeRun()
    with tarfile.open(fileobj=tar, mode="r|*") as archive:
        for member in archive:
            _feed_member(run, _as_list(analyzers), archive, member)
    run.wanted.sort()
    return run


def _feed_member(
    run: TreeRun, analyzers: Iterable[Analyzer], archive: tarfile.TarFile, member: tarfile.TarInfo
) -> None:
    if not member.isreg():
        return
    path = _normalise(member.name)
    wanting = [a for a in analyzers if a.required(path, member.size)]
    if not wanting:
        return
    extracted = archive.extractfile(member)
    data = extracted.read() if extracted is not None else b""
    for analyzer in wanting:
        run.add(analyzer, FileInput(path, member.size, member.mode, io.BytesIO(data)))
