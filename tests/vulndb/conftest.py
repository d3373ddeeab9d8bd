"""Fixtures for the vulnerability data tests: the advisory folders and a store per backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from spyglass.vulndb.store import VulnStore
from tests.helpers.services import unavailable

POSTGRES_URL = os.environ.get(
    "SPYGLASS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def advisories(testdata: Path) -> Path:
    """``<testdata>/advisories``."""
    return testdata / "advisories"


def postgres_store() -> Iterator[VulnStore]:
    """A store in a fresh PostgreSQL schema, dropped afterwards (others share the database)."""
    schema = f"vulndb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    store = VulnStore.open(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VulnStore]:
    """An empty store on each backend."""
    if request.param == "postgresql":
        yield from postgres_store()
        return
    sqlite = VulnStore.open(f"sqlite:///{tmp_path / 'vuln.db'}")
    try:
        yield sqlite
    finally:
        sqlite.close()
