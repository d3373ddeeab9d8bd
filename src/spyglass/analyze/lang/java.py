"""lang/java: Maven artifacts in Java archives (jar, war, ear, par), nested archives included.

Each archive is identified, in order of trust, by:

1. every ``META-INF/maven/<groupId>/<artifactId>/pom.properties`` it holds (shaded jars hold
   several), with licences from the ``pom.xml`` beside it, else from ``Bundle-License``;
2. else the main section of ``META-INF/MANIFEST.MF``: version from ``Implementation-Version``
   or ``Bundle-Version``; artifactId from a ``name-1.2.3.jar`` file name, ``Bundle-Name`` or
   ``Implementation-Title``; groupId from ``Implementation-Vendor-Id``, else what
   ``Bundle-SymbolicName`` has before the artifactId. Upstream tools that find nothing better
   look the jar's SHA-1 up in an index of Maven Central; Spyglass has no such index, so a
   manifest's groupId is a best guess;
3. else the file name ``name-1.2.3.jar`` (reported without a groupId).

Packages are named ``groupId:artifactId`` (ecosystem ``maven``) with the path of the archive,
nested ones as ``app.war/WEB-INF/lib/x.jar``. Archives are read with :mod:`zipfile` from the
spooled stream; nested archives (``WEB-INF/lib``, Spring Boot ``BOOT-INF/lib``, any member with
an archive suffix) are opened in memory. Archive bombs are stopped by a nesting-depth limit,
a per-member size limit and a total-uncompressed-bytes budget per top-level file; each stop is
reported as an Unknown, and what was found before it is kept.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO, ClassVar
from xml.etree import ElementTree

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package, Unknown

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par")
MAX_DEPTH = 4
"""Archives nested deeper than this (an ear holding a war holding a jar is depth 2) are not
opened."""
MAX_MEMBER = 128 * 1024 * 1024
"""A nested archive larger than this (uncompressed) is not loaded into memory."""
MAX_TOTAL = 1024 * 1024 * 1024
"""Uncompressed bytes read from one top-level archive, all nesting levels together."""
MAX_METADATA = 1024 * 1024
"""pom.properties, pom.xml and MANIFEST.MF larger than this are not metadata."""

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
_FILE_VERSION = re.compile(
    r"^(?P<name>[A-Za-z][\w.]*(?:-[A-Za-z][\w.]*)*)-(?P<version>\d[\w.+-]*)$"
)
_PROPERTY = re.compile(r"(?P<key>[^=:\s]+)\s*[=:\s]\s*(?P<value>.*)")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_][\w.-]*$")
_LICENSE_URLS = {
    "apache.org/licenses/license-2.0": "Apache-2.0",
    "opensource.org/licenses/apache-2.0": "Apache-2.0",
    "opensource.org/licenses/mit": "MIT",
    "opensource.org/licenses/mit-license": "MIT",
    "opensource.org/licenses/bsd-2-clause": "BSD-2-Clause",
    "opensource.org/licenses/bsd-3-clause": "BSD-3-Clause",
    "eclipse.org/legal/epl-v10": "EPL-1.0",
    "eclipse.org/legal/epl-2.0": "EPL-2.0",
    "eclipse.org/legal/epl-v20": "EPL-2.0",
}


@dataclass
class _Walk:
    """Shared state of one top-level archive: the byte budget and what was found."""

    budget: int
    packages: list[Package] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)

    def take(self, size: int) -> bool:
        """Spend ``size`` bytes of the budget; False (and spend nothing) when over."""
        if size > self.budget:
            return False
        self.budget -= size
        return True

    def unknown(self, path: str, reason: str) -> None:
        """Record something that could not be read."""
        self.unknowns.append(Unknown(path=path, reason=reason, analyzer=JavaAnalyzer.name))


def is_archive(path: str) -> bool:
    """Whether the name has a Java archive suffix."""
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def scan(reader: IO[bytes], path: str) -> AnalyzerResult:
    """Packages of one archive and the archives nested in it; AnalyzerError if not a zip."""
    try:
        archive = zipfile.ZipFile(reader)
    except _ZIP_ERRORS as exc:
        raise AnalyzerError(f"{path} is not a readable zip archive ({exc}); file skipped") from exc
    walk = _Walk(budget=MAX_TOTAL)
    with archive:
        _scan_zip(walk, archive, path, depth=0)
    return AnalyzerResult(packages=tuple(walk.packages), unknowns=tuple(walk.unknowns))


def _scan_zip(walk: _Walk, archive: zipfile.ZipFile, path: str, depth: int) -> None:
    members = [m for m in archive.infolist() if not m.is_dir()]
    walk.packages.extend(_identify(walk, archive, members, path))
    for member in members:
        if is_archive(member.filename):
            _scan_nested(walk, archive, member, f"{path}/{member.filename}", depth + 1)


def _scan_nested(
    walk: _Walk, archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: str, depth: int
) -> None:
    if depth > MAX_DEPTH:
        walk.unknown(
            path,
            f"archive nested {depth} levels deep, over the limit of {MAX_DEPTH}; "
            "not opened (archive bomb protection)",
        )
        return
    if member.file_size > MAX_MEMBER or not walk.take(member.file_size):
        walk.unknown(
            path,
            f"nested archive of {member.file_size} bytes uncompressed is over the "
            "size limit for one archive; not opened (archive bomb protection)",
        )
        return
    data = _read(walk, archive, member, path, member.file_size)
    if data is None:
        return
    try:
        nested = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        walk.unknown(path, f"nested archive is not a readable zip ({exc}); skipped")
        return
    with nested:
        _scan_zip(walk, nested, path, depth)


def _read(
    walk: _Walk, archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: str, limit: int
) -> bytes | None:
    try:
        with archive.open(member) as handle:
            return handle.read(limit)
    except _ZIP_ERRORS as exc:
        walk.unknown(path, f"could not read {member.filename} ({type(exc).__name__}: {exc})")
        return None


def _metadata(walk: _Walk, archive: zipfile.ZipFile, name: str, path: str) -> str | None:
    try:
        member = archive.getinfo(name)
    except KeyError:
        return None
    if member.file_size > MAX_METADATA or not walk.take(member.file_size):
        walk.unknown(path, f"{name} is {member.file_size} bytes, too large to be metadata; ignored")
        return None
    data = _read(walk, archive, member, path, MAX_METADATA)
    return None if data is None else data.decode("utf-8", "replace")


def _identify(
    walk: _Walk, archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], path: str
) -> list[Package]:
    manifest = parse_manifest(_metadata(walk, archive, "META-INF/MANIFEST.MF", path) or "")
    found = []
    for member in members:
        name = member.filename
        if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
            props = parse_properties(_metadata(walk, archive, name, path) or "")
            pom = _metadata(walk, archive, name[: -len("pom.properties")] + "pom.xml", path)
            licenses = pom_licenses(pom or "") or bundle_licenses(manifest)
            pkg = _from_properties(props, path, licenses)
            if pkg is not None:
                found.append(pkg)
    if found:
        return found
    base = path.rpartition("/")[2]
    pkg = from_manifest(manifest, base, path) or from_file_name(base, path)
    return [pkg] if pkg else []


def _from_properties(props: dict[str, str], path: str, licenses: tuple[str, ...]) -> Package | None:
    group, artifact, version = (props.get(k, "") for k in ("groupId", "artifactId", "version"))
    if not (group and artifact and version):
        return None
    return _package(f"{group}:{artifact}", version, path, licenses)


def _package(name: str, version: str, path: str, licenses: tuple[str, ...] = ()) -> Package:
    return Package(name=name, version=version, ecosystem="maven", licenses=licenses, path=path)


def parse_properties(text: str) -> dict[str, str]:
    """A Java ``.properties`` file's ``key=value`` / ``key: value`` pairs (comments skipped)."""
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = _PROPERTY.match(line)
        if match:
            values[match["key"]] = match["value"].strip()
    return values


