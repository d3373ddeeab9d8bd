"""Reading ``versions/`` vector files from the shared test data (``#`` lines are comments)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tests.conftest import testdata_root

VERSIONS = testdata_root() / "versions"


def rows(name: str) -> list[tuple[str, ...]]:
    """Tab-separated rows of ``versions/<name>``; fields keep their spaces (they matter)."""
    path = VERSIONS / name
    if not path.exists():
        return []
    return [tuple(line.split("\t")) for line in _lines(path)]


def ordered(name: str) -> list[str]:
    """The versions of an ``*-ordered*.txt`` file, oldest first."""
    path = VERSIONS / name
    return list(_lines(path)) if path.exists() else []


def _lines(path: Path) -> Iterator[str]:
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line and not line.startswith("#"):
            yield line


def params(name: str) -> list[tuple[str, ...]]:
    """``rows`` for ``pytest.mark.parametrize``; a missing file yields one row that skips."""
    found = rows(name)
    return found or [("__missing__", name)]
