"""Writing one feed's rows inside the store's replace transaction, as fast as the driver goes.

Rows arrive as batches of plain tuples (``rows.RowBatch``), possibly part by part from parse
workers, and go straight to the driver's ``executemany``. Advisories are numbered (``seq``) in
order of first appearance as they arrive; a repeated id keeps its number and takes the later
row, as a dict would.

On SQLite the transaction commits without a WAL checkpoint until the WAL holds 64 MiB: a
checkpoint copies the feed from the WAL into the database file right after the commit, on the
critical path of every feed of an update, where one checkpoint for several feeds does. The
committed data is in the WAL either way (safe, and visible to readers); the checkpoint comes
with a later commit, or when the store closes. The WAL stays bounded (64 MiB and one feed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert
from sqlalchemy.exc import SQLAlchemyError

from spyglass.vulndb import rows, tables
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.model import Skipped

_ADVISORY = tables.advisory.name
_AUTOCHECKPOINT = 1000  # SQLite's default, in pages
_REPLACE_AUTOCHECKPOINT = 16384  # 64 MiB of 4 KiB pages


@dataclass(frozen=True)
class Stored:
    """What one feed replacement stored: its record count and the records its parse skipped."""

    records: int
    skipped: tuple[Skipped, ...] = ()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()``, with SQLite's automatic checkpoint put off (module docstring)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            _pragma(conn, f"wal_autocheckpoint={_REPLACE_AUTOCHECKPOINT}")
        try:
            with conn.begin():
                yield conn
        finally:
            if sqlite:
                _restore_checkpoints(conn)


def _restore_checkpoints(conn: Connection) -> None:
    try:
        _pragma(conn, f"wal_autocheckpoint={_AUTOCHECKPOINT}")
    except SQLAlchemyError:  # a broken connection: never pooled again, the first error stands
        conn.invalidate()


def _pragma(conn: Connection, pragma: str) -> None:
    conn.exec_driver_sql(f"PRAGMA {pragma}")
    conn.commit()  # ends SQLAlchemy's autobegun transaction (SQLite began none for a PRAGMA)


def replace_feed(
    conn: Connection,
    name: str,
    parts: Iterable[rows.FeedPart],
    state: FetchState,
    source: str,
) -> Stored:
    """Delete ``name``'s rows, insert the parts' rows as they come, then its feed row."""
    _clear(conn, name)
    records, skipped = 0, list[Skipped]()
    numbering = _Numbering()
    for part in parts:
        records += part.records
        skipped.extend(part.skipped)
        for batch in part.batches:
            _insert_batch(conn, numbering, batch)
    conn.execute(insert(tables.feed), [_feed_row(name, records, state, source)])
    return Stored(records, tuple(skipped))


def _insert_batch(conn: Connection, numbering: _Numbering, batch: rows.RowBatch) -> None:
    table, columns, values = batch
    if table != _ADVISORY:
        bulk_insert(conn, table, columns, values)
        return
    fresh, again = numbering.split(values)
    bulk_insert(conn, table, (*columns, "seq"), fresh)
    for row in again:  # an id seen before (never in the real feeds): the later row wins
        _update_advisory(conn, columns, row)


class _Numbering:
    """Advisory ``seq`` in order of first appearance of each id."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def split(self, values: list[tuple[Any, ...]]) -> tuple[list[Any], list[Any]]:
        """(new rows with their ``seq`` appended, rows of ids seen before)."""
        fresh, again = [], []
        for row in values:
            if row[1] in self.seen:
                again.append(row)
            else:
                fresh.append((*row, len(self.seen)))
                self.seen.add(row[1])
        return fresh, again


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], values: list[Any]) -> None:
    """One driver-level executemany: SQLAlchemy's per-row parameter processing is half the
    cost of an ingest, and these rows are plain str/int/float/None that need none of it."""
    if not values:
        return
    mark = _mark(conn)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    conn.exec_driver_sql(sql, values)


def _update_advisory(conn: Connection, columns: Sequence[str], row: tuple[Any, ...]) -> None:
    mark = _mark(conn)
    values = dict(zip(columns, row, strict=True))
    key = (values.pop("feed"), values.pop("id"))
    assignments = ", ".join(f"{column} = {mark}" for column in values)
    sql = f"UPDATE {_ADVISORY} SET {assignments} WHERE feed = {mark} AND id = {mark}"
    conn.exec_driver_sql(sql, (*values.values(), *key))


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _clear(conn: Connection, name: str) -> None:
    for table in (tables.affected, tables.advisory, tables.exploited, tables.feed):
        key = table.c.name if table is tables.feed else table.c.feed
        conn.execute(delete(table).where(key == name))


def _feed_row(name: str, records: int, state: FetchState, source: str) -> dict[str, Any]:
    now = utc_now()
    return {
        "name": name,
        "version": state.version or 0,
        "records": records,
        "refreshed_at": now,
        "checked_at": now,
        "source": source,
        "validators": rows.validators_json(state.validators),
        "content_hash": state.content_hash,
    }


def utc_now() -> str:
    """Now, as the store writes timestamps (ISO 8601, seconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
