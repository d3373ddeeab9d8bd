"""The dpkg database: installed Debian packages and the files they own.

Reads ``var/lib/dpkg/status`` (and the one-file-per-package ``var/lib/dpkg/status.d/`` of
distroless images), plus ``var/lib/dpkg/info/*.list`` and distroless ``status.d/*.md5sums`` for
the files each package owns. Only packages whose ``Status`` ends in ``installed`` are reported.

The stanza format is small and is parsed here rather than with python-debian, so that every
stanza dpkg itself would reject (a line that is not ``Field: value``, no ``Package``, no or an
invalid ``Version``) becomes an Unknown with its line number while the rest of the file is
still read: one bad stanza never hides the other packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.inventory import Package, Unknown

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"

# status.d holds maintainer scripts and checksums beside each package's stanza file
_NOT_STANZAS = (
    *(".preinst", ".postinst", ".prerm", ".postrm", ".conffiles", ".list", ".triggers"),
    *(".shlibs", ".symbols", ".templates", ".config", ".md5sums"),
)

_FIELD = re.compile(r"^([^\s:][^\s:]*):(.*)$")
_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?$")
_INT_MAX = 2**31 - 1


@dataclass
class Stanza:
    """One paragraph of a dpkg database: fields by lower-case name, or why it is malformed.

    Mutable because the parser fills it line by line; nothing keeps it after the file is read."""

    line: int
    fields: dict[str, str] = field(default_factory=dict)
    error: str = ""


def parse_stanzas(text: str) -> Iterator[Stanza]:
    """The paragraphs of an RFC 822 style dpkg file; continuation lines are joined with ``\\n``."""
    stanza: Stanza | None = None
    last = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if stanza is not None:
                yield stanza
            stanza, last = None, ""
            continue
        stanza = stanza or Stanza(line=number)
        last = _add_line(stanza, last, line, number)
    if stanza is not None:
        yield stanza


def _add_line(stanza: Stanza, last: str, line: str, number: int) -> str:
    """Adds one line to the stanza; returns the field that a continuation line would extend."""
    if line[0] in " \t":
        if last:
            stanza.fields[last] += "\n" + line.strip()
        elif not stanza.error:
            stanza.error = f"line {number}: continuation line before any field"
        return last
    found = _FIELD.match(line)
    if found is None:
        stanza.error = stanza.error or f"line {number}: {line[:60]!r} is not a 'Field: value' line"
        return ""
    name = found.group(1).lower()
    stanza.fields[name] = found.group(2).strip()
    return name


def is_installed(status: str) -> bool:
    """dpkg's ``Status: want flag state``: the package is on disk when the state is installed."""
    words = status.split()
    return len(words) == 3 and words[2] == "installed"


def version_error(version: str) -> str:
    """dpkg's reason to reject a ``[epoch:]upstream[-revision]`` version, or "" if it takes it.

    Mirrors the errors of dpkg's parseversion(); odd characters and a first character that is
    not a digit are only warnings there, and dpkg still lists the package, so they pass here.
    """
    if not version:
        return "version string is empty"
    if any(c.isspace() for c in version):
        return "version string has embedded spaces"
    epoch, colon, rest = version.partition(":") if ":" in version else ("", "", version)
    if colon and not epoch.isdigit():
        return "epoch in version is not a number"
    if colon and int(epoch) > _INT_MAX:
        return "epoch in version is too big"
    if not rest:
        return "nothing after colon in version number"
    upstream, hyphen, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    if hyphen and not revision:
        return "revision number is empty"
    return "" if upstream else "version number is empty"


def _rejection(stanza: Stanza, status: str) -> str:
    """Why dpkg would reject an installed stanza, or "" when it is a good package."""
    if stanza.error:
        return stanza.error
    if not stanza.fields.get("package"):
        return f"line {stanza.line}: stanza without a Package name"
    if not is_installed(status):
        return ""
    name, version = stanza.fields["package"], stanza.fields.get("version", "")
    if not version:
        return f"line {stanza.line}: package {name!r} has no Version"
    if version_error(version):
        return f"line {stanza.line}: package {name!r} Version {version!r}: {version_error(version)}"
    return ""


def _package(fields: dict[str, str], path: str, analyzer: str) -> Package:
    name, version = fields["package"], fields["version"]
    source = _SOURCE.match(fields.get("source", ""))
    source_name = source.group(1) if source else name
    source_version = source.group(2) if source and source.group(2) else version
    return Package(
        name=name,
        version=version,
        ecosystem="deb",
        arch=fields.get("architecture") or None,
        source_name=source_name,
        source_version=source_version,
        path=path,
        analyzer=analyzer,
    )


def read_database(text: str, path: str, analyzer: str = "") -> AnalyzerResult:
    """Installed packages of a status file, and an Unknown for each stanza dpkg would reject.

    A ``status.d`` stanza without ``Status`` is installed: distroless images write the control
    file of each installed package there and never add the field (syft and scalibr agree)."""
    default = "install ok installed" if path.startswith(STATUS_D) else ""
    packages: list[Package] = []
    unknowns: list[Unknown] = []
    for stanza in parse_stanzas(text):
        status = stanza.fields.get("status", default)
        reason = _rejection(stanza, status)
        if reason:
            unknowns.append(Unknown(path, f"{reason}; stanza skipped", analyzer))
        elif is_installed(status):
            packages.append(_package(stanza.fields, path, analyzer))
    return AnalyzerResult(packages=tuple(packages), unknowns=tuple(unknowns))


def _owner(path: str, suffix: str) -> str:
    """The package a ``<name>[:<arch>]<suffix>`` file belongs to."""
    return path.rsplit("/", 1)[-1].removesuffix(suffix).split(":", 1)[0]


def read_file_list(text: str, path: str) -> AnalyzerResult:
    """``info/<pkg>.list`` (absolute paths) as (path, package) pairs, the ``/.`` line dropped."""
    owner = _owner(path, ".list")
    paths = (line.strip().lstrip("/") for line in text.splitlines())
    return AnalyzerResult(owned_files=tuple((p, owner) for p in paths if p and p != "."))


def read_md5sums(text: str, path: str) -> AnalyzerResult:
    """Distroless ``status.d/<pkg>.md5sums`` (``<md5>  <path>``) as (path, package) pairs."""
    owner = _owner(path, ".md5sums")
    pairs = (line.split(None, 1) for line in text.splitlines())
    owned = tuple((p[1].strip().lstrip("/"), owner) for p in pairs if len(p) == 2)
    return AnalyzerResult(owned_files=owned)


class DpkgAnalyzer(Analyzer):
    """Debian packages from the dpkg status database (and distroless ``status.d``)."""

    name: ClassVar[str] = "pkgdb/dpkg"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "os"
    path_hint: ClassVar[PathHint | None] = PathHint(prefixes=("var/lib/dpkg/",))

    def required(self, path: str, size: int) -> bool:
        """The status file, status.d stanzas and checksums, and info/*.list file lists."""
        if path == STATUS:
            return True
        if path.startswith(STATUS_D) and "/" not in path[len(STATUS_D) :]:
            return path.endswith(".md5sums") or not path.endswith(_NOT_STANZAS)
        return path.startswith(INFO) and path.endswith(".list") and "/" not in path[len(INFO) :]

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Packages from a database file, owned files from a file list."""
        text = file.reader.read().decode("utf-8", errors="replace")
        if file.path.endswith(".list") and file.path.startswith(INFO):
            return read_file_list(text, file.path)
        if file.path.endswith(".md5sums"):
            return read_md5sums(text, file.path)
        return read_database(text, file.path, self.name)
