"""OSV feeds: one per ecosystem, from osv.dev's ``<base>/<ecosystem>/all.zip`` layout, a local
zip, or a folder of ``.json`` / ``.yaml`` records.

Parsing follows the OSV schema (https://ossf.github.io/osv-schema/): ECOSYSTEM and SEMVER
ranges keep their events in order, GIT ranges are dropped (commits are not versions), explicit
``versions`` are kept, ``withdrawn`` records are stored but flagged. A record that does not
follow the schema becomes a :class:`~spyglass.vulndb.model.Skipped` with the reason; an
archive that cannot be opened fails the whole feed. Written by hand because no maintained
Python library parses OSV into typed records (``osv`` on PyPI is the osv.dev server).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from spyglass.errors import FeedError
from spyglass.vulndb.ecosystems import normalise_name, osv_ecosystem
from spyglass.vulndb.feeds.documents import DECODE_ERRORS, load_json, load_yaml
from spyglass.vulndb.feeds.download import local_path
from spyglass.vulndb.feeds.interface import Feed
from spyglass.vulndb.feeds.parallel import bulk, map_chunks
from spyglass.vulndb.feeds.recordfiles import (
    SUFFIXES,
    folder_records,
    open_zip,
    read_folder,
    read_zip,
    zip_records,
)
from spyglass.vulndb.model import (
    EVENT_KINDS,
    FIXED,
    RANGE_TYPES,
    UNFIXED,
    Advisory,
    AdvisoryId,
    Affected,
    Event,
    FeedData,
    Range,
    Skipped,
)
from spyglass.vulndb.severity import best, normalise_label

DEFAULT_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
BASE_ENV = "SPYGLASS_OSV_URL"
_PREFIXED_CVE = re.compile(r"^[A-Z]+-(CVE-\d{4}-\d+)$")
_RH_LABEL = re.compile(r"^(Critical|Important|Moderate|Low):")
_CVSS_TYPES = ("CVSS_V2", "CVSS_V3", "CVSS_V4")
_EVENT_KINDS = frozenset(EVENT_KINDS)
T = TypeVar("T")
# Events and ranges repeat across records (``introduced: "0"``; an AlmaLinux advisory gives all
# binary packages of a source the same fixed version): built once and shared (the row mapping
# keeps a shared range's JSON too). Cleared when large, so a long-lived process does not grow.
_EVENTS: dict[tuple[str, str], Event] = {}
_RANGES: dict[tuple[Any, ...], tuple[Range, bool]] = {}
_CACHE_LIMIT = 100_000


class OsvFeed(Feed):
    """All OSV records of one ecosystem (``osv/PyPI``, ``osv/Debian``, ``osv/AlmaLinux``)."""

    version = 2  # 2: distro advisories keep the CVEs they fix (``related``) as ``fixes``

    def __init__(self, ecosystem: str, source: str | None = None) -> None:
        super().__init__(source)
        self.ecosystem = ecosystem
        self.name = f"osv/{ecosystem}"

    def default_source(self) -> str:
        """``<base>/<ecosystem>/all.zip``; with a local base, a folder of records also works."""
        base = os.environ.get(BASE_ENV, "") or DEFAULT_BASE
        local = local_path(base)
        if local is not None and not (local / self.ecosystem / "all.zip").exists():
            return str(local / self.ecosystem)
        return f"{base.rstrip('/')}/{quote(self.ecosystem)}/all.zip"

    def parse(self, path: Path) -> FeedData:
        """Every record under ``path`` (zip, folder or single file)."""
        with bulk():
            return _joined(list(parse_path(path, self.name, _same)))

    def parse_parts(self, path: Path, convert: Callable[[FeedData], T]) -> Iterator[T]:
        """``convert`` of consecutive runs of records, parsed in worker processes."""
        return parse_path(path, self.name, convert)


def parse_path(path: Path, feed: str, convert: Callable[[FeedData], T]) -> Iterator[T]:
    """``convert`` of the records in a zip, folder (recursively) or file, part by part, in
    order; many records are parsed (and converted) in worker processes."""
    chunk: Callable[[Sequence[Any]], T]
    if path.is_dir():
        names: Sequence[Any] = folder_records(path)
        chunk = partial(_folder_part, convert, str(path), feed)
    elif path.suffix == ".zip" or zipfile.is_zipfile(path):
        with open_zip(path) as archive:
            names = zip_records(archive)
        chunk = partial(_zip_part, convert, str(path), feed)
    elif path.suffix in SUFFIXES:
        yield convert(parse_records(iter([(path.name, path.read_bytes())]), feed))
        return
    else:
        raise FeedError(f"{path} is neither an OSV zip, a record nor a folder of records")
    yield from map_chunks(chunk, names)


def iter_documents(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each record file in a zip, a folder (recursively) or one file."""
    if path.is_dir():
        yield from read_folder(str(path), folder_records(path))
    elif path.suffix == ".zip" or zipfile.is_zipfile(path):
        with open_zip(path) as archive:
            yield from read_zip(archive, zip_records(archive))
    elif path.suffix in SUFFIXES:
        yield path.name, path.read_bytes()
    else:
        raise FeedError(f"{path} is neither an OSV zip, a record nor a folder of records")


