"""The digest-verifying stream every image source hands out."""

from __future__ import annotations

import gzip
import hashlib
import io

import pytest
import zstandard

from spyglass.errors import DigestMismatch, LayerError
from spyglass.image.blobstream import ChunkSource, drain, verifying_stream

DATA = bytes(range(256)) * 5000  # > 1 MiB, several buffer fills


def digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_matching_bytes_read_through(algorithm: str) -> None:
    with verifying_stream(io.BytesIO(DATA), digest(DATA, algorithm), len(DATA)) as stream:
        assert stream.read(10) == DATA[:10]
        assert stream.read() == DATA[10:]
        assert stream.read() == b""


def test_mismatch_is_raised_at_eof_not_before() -> None:
    stream = verifying_stream(io.BytesIO(DATA), digest(DATA + b"x"))
    assert stream.read(100) == DATA[:100]
    with pytest.raises(DigestMismatch, match="hashes to"):
        drain(stream)


def test_size_overrun_and_short_read() -> None:
    with pytest.raises(DigestMismatch, match="more bytes"):
        drain(verifying_stream(io.BytesIO(DATA + b"x"), digest(DATA), len(DATA)))
    with pytest.raises(DigestMismatch, match="expected"):
        drain(verifying_stream(io.BytesIO(DATA[:-1]), digest(DATA), len(DATA)))


def test_unsupported_algorithm() -> None:
    with pytest.raises(LayerError, match="unsupported digest algorithm"):
        verifying_stream(io.BytesIO(b""), "md5:" + "0" * 32)


def test_chunk_source_adapts_an_iterator() -> None:
    closed: list[bool] = []
    chunks = [DATA[:7], b"", DATA[7:70000], DATA[70000:]]
    source = ChunkSource(chunks, close=lambda: closed.append(True))
    with verifying_stream(source, digest(DATA), len(DATA)) as stream:
        assert drain(stream) == len(DATA)
    assert closed == [True]


@pytest.mark.parametrize(
    "pack",
    [
        lambda d: d,
        lambda d: gzip.compress(d, mtime=0),
        lambda d: gzip.compress(d[:1000], mtime=0) + gzip.compress(d[1000:], mtime=0),  # pigz
        lambda d: gzip.compress(d, mtime=0) + b"\0" * 1024,  # zero padding after the member
        lambda d: zstandard.ZstdCompressor().compress(d),
    ],
    ids=["plain", "gzip", "gzip-members", "gzip-padded", "zstd"],
)
def test_uncompressed_mode_checks_the_diff_id(pack: object) -> None:
    stored = pack(DATA)  # type: ignore[operator]
    stream = verifying_stream(io.BytesIO(stored), digest(DATA), len(stored), uncompressed=True)
    assert drain(stream) == len(stored)
    wrong = verifying_stream(io.BytesIO(stored), digest(DATA[1:]), uncompressed=True)
    with pytest.raises(DigestMismatch):
        drain(wrong)


def test_uncompressed_mode_reports_broken_compression() -> None:
    broken = gzip.compress(DATA)[:-20] + b"\xff" * 20
    with pytest.raises(DigestMismatch):
        drain(verifying_stream(io.BytesIO(broken), digest(DATA), uncompressed=True))


def test_tiny_blobs() -> None:
    for data in (b"", b"ab"):
        with verifying_stream(io.BytesIO(data), digest(data), uncompressed=True) as stream:
            assert stream.read() == data
