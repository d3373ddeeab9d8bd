"""Read the header blobs out of a Berkeley DB hash database (rpm's ``Packages`` up to rpm 4.15).

Written by hand because no maintained Python package reads Berkeley DB files without linking
libdb (bsddb3 is unmaintained and needs the C library, which distributions are dropping); like
rpm's own read-only ``bdb_ro`` backend, only what a hash database needs is implemented.

The file is a sequence of fixed-size pages. Page 0 is the hash metadata: magic ``0x061561``
(read in either byte order; a database written on a big-endian host is byte-swapped), page
size, last page, the highest bucket, and the ``spares`` table that maps a bucket to its first
page. Each bucket is a chain of hash pages (``next_pgno``); a hash page holds an array of item
offsets, alternately key and value. A key is the 4-byte package number (0 is rpm's own counter
record, not a package); a value is either stored on the page or, for every real header, in a
chain of overflow pages that each carry part of it. Pages are read one at a time from the
stream, so memory stays at one header, not one database.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO

from spyglass.analyze.pkgdb.rpm.header import BadRecord
from spyglass.errors import AnalyzerError

_HASH_MAGIC = 0x061561
_BTREE_MAGIC = 0x053162
_PAGE_HEADER = 26
# Page types (db_page.h): hash pages, overflow pages.
_P_HASH_UNSORTED, _P_OVERFLOW, _P_HASH = 2, 7, 13
# Item types on a hash page.
_H_KEYDATA, _H_OFFPAGE = 1, 3


class _Pages:
    """Random access to the pages of the database file, in its byte order."""

    def __init__(self, reader: IO[bytes], order: str, page_size: int, last_page: int) -> None:
        self.reader, self.order, self.size, self.last = reader, order, page_size, last_page

    def read(self, pgno: int) -> bytes:
        """Page ``pgno``, checked to be whole and to carry its own number."""
        if not 0 < pgno <= self.last:
            raise AnalyzerError(f"Berkeley DB page {pgno} is outside the file (last {self.last})")
        self.reader.seek(pgno * self.size)
        page = self.reader.read(self.size)
        if len(page) != self.size or self.u32(page, 8) != pgno:
            raise AnalyzerError(f"Berkeley DB page {pgno} is truncated or misplaced")
        return page

    def u16(self, page: bytes, offset: int) -> int:
        """Unsigned 16-bit field in the database's byte order."""
        return int(struct.unpack_from(self.order + "H", page, offset)[0])

    def u32(self, page: bytes, offset: int) -> int:
        """Unsigned 32-bit field in the database's byte order."""
        return int(struct.unpack_from(self.order + "I", page, offset)[0])


def read_blobs(reader: IO[bytes]) -> Iterator[tuple[int, bytes] | BadRecord]:
    """(package number, header blob) of each record, bucket by bucket as rpm reads them.

    Raises AnalyzerError when the database itself cannot be read.
    """
    meta = reader.read(512)
    pages = _open(meta, reader)
    max_bucket = pages.u32(meta, 72)
    spares = struct.unpack_from(pages.order + "32I", meta, 96)
    if max_bucket > pages.last:
        raise AnalyzerError(f"Berkeley DB claims {max_bucket + 1} buckets in {pages.last} pages")
    seen: set[int] = set()
    for bucket in range(max_bucket + 1):
        pgno = bucket + spares[bucket.bit_length()]
        while pgno:
            if pgno in seen:
                raise AnalyzerError(f"Berkeley DB page chain loops at page {pgno}")
            seen.add(pgno)
            page = pages.read(pgno)
            yield from _items(pages, page, pgno)
            pgno = pages.u32(page, 16)


def _open(meta: bytes, reader: IO[bytes]) -> _Pages:
    if len(meta) < 512:
        raise AnalyzerError(f"not a Berkeley DB database: only {len(meta)} bytes")
    magics = {o: struct.unpack_from(o + "I", meta, 12)[0] for o in "<>"}
    order = next((o for o, magic in magics.items() if magic == _HASH_MAGIC), "")
    if not order:
        if _BTREE_MAGIC in magics.values():
            raise AnalyzerError("Berkeley DB btree file, not rpm's Packages hash database")
        raise AnalyzerError("not a Berkeley DB hash database (bad magic number)")
    version, page_size = struct.unpack_from(order + "II", meta, 16)
    if not 8 <= version <= 10:
        raise AnalyzerError(f"unsupported Berkeley DB hash version {version}")
    if meta[24] != 0:
        raise AnalyzerError("encrypted Berkeley DB database; rpm databases are never encrypted")
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise AnalyzerError(f"Berkeley DB page size {page_size} is not valid")
    last_page = struct.unpack_from(order + "I", meta, 32)[0]
    return _Pages(reader, order, page_size, last_page)


def _items(pages: _Pages, page: bytes, pgno: int) -> Iterator[tuple[int, bytes] | BadRecord]:
    if page[25] not in (_P_HASH, _P_HASH_UNSORTED):
        raise AnalyzerError(f"Berkeley DB page {pgno} has type {page[25]}, expected a hash page")
    count = pages.u16(page, 20)
    if _PAGE_HEADER + 2 * count > pages.size:
        raise AnalyzerError(f"Berkeley DB page {pgno} claims {count} items; too many")
    offsets = struct.unpack_from(f"{pages.order}{count}H", page, _PAGE_HEADER)
    for i in range(0, count - 1, 2):
        # Items are packed from the page's end: each ends where the previous one starts.
        end = offsets[i - 1] if i else pages.size
        key, value = offsets[i], offsets[i + 1]
        if not _PAGE_HEADER + 2 * count <= value < key < end <= pages.size:
            yield BadRecord(0, f"Berkeley DB page {pgno} item {i} has bad offsets")
            continue
        yield from _record(pages, page[key:end], page[value:key])


def _record(pages: _Pages, key: bytes, value: bytes) -> Iterator[tuple[int, bytes] | BadRecord]:
    if key[0] != _H_KEYDATA or len(key) != 5:
        yield BadRecord(0, "Berkeley DB key is not a 4-byte package number")
        return
    number = pages.u32(key, 1)
    if number == 0:
        return  # rpm's "next package number" record, not a package
    try:
        yield number, _value(pages, value)
    except AnalyzerError as exc:
        yield BadRecord(number, str(exc))


def _value(pages: _Pages, item: bytes) -> bytes:
    if item[0] == _H_KEYDATA:
        return item[1:]
    if item[0] != _H_OFFPAGE or len(item) != 12:
        raise AnalyzerError(f"Berkeley DB value has unknown item type {item[0]}")
    return _overflow(pages, pages.u32(item, 4), pages.u32(item, 8))


def _overflow(pages: _Pages, pgno: int, length: int) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < length:
        page = pages.read(pgno)
        used = pages.u16(page, 22)
        if page[25] != _P_OVERFLOW or not 0 < used <= min(pages.size - _PAGE_HEADER, length - got):
            raise AnalyzerError(f"Berkeley DB overflow page {pgno} is damaged")
        chunks.append(page[_PAGE_HEADER : _PAGE_HEADER + used])
        got += used
        pgno = pages.u32(page, 16)
    return b"".join(chunks)