def parse_manifest(text: str) -> dict[str, str]:
    """The main section of a MANIFEST.MF (up to the first blank line), continuations joined."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            break  # per-entry sections follow; their Implementation-* describe packages inside
        if line.startswith(" ") and key:
            fields[key] += line[1:]
            continue
        key, _, value = line.partition(":")
        key = key.strip()
        fields[key] = value.strip()
    return fields


def from_manifest(manifest: dict[str, str], base: str, path: str) -> Package | None:
    """A package from a manifest's main section, or None when it lacks name or version."""
    version = manifest.get("Implementation-Version") or manifest.get("Bundle-Version", "")
    artifact = _manifest_artifact(manifest, base)
    if not (version and artifact):
        return None
    group = _manifest_group(manifest, artifact)
    name = f"{group}:{artifact}" if group else artifact
    return _package(name, version, path, bundle_licenses(manifest))


def _manifest_artifact(manifest: dict[str, str], base: str) -> str:
    match = _FILE_VERSION.match(base.rsplit(".", 1)[0])
    if match:
        return match["name"]
    for key in ("Bundle-Name", "Implementation-Title"):
        value = manifest.get(key, "")
        if _IDENTIFIER.match(value):
            return value
    return ""


def _manifest_group(manifest: dict[str, str], artifact: str) -> str:
    vendor = manifest.get("Implementation-Vendor-Id", "")
    if _IDENTIFIER.match(vendor) and "." in vendor:
        return vendor
    symbolic = manifest.get("Bundle-SymbolicName", "").split(";", 1)[0].strip()
    if not _IDENTIFIER.match(symbolic) or symbolic == artifact:
        return ""
    if symbolic.endswith(("." + artifact, "-" + artifact)):
        return symbolic[: -len(artifact) - 1]
    return symbolic.rpartition(".")[0]


