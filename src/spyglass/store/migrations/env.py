"""Alembic environment: always run programmatically with a connection from ``schema.py``."""

from __future__ import annotations

from alembic import context

from spyglass.store.models import Base


def _include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
    # The vulnerability store's vuln_ tables share the database but are not ours to migrate.
    return not (type_ == "table" and (name or "").startswith("vuln_"))


def run_migrations_online() -> None:
    """Migrate on the connection the caller put in ``config.attributes``."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
