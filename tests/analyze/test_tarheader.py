"""The fast header decoder gives what tarfile.TarInfo.frombuf gives, or raises where it raises."""

from __future__ import annotations

import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.analyze.tarheader import Header, parse_header

TYPES = [tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
         tarfile.CHRTYPE, tarfile.FIFOTYPE, tarfile.CONTTYPE]
NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1, max_size=99)


def expected(block: bytes) -> Header:
    info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    sparse = bool(getattr(info, "_sparse_structs", (None, False))[1])
    return Header(info.type, info.name, info.linkname, info.size, info.mode, sparse)


def header(name: str, kind: bytes, size: int = 0, fmt: int = tarfile.USTAR_FORMAT,
           link: str = "", mode: int = 0o644) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname, info.mode = kind, size, link, mode
    return info.tobuf(fmt, "utf-8", "surrogateescape")[:512]


@given(
    NAMES, st.sampled_from(TYPES), st.integers(0, 8**11 - 1), st.integers(0, 0o7777), NAMES,
    st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT]),
)
def test_same_fields_as_frombuf(
    name: str, kind: bytes, size: int, mode: int, link: str, fmt: int
) -> None:
    if len(name.encode()) > 100 or len(link.encode()) > 100:
        return  # these become long-name entries, tested with the tar stream
    block = header(name, kind, size if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0,
                   fmt, link, mode)
    assert parse_header(block) == expected(block)


def test_ustar_prefix_v7_directory_and_trailing_slashes() -> None:
    long = "a/" * 60 + "file"
    for block in (header(long, tarfile.REGTYPE), header("old/dir/", tarfile.AREGTYPE),
                  header("dir//", tarfile.DIRTYPE)):
        assert parse_header(block) == expected(block)
    assert parse_header(header("old/dir/", tarfile.AREGTYPE)).type == tarfile.DIRTYPE


def test_base256_size_and_signed_checksum_go_to_frombuf() -> None:
    big = header("big", tarfile.REGTYPE, 2**34, tarfile.GNU_FORMAT)  # over 8 GiB: base-256
    assert parse_header(big).size == 2**34
    signed = bytearray(header("\udcff" * 4, tarfile.REGTYPE))  # bytes >= 0x80 in the name
    chk = sum(b if b < 128 else b - 256 for b in signed[:148] + b" " * 8 + signed[156:])
    signed[148:156] = b"%06o\0 " % chk
    assert parse_header(bytes(signed)) == expected(bytes(signed))


@pytest.mark.parametrize("damage", [148, 124, 0])
def test_bad_headers_raise_as_frombuf_does(damage: int) -> None:
    block = bytearray(header("etc/file", tarfile.REGTYPE, 10))
    block[damage] = ord("9")
    with pytest.raises(tarfile.HeaderError):
        tarfile.TarInfo.frombuf(bytes(block), "utf-8", "surrogateescape")
    with pytest.raises(tarfile.HeaderError):
        parse_header(bytes(block))
