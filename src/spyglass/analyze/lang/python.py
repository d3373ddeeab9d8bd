"""Installed Python distributions: core metadata in ``*.dist-info``, ``*.egg-info``, eggs, wheels.

Each installed distribution carries one core metadata file in the email header format
(``Name:``, ``Version:``, ``License:``…): ``<dist>.dist-info/METADATA`` (pip, wheels),
``<dist>.egg-info/PKG-INFO`` or a bare ``<dist>.egg-info`` file (setuptools, distro packages),
``EGG-INFO/PKG-INFO`` in an unpacked egg, and the same files inside zipped ``.egg`` and ``.whl``
archives. The header is read with the standard library's email parser, as the core metadata
specification says to; the header ends at the first blank line.

Licences, in the order the metadata makes them most precise: ``License-Expression`` (PEP 639),
else the ``License ::`` trove classifiers (their last part; a bare ``OSI Approved`` says
nothing), else the free-text ``License`` field, else a ``License-File`` reference written as
``file://<path>`` so that a later licence-file classifier can resolve it.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
import zipfile
from email.message import Message
from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.lang.files import read_text
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

_MAX_METADATA = 16 * 1024 * 1024
"""Core metadata holds the long description; a few megabytes at most in practice."""

_ZIPPED = (".egg", ".whl")


class PythonAnalyzer(Analyzer):
    """Finds installed Python distributions by their core metadata files."""

    name: ClassVar[str] = "lang/python"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "python"
    path_hint: ClassVar[PathHint | None] = PathHint(
        names=frozenset({"metadata", "pkg-info"}), suffixes=(*_ZIPPED, ".egg-info")
    )

    def required(self, path: str, size: int) -> bool:
        """Wants core metadata files by name and parent folder, and zipped eggs and wheels."""
        lower = path.lower()
        parent, _, base = lower.rpartition("/")
        folder = parent.rpartition("/")[2]
        if base.endswith(_ZIPPED):
            return True
        if size > _MAX_METADATA:
            return False
        return (
            (base == "metadata" and folder.endswith("dist-info"))
            or (base == "pkg-info" and folder.endswith("egg-info"))
            or base.endswith(".egg-info")
        )

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """The distribution the file describes (none for an archive without metadata)."""
        if file.path.lower().endswith(_ZIPPED):
            text = _zipped_metadata(file)
            if text is None:
                return AnalyzerResult()
        else:
            text = read_text(file)
        return AnalyzerResult(packages=(parse_metadata(text, file.path, self.name),))


def parse_metadata(text: str, path: str, analyzer: str = PythonAnalyzer.name) -> Package:
    """The distribution one core metadata file describes."""
    header = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
    name = _field(header, "Name")
    if not name:
        raise AnalyzerError(f"{path} has no Name field, so it is not Python core metadata")
    return Package(
        name=name,
        version=_field(header, "Version"),
        ecosystem="pypi",
        path=path,
        licenses=licenses(header),
        analyzer=analyzer,
    )


def licenses(header: Message) -> tuple[str, ...]:
    """The licences the metadata declares, most precise source first (see the module doc)."""
    expression = _field(header, "License-Expression")
    if expression:
        return (expression,)
    classified = tuple(
        parts[-1]
        for parts in (c.split(" :: ") for c in _fields(header, "Classifier"))
        if parts[0].strip() == "License" and len(parts) > 2
    )
    if classified:
        return classified
    free_text = _field(header, "License")
    if free_text:
        return (free_text,)
    license_file = _field(header, "License-File")
    return (f"file://{license_file}",) if license_file else ()


def _fields(header: Message, key: str) -> list[str]:
    return [_clean(v) for v in header.get_all(key) or () if _clean(v)]


def _field(header: Message, key: str) -> str:
    """The first value of a header field, whitespace of folded lines collapsed."""
    values = _fields(header, key)
    return values[0] if values else ""


def _clean(value: object) -> str:
    return re.sub(r"\s+", " ", str(value)).strip()


def _zipped_metadata(file: FileInput) -> str | None:
    """The core metadata inside a zipped egg or wheel, or None when it has none."""
    try:
        with zipfile.ZipFile(file.reader) as archive:
            member = _metadata_member(archive.namelist())
            if member is None:
                return None
            with archive.open(member) as handle:
                return handle.read(_MAX_METADATA).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise AnalyzerError(f"{file.path} is not a readable zip archive ({exc})") from exc


def _metadata_member(names: list[str]) -> str | None:
    for name in names:
        folder, _, base = name.rpartition("/")
        if "/" in folder:
            continue
        if (folder == "EGG-INFO" and base == "PKG-INFO") or (
            folder.endswith(".dist-info") and base == "METADATA"
        ):
            return name
    return None