def from_file_name(base: str, path: str) -> Package | None:
    """A package from a ``name-1.2.3.jar`` file name (artifactId only), else None."""
    match = _FILE_VERSION.match(base.rsplit(".", 1)[0])
    return _package(match["name"], match["version"], path) if match else None


def pom_licenses(pom: str) -> tuple[str, ...]:
    """The ``<licenses><license><name>`` of a pom.xml, as written; () when unreadable."""
    if not pom:
        return ()
    try:
        # The standard parser never fetches external entities, and the expat it ships with
        # refuses entity-expansion bombs.
        root = ElementTree.fromstring(pom)
    except ElementTree.ParseError:
        return ()
    names = (n.text.strip() for n in root.iterfind("{*}licenses/{*}license/{*}name") if n.text)
    return tuple(n for n in names if n)


def bundle_licenses(manifest: dict[str, str]) -> tuple[str, ...]:
    """The OSGi ``Bundle-License`` header: well-known licence URLs as SPDX ids, else as written."""
    value = manifest.get("Bundle-License", "").strip()
    if not value:
        return ()
    parts = [p.split(";", 1)[0].strip() for p in value.split(",")]
    if not all(" " not in p for p in parts):  # a prose name such as "Apache License, Version 2.0"
        parts = [value]
    return tuple(_LICENSE_URLS.get(_url_key(p), p) for p in parts if p)


def _url_key(url: str) -> str:
    key = re.sub(r"^[a-z]+://(www\.)?", "", url.lower()).rstrip("/")
    return re.sub(r"\.(txt|html?|php)$", "", key)


class JavaAnalyzer(Analyzer):
    """Maven artifacts in jar, war, ear and par files, nested archives included."""

    name: ClassVar[str] = "lang/java"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "java"
    path_hint: ClassVar[PathHint | None] = PathHint(suffixes=ARCHIVE_SUFFIXES)

    def required(self, path: str, size: int) -> bool:
        """Files named ``*.jar``, ``*.war``, ``*.ear`` or ``*.par`` (any case)."""
        return is_archive(path)

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Packages of one archive; AnalyzerError when it is not a zip."""
        return scan(file.reader, file.path)
