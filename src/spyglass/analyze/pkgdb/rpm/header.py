"""Decode one rpm header blob, the record every rpm database backend stores per package.

Written by hand: the only complete readers are librpm (C, not on every host) and Go ports; the
format is small. A blob is two big-endian counts (``il`` index entries, ``dl`` data bytes), then
``il`` 16-byte entries (tag, type, offset, count), then the data store the offsets point into.
Only the few tags an inventory needs are decoded; bounds are checked on every read, so a damaged
blob raises :class:`~spyglass.errors.AnalyzerError` instead of returning nonsense.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from spyglass.errors import AnalyzerError

# Tag numbers from rpm's rpmtag.h.
NAME, VERSION, RELEASE, EPOCH = 1000, 1001, 1002, 1003
VENDOR, LICENSE, ARCH, OLDFILENAMES, SOURCERPM = 1011, 1014, 1022, 1027, 1044
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
MODULARITYLABEL = 5096

# Value types from rpm's header.h.
_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9
_MAX_TYPE = 9
_WANTED = frozenset(
    {NAME, VERSION, RELEASE, EPOCH, VENDOR, LICENSE, ARCH, OLDFILENAMES, SOURCERPM}
    | {DIRINDEXES, BASENAMES, DIRNAMES, MODULARITYLABEL}
)
# rpm itself refuses headers beyond these (hdrchkTags / hdrchkData in header_internal.h).
_MAX_ENTRIES = 0xFFFF
_MAX_DATA = 0x0FFFFFFF


@dataclass(frozen=True)
class RpmHeader:
    """The fields of one installed package that an inventory keeps."""

    name: str
    version: str
    release: str | None
    epoch: int | None
    """``None`` when the EPOCH tag is absent (rpm prints ``(none)``), which differs from 0."""
    arch: str | None
    source_rpm: str | None
    license: str | None
    vendor: str | None
    modularity_label: str | None
    files: tuple[str, ...]
    """Paths the package owns, without the leading ``/``."""


@dataclass(frozen=True)
class BadRecord:
    """A database record that could not be read; the other records are still good."""

    key: int
    reason: str


@dataclass(frozen=True)
class _Entry:
    type: int
    offset: int
    count: int


def parse_header(blob: bytes) -> RpmHeader:
    """Decode a header blob as stored in rpmdb.sqlite, Packages or Packages.db."""
    entries, data = _split(blob)
    name = _string(entries, data, NAME)
    if not name:
        raise AnalyzerError("rpm header has no NAME tag; the record is damaged")
    return RpmHeader(
        name=name,
        version=_string(entries, data, VERSION) or "",
        release=_string(entries, data, RELEASE),
        epoch=_epoch(entries, data),
        arch=_string(entries, data, ARCH),
        source_rpm=_string(entries, data, SOURCERPM),
        license=_string(entries, data, LICENSE),
        vendor=_string(entries, data, VENDOR),
        modularity_label=_string(entries, data, MODULARITYLABEL),
        files=_files(entries, data),
    )


def split_source_rpm(source_rpm: str | None) -> tuple[str, str, str] | None:
    """``name-version-release.src.rpm`` as (name, version, release); None if it is not one."""
    if not source_rpm or not source_rpm.endswith(".rpm"):
        return None
    stem = source_rpm[: -len(".rpm")].rpartition(".")[0]  # drop the arch: src or nosrc
    name, _, rest = stem.rpartition("-")
    name, _, version = name.rpartition("-")
    if not (name and version and rest):
        return None
    return name, version, rest


def _split(blob: bytes) -> tuple[dict[int, _Entry], bytes]:
    if len(blob) < 8:
        raise AnalyzerError(f"rpm header of {len(blob)} bytes is too short to hold its counts")
    il, dl = struct.unpack_from(">II", blob)
    if not 0 < il <= _MAX_ENTRIES or dl > _MAX_DATA:
        raise AnalyzerError(f"rpm header claims {il} entries and {dl} data bytes; not a header")
    start = 8 + 16 * il
    if len(blob) < start + dl:
        raise AnalyzerError(f"rpm header is truncated: {len(blob)} bytes, needs {start + dl}")
    entries: dict[int, _Entry] = {}
    # Later entries win: rpm appends tags added at install time after the signed region.
    for tag, type_, offset, count in struct.iter_unpack(">IIiI", blob[8:start]):
        if tag in _WANTED:
            if not 0 <= type_ <= _MAX_TYPE or not 0 <= offset < dl:
                raise AnalyzerError(f"rpm header tag {tag} points outside the data ({offset})")
            entries[tag] = _Entry(type_, offset, count)
    return entries, blob[start : start + dl]


def _strings(entries: dict[int, _Entry], data: bytes, tag: int) -> list[bytes]:
    entry = entries.get(tag)
    if entry is None:
        return []
    if entry.type not in (_STRING, _STRING_ARRAY, _I18NSTRING):
        raise AnalyzerError(f"rpm header tag {tag} has type {entry.type}, expected a string")
    count = 1 if entry.type == _STRING else entry.count
    parts = data[entry.offset :].split(b"\0", count)
    if len(parts) <= count:
        raise AnalyzerError(f"rpm header tag {tag} runs past the end of the data")
    return parts[:count]


def _string(entries: dict[int, _Entry], data: bytes, tag: int) -> str | None:
    values = _strings(entries, data, tag)
    # An I18N string holds one value per language; the first is the untranslated one.
    return values[0].decode("utf-8", "replace") if values else None


def _ints(entries: dict[int, _Entry], data: bytes, tag: int) -> tuple[int, ...]:
    entry = entries.get(tag)
    if entry is None:
        return ()
    if entry.type != _INT32 or entry.offset + 4 * entry.count > len(data):
        raise AnalyzerError(f"rpm header tag {tag} is not a valid 32-bit integer array")
    return struct.unpack_from(f">{entry.count}I", data, entry.offset)


def _epoch(entries: dict[int, _Entry], data: bytes) -> int | None:
    values = _ints(entries, data, EPOCH)
    return values[0] if values else None


def _files(entries: dict[int, _Entry], data: bytes) -> tuple[str, ...]:
    basenames = _strings(entries, data, BASENAMES)
    if not basenames:
        # Packages built before rpm 4 compressed file names keep one full path per file.
        return tuple(_path(p) for p in _strings(entries, data, OLDFILENAMES))
    dirnames = _strings(entries, data, DIRNAMES)
    indexes = _ints(entries, data, DIRINDEXES)
    if len(indexes) != len(basenames) or any(i >= len(dirnames) for i in indexes):
        raise AnalyzerError("rpm header file list is inconsistent (DIRINDEXES vs DIRNAMES)")
    dirs = [_path(d) for d in dirnames]
    pairs = zip(indexes, basenames, strict=True)
    return tuple(dirs[i] + base.decode("utf-8", "replace") for i, base in pairs)


def _path(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").lstrip("/")