def _folder_part(convert: Callable[[FeedData], T], root: str, feed: str, names: Sequence[str]) -> T:
    return convert(parse_records(read_folder(root, names), feed))


def _zip_part(convert: Callable[[FeedData], T], path: str, feed: str, members: Sequence[int]) -> T:
    with open_zip(Path(path)) as archive:
        return convert(parse_records(read_zip(archive, members), feed))


def _same(data: FeedData) -> FeedData:
    return data


def _joined(parts: list[FeedData]) -> FeedData:
    return FeedData(
        tuple(a for part in parts for a in part.advisories),
        tuple(a for part in parts for a in part.affected),
        skipped=tuple(s for part in parts for s in part.skipped),
    )


def parse_records(documents: Iterator[tuple[str, bytes]], feed: str) -> FeedData:
    """Parse documents into one :class:`FeedData`; bad records are skipped with a reason."""
    advisories: list[Advisory] = []
    affected: list[Affected] = []
    skipped: list[Skipped] = []
    for name, raw in documents:
        try:
            advisory, packages = parse_record(load_document(name, raw), feed)
        except FeedError as exc:
            skipped.append(Skipped(name, str(exc)))
            continue
        advisories.append(advisory)
        affected.extend(packages)
    return FeedData(tuple(advisories), tuple(affected), skipped=tuple(skipped))


def load_document(name: str, raw: bytes) -> Any:
    """Decode one JSON or YAML document (YAML scalars all stay strings)."""
    try:
        if name.endswith(".json"):
            return load_json(raw)
        return load_yaml(raw)
    except DECODE_ERRORS as exc:
        raise FeedError(
            f"{name}: not valid {'JSON' if name.endswith('.json') else 'YAML'}: {exc}"
        ) from exc


