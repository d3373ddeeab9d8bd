"""The vulnerability store: normalised feed data in SQLite (default) or PostgreSQL.

Writes replace one feed's rows in one transaction, so readers see the old data or the new,
never a mix; :meth:`VulnStore.replace_parts` takes the rows part by part as parse workers
send them (``writes.py`` does the writing). Reads are shaped for the matcher:
:meth:`VulnStore.candidates` answers a coarse "which advisories name these packages" for a
whole inventory at once; the version comparison that decides is the matcher's. SQLAlchemy
errors are wrapped in ``DataError`` here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from spyglass.config import data_dir
from spyglass.errors import DataError
from spyglass.vulndb import rows, tables, writes
from spyglass.vulndb.feeds.interface import FetchState, Validator
from spyglass.vulndb.model import Advisory, Affected, Exploited, FeedData
from spyglass.vulndb.writes import Stored

DATABASE_URL_ENV = "SPYGLASS_DATABASE_URL"
_CHUNK = 500  # names per IN (...) list: well under every backend's parameter limit

P = ParamSpec("P")
R = TypeVar("R")


def _wrapped(method: Callable[P, R]) -> Callable[P, R]:
    @wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise DataError(
                f"vulnerability store: {method.__name__} failed ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0]}); check {DATABASE_URL_ENV} and that the database is up"
            ) from exc

    return call


@dataclass(frozen=True)
class FeedStatus:
    """What ``db status`` shows for one feed."""

    name: str
    version: int
    records: int
    refreshed_at: str | None
    checked_at: str | None
    source: str
    content_hash: str
    validators: dict[str, Validator]


@dataclass(frozen=True)
class Candidate:
    """One affected package row with its advisory: input to the matcher's version check."""

    affected: Affected
    advisory: Advisory
    known_exploited: bool = False


def database_url(url: str | None = None) -> str:
    """The URL given, else ``SPYGLASS_DATABASE_URL``, else SQLite in the data directory."""
    url = url or os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{data_dir() / 'spyglass.db'}"
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):  # psycopg 3 is the driver we ship, not psycopg2
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets scans read while an update writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _feed_status(row: Any) -> FeedStatus:
    return FeedStatus(
        name=row["name"],
        version=row["version"],
        records=row["records"],
        refreshed_at=row["refreshed_at"],
        checked_at=row["checked_at"],
        source=row["source"],
        content_hash=row["content_hash"],
        validators=rows.validators_from_json(row["validators"]),
    )


def _add_fixes_column(engine: Engine) -> None:
    # create_all adds no column to an existing table; this one came after the first release.
    columns = {c["name"] for c in inspect(engine).get_columns(tables.advisory.name)}
    if "fixes" not in columns:
        column = "fixes TEXT NOT NULL DEFAULT '[]'"
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {tables.advisory.name} ADD COLUMN {column}"))


