"""Schema migrations run from code (Alembic), and the check that refuses an outdated schema.

``upgrade`` brings the database to the newest revision; ``require_current`` is what ``serve``
and ``worker`` call before starting, so that they never run against tables they do not know.
The vulnerability store's ``vuln_`` tables stay with ``VulnStore.open`` (``create_all``); the
upgrade creates them too, so one command prepares a new database completely.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from spyglass.errors import DataError

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_COMMAND = "spyglass db upgrade"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision this Spyglass knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "the migrations folder has no revision"
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise DataError(f"cannot read the schema version ({exc}); check the database URL") from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` and create the vulnerability tables."""
    from spyglass.vulndb.tables import metadata as vuln_metadata

    config = _config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        vuln_metadata.create_all(engine)
    except SQLAlchemyError as exc:
        raise DataError(f"schema upgrade failed ({exc}); the database was left as it was") from exc


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base`` for none)."""
    config = _config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
    except SQLAlchemyError as exc:
        raise DataError(f"schema downgrade failed ({exc})") from exc


def require_current(engine: Engine) -> None:
    """Raise ``DataError`` naming the fixing command unless the schema is the newest."""
    found, wanted = current(engine), head()
    if found == wanted:
        return
    state = "has no Spyglass tables yet" if found is None else f"is at schema revision {found}"
    raise DataError(
        f"the database {state}; this Spyglass needs revision {wanted}: run `{UPGRADE_COMMAND}`"
    )