def parse_record(data: Any, feed: str) -> tuple[Advisory, list[Affected]]:
    """One OSV record to an advisory and the packages it affects; ``FeedError`` if malformed."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise FeedError("not an OSV record: no string 'id' at the top level")
    try:
        packages = [p for a in data.get("affected") or () for p in _affected(data["id"], a)]
        advisory = _advisory(data, feed)
        if packages and all(p.distro is not None for p in packages):
            advisory = replace(advisory, fixes=_fixes(data, advisory.aliases))
        return advisory, packages
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise FeedError(
            f"{data['id']}: malformed OSV record ({type(exc).__name__}: {exc})"
        ) from exc


def _text(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return str(value) if value not in (None, "") else None


def _aliases(data: dict[str, Any]) -> tuple[str, ...]:
    # ``upstream`` ids (USN -> UBUNTU-CVE-…) are kept too, plus the bare CVE inside a
    # distro-prefixed id, so that KEV and de-duplication find them.
    found: list[str] = []
    for item in [*(data.get("aliases") or ()), *(data.get("upstream") or ()), data["id"]]:
        cve = _PREFIXED_CVE.match(item)
        found.extend([item, cve.group(1)] if cve else [item])
    return tuple(dict.fromkeys(a for a in found if a != data["id"]))


def _fixes(data: dict[str, Any], aliases: tuple[str, ...]) -> tuple[str, ...]:
    # OSV's ``related`` is "closely related, not an alias"; in a distro erratum (ALSA, RLSA,
    # RHSA) it lists the CVEs the update fixes, which Trivy and Grype report and KEV names.
    related = (str(r) for r in data.get("related") or ())
    return tuple(dict.fromkeys(r for r in related if r.startswith("CVE-") and r not in aliases))


def _labels(data: dict[str, Any]) -> list[str]:
    labels = [(data.get("database_specific") or {}).get("severity")]
    labels += [
        s.get("score") for s in data.get("severity") or () if s.get("type") not in _CVSS_TYPES
    ]
    found = _RH_LABEL.match(data.get("summary") or "")
    labels.append(found.group(1) if found else None)
    return [label for label in labels if isinstance(label, str)]


def _advisory(data: dict[str, Any], feed: str) -> Advisory:
    vectors = [s["score"] for s in data.get("severity") or () if s.get("type") in _CVSS_TYPES]
    extra = (data.get("database_specific") or {}).get("cvss")
    cvss = best([*vectors, *([extra] if isinstance(extra, str) else [])])
    label = next((n for n in map(normalise_label, _labels(data)) if n), None)
    refs = [r["url"] for r in data.get("references") or () if r.get("url")]
    advisory_refs = [r["url"] for r in data.get("references") or () if r.get("type") == "ADVISORY"]
    return Advisory(
        id=AdvisoryId(data["id"]),
        feed=feed,
        aliases=_aliases(data),
        summary=data.get("summary") or "",
        details=data.get("details") or "",
        published=_text(data.get("published")),
        modified=_text(data.get("modified")),
        withdrawn=_text(data.get("withdrawn")),
        severity=label or (cvss.label if cvss else "unknown"),
        cvss_score=cvss.score if cvss else None,
        cvss_vector=cvss.vector if cvss else None,
        cvss_version=cvss.version if cvss else None,
        url=(advisory_refs or refs or [f"https://osv.dev/vulnerability/{data['id']}"])[0],
        references=tuple(refs),
    )


def _affected(advisory_id: str, entry: dict[str, Any]) -> list[Affected]:
    package = entry["package"]
    where = osv_ecosystem(package["ecosystem"])
    ranges, fixed = [], False
    for data in entry.get("ranges") or ():
        if data["type"] in RANGE_TYPES:
            found, has_fix = _range(data)
            ranges.append(found)
            fixed = fixed or has_fix
    versions = tuple(map(str, entry.get("versions") or ()))
    if where is None or not (ranges or versions):
        return []
    purl_type, distro = where
    severity = _package_severity(entry)
    return [
        Affected(
            AdvisoryId(advisory_id),
            purl_type,
            distro,
            normalise_name(purl_type, package["name"]),
            tuple(ranges),
            versions,
            FIXED if fixed else UNFIXED,
            normalise_label(severity) if isinstance(severity, str) else None,
        )
    ]


def _package_severity(entry: dict[str, Any]) -> Any:
    # ecosystem_specific wins over database_specific, as merging the two would have it.
    specific = entry.get("ecosystem_specific") or {}
    if "severity" in specific:
        return specific["severity"]
    return (entry.get("database_specific") or {}).get("severity")


def _range(data: dict[str, Any]) -> tuple[Range, bool]:
    """A range and whether it names a fix; keyed by the record's own (kind, version) pairs so
    that a repeat costs one lookup (a version that is not text makes the record malformed)."""
    key = (data["type"], *chain.from_iterable(map(dict.items, data["events"])))
    found = _RANGES.get(key)
    if found is None:
        if len(_RANGES) > _CACHE_LIMIT:
            _RANGES.clear()
        events = tuple(_event(kind, version) for kind, version in key[1:])
        found = _RANGES[key] = (Range(data["type"], events), any(e.kind == "fixed" for e in events))
    return found


def _event(kind: str, version: Any) -> Event:
    if type(version) is not str:
        version = str(version)
    found = _EVENTS.get((kind, version))
    if found is None:
        if kind not in _EVENT_KINDS:
            raise ValueError(f"unknown range event {kind!r}")
        if len(_EVENTS) > _CACHE_LIMIT:
            _EVENTS.clear()
        found = _EVENTS[kind, version] = Event(kind, version)
    return found
