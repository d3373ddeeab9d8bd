"""The ``pkgdb/rpm`` analyzer: installed rpm packages from any rpm database, without librpm.

One reader per backend turns the database file into header blobs (SQLite ``rpmdb.sqlite``,
Berkeley DB ``Packages``, NDB ``Packages.db``), :mod:`.header` decodes each blob, and this module
turns headers into packages and owned files. CBL-Mariner distroless images have no database
but a text manifest, read by :mod:`.manifest`. A damaged record becomes an Unknown and the rest
of the database is kept; a database that cannot be opened raises AnalyzerError.

``gpg-pubkey`` entries are skipped: ``rpm -qa`` lists them, but they are signing keys imported
with ``rpm --import``, not installed software (no arch, no source, no files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.pkgdb.rpm import bdb, ndb, sqlite
from spyglass.analyze.pkgdb.rpm.header import BadRecord, RpmHeader, parse_header, split_source_rpm
from spyglass.analyze.pkgdb.rpm.manifest import parse_manifest
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package, Unknown

Reader = Callable[[IO[bytes]], Iterator[tuple[int, bytes] | BadRecord]]

_READERS: dict[str, Reader] = {
    "rpmdb.sqlite": sqlite.read_blobs,
    "Packages": bdb.read_blobs,
    "Packages.db": ndb.read_blobs,
}
_DB_DIRS = ("var/lib/rpm", "usr/lib/sysimage/rpm")
_DATABASES = frozenset(f"{d}/{name}" for d in _DB_DIRS for name in _READERS)
MANIFEST = "var/lib/rpmmanifest/container-manifest-2"
_PUBKEY = "gpg-pubkey"


class RpmAnalyzer(Analyzer):
    """Installed rpm packages from rpmdb.sqlite, Packages (BDB), Packages.db (NDB) or a manifest."""

    name: ClassVar[str] = "pkgdb/rpm"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "os"
    path_hint: ClassVar[PathHint | None] = PathHint(
        prefixes=tuple(sorted(p.lower() for p in {*_DATABASES, MANIFEST}))
    )

    def required(self, path: str, size: int) -> bool:
        """The rpm database files at the paths rpm uses, and the Mariner distroless manifest."""
        return path in _DATABASES or path == MANIFEST

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Every package in the database; damaged records become Unknowns."""
        if file.path == MANIFEST:
            text = file.reader.read().decode("utf-8", "replace")
            return self._collect(file.path, parse_manifest(text))
        reader = _READERS.get(file.path.rpartition("/")[2])
        if reader is None:
            raise AnalyzerError(f"{file.path} is not an rpm database this analyzer knows")
        return self._collect(file.path, _headers(reader(file.reader)))

    def _collect(self, path: str, records: Iterator[RpmHeader | BadRecord]) -> AnalyzerResult:
        packages: list[Package] = []
        unknowns: list[Unknown] = []
        owned: list[tuple[str, str]] = []
        try:
            for record in records:
                if isinstance(record, BadRecord):
                    unknowns.append(self._unknown(path, f"record {record.key}: {record.reason}"))
                elif record.name != _PUBKEY:
                    packages.append(self._package(record, path))
                    owned.extend((file, record.name) for file in record.files)
        except AnalyzerError as exc:
            if not packages and not unknowns:
                raise
            reason = f"{exc}; the {len(packages)} packages read before it are kept"
            unknowns.append(self._unknown(path, reason))
        return AnalyzerResult(
            packages=tuple(packages), unknowns=tuple(unknowns), owned_files=tuple(owned)
        )

    def _package(self, header: RpmHeader, path: str) -> Package:
        source = split_source_rpm(header.source_rpm)
        extra = [("modularitylabel", header.modularity_label), ("vendor", header.vendor)]
        return Package(
            name=header.name,
            version=header.version,
            ecosystem="rpm",
            epoch=header.epoch,
            release=header.release,
            arch=header.arch,
            source_name=source[0] if source else None,
            source_version=source[1] if source else None,
            source_release=source[2] if source else None,
            licenses=(header.license,) if header.license else (),
            path=path,
            analyzer=self.name,
            extra=tuple((k, v) for k, v in extra if v),
        )

    def _unknown(self, path: str, reason: str) -> Unknown:
        return Unknown(path=path, reason=reason, analyzer=self.name)


def _headers(records: Iterator[tuple[int, bytes] | BadRecord]) -> Iterator[RpmHeader | BadRecord]:
    for record in records:
        if isinstance(record, BadRecord):
            yield record
            continue
        try:
            yield parse_header(record[1])
        except AnalyzerError as exc:
            yield BadRecord(record[0], str(exc))
