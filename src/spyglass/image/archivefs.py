"""Read named files of an image archive or layout without extracting it.

A :class:`FileStore` answers ``exists``, ``read_bytes`` and ``open`` for paths inside a
directory (an OCI layout) or a tar file (``docker save`` output, an oci-archive). A tar is
indexed once with :mod:`tarfile` (member name -> data offset and size; symlinks and hard links
between members resolved) and each member is then read as a window of the archive file.

A gzip-compressed archive cannot be seeked, and decompressing it again for every layer costs
one pass per layer. Extracting it to a temporary file would double the disk space. Instead,
``indexed_gzip`` records seek points (a 32 KiB window every few MiB) during the one pass that
indexing the tar already needs, which makes later reads random access for a small amount of memory.
"""

from __future__ import annotations

import posixpath
import tarfile
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any

import indexed_gzip

from spyglass.errors import ArchiveError
from spyglass.image.blobstream import Readable

MAX_DOCUMENT = 64 << 20
"""JSON documents (manifest.json, index.json, configs) larger than this are refused."""
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_MAGIC = {b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
_MAX_LINKS = 16


class FileStore(ABC):
    """Files of a layout directory or an archive, by their relative POSIX path."""

    location: str
    """The path of the directory or archive, for messages."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a regular file (after following links) is at ``path``."""

    @abstractmethod
    def size(self, path: str) -> int:
        """Size in bytes of the file at ``path``."""

    @abstractmethod
    def open(self, path: str) -> Readable:
        """The raw bytes of the file, unverified; the caller wraps them to verify."""

    def read_bytes(self, path: str, limit: int = MAX_DOCUMENT) -> bytes:
        """The whole file, refusing one larger than ``limit``."""
        if self.size(path) > limit:
            raise ArchiveError(f"{path} in {self.location} is larger than {limit} bytes; refusing")
        source = self.open(path)
        try:
            return source.read()
        finally:
            source.close()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release open files."""


def normalize(path: str) -> str:
    """A member path as stored, without ``./`` or leading ``/``; ``..`` may not escape."""
    clean = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if clean == "." else clean


class DirStore(FileStore):
    """Files below a directory; paths may not leave it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.location = str(root)

    def _path(self, path: str) -> Path:
        full = (self.root / normalize(path)).resolve()
        if not full.is_relative_to(self.root):
            raise ArchiveError(f"{path!r} points outside {self.location}")
        return full

    def exists(self, path: str) -> bool:
        return self._path(path).is_file()

    def size(self, path: str) -> int:
        try:
            return self._path(path).stat().st_size
        except OSError as exc:
            raise ArchiveError(f"cannot read {path} in {self.location}: {exc.strerror}") from exc

    def open(self, path: str) -> Readable:
        try:
            return self._path(path).open("rb")
        except OSError as exc:
            raise ArchiveError(f"cannot read {path} in {self.location}: {exc.strerror}") from exc


class _Window:
    """``size`` bytes from ``start`` of a shared file; a lock makes seek+read atomic."""

    def __init__(self, store: TarStore, start: int, size: int) -> None:
        self._store, self._start, self._size, self._pos = store, start, size, 0

    def read(self, size: int = -1, /) -> bytes:
        left = self._size - self._pos
        want = left if size < 0 else min(size, left)
        if want <= 0:
            return b""
        data = self._store.read_at(self._start + self._pos, want)
        if len(data) < want:
            raise ArchiveError(f"{self._store.location} is truncated; the archive is incomplete")
        self._pos += len(data)
        return data

    def close(self) -> None:
        """Nothing to release: the archive file stays open for other members."""


class TarStore(FileStore):
    """Members of a tar file, plain or gzip-compressed, read in place."""

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        self._lock = threading.Lock()
        self._file = _open_seekable(path)
        try:
            self._members = _index_members(self._file, self.location)
        except BaseException:
            self._file.close()
            raise

    @property
    def names(self) -> list[str]:
        """Every member name, normalised, in archive order."""
        return list(self._members)

    def _member(self, path: str) -> tarfile.TarInfo:
        name = normalize(path)
        for _ in range(_MAX_LINKS):
            info = self._members.get(name)
            if info is None:
                raise ArchiveError(f"{path} is not in {self.location}")
            if info.isfile():
                return info
            if info.issym():
                name = normalize(posixpath.join(posixpath.dirname(name), info.linkname))
            elif info.islnk():
                name = normalize(info.linkname)
            else:
                raise ArchiveError(f"{path} in {self.location} is not a regular file")
        raise ArchiveError(f"{path} in {self.location} is a chain of links that does not end")

    def exists(self, path: str) -> bool:
        try:
            self._member(path)
        except ArchiveError:
            return False
        return True

    def size(self, path: str) -> int:
        return int(self._member(path).size)

    def open(self, path: str) -> Readable:
        info = self._member(path)
        return _Window(self, info.offset_data, info.size)

    def read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` of the (uncompressed) archive."""
        with self._lock:
            try:
                if self._file.tell() != offset:  # a gzip seek may decompress from a seek point
                    self._file.seek(offset)
                return bytes(self._file.read(size))
            except (OSError, EOFError, ValueError) as exc:
                raise ArchiveError(f"cannot read {self.location}: {exc}") from exc

    def close(self) -> None:
        self._file.close()


def _open_seekable(path: Path) -> IO[bytes]:
    try:
        with path.open("rb") as probe:
            head = probe.read(6)
        if head.startswith(_GZIP_MAGIC):
            gz: Any = indexed_gzip.IndexedGzipFile(str(path), drop_handles=False)
            return gz  # type: ignore[no-any-return]
        for magic, name in _OTHER_MAGIC.items():
            if head.startswith(magic):
                raise ArchiveError(
                    f"{path} is {name}-compressed; only plain and gzip archives can be read in "
                    f"place; decompress it first"
                )
        return path.open("rb")
    except OSError as exc:
        raise ArchiveError(f"cannot open {path}: {exc.strerror or exc}") from exc


def _index_members(file: IO[bytes], location: str) -> dict[str, tarfile.TarInfo]:
    """Member name -> TarInfo; a later member of the same name replaces an earlier one, as tar
    extraction would."""
    try:
        with tarfile.open(fileobj=file, mode="r:") as tar:
            members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{location} is not a readable tar archive: {exc}") from exc
    return {normalize(m.name): m for m in members if normalize(m.name)}
