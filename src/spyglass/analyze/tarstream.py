"""A forward-only tar reader over a stream of decoded chunks, strict about truncation.

Written by hand around :func:`~spyglass.analyze.tarheader.parse_header` (one 512-byte header,
decoded as ``tarfile.TarInfo.frombuf`` does: checksum, base-256 numbers, the ustar prefix)
because ``tarfile``'s stream mode does not fit a layer walker: it skips file data without
noticing when the stream ends early, silently stops at a bad header, and stops at the first
end-of-archive marker, so the second of two concatenated tar streams (which Docker and GNU
``tar -i`` read) is lost. Here file data is skipped by dropping chunks without copying, PAX
(``path``, ``linkpath``, ``size``) and GNU long names are applied, bytes after the end marker
that are not a header are ignored, and every short read is a
:class:`~spyglass.errors.CorruptLayer`.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import IO

from spyglass.analyze.compression import Reader
from spyglass.analyze.tarheader import Header, parse_header
from spyglass.errors import CorruptLayer

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_FILE_TYPES = frozenset((tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE))
_NO_DATA_TYPES = frozenset(
    (tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE,
     tarfile.FIFOTYPE)
)


class Kind(Enum):
    """What a tar member is, as far as a layer walker cares."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"
    """Devices, FIFOs, sparse files and unknown types: part of the tree, never analyzed."""


_KINDS = {tarfile.DIRTYPE: Kind.DIR, tarfile.SYMTYPE: Kind.SYMLINK, tarfile.LNKTYPE: Kind.HARDLINK}


@dataclass(frozen=True)
class Member:
    """One entry of the archive; names are decoded as UTF-8 with surrogate escapes."""

    name: str
    kind: Kind
    size: int
    mode: int
    linkname: str = ""


