"""The Berkeley DB hash reader on databases written here in both byte orders.

:func:`build_bdb` lays out a hash database the way libdb does (metadata page, one page chain
per bucket, values longer than a page in overflow chains). Real rpm reads what it writes (see
``test_real_rpm_reads_the_built_database``), so the big-endian case checks the byte swapping
against rpm's own ``bdb_ro`` backend, not against this test's idea of the format.
"""

from __future__ import annotations

import io
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest

from spyglass.analyze.pkgdb.rpm import bdb
from spyglass.analyze.pkgdb.rpm import header as h
from spyglass.analyze.pkgdb.rpm.analyzer import RpmAnalyzer
from spyglass.analyze.pkgdb.rpm.header import BadRecord
from spyglass.errors import AnalyzerError
from tests.analyze.pkgdb.test_rpm import layer
from tests.analyze.pkgdb.test_rpm_header import Value, build_header
from tests.helpers.analyzers import run_tar
from tests.helpers.services import require_tool

PAGE = 512
HASH_MAGIC, BTREE_MAGIC = 0x061561, 0x053162


def _page(
    order: str, pgno: int, kind: int, next_pgno: int = 0, count: int = 0, used: int = 0
) -> bytearray:
    page = bytearray(PAGE)
    struct.pack_into(order + "III", page, 8, pgno, 0, next_pgno)
    struct.pack_into(order + "HH", page, 20, count, used)
    page[24], page[25] = 1, kind
    return page


def build_bdb(
    records: list[tuple[int, bytes]], order: str = "<", buckets: int = 2, magic: int = HASH_MAGIC
) -> bytes:
    """A hash database; record i goes to bucket i % buckets, a bucket page holds two records."""
    pages: list[bytearray] = [bytearray(PAGE)]  # page 0 is filled in last
    spares = [1] + [1] * 31  # bucket b lives on page b + 1
    chains: dict[int, list[tuple[int, bytes]]] = {b: [] for b in range(buckets)}
    for i, record in enumerate(records):
        chains[i % buckets].append(record)
    pages.extend(bytearray(PAGE) for _ in range(buckets))
    for bucket, items in chains.items():
        _fill_bucket(pages, order, bucket + 1, items)
    meta = pages[0]
    struct.pack_into(order + "IIII", meta, 8, 0, magic, 9, PAGE)
    meta[25] = 8
    struct.pack_into(order + "I", meta, 32, len(pages) - 1)
    struct.pack_into(order + "III", meta, 72, buckets - 1, 1, 0)
    struct.pack_into(order + "32I", meta, 96, *spares)
    return b"".join(pages)


def _fill_bucket(
    pages: list[bytearray], order: str, pgno: int, items: list[tuple[int, bytes]]
) -> None:
    chunks = [items[i : i + 2] for i in range(0, len(items), 2)] or [[]]
    for n, chunk in enumerate(chunks):
        next_pgno = len(pages) if n + 1 < len(chunks) else 0
        if next_pgno:
            pages.append(bytearray(PAGE))
        pages[pgno] = _hash_page(pages, order, pgno, chunk, next_pgno)
        pgno = next_pgno


def _hash_page(
    pages: list[bytearray], order: str, pgno: int, items: list[tuple[int, bytes]], next_pgno: int
) -> bytearray:
    page = _page(order, pgno, 13, next_pgno, 2 * len(items))
    end = PAGE
    for i, (key, value) in enumerate(items):
        key_item = b"\x01" + struct.pack(order + "I", key)
        value_item = b"\x01" + value if len(value) < 60 else _offpage(pages, order, value)
        for j, item in enumerate((key_item, value_item)):
            end -= len(item)
            page[end : end + len(item)] = item
            struct.pack_into(order + "H", page, 26 + 2 * (2 * i + j), end)
    return page


def _offpage(pages: list[bytearray], order: str, value: bytes) -> bytes:
    room = PAGE - 26
    parts = [value[i : i + room] for i in range(0, len(value), room)]
    first = len(pages)
    for n, part in enumerate(parts):
        pgno = first + n
        next_pgno = pgno + 1 if n + 1 < len(parts) else 0
        page = _page(order, pgno, 7, next_pgno, 1, len(part))
        page[26 : 26 + len(part)] = part
        pages.append(page)
    return b"\x03\0\0\0" + struct.pack(order + "II", first, len(value))


