"""The service's two backends for tests: SQLite + Huey-on-SQLite, PostgreSQL + Huey-on-Redis.

``backend`` is a session fixture parametrised over both. The PostgreSQL side creates a uniquely
named database on 127.0.0.1:5432 (trust auth, user postgres) and drops it afterwards; the Redis
side uses a unique Huey name (its key prefix) and deletes those keys afterwards. Migrations run
from empty on each. A missing server fails in CI and skips elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import text

from spyglass.service.settings import Settings
from spyglass.store.engine import Database
from spyglass.store.schema import upgrade
from tests.helpers.services import unavailable

PG_ADMIN_URL = os.environ.get("SPYGLASS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SPYGLASS_TEST_REDIS", "redis://127.0.0.1:6379/0")
SERVICE_TABLES = ("finding_events", "findings", "inventories", "queue_entries", "tags", "scans",
                  "images", "repositories", "registries", "api_tokens")
VULN_TABLES = ("vuln_affected", "vuln_advisory", "vuln_exploited", "vuln_feed")


@dataclass(frozen=True)
class Backend:
    """One backend's settings, and the environment a subprocess needs to use it."""

    name: str
    settings: Settings

    def env(self, **extra: str) -> dict[str, str]:
        """``os.environ`` plus the SPYGLASS_* variables that select this backend."""
        env = dict(os.environ)
        env.update({
            "SPYGLASS_DATABASE_URL": self.settings.database_url,
            "SPYGLASS_QUEUE_URL": self.settings.queue_url,
            "SPYGLASS_QUEUE_NAME": self.settings.queue_name,
            "SPYGLASS_DATA_DIR": str(self.settings.data_dir),
            "SPYGLASS_VISIBILITY_TIMEOUT": str(self.settings.visibility_timeout),
        })
        env.update(extra)
        return env


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def create_pg_database() -> str:
    """A new empty PostgreSQL database; its SQLAlchemy URL."""
    import psycopg

    name = f"spyglass_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not usable: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`create_pg_database`, closing its connections."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis_ready() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} is not usable: {exc}")


def _flush_redis(queue_name: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    keys = list(client.scan_iter(match=f"*{queue_name}*", count=1000))
    if keys:
        client.delete(*keys)


def truncate(db: Database) -> None:
    """Empty every table (tests share one database per backend and session)."""
    with db.engine.begin() as conn:
        for table in SERVICE_TABLES + VULN_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


@contextmanager
def make_backend(name: str, root: Path, **timings: float) -> Iterator[Backend]:
    """A migrated, empty backend ("sqlite" or "postgres") for the duration of the block."""
    queue_name = f"spyglass-test-{uuid.uuid4().hex[:10]}"
    if name == "sqlite":
        settings = Settings(database_url=f"sqlite:///{root / 'spyglass.db'}", queue_url="",
                            data_dir=root, queue_name=queue_name)
    else:
        _redis_ready()
        settings = Settings(database_url=create_pg_database(), queue_url=REDIS_URL,
                            data_dir=root, queue_name=queue_name)
    settings = replace(settings, **timings)  # type: ignore[arg-type]
    db = Database.connect(settings.database_url)
    try:
        upgrade(db.engine)
        db.close()
        yield Backend(name, settings)
    finally:
        db.close()
        if name == "postgres":
            drop_pg_database(settings.database_url)
            _flush_redis(queue_name)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Backend]:
    """Each backend in turn, migrated from empty, with a short visibility timeout."""
    root = tmp_path_factory.mktemp(f"service-{request.param}")
    with make_backend(request.param, root, visibility_timeout=3.0) as made:
        yield made
