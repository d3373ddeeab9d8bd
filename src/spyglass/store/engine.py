"""Engine and sessions for the service store, from ``Settings.database_url``.

SQLite (the embedded default) is opened in WAL mode with a generous busy timeout, because the
API and several worker processes write to the same file; foreign keys are switched on so that
deletes cascade as they do on PostgreSQL. SQLAlchemy errors become ``DataError`` at this seam.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from spyglass.errors import DataError
from spyglass.vulndb.store import DATABASE_URL_ENV

SQLITE_BUSY_SECONDS = 30


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``)."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise DataError(f"cannot use database {url!r} ({exc}); check {DATABASE_URL_ENV}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (API responses read them)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error.

    Database failures leave as ``DataError`` saying what to check.
    """
    try:
        with sessions.begin() as session:
            yield session
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"service database failed ({type(exc).__name__}: {first}); check "
            f"{DATABASE_URL_ENV} and that the database is up"
        ) from exc


class Database:
    """One engine and its session factory; ``transaction()`` is how every caller writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)

    @classmethod
    def connect(cls, url: str) -> Database:
        """Connect to ``url`` (lazily: the first transaction opens the connection)."""
        return cls(make_engine(url))

    def transaction(self) -> AbstractContextManager[Session]:
        """A session in one transaction (see :func:`transaction`)."""
        return transaction(self.sessions)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()
