"""A read-only stream that hashes what passes through it and checks the digest at EOF.

Every image source hands out layer and blob bytes through :func:`verifying_stream`, so a blob
that does not hash to the digest naming it raises :class:`~spyglass.errors.DigestMismatch` the
moment its last byte is read, and a stream longer than its descriptor's size fails as soon as
it overruns. With ``uncompressed=True`` the check is on the *decompressed* bytes instead (a
``diff_id``), for archives whose compressed layers are not named by their digest.
hashlib and zlib/zstandard do the work; the glue is hand-written because no library offers it.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Protocol

import zstandard

from spyglass.errors import DigestMismatch, LayerError

CHUNK = 1 << 20
_ALGORITHMS = ("sha256", "sha384", "sha512")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class Readable(Protocol):
    """Anything with ``read(n)`` and ``close()``: files, tar members, HTTP response adapters."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def new_hasher(digest: str) -> Any:
    """A hashlib object for the digest's algorithm; LayerError for an unsupported one."""
    algorithm = digest.partition(":")[0]
    if algorithm not in _ALGORITHMS:
        raise LayerError(f"unsupported digest algorithm in {digest!r}; expected sha256 or sha512")
    return hashlib.new(algorithm)


class _Decompressing:
    """Feeds stored bytes through the decompressor their magic bytes name; hashes the output."""

    def __init__(self, digest: str) -> None:
        self.hasher = new_hasher(digest)
        self._inflate: Callable[[bytes], bytes] | None = None
        self._head = b""

    def update(self, data: bytes) -> None:
        if self._inflate is None:
            self._head += data
            if len(self._head) < len(_ZSTD_MAGIC) and data:
                return
            self._inflate = _inflater(self._head)
            data, self._head = self._head, b""
        try:
            self.hasher.update(self._inflate(data))
        except (zlib.error, zstandard.ZstdError) as exc:
            raise DigestMismatch(f"the layer does not decompress ({exc}); it is damaged") from exc

    def hexdigest(self) -> str:
        if self._inflate is None:  # shorter than a magic number: hash it as it is
            self.update(b"")
        return str(self.hasher.hexdigest())


def _inflater(head: bytes) -> Callable[[bytes], bytes]:
    if head.startswith(_GZIP_MAGIC):
        return _GzipMembers().decompress
    if head.startswith(_ZSTD_MAGIC):
        zs = zstandard.ZstdDecompressor().decompressobj()
        return zs.decompress
    return lambda chunk: chunk


class _GzipMembers:
    """gzip allows several members back to back (pigz writes them); zlib stops after one."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(wbits=31)

    def decompress(self, data: bytes) -> bytes:
        out = [self._z.decompress(data)]
        while self._z.eof and self._z.unused_data:
            rest = self._z.unused_data
            if not rest.strip(b"\0"):  # zero padding after the last member, as tar writers add
                break
            self._z = zlib.decompressobj(wbits=31)
            out.append(self._z.decompress(rest))
        return b"".join(out)


class VerifyingReader(io.RawIOBase):
    """Raw stream over ``source`` that raises DigestMismatch at EOF if the bytes do not match."""

    def __init__(self, source: Readable, digest: str, size: int | None, uncompressed: bool) -> None:
        super().__init__()
        self._source = source
        self.digest = digest
        self._size = size
        self._seen = 0
        self._hash: Any = _Decompressing(digest) if uncompressed else new_hasher(digest)
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = len(view)
        if self._size is not None:  # never read past the declared size, only one byte over
            want = min(want, max(self._size - self._seen, 0) + 1)
        data = self._source.read(want)
        if not data:
            self._verify()
            return 0
        self._seen += len(data)
        if self._size is not None and self._seen > self._size:
            raise DigestMismatch(f"{self.digest}: more bytes than the {self._size} declared")
        self._hash.update(data)
        view[: len(data)] = data
        return len(data)

    def _verify(self) -> None:
        if self._verified:
            return
        if self._size is not None and self._seen != self._size:
            raise DigestMismatch(f"{self.digest}: got {self._seen} bytes, expected {self._size}")
        actual = f"{self.digest.partition(':')[0]}:{self._hash.hexdigest()}"
        if actual != self.digest:
            raise DigestMismatch(
                f"content hashes to {actual}, not {self.digest}; the blob is damaged or altered"
            )
        self._verified = True

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


def verifying_stream(
    source: Readable, digest: str, size: int | None = None, *, uncompressed: bool = False
) -> IO[bytes]:
    """Wrap ``source`` so that reading it to EOF verifies ``digest`` (and ``size`` if given)."""
    return io.BufferedReader(VerifyingReader(source, digest, size, uncompressed), CHUNK)


class ChunkSource:
    """Adapts an iterator of byte chunks (an HTTP body) to :class:`Readable`."""

    def __init__(self, chunks: Iterable[bytes], close: Callable[[], None] | None = None) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self._close = close

    def read(self, size: int = -1, /) -> bytes:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = chunk
        cut = len(self._pending) if size < 0 else size
        out, self._pending = self._pending[:cut], self._pending[cut:]
        return out

    def close(self) -> None:
        if self._close is not None:
            self._close()


def drain(stream: IO[bytes]) -> int:
    """Read a stream to EOF (so that it verifies) and return how many bytes were left."""
    total = 0
    while chunk := stream.read(CHUNK):
        total += len(chunk)
    return total
