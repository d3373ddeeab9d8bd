"""Migrations run from empty on SQLite and PostgreSQL, match the models, and are enforced."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from spyglass.errors import DataError
from spyglass.store import schema
from spyglass.store.engine import Database, make_engine
from spyglass.store.models import Base
from tests.helpers.backends import SERVICE_TABLES, Backend, create_pg_database, drop_pg_database


def test_backend_is_migrated_from_empty_to_head(backend: Backend, db: Database) -> None:
    assert schema.current(db.engine) == schema.head()
    tables = set(inspect(db.engine).get_table_names())
    assert set(SERVICE_TABLES) <= tables
    assert {"vuln_feed", "vuln_advisory", "vuln_affected"} <= tables  # one command, whole db
    schema.require_current(db.engine)


def test_models_and_migrations_agree(backend: Backend, db: Database) -> None:
    def ours(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return not (type_ == "table" and (name or "").startswith(("vuln_", "alembic")))

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours})
        assert compare_metadata(context, Base.metadata) == []


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, backend: Backend) -> str:
    """A new, empty database of the backend's kind."""
    if backend.name == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url = create_pg_database()
    request.addfinalizer(lambda: drop_pg_database(url))
    return url


def test_outdated_schema_is_refused_with_the_fixing_command(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with pytest.raises(DataError, match=r"no Spyglass tables yet.*run `spyglass db upgrade`"):
            schema.require_current(engine)
        schema.upgrade(engine)
        schema.downgrade(engine, "base")
        assert schema.current(engine) is None
        assert not set(SERVICE_TABLES) & set(inspect(engine).get_table_names())
        schema.upgrade(engine)
        schema.upgrade(engine)  # a second upgrade is a no-op
        schema.require_current(engine)
    finally:
        engine.dispose()


def test_unreachable_database_is_a_data_error() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(DataError, match="cannot read the schema version"):
        schema.current(engine)