class _Chunks:
    """Exact reads and cheap skips over a source that hands out chunks of any size."""

    def __init__(self, source: Reader, chunk: int) -> None:
        self._source, self._chunk = source, chunk
        self._buf, self._pos = memoryview(b""), 0
        self.offset = 0

    def _fill(self) -> bool:
        if self._pos < len(self._buf):
            return True
        data = self._source.read(self._chunk)
        self._buf, self._pos = memoryview(data), 0
        return bool(data)

    def _take(self, n: int) -> memoryview:
        piece = self._buf[self._pos : self._pos + n]
        self._pos += len(piece)
        self.offset += len(piece)
        return piece

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream."""
        end = self._pos + n
        if end <= len(self._buf):  # within the current chunk, as most headers and files are
            data = self._buf[self._pos : end].tobytes()
            self._pos, self.offset = end, self.offset + n
            return data
        parts: list[memoryview] = []  # joined in one copy
        while n > 0 and self._fill():
            piece = self._take(n)
            parts.append(piece)
            n -= len(piece)
        return b"".join(parts)

    def copy(self, n: int, out: IO[bytes]) -> int:
        """Write the next ``n`` bytes to ``out``; returns how many there were."""
        done = 0
        while done < n and self._fill():
            done += out.write(self._take(n - done))
        return done

    def skip(self, n: int) -> int:
        """Drop the next ``n`` bytes; returns how many there were."""
        if self._pos + n <= len(self._buf):
            self._pos, self.offset = self._pos + n, self.offset + n
            return n
        done = 0
        while done < n and self._fill():
            done += len(self._take(n - done))
        return done

    def drain(self) -> None:
        """Read to the end of the stream (so that it is hashed and verified)."""
        while self._fill():
            self._take(len(self._buf))


def _decode(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> dict[str, str]:
    """PAX records ``"<len> <key>=<value>\\n"``, where ``len`` counts the whole record."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos:pos + 1] != b"\0":
        space = data.find(b" ", pos)
        length = int(data[pos:space]) if space > pos and data[pos:space].isdigit() else 0
        if length <= space - pos or pos + length > len(data):
            raise CorruptLayer(f"bad PAX extended header record at byte {pos}")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class TarStream:
    """Iterate the members of a tar stream; the data of the current member can be copied once.

    Data that the caller does not copy is skipped when the next member is read.
    """

    def __init__(self, source: Reader, chunk: int = 1024 * 1024) -> None:
        self._in = _Chunks(source, chunk)
        self._left = 0  # data bytes of the current member not yet consumed
        self._pad = 0

    @property
    def offset(self) -> int:
        """Bytes of the tar stream consumed so far."""
        return self._in.offset

    def copy_data(self, out: IO[bytes]) -> None:
        """Copy the current member's data to ``out``."""
        n, self._left = self._left, 0
        if self._in.copy(n, out) != n:
            raise CorruptLayer(f"the tar stream ends inside a file's data (offset {self.offset})")

    def read_data(self) -> bytes:
        """The current member's data as one bytes object (for small members)."""
        n, self._left = self._left, 0
        data = self._in.read(n)
        if len(data) != n:
            raise CorruptLayer(f"the tar stream ends inside a file's data (offset {self.offset})")
        return data

    def _finish_member(self) -> None:
        n, self._left = self._left + self._pad, 0
        self._pad = 0
        if self._in.skip(n) != n:
            raise CorruptLayer(f"the tar stream ends inside a file's data (offset {self.offset})")

    def _data(self, size: int) -> bytes:
        data = self._in.read(size)
        if len(data) != size or self._in.skip(-size % BLOCK) != -size % BLOCK:
            raise CorruptLayer(f"the tar stream ends inside an extended header ({self.offset})")
        return data

    def _header(self, ended: bool) -> Header | bool | None:
        """The next header; None at the end of the stream; False for a zero block."""
        block = self._in.read(BLOCK)
        if not block:
            return None
        if len(block) < BLOCK:
            raise CorruptLayer(f"the tar stream ends inside a header (offset {self.offset})")
        if block == _ZERO_BLOCK:
            return False
        try:
            return parse_header(block)
        except tarfile.HeaderError as exc:
            if ended:  # bytes after the end-of-archive marker that are not a second stream
                self._in.drain()
                return None
            raise CorruptLayer(f"bad tar header at offset {self.offset - BLOCK}: {exc}") from exc

    def __iter__(self) -> Iterator[Member]:
        ended = False
        extended: dict[str, str] = {}
        while True:
            self._finish_member()
            info = self._header(ended)
            if info is None:
                return
            if info is False:
                ended = True
                continue
            assert isinstance(info, Header)
            ended = False
            if self._extension(info, extended):
                continue
            member = self._member(info, extended)
            extended = {}
            yield member

    def _extension(self, info: Header, extended: dict[str, str]) -> bool:
        """Consume PAX / GNU long-name headers into ``extended``; True if ``info`` was one."""
        if info.type in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
            extended.update(_parse_pax(self._data(info.size)))
        elif info.type == tarfile.XGLTYPE:
            self._data(info.size)  # global PAX headers carry nothing a scanner needs
        elif info.type == tarfile.GNUTYPE_LONGNAME:
            extended["path"] = _decode(self._data(info.size))
        elif info.type == tarfile.GNUTYPE_LONGLINK:
            extended["linkpath"] = _decode(self._data(info.size))
        else:
            return False
        return True

    def _member(self, info: Header, extended: dict[str, str]) -> Member:
        size = int(extended["size"]) if extended.get("size", "").isdigit() else info.size
        kind = Kind.FILE if info.type in _FILE_TYPES else _KINDS.get(info.type, Kind.OTHER)
        if info.type == tarfile.GNUTYPE_SPARSE:
            self._skip_sparse_extensions(info)
        if info.type not in _NO_DATA_TYPES:
            self._left, self._pad = size, -size % BLOCK
        name = extended.get("path", info.name)
        return Member(name, kind, size, info.mode, extended.get("linkpath", info.linkname))

    def _skip_sparse_extensions(self, info: Header) -> None:
        # Old GNU sparse headers chain extra 512-byte maps while byte 504 ("isextended") is set.
        extended = info.sparse_extended
        while extended:
            block = self._data(BLOCK)
            extended = block[504] != 0
