"""Read one layer once, as a stream, and hand each analyzer the files it asks for.

Decompression and hashing run in a reader thread (ISA-L, zstd and sha256 release the GIL) that
feeds a small bounded queue of decoded chunks; tar parsing and the analyzers run in the calling
thread, overlapping it. Each chunk is hashed after it is queued, so that the parser works on a
chunk while it is hashed: the calling thread, which holds the GIL for the Python work, is the
busier one once decompression is fast. Memory stays at a few chunks plus the spooled files,
whatever the layer's size. Measured on the benchmark's 3-layer Debian image
(580 MB of tar, 203 MB gzip, every registered analyzer, on the shared 2-core machine): the
reader thread about 1.7 s of CPU, the calling thread 1.5 s (0.5 s with the OS analyzers only),
against 3.4-3.8 s of CPU for ``gzip -dc | tar -t``; a 100,000-file layer peaks at 40 MB RSS.
The diff_id (sha256 of the decoded stream) is checked at the end; the image's stream checks
the blob digest at its last byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO

from spyglass.analyze.compression import RAW_CHUNK, Reader, decompressing
from spyglass.analyze.files import LayerFiles
from spyglass.analyze.interface import Analyzer
from spyglass.analyze.layer import LayerResult
from spyglass.analyze.tarstream import TarStream
from spyglass.errors import CorruptLayer, DigestMismatch, LayerError
from spyglass.inventory import DiffId

CHUNK = 256 * 1024
QUEUE_DEPTH = 8
"""Decoded chunks in flight between the reader thread and the tar parser (2 MiB at most)."""

Progress = Callable[[int], None]
"""Called with the number of stored (compressed) bytes read so far."""


class _Counting:
    """Counts the stored bytes read, for progress reporting."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw, self.count = raw, 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data


class _Pipeline:
    """Decoded chunks from a reader thread; re-raises the thread's error in the consumer."""

    def __init__(self, decoded: Reader, stored: _Counting, progress: Progress | None) -> None:
        self._decoded, self._stored, self._progress = decoded, stored, progress
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(QUEUE_DEPTH)
        self._stop = threading.Event()
        self._done = False
        self.hash, self.size = hashlib.sha256(), 0
        self._thread = threading.Thread(target=self._run, name="spyglass-layer", daemon=True)

    def __enter__(self) -> _Pipeline:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a reader waiting on a full queue
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._decoded.read(CHUNK)
                if not chunk:
                    # Read the stored stream to its end, where the source checks the digest.
                    while self._stored.read(RAW_CHUNK):
                        pass
                self._put(chunk)
                if not chunk:
                    return
                self.hash.update(chunk)  # joined before the consumer reads the digest
                self.size += len(chunk)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(exc)

    def read(self, size: int = -1, /) -> bytes:
        """The next decoded chunk; ``b""`` at the end."""
        if self._done:
            return b""
        item = self._queue.get()
        if self._progress is not None:
            self._progress(self._stored.count)
        if isinstance(item, BaseException):
            self._done = True
            raise item
        self._done = not item
        return item

    def digest(self) -> str:
        """``sha256:<hex>`` of the whole decoded stream (what is left of it is read first)."""
        while self.read():
            pass
        self._thread.join()
        return "sha256:" + self.hash.hexdigest()


def walk_layer(
    stream: IO[bytes],
    analyzers: Sequence[Analyzer],
    *,
    diff_id: DiffId,
    name: str = "",
    progress: Progress | None = None,
) -> LayerResult:
    """Read one layer's stored bytes and return what the analyzers found in it.

    ``name`` says which layer of which image, for messages. Raises CorruptLayer for a
    truncated or corrupt stream and DigestMismatch when the content is not ``diff_id``.
    """
    where = name or f"layer {diff_id}"
    stored = _Counting(stream)
    try:
        compression, decoded = decompressing(stored)  # type: ignore[arg-type]
        pipeline = _Pipeline(decoded, stored, progress)
        with pipeline, LayerFiles(analyzers, diff_id) as files:
            tar = TarStream(pipeline, CHUNK)
            for member in tar:
                files.add(member, tar)
            actual = pipeline.digest()
    except CorruptLayer as exc:
        raise CorruptLayer(
            f"{where} is truncated or corrupt: {exc}; pull the image again or rebuild it"
        ) from exc
    except OSError as exc:
        raise LayerError(f"{where} could not be read: {exc}; check the source and retry") from exc
    if actual != diff_id:
        raise DigestMismatch(
            f"{where}: its uncompressed content hashes to {actual}, not to the diff_id the "
            "image config names; the image is corrupt: pull it again or rebuild it"
        )
    return files.result(size=pipeline.size, compression=str(compression))
