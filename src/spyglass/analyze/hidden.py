"""Files of a layer in which no analyzer found anything, kept as 8-byte digests of their paths.

Most files an image scan reads (every text file, for the secrets analyzer) yield nothing. Such a
file still matters to the merge, since it replaces a lower layer's file at the same path, and so
whatever was found there; but it needs no entry of its own. Keeping a dict entry and a path per
file made memory grow with the number of files (about 200 bytes each: 20 MB for 100,000);
a digest costs 8 bytes, plus 10 kept while the layer is read for hard links to the file.

A digest is the first 8 bytes of BLAKE2b of the UTF-8 path (surrogate escapes kept): a false
match needs two paths of one image to collide in 64 bits, and would only make the merge treat a
file with results as replaced. Lookups scan the packed digests (``bytes.find``, gigabytes a
second): they happen only for hard links to such files and, in the merge, once per file with
results, which are few.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator

DIGEST = 8


def path_digest(path: str) -> bytes:
    """The 8-byte digest of a normalised path."""
    return hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=DIGEST).digest()


def _indexes(packed: bytes | bytearray, digest: bytes) -> Iterator[int]:
    start = 0
    while (at := packed.find(digest, start)) >= 0:
        if at % DIGEST == 0:
            yield at // DIGEST
        start = at + 1


def contains(packed: bytes | bytearray, path: str) -> bool:
    """Whether ``path``'s digest is among ``packed`` (digests laid end to end)."""
    return next(_indexes(packed, path_digest(path)), -1) >= 0


class HiddenFiles:
    """Digests of a layer's files in which nothing was found, with what hard links need."""

    def __init__(self) -> None:
        self._digests = bytearray()
        self._sizes = array("Q")
        self._groups = array("H")
        self._names: dict[tuple[str, ...], int] = {}

    def add(self, path: str, size: int, names: tuple[str, ...]) -> None:
        """Record a file that the analyzers ``names`` read and found nothing in."""
        self._digests += path_digest(path)
        self._sizes.append(size)
        self._groups.append(self._names.setdefault(names, len(self._names)))

    def get(self, path: str) -> tuple[int, tuple[str, ...]] | None:
        """(size, analyzer names) of a recorded file; the latest when a path was recorded twice."""
        index = max(_indexes(self._digests, path_digest(path)), default=-1)
        if index < 0:
            return None
        names = next(n for n, i in self._names.items() if i == self._groups[index])
        return self._sizes[index], names

    def packed(self) -> bytes:
        """The digests, end to end, in the order the files came."""
        return bytes(self._digests)
