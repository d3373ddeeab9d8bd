"""A real SQLite vulnerability store in tmp, filled from hand-written feed data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spyglass.inventory import Inventory, OSRelease, Package
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.model import FeedData
from spyglass.vulndb.store import VulnStore

Load = Callable[[str, FeedData], VulnStore]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VulnStore]:
    """An empty store."""
    opened = VulnStore.open(f"sqlite:///{tmp_path / 'vuln.db'}")
    yield opened
    opened.close()


@pytest.fixture
def load(store: VulnStore) -> Load:
    """Store one feed's data (replacing that feed), returning the store."""

    def put(name: str, data: FeedData) -> VulnStore:
        store.replace(name, data, FetchState(1), "test")
        return store

    return put


def inventory(*packages: Package, os: OSRelease | None = None) -> Inventory:
    """An inventory of the given packages."""
    return Inventory("test:latest", None, "linux/amd64", os, (), tuple(packages))
