"""Both service backends, and a clean database on each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spyglass.store.engine import Database
from tests.helpers.backends import Backend, backend, truncate

__all__ = ["backend"]


@pytest.fixture
def db(backend: Backend) -> Iterator[Database]:
    """The backend's database, emptied."""
    database = Database.connect(backend.settings.database_url)
    truncate(database)
    yield database
    database.close()