class VulnStore:
    """Feed data, per-feed fetch state, and the matcher's queries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    @_wrapped
    def open(cls, url: str | None = None, **engine_options: Any) -> VulnStore:
        """Connect (``database_url`` rules) and create the ``vuln_`` tables if missing."""
        engine = create_engine(database_url(url), **engine_options)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        tables.metadata.create_all(engine)
        _add_fixes_column(engine)
        return cls(engine)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    @_wrapped
    def replace(self, name: str, data: FeedData, state: FetchState, source: str) -> None:
        """Swap in a feed's new rows and fetch state in one transaction."""
        with writes.transaction(self.engine) as conn:
            writes.replace_feed(conn, name, rows.feed_parts(name, data), state, source)

    @_wrapped
    def replace_parts(
        self, name: str, parts: Iterable[rows.FeedPart], state: FetchState, source: str
    ) -> Stored:
        """:meth:`replace` from parts as they are parsed, in one transaction: each part's rows
        go in while later parts are still being parsed. An exception from ``parts`` (a record
        set that turns out unusable) rolls everything back and propagates."""
        with writes.transaction(self.engine) as conn:
            return writes.replace_feed(conn, name, parts, state, source)

    @_wrapped
    def mark_checked(self, name: str) -> None:
        """Record that a feed was checked and found unchanged."""
        with self.engine.begin() as conn:
            conn.execute(
                update(tables.feed)
                .where(tables.feed.c.name == name)
                .values(checked_at=writes.utc_now())
            )

    @_wrapped
    def feeds(self) -> list[FeedStatus]:
        """Every stored feed, by name."""
        with self.engine.connect() as conn:
            result = conn.execute(select(tables.feed).order_by(tables.feed.c.name))
            return [_feed_status(r._mapping) for r in result]

    def status(self, name: str) -> FeedStatus | None:
        """One feed's status, or ``None`` when it was never stored."""
        return next((f for f in self.feeds() if f.name == name), None)

    def fetch_state(self, name: str) -> FetchState:
        """What the last successful update of ``name`` recorded (empty when never updated)."""
        found = self.status(name)
        if found is None:
            return FetchState()
        return FetchState(found.version, found.validators, found.content_hash)

    @_wrapped
    def feed_data(self, name: str) -> FeedData:
        """Everything stored for one feed (for bundles)."""
        with self.engine.connect() as conn:
            adv = conn.execute(
                select(tables.advisory)
                .where(tables.advisory.c.feed == name)
                .order_by(tables.advisory.c.seq)
            )
            advisories = tuple(rows.advisory(r._mapping) for r in adv)
            aff = conn.execute(
                select(tables.affected)
                .where(tables.affected.c.feed == name)
                .order_by(tables.affected.c.pk)
            )
            affected = tuple(rows.affected(r._mapping) for r in aff)
            kev = conn.execute(
                select(tables.exploited)
                .where(tables.exploited.c.feed == name)
                .order_by(tables.exploited.c.pk)
            )
            exploited = tuple(rows.exploited(r._mapping) for r in kev)
        return FeedData(advisories, affected, exploited)

    @_wrapped
    def candidates(
        self,
        ecosystem: str,
        distro: str | None,
        names: Iterable[str],
        *,
        include_withdrawn: bool = False,
    ) -> list[Candidate]:
        """Affected rows (with advisories) naming any of ``names`` in (ecosystem, distro).

        Names must be normalised with ``ecosystems.normalise_name``. Withdrawn advisories are
        left out unless asked for. Known exploitation is looked up for all results at once.
        """
        wanted = sorted(set(names))
        found: list[tuple[Affected, Advisory]] = []
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                query = rows.candidate_query(
                    ecosystem, distro or "", wanted[start : start + _CHUNK]
                )
                if not include_withdrawn:
                    query = query.where(tables.advisory.c.withdrawn.is_(None))
                found.extend(rows.candidate(r._mapping) for r in conn.execute(query))
            exploited = self._exploited_ids(conn, {i for _, adv in found for i in adv.all_ids})
        return [Candidate(aff, adv, not exploited.isdisjoint(adv.all_ids)) for aff, adv in found]

    @_wrapped
    def exploited(self, ids: Iterable[str]) -> dict[str, Exploited]:
        """KEV entries for any of ``ids`` (an advisory's id and aliases), by vulnerability id."""
        wanted = sorted(set(ids))
        with self.engine.connect() as conn:
            result: dict[str, Exploited] = {}
            for start in range(0, len(wanted), _CHUNK):
                query = select(tables.exploited).where(
                    tables.exploited.c.vuln_id.in_(wanted[start : start + _CHUNK])
                )
                result.update((r.vuln_id, rows.exploited(r._mapping)) for r in conn.execute(query))
        return result

    def is_known_exploited(self, advisory: Advisory | str) -> bool:
        """True when the advisory (by id, alias or CVE fixed) is in a known-exploited catalogue."""
        ids = advisory.all_ids if isinstance(advisory, Advisory) else (advisory,)
        return bool(self.exploited(ids))

    @staticmethod
    def _exploited_ids(conn: Any, ids: set[str]) -> set[str]:
        wanted, found = sorted(ids), set()
        for start in range(0, len(wanted), _CHUNK):
            query = select(tables.exploited.c.vuln_id).where(
                tables.exploited.c.vuln_id.in_(wanted[start : start + _CHUNK])
            )
            found.update(conn.execute(query).scalars())
        return found
