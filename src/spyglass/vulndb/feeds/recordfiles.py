"""Where OSV record files come from: a folder (recursively), a zip, or one file.

The records are listed once (names, or positions in a zip) so that parse workers can each read
their own run of them; reading is the cheap part, kept cheap (no per-file path arithmetic).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from spyglass.errors import FeedError

SUFFIXES = (".json", ".yaml", ".yml")
"""File name endings of records."""


def folder_records(path: Path) -> list[str]:
    """Record files under ``path``, relative, in walk order (folders and names sorted)."""
    # Relative names by slicing: os.path.relpath per file was a fifth of reading them.
    base = len(os.path.join(str(path), ""))
    found: list[str] = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        prefix = os.path.join(root, "")[base:]
        found.extend(prefix + name for name in sorted(files) if name.endswith(SUFFIXES))
    return found


def read_folder(root: str, names: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each named file under ``root``."""
    for name in names:
        with open(os.path.join(root, name), "rb", buffering=0) as fh:
            yield name, fh.read()


def open_zip(path: Path) -> zipfile.ZipFile:
    """The archive at ``path``; ``FeedError`` when it is damaged."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FeedError(f"OSV archive {path} is damaged ({exc}); fetch it again") from exc


def zip_records(archive: zipfile.ZipFile) -> list[int]:
    """Positions (in ``infolist()``) of the record members; names may repeat in a zip."""
    return [
        i
        for i, info in enumerate(archive.infolist())
        if info.filename.endswith(SUFFIXES) and not info.is_dir()
    ]


def read_zip(archive: zipfile.ZipFile, members: Iterable[int]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the members at ``members``; ``FeedError`` when one is damaged."""
    infos = archive.infolist()
    try:
        for i in members:
            yield infos[i].filename, archive.read(infos[i])
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FeedError(
            f"OSV archive {archive.filename} is damaged ({exc}); fetch it again"
        ) from exc
