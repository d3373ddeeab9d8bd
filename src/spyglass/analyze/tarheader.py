"""One 512-byte tar header decoded: a fast path for common entries, ``tarfile`` for the rest.

``tarfile.TarInfo.frombuf`` costs about 30 µs a header (it decodes every field, and sums the
block twice in Python for the unsigned and signed checksums); a layer has tens of thousands of
headers, so that was a tenth of the walker's own time. The fast path decodes only the fields the
walker uses, and sums the block with two ``zlib.adler32`` calls: the low half of Adler-32 is
1 + the sum of the bytes modulo 65,521, exact for 256 bytes (at most 65,280). Written by hand
because no library decodes a single header cheaply; it handles regular files, directories,
links and the PAX / GNU long-name entries with octal numbers and an unsigned checksum, and hands
anything else (base-256 numbers, signed checksums, sparse files, devices, bad headers) to
``frombuf``, which then decides. The fields returned are always those ``frombuf`` gives; the
fields the walker does not use (owner, times, device numbers) are not checked.
"""

from __future__ import annotations

import tarfile
import zlib
from typing import NamedTuple

_FAST_TYPES = frozenset(
    (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.LNKTYPE, tarfile.SYMTYPE, tarfile.DIRTYPE,
     tarfile.CONTTYPE, tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME,
     tarfile.GNUTYPE_LONGLINK)
)
_ENCODING, _ERRORS = "utf-8", "surrogateescape"


class Header(NamedTuple):
    """The fields of a header that a layer walker uses."""

    type: bytes
    name: str
    linkname: str
    size: int
    mode: int
    sparse_extended: bool = False
    """Old GNU sparse file whose sparse map continues in extension blocks."""


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode(_ENCODING, _ERRORS)


def _octal(field: bytes) -> int:
    # A base-256 number (first byte 0x80 or 0xff) has a high byte: int() refuses it.
    return int(field.split(b"\0", 1)[0].strip() or b"0", 8)


def _checksum_ok(block: bytes) -> bool:
    view = memoryview(block)
    total = (zlib.adler32(view[:256]) & 0xFFFF) + (zlib.adler32(view[256:]) & 0xFFFF) - 2
    unsigned = total - sum(block[148:156]) + 8 * 0x20  # the field itself counts as spaces
    return unsigned == _octal(block[148:156])


def _fast(block: bytes) -> Header | None:
    kind = block[156:157]
    if kind not in _FAST_TYPES or not _checksum_ok(block):
        return None
    name = _text(block[0:100])
    if kind == tarfile.AREGTYPE and name.endswith("/"):
        kind = tarfile.DIRTYPE  # old V7 tar writes a directory as a file named with a slash
    if kind == tarfile.DIRTYPE:
        name = name.rstrip("/")
    prefix = _text(block[345:500])
    if prefix and kind not in tarfile.GNU_TYPES:
        name = prefix + "/" + name
    return Header(kind, name, _text(block[157:257]), _octal(block[124:136]), _octal(block[100:108]))


def _slow(block: bytes) -> Header:
    info = tarfile.TarInfo.frombuf(block, _ENCODING, _ERRORS)
    sparse = bool(getattr(info, "_sparse_structs", (None, False))[1])
    return Header(info.type, info.name, info.linkname, info.size, info.mode, sparse)


def parse_header(block: bytes) -> Header:
    """Decode one header block; raises ``tarfile.HeaderError`` as ``frombuf`` does."""
    try:
        header = _fast(block)
    except ValueError:  # a field the fast path cannot read: frombuf decides
        header = None
    return header if header is not None else _slow(block)
