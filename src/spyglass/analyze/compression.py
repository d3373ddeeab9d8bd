"""Layer compression: detected by magic bytes, undone as a bounded stream.

A layer's media type often lies (gzip blobs labelled ``tar``, zstd labelled ``tar+gzip``), so
the first bytes decide. Every decoder here returns at most the requested number of bytes per
read, so a highly compressed run of zeros can never balloon memory, and each one reports a
stream that ends early as :class:`~spyglass.errors.CorruptLayer`.

gzip is decoded with ISA-L's inflate (``isal.isal_zlib``, the zlib API with the same CRC and
length checks for ``wbits=31``) rather than ``gzip.GzipFile``: it takes large input chunks, which
keeps the per-chunk Python work small, and decodes a layer 1.7x faster than zlib (0.52 s against
0.91 s of CPU for the 265 MB tar of the benchmark's biggest layer); it releases the GIL as zlib
does. Where isal has no wheel, zlib is used. Members are concatenated as ``gzip -c a b`` makes
them. The other formats use
the standard library or ``zstandard``. python-zstandard's ``stream_reader`` does not report a
stream cut off mid-frame; the tar reader catches that case as a short member or header.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from enum import StrEnum
from types import ModuleType
from typing import IO, Any, Protocol

import zstandard

from spyglass.errors import CorruptLayer, SpyglassError

_inflate: ModuleType
try:
    from isal import isal_zlib as _inflate
except ImportError:  # pragma: no cover - platforms without an isal wheel
    _inflate = zlib
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    zlib.error, _inflate.error, EOFError, OSError, lzma.LZMAError, zstandard.ZstdError
)

RAW_CHUNK = 256 * 1024
"""How much stored (compressed) data is read from the source at a time."""


class Compression(StrEnum):
    """The compression of a layer blob, as its magic bytes say."""

    GZIP = "gzip"
    ZSTD = "zstd"
    BZIP2 = "bzip2"
    XZ = "xz"
    NONE = "none"


_MAGIC = (
    (b"\x1f\x8b", Compression.GZIP),
    (b"\x28\xb5\x2f\xfd", Compression.ZSTD),
    (b"BZh", Compression.BZIP2),
    (b"\xfd7zXZ\x00", Compression.XZ),
)
MAGIC_LENGTH = 6


def detect(head: bytes) -> Compression:
    """The compression whose magic number starts ``head`` (6 bytes are enough); else NONE."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return Compression.NONE


class Reader(Protocol):
    """The one method the walker needs: read up to ``size`` bytes, ``b""`` at the end."""

    def read(self, size: int = -1, /) -> bytes: ...


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read to sniff the magic number."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


class _Gzip:
    """Concatenated gzip members, at most ``size`` output bytes per read."""

    def __init__(self, raw: Reader) -> None:
        self._raw, self._zlib = raw, _inflate.decompressobj(wbits=31)
        self._input = b""
        self._in_member = False  # zlib holds part of a member whose end it has not seen
        self._drain = False  # the last call filled its output; zlib may still hold more
        self._eof = False

    def _next_input(self) -> bytes | None:
        if self._zlib.unconsumed_tail:
            return bytes(self._zlib.unconsumed_tail)
        if self._drain:
            return b""
        if self._input:
            data, self._input = self._input, b""
            return data
        data = b"" if self._eof else self._raw.read(RAW_CHUNK)
        if not data:
            self._eof = True
            if self._in_member:
                raise CorruptLayer("the gzip stream ends in the middle of a member")
            return None
        return data

    def _next_member(self) -> None:
        rest = self._zlib.unused_data
        self._zlib, self._in_member = _inflate.decompressobj(wbits=31), False
        # NUL padding after the last member is tolerated, as gzip(1) does.
        self._input = rest if rest.strip(b"\0") else b""

    def read(self, size: int = -1, /) -> bytes:
        size = size if size > 0 else RAW_CHUNK * 4
        while (data := self._next_input()) is not None:
            self._in_member = self._in_member or bool(data)
            out: bytes = self._zlib.decompress(data, size)
            self._drain = len(out) == size and not self._zlib.eof
            if self._zlib.eof:
                self._next_member()
            if out:
                return out
        return b""


class _Checked:
    """Turns a decoder's own exceptions into CorruptLayer; Spyglass errors pass through."""

    def __init__(self, inner: Reader) -> None:
        self._inner = inner

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._inner.read(size)
        except SpyglassError:
            raise
        except _DECODE_ERRORS as exc:
            raise CorruptLayer(f"bad compressed data ({exc})") from exc


def decompressing(raw: IO[bytes]) -> tuple[Compression, Reader]:
    """Sniff the compression of ``raw`` and return it with a reader of the decoded bytes."""
    head = b""
    while len(head) < MAGIC_LENGTH:
        more = raw.read(MAGIC_LENGTH - len(head))
        if not more:
            break
        head += more
    kind = detect(head)
    return kind, _Checked(_decoder(kind, io.BufferedReader(_Prefixed(head, raw), RAW_CHUNK)))


def _decoder(kind: Compression, source: io.BufferedReader) -> Reader:
    if kind is Compression.GZIP:
        return _Gzip(source)
    if kind is Compression.ZSTD:
        reader: Reader = zstandard.ZstdDecompressor().stream_reader(
            source, read_size=RAW_CHUNK, read_across_frames=True
        )
        return reader
    if kind is Compression.BZIP2:
        return bz2.BZ2File(source)
    if kind is Compression.XZ:
        return lzma.LZMAFile(source)
    return source
