"""Read the header blobs out of an rpm NDB database (``Packages.db``, SUSE's default backend).

Written by hand: the format exists only inside rpm (``lib/backend/ndb/rpmpkg.c``) and is small.
All numbers are little-endian. The file starts with 4 KiB slot pages; the first 32 bytes are the
database header (magic ``RpmP``, version 0, generation, number of slot pages). Each 16-byte slot
(magic ``Slot``) names a package number and the position and length of its blob in 16-byte
blocks; a slot with no position is free. A blob is a 16-byte head (magic ``BlbS``, package
number, timestamp, length), the header itself, zero padding, and a 12-byte tail (Adler-32 of
everything before it, length again, magic ``BlbE``). A blob that fails any of these checks is
reported and skipped; the others are still read.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from spyglass.analyze.pkgdb.rpm.header import BadRecord
from spyglass.errors import AnalyzerError

_DB_MAGIC = b"RpmP"
_SLOT_MAGIC = b"Slot"
_HEAD_MAGIC = b"BlbS"
_TAIL_MAGIC = b"BlbE"
_PAGE = 4096
_BLOCK = 16
_HEAD, _TAIL = 16, 12
_MAX_SLOT_PAGES = 2048  # rpm grows one page per 256 packages; far beyond any real system


@dataclass(frozen=True)
class _Slot:
    package: int
    block: int
    blocks: int


def read_blobs(reader: IO[bytes]) -> Iterator[tuple[int, bytes] | BadRecord]:
    """(package number, header blob) of each package, in file order as rpm lists them.

    Raises AnalyzerError when the database itself cannot be read.
    """
    for slot in sorted(_slots(reader), key=lambda s: s.block):
        try:
            yield slot.package, _blob(reader, slot)
        except AnalyzerError as exc:
            yield BadRecord(slot.package, str(exc))


def _slots(reader: IO[bytes]) -> list[_Slot]:
    head = reader.read(32)
    if len(head) < 32 or head[:4] != _DB_MAGIC:
        raise AnalyzerError("not an rpm NDB database: the 'RpmP' header is missing")
    version, _, pages = struct.unpack_from("<III", head, 4)
    if version != 0 or not 0 < pages <= _MAX_SLOT_PAGES:
        raise AnalyzerError(f"unsupported rpm NDB database (version {version}, {pages} slot pages)")
    table = reader.read(pages * _PAGE - 32)
    if len(table) != pages * _PAGE - 32:
        raise AnalyzerError("rpm NDB database is truncated inside its slot pages")
    slots = []
    for magic, package, block, blocks in struct.iter_unpack("<4sIII", table):
        if magic != _SLOT_MAGIC:
            raise AnalyzerError("rpm NDB slot page is damaged (bad slot magic)")
        if block:
            slots.append(_Slot(package, block, blocks))
    return slots


def _blob(reader: IO[bytes], slot: _Slot) -> bytes:
    reader.seek(slot.block * _BLOCK)
    raw = reader.read(slot.blocks * _BLOCK)
    if len(raw) != slot.blocks * _BLOCK or len(raw) < _HEAD + _TAIL:
        raise AnalyzerError(f"rpm NDB blob of package {slot.package} is truncated")
    magic, package, _, length = struct.unpack_from("<4sIII", raw)
    if magic != _HEAD_MAGIC or package != slot.package:
        raise AnalyzerError(f"rpm NDB blob of package {slot.package} has a bad head")
    if slot.blocks != (_HEAD + length + _TAIL + _BLOCK - 1) // _BLOCK:
        raise AnalyzerError(f"rpm NDB blob of package {slot.package} has a wrong length")
    checksum, tail_length, tail_magic = struct.unpack_from("<II4s", raw, len(raw) - _TAIL)
    if tail_magic != _TAIL_MAGIC or tail_length != length:
        raise AnalyzerError(f"rpm NDB blob of package {slot.package} has a bad tail")
    if zlib.adler32(raw[: len(raw) - _TAIL]) != checksum:
        raise AnalyzerError(f"rpm NDB blob of package {slot.package} fails its checksum")
    return raw[_HEAD : _HEAD + length]
