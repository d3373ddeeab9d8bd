"""The rpm header blob decoder, on blobs built here tag by tag, and the SOURCERPM split."""

from __future__ import annotations

import struct

import pytest

from spyglass.analyze.pkgdb.rpm import header as h
from spyglass.analyze.pkgdb.rpm.header import parse_header, split_source_rpm
from spyglass.errors import AnalyzerError

Value = str | int | list[str] | list[int]
_TYPES = {"int32": 4, "string": 6, "array": 8, "i18n": 9}


def build_header(tags: list[tuple[int, str, Value]]) -> bytes:
    """A header blob as rpm stores it: counts, 16-byte entries, then the aligned data store."""
    entries, data = b"", bytearray()
    for tag, kind, value in tags:
        if kind == "int32":
            data.extend(b"\0" * (-len(data) % 4))
        items = value if isinstance(value, list) else [value]
        entries += struct.pack(">IIiI", tag, _TYPES[kind], len(data), len(items))
        for item in items:
            data.extend(struct.pack(">I", item) if kind == "int32" else f"{item}\0".encode())
    return struct.pack(">II", len(tags), len(data)) + entries + bytes(data)


BASE: list[tuple[int, str, Value]] = [
    (h.NAME, "string", "bash"),
    (h.VERSION, "string", "5.1.8"),
    (h.RELEASE, "string", "6.el9"),
    (h.ARCH, "string", "x86_64"),
    (h.SOURCERPM, "string", "bash-5.1.8-6.el9.src.rpm"),
    (h.LICENSE, "string", "GPLv3+"),
]


def test_fields_and_absent_epoch() -> None:
    got = parse_header(build_header(BASE))
    assert (got.name, got.version, got.release, got.arch) == ("bash", "5.1.8", "6.el9", "x86_64")
    assert got.epoch is None
    assert got.source_rpm == "bash-5.1.8-6.el9.src.rpm"
    assert (got.license, got.vendor, got.modularity_label) == ("GPLv3+", None, None)


def test_epoch_zero_is_not_absent() -> None:
    assert parse_header(build_header([*BASE, (h.EPOCH, "int32", 0)])).epoch == 0
    assert parse_header(build_header([*BASE, (h.EPOCH, "int32", [2])])).epoch == 2


def test_i18n_string_takes_the_untranslated_value() -> None:
    got = parse_header(build_header([*BASE, (h.VENDOR, "i18n", ["Red Hat", "Rouge Chapeau"])]))
    assert got.vendor == "Red Hat"


def test_modularity_label() -> None:
    label = "nodejs:18:8080020230530095317:fd72936b"
    got = parse_header(build_header([*BASE, (h.MODULARITYLABEL, "string", label)]))
    assert got.modularity_label == label


def test_later_entry_wins() -> None:
    # rpm appends install-time tags after the signed region; a repeated tag takes the later value.
    assert parse_header(build_header([*BASE, (h.ARCH, "string", "noarch")])).arch == "noarch"


def test_file_list_from_dirnames() -> None:
    files: list[tuple[int, str, Value]] = [
        (h.BASENAMES, "array", ["bin", "bash", "README"]),
        (h.DIRNAMES, "array", ["/usr/", "/usr/bin/", "/usr/share/doc/bash/"]),
        (h.DIRINDEXES, "int32", [0, 1, 2]),
    ]
    got = parse_header(build_header(BASE + files))
    assert got.files == ("usr/bin", "usr/bin/bash", "usr/share/doc/bash/README")


def test_old_file_names() -> None:
    got = parse_header(build_header([*BASE, (h.OLDFILENAMES, "array", ["/etc/a", "/etc/b"])]))
    assert got.files == ("etc/a", "etc/b")


def test_no_files() -> None:
    assert parse_header(build_header(BASE)).files == ()


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "too short"),
        (struct.pack(">II", 0, 0), "claims 0 entries"),
        (struct.pack(">II", 1 << 20, 4), "claims"),
        (build_header(BASE)[:-3], "truncated"),
        (build_header([(h.VERSION, "string", "1")]), "no NAME"),
        (build_header([(h.NAME, "int32", 7)]), "expected a string"),
        (build_header([*BASE, (h.EPOCH, "string", "1")]), "integer"),
    ],
)
def test_damaged_headers_raise(blob: bytes, message: str) -> None:
    with pytest.raises(AnalyzerError, match=message):
        parse_header(blob)


def test_offset_outside_data_raises() -> None:
    blob = bytearray(build_header(BASE))
    struct.pack_into(">i", blob, 8 + 8, 10_000)  # offset of the first entry (NAME)
    with pytest.raises(AnalyzerError, match="outside the data"):
        parse_header(bytes(blob))


def test_unterminated_string_raises() -> None:
    blob = build_header([(h.NAME, "string", "x")])[:-1] + b"y"
    with pytest.raises(AnalyzerError, match="past the end"):
        parse_header(blob)


def test_inconsistent_file_list_raises() -> None:
    files: list[tuple[int, str, Value]] = [
        (h.BASENAMES, "array", ["a", "b"]),
        (h.DIRNAMES, "array", ["/x/"]),
        (h.DIRINDEXES, "int32", [0, 3]),
    ]
    with pytest.raises(AnalyzerError, match="inconsistent"):
        parse_header(build_header(BASE + files))


@pytest.mark.parametrize(
    ("source_rpm", "want"),
    [
        ("util-linux-2.32.1-42.el8_8.src.rpm", ("util-linux", "2.32.1", "42.el8_8")),
        ("openssl-1.1.1k-15.cm2.src.rpm", ("openssl", "1.1.1k", "15.cm2")),
        ("kernel-5.14.0-1.nosrc.rpm", ("kernel", "5.14.0", "1")),
        ("(none)", None),
        ("", None),
        (None, None),
        ("noversion.src.rpm", None),
    ],
)
def test_split_source_rpm(source_rpm: str | None, want: tuple[str, str, str] | None) -> None:
    assert split_source_rpm(source_rpm) == want
