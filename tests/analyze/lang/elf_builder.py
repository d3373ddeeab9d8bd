"""Build small ELF files in memory for tests: any word size and byte order, chosen sections.

Each section with a non-zero address also gets a read-write PT_LOAD segment mapping it, so
that reads by virtual address work as in a linked executable. Real binaries from
../shared/data cover the common case (64-bit little-endian); these cover the rest.
"""

from __future__ import annotations

import struct

SHT_PROGBITS, SHT_STRTAB, PT_LOAD, PF_RW = 1, 3, 1, 6


def build_elf(
    sections: list[tuple[str, bytes, int]], *, is64: bool = True, big: bool = False
) -> bytes:
    """An ELF executable holding ``(name, data, address)`` sections, plus ``.shstrtab``."""
    order = ">" if big else "<"
    ehsize, phentsize, _shentsize = (64, 56, 64) if is64 else (52, 32, 40)
    loaded = [s for s in sections if s[2]]
    names = b"\0" + b"".join(n.encode() + b"\0" for n, _, _ in sections) + b".shstrtab\0"
    offset = ehsize + phentsize * len(loaded)
    placed = []  # (name offset, data offset, size, addr)
    body = b""
    name_at = 1
    for name, data, addr in sections:
        placed.append((name_at, offset + len(body), len(data), addr))
        name_at += len(name) + 1
        body += data + b"\0" * (-len(data) % 16)
    strtab_at = offset + len(body)
    body += names + b"\0" * (-len(names) % 16)
    shoff = offset + len(body)
    phdrs = b"".join(_phdr(order, is64, off, addr, size) for _, off, size, addr in placed if addr)
    shdrs = _shdr(order, is64, 0, 0, 0, 0, 0)
    shdrs += b"".join(_shdr(order, is64, n, SHT_PROGBITS, a, o, s) for n, o, s, a in placed)
    shdrs += _shdr(order, is64, name_at, SHT_STRTAB, 0, strtab_at, len(names))
    header = _header(order, is64, len(loaded), shoff, len(sections) + 2, ehsize)
    return header + phdrs + body + shdrs


def _header(order: str, is64: bool, phnum: int, shoff: int, shnum: int, ehsize: int) -> bytes:
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 2 if order == ">" else 1, 1]) + b"\0" * 9
    phentsize, shentsize = (56, 64) if is64 else (32, 40)
    fmt = order + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
    return ident + struct.pack(
        fmt, 2, 62, 1, 0, ehsize, shoff, 0, ehsize, phentsize, phnum, shentsize, shnum, shnum - 1
    )


def _phdr(order: str, is64: bool, offset: int, addr: int, size: int) -> bytes:
    if is64:
        return struct.pack(order + "IIQQQQQQ", PT_LOAD, PF_RW, offset, addr, addr, size, size, 16)
    return struct.pack(order + "IIIIIIII", PT_LOAD, offset, addr, addr, size, size, PF_RW, 16)


def _shdr(order: str, is64: bool, name: int, kind: int, addr: int, offset: int, size: int) -> bytes:
    if is64:
        return struct.pack(order + "IIQQQQIIQQ", name, kind, 3, addr, offset, size, 0, 0, 16, 0)
    return struct.pack(order + "IIIIIIIIII", name, kind, 3, addr, offset, size, 0, 0, 16, 0)
