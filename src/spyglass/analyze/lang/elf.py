"""The few parts of an ELF file that the Go and Rust analyzers read: sections and load segments.

Written by hand on purpose: the analyzers need only the section table, the program headers
and reads by virtual address, on untrusted input, with every offset bounds-checked and one
error type. pyelftools parses far more, is untyped, and raises many exception types on
damaged files; the structures used here are three fixed records of the ELF specification.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from spyglass.errors import AnalyzerError

MAGIC = b"\x7fELF"
SHT_NOBITS = 8
PT_LOAD = 1
PF_X, PF_W = 1, 2
_MAX_HEADERS = 65536
"""More section or program headers than this is a damaged file, not a real binary."""


@dataclass(frozen=True)
class Section:
    """One section header: where the section lives in the file and in memory."""

    name: str
    type: int
    addr: int
    offset: int
    size: int


@dataclass(frozen=True)
class Segment:
    """One program header (only the fields used to map addresses to file offsets)."""

    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int


def is_elf(reader: IO[bytes]) -> bool:
    """Whether the stream starts with the ELF magic; reads 4 bytes and rewinds."""
    reader.seek(0)
    head = reader.read(4)
    reader.seek(0)
    return head == MAGIC


@dataclass(frozen=True)
class ElfFile:
    """An opened ELF file: byte order, word size, sections and segments."""

    reader: IO[bytes]
    size: int
    big_endian: bool
    is64: bool
    sections: tuple[Section, ...]
    segments: tuple[Segment, ...]

    @property
    def order(self) -> str:
        """The struct byte-order prefix."""
        return ">" if self.big_endian else "<"

    def section(self, name: str) -> Section | None:
        """The first section with this name, if any."""
        return next((s for s in self.sections if s.name == name), None)

    def read_section(self, section: Section, limit: int) -> bytes:
        """The section's bytes; AnalyzerError when it is larger than ``limit`` or truncated."""
        if section.type == SHT_NOBITS:
            return b""
        if section.size > limit:
            raise AnalyzerError(f"section {section.name} is {section.size} bytes, over {limit}")
        return _read(self.reader, self.size, section.offset, section.size)

    def read_at(self, addr: int, size: int) -> bytes:
        """Up to ``size`` bytes at a virtual address, from the load segment that holds it."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.vaddr <= addr < seg.vaddr + seg.filesz:
                available = seg.vaddr + seg.filesz - addr
                offset = seg.offset + addr - seg.vaddr
                return _read(self.reader, self.size, offset, min(size, available), partial=True)
        return b""

    def data_start(self) -> int | None:
        """Address of the first writable, non-executable load segment (Go's fallback)."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.flags & (PF_X | PF_W) == PF_W:
                return seg.vaddr
        return None


def _read(reader: IO[bytes], total: int, offset: int, size: int, partial: bool = False) -> bytes:
    if offset < 0 or size < 0 or offset > total or (not partial and offset + size > total):
        raise AnalyzerError("broken ELF file: a section or segment points past the end of the file")
    reader.seek(offset)
    return reader.read(size)


def open_elf(reader: IO[bytes], size: int) -> ElfFile:
    """Parse the ELF header, section table and program headers; AnalyzerError when broken."""
    ident = _read(reader, size, 0, 16, partial=True)
    if ident[:4] != MAGIC:
        raise AnalyzerError("not an ELF file (no ELF magic number)")
    if len(ident) < 16:
        raise AnalyzerError("broken ELF file: truncated inside its identification bytes")
    if ident[4] not in (1, 2) or ident[5] not in (1, 2):
        raise AnalyzerError("broken ELF file: unknown word size or byte order in the header")
    is64, order = ident[4] == 2, ">" if ident[5] == 2 else "<"
    header_format = order + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
    raw = _header(reader, size, 16, struct.calcsize(header_format))
    fields = struct.unpack(header_format, raw)
    phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx = (
        fields[4],
        fields[5],
        *fields[8:13],
    )
    sections = _sections(reader, size, order, is64, shoff, shentsize, shnum, shstrndx)
    segments = _segments(reader, size, order, is64, phoff, phentsize, phnum)
    return ElfFile(reader, size, order == ">", is64, sections, segments)


def _header(reader: IO[bytes], total: int, offset: int, size: int) -> bytes:
    if offset + size > total:
        raise AnalyzerError("broken ELF file: truncated before the end of its header")
    return _read(reader, total, offset, size)


def _table(
    reader: IO[bytes], total: int, offset: int, entsize: int, count: int, need: int
) -> list[bytes]:
    if count == 0 or offset == 0:
        return []
    if entsize < need or count > _MAX_HEADERS or offset + entsize * count > total:
        raise AnalyzerError("broken ELF file: its header table lies outside the file")
    data = _read(reader, total, offset, entsize * count)
    return [data[i * entsize : i * entsize + need] for i in range(count)]


def _sections(
    reader: IO[bytes],
    total: int,
    order: str,
    is64: bool,
    offset: int,
    entsize: int,
    count: int,
    strndx: int,
) -> tuple[Section, ...]:
    fmt = order + ("IIQQQQ" if is64 else "IIIIII")
    need = struct.calcsize(fmt)
    if count == 0 and offset:  # extended numbering: the real count is in section 0
        first = _table(reader, total, offset, entsize, 1, struct.calcsize(fmt + "I"))
        count = struct.unpack(fmt + "I", first[0])[5] if first else 0
        strndx = struct.unpack(fmt + "I", first[0])[6] if strndx == 0xFFFF and first else strndx
    rows = [struct.unpack(fmt, row) for row in _table(reader, total, offset, entsize, count, need)]
    names = b""
    if 0 < strndx < len(rows) and rows[strndx][1] != SHT_NOBITS:
        names = _read(reader, total, rows[strndx][4], min(rows[strndx][5], 1 << 20), partial=True)
    return tuple(Section(_name(names, r[0]), r[1], r[3], r[4], r[5]) for r in rows)


def _name(table: bytes, offset: int) -> str:
    if offset >= len(table):
        return ""
    end = table.find(b"\0", offset)
    return table[offset : end if end >= 0 else len(table)].decode("latin-1")


def _segments(
    reader: IO[bytes], total: int, order: str, is64: bool, offset: int, entsize: int, count: int
) -> tuple[Segment, ...]:
    if is64:
        fmt = order + "IIQQQQ"  # type, flags, offset, vaddr, paddr, filesz
        rows = _table(reader, total, offset, entsize, count, struct.calcsize(fmt))
        return tuple(
            Segment(t, f, o, v, sz) for t, f, o, v, _p, sz in (struct.unpack(fmt, r) for r in rows)
        )
    fmt = order + "IIIIIIII"  # type, offset, vaddr, paddr, filesz, memsz, flags, align
    rows = _table(reader, total, offset, entsize, count, struct.calcsize(fmt))
    return tuple(
        Segment(t, f, o, v, sz)
        for t, o, v, _p, sz, _m, f, _a in (struct.unpack(fmt, r) for r in rows)
    )


MIN_BINARY = 52
"""The smallest ELF header (32-bit); anything shorter cannot be an executable."""
MAX_BINARY = 256 * 1024 * 1024
_BIN_DIRS = frozenset({"bin", "sbin", "libexec"})
_NOT_BINARY_DIRS = frozenset(
    {
        "node_modules",
        ".git",
        "site-packages",
        "dist-packages",
        "__pycache__",
        "doc",
        "man",
        "locale",
        "include",
        "terminfo",
        "zoneinfo",
        "i18n",
    }
)
_NOT_BINARY_PREFIXES = (
    "etc/",
    "usr/share/",
    "var/lib/dpkg/",
    "var/lib/apt/",
    "var/lib/rpm/",
    "var/cache/",
    "var/log/",
    "proc/",
    "sys/",
    "dev/",
    "run/",
    "tmp/",
)


@lru_cache(maxsize=4)  # the walker asks lang/go and lang/rust about each path in turn
def binary_candidate(path: str, size: int) -> bool:
    """Could this file be an executable worth opening? By path and size alone.

    The rule: between :data:`MIN_BINARY` and :data:`MAX_BINARY` bytes, and either inside a
    ``bin``, ``sbin`` or ``libexec`` directory, or a file name without an extension outside
    directories that hold only data (``etc/``, ``usr/share/``, package databases, caches,
    ``node_modules``, ``site-packages``…). Everything that passes is rejected cheaply by
    :func:`is_elf` when it does not start with the ELF magic number.
    """
    if not MIN_BINARY <= size <= MAX_BINARY:
        return False
    parent, _, base = path.rpartition("/")
    dirs = parent.split("/") if parent else []
    if any(d in _BIN_DIRS for d in dirs):
        return True
    if "." in base:
        return False
    return not path.startswith(_NOT_BINARY_PREFIXES) and not _NOT_BINARY_DIRS.intersection(dirs)
