"""Read the header blobs out of an rpm SQLite database (``rpmdb.sqlite``, rpm 4.16 and later).

The database is the table ``Packages(hnum INTEGER PRIMARY KEY, blob BLOB)``; the standard
library's sqlite3 reads it. The file arrives as a stream, so it is loaded with
``Connection.deserialize`` rather than written to a temporary file: nothing to clean up, and
SQLite never creates ``-wal``/``-shm``/journal files beside an image's content. rpm keeps the
database in WAL mode, which an in-memory database cannot open, so the two header bytes that
say "WAL" are set back to "rollback journal" first (the WAL file itself is not in the image
after rpm closes the database cleanly, so no committed data is lost).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import IO

from spyglass.analyze.pkgdb.rpm.header import BadRecord
from spyglass.errors import AnalyzerError

_MAGIC = b"SQLite format 3\0"
_WAL = 2
_LEGACY = 1


def read_blobs(reader: IO[bytes]) -> Iterator[tuple[int, bytes] | BadRecord]:
    """(hnum, header blob) of each row of ``Packages``, in hnum order.

    Raises AnalyzerError when the database itself cannot be read.
    """
    with closing(_open(reader.read())) as conn:
        try:
            rows = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
            for hnum, blob in rows:
                if isinstance(blob, bytes):
                    yield hnum, blob
                else:
                    yield BadRecord(hnum, "the blob column is not binary")
        except sqlite3.Error as exc:
            raise AnalyzerError(f"rpm SQLite database cannot be read: {exc}") from exc


def _open(data: bytes) -> sqlite3.Connection:
    if not data:
        raise AnalyzerError("rpm SQLite database is an empty file")
    if not data.startswith(_MAGIC) or len(data) < 100:
        raise AnalyzerError("not an rpm SQLite database: the SQLite file header is missing")
    if data[18] == _WAL or data[19] == _WAL:
        data = data[:18] + bytes((_LEGACY, _LEGACY)) + data[20:]
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(data)
        conn.execute("PRAGMA query_only = ON")
    except (sqlite3.Error, MemoryError, OverflowError) as exc:
        conn.close()
        raise AnalyzerError(f"rpm SQLite database cannot be opened: {exc}") from exc
    return conn