def package(name: str, epoch: int | None = None) -> bytes:
    """A header blob long enough to need overflow pages."""
    tags: list[tuple[int, str, Value]] = [
        (h.NAME, "string", name),
        (h.VERSION, "string", "1.0"),
        (h.RELEASE, "string", "1"),
        (h.ARCH, "string", "x86_64"),
        (h.LICENSE, "string", "MIT " * 200),
    ]
    if epoch is not None:
        tags.append((h.EPOCH, "int32", epoch))
    return build_header(tags)


RECORDS = [(0, struct.pack("<I", 4)), (1, package("a")), (2, package("b", 0)), (3, package("c", 7))]


def names(data: bytes) -> list[str]:
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/Packages": data}))
    assert run.unknowns == []
    return sorted(f"{p.name}:{p.epoch}" for p in run.packages)


@pytest.mark.parametrize("order", ["<", ">"])
def test_both_byte_orders(order: str) -> None:
    assert names(build_bdb(RECORDS, order)) == ["a:None", "b:0", "c:7"]


def test_bucket_chains_and_inline_values() -> None:
    small = build_header([(h.NAME, "string", "tiny")])
    assert len(small) < 60
    records = [(n, package(f"p{n}")) for n in range(1, 10)] + [(10, small)]
    got = names(build_bdb(records, ">", buckets=3))
    assert got == sorted([f"p{n}:None" for n in range(1, 10)] + ["tiny:None"])


def test_page_chain_loop_keeps_what_was_read() -> None:
    data = bytearray(build_bdb([(1, package("a")), (2, package("b"))], buckets=1))
    struct.pack_into("<I", data, PAGE + 16, 1)  # bucket page 1 points back to itself
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/Packages": bytes(data)}))
    assert sorted(p.name for p in run.packages) == ["a", "b"]
    (unknown,) = run.unknowns
    assert "loops" in unknown.reason and "2 packages read before it are kept" in unknown.reason


def test_damaged_key_is_a_bad_record() -> None:
    data = bytearray(build_bdb([(1, package("a")), (2, package("b"))], buckets=1))
    key_offset = struct.unpack_from("<H", data, PAGE + 26)[0]
    data[PAGE + key_offset] = 9
    got = list(bdb.read_blobs(io.BytesIO(bytes(data))))
    assert isinstance(got[0], BadRecord) and not isinstance(got[1], BadRecord)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({12: struct.pack("<I", BTREE_MAGIC)}, "btree"),
        ({16: struct.pack("<I", 5)}, "hash version 5"),
        ({24: b"\x01"}, "encrypted"),
        ({20: struct.pack("<I", 1000)}, "page size"),
        ({72: struct.pack("<I", 1 << 30)}, "buckets"),
    ],
)
def test_bad_metadata(patch: dict[int, bytes], message: str) -> None:
    data = bytearray(build_bdb(RECORDS))
    for offset, value in patch.items():
        data[offset : offset + len(value)] = value
    with pytest.raises(AnalyzerError, match=message):
        list(bdb.read_blobs(io.BytesIO(bytes(data))))


def test_truncated_file() -> None:
    data = build_bdb(RECORDS)
    with pytest.raises(AnalyzerError, match="page 2 is truncated"):
        list(bdb.read_blobs(io.BytesIO(data[: 2 * PAGE])))
    # With the bucket pages whole, each record whose overflow pages are cut off is reported.
    got = list(bdb.read_blobs(io.BytesIO(data[: 3 * PAGE])))
    assert len(got) == 3 and all(isinstance(r, BadRecord) for r in got)


@pytest.mark.realdata
@pytest.mark.parametrize("order", ["<", ">"])
def test_real_rpm_reads_the_built_database(testdata: Path, tmp_path: Path, order: str) -> None:
    """Real headers (from the Mariner SQLite database) in a built BDB: rpm and we agree."""
    rpm = require_tool("rpm", "apt-get install rpm")
    source = testdata / "pkgdb/rpm/mariner2-sqlite/rpmdb.sqlite"
    with sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True) as conn:
        rows = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum LIMIT 12").fetchall()
    conn.close()
    (tmp_path / "Packages").write_bytes(build_bdb([(0, b"\x0d\0\0\0"), *rows], order, buckets=4))
    query = [rpm, "--dbpath", str(tmp_path), "--define", "_db_backend bdb_ro", "-qa"]
    printed = subprocess.run([*query, "--qf", "%{NAME}:%{EPOCH}\n"], capture_output=True, text=True)
    assert printed.returncode == 0, printed.stderr
    want = sorted(line.replace("(none)", "None") for line in printed.stdout.splitlines())
    assert len(want) == 12
    assert names((tmp_path / "Packages").read_bytes()) == want
