"""The apk database (``lib/apk/db/installed``): Alpine, Wolfi and Chainguard packages.

Each package is a stanza of ``X:value`` lines, stanzas split by blank lines. The fields kept:
``P`` name, ``V`` version, ``A`` arch, ``o`` origin (the source package, which is how Alpine's
advisories name packages), ``L`` licence, ``c`` the aports commit; ``F``/``R`` (directory,
file) give the files the package owns.

Written by hand: there is no maintained Python reader for this format, and apk-tools itself
rejects the whole database at the first bad line, while a scanner should report the stanzas
that do parse. A stanza with a line that is not ``X:value``, or without a name or version,
is an Unknown with its line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.inventory import Package, Unknown

INSTALLED = "lib/apk/db/installed"

# SPDX expression operators: such a licence is one expression; older packages list names
_SPDX_MARKERS = (" AND ", " OR ", " WITH ", "(")


@dataclass
class Entry:
    """One stanza of the database, filled line by line (hence mutable)."""

    line: int
    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    error: str = ""
    _dir: str = ""

    def add(self, line: str, number: int) -> None:
        """Adds one ``X:value`` line; anything else marks the stanza broken."""
        if len(line) < 2 or line[1] != ":":
            self.error = self.error or f"line {number}: {line[:60]!r} is not an 'X:value' line"
            return
        key, value = line[0], line[2:].strip()
        if key == "F":
            self._dir = value
            self.files.append(value)
        elif key == "R":
            self.files.append(f"{self._dir}/{value}" if self._dir else value)
        else:
            self.fields.setdefault(key, value)


def parse_entries(text: str) -> Iterator[Entry]:
    """The stanzas of an apk ``installed`` database, in file order."""
    entry: Entry | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if entry is not None:
                yield entry
            entry = None
            continue
        entry = entry or Entry(line=number)
        entry.add(line.rstrip("\r"), number)
    if entry is not None:
        yield entry


def split_licenses(value: str) -> tuple[str, ...]:
    """An SPDX expression stays whole; an older space-separated list (``MIT BSD GPL2+``) splits."""
    if not value:
        return ()
    if any(marker in value for marker in _SPDX_MARKERS):
        return (value,)
    return tuple(value.split())


def _rejection(entry: Entry) -> str:
    if entry.error:
        return entry.error
    if not entry.fields.get("P"):
        return f"line {entry.line}: entry without a package name (P:)"
    if not entry.fields.get("V"):
        return f"line {entry.line}: package {entry.fields['P']!r} has no version (V:)"
    return ""


def _package(entry: Entry, path: str, analyzer: str) -> Package:
    fields = entry.fields
    origin = fields.get("o") or None
    return Package(
        name=fields["P"],
        version=fields["V"],
        ecosystem="apk",
        arch=fields.get("A") or None,
        source_name=origin,
        source_version=fields["V"] if origin else None,  # one APKBUILD builds all its packages
        licenses=split_licenses(fields.get("L", "")),
        path=path,
        analyzer=analyzer,
        extra=(("git_commit", fields["c"]),) if fields.get("c") else (),
    )


def read_installed(text: str, path: str = INSTALLED, analyzer: str = "") -> AnalyzerResult:
    """Packages and owned files of an ``installed`` database; an Unknown per broken stanza."""
    packages: list[Package] = []
    unknowns: list[Unknown] = []
    owned: list[tuple[str, str]] = []
    for entry in parse_entries(text):
        reason = _rejection(entry)
        if reason:
            unknowns.append(Unknown(path, f"{reason}; entry skipped", analyzer))
            continue
        packages.append(_package(entry, path, analyzer))
        owned.extend((file, entry.fields["P"]) for file in entry.files)
    return AnalyzerResult(
        packages=tuple(packages), unknowns=tuple(unknowns), owned_files=tuple(owned)
    )


class ApkAnalyzer(Analyzer):
    """Alpine-family packages from ``lib/apk/db/installed``."""

    name: ClassVar[str] = "pkgdb/apk"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "os"
    path_hint: ClassVar[PathHint | None] = PathHint(prefixes=(INSTALLED,))

    def required(self, path: str, size: int) -> bool:
        """Only the installed database."""
        return path == INSTALLED

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Packages, owned files, and an Unknown for each stanza that cannot be read."""
        text = file.reader.read().decode("utf-8", errors="replace")
        return read_installed(text, file.path, self.name)
