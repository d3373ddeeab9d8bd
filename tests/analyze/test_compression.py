"""Compression is told by magic bytes, decoded in bounded reads, and truncation is an error."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import pytest

from spyglass.analyze.compression import Compression, decompressing, detect
from spyglass.errors import CorruptLayer
from tests.helpers.images import compress

DATA = os.urandom(200_000) + bytes(3_000_000) + b"tail" * 1000


def _read_all(blob: bytes, size: int = 1 << 20) -> tuple[Compression, bytes]:
    kind, reader = decompressing(io.BytesIO(blob))
    parts = []
    while chunk := reader.read(size):
        assert len(chunk) <= size
        parts.append(chunk)
    return kind, b"".join(parts)


@pytest.mark.parametrize("method", ["gzip", "zstd", "bzip2", "xz", "none"])
def test_round_trip(method: str) -> None:
    assert _read_all(compress(DATA, method)) == (Compression(method), DATA)


def test_small_reads_and_concatenated_gzip_members_with_padding() -> None:
    blob = gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:]) + bytes(64)
    assert _read_all(blob, 4096)[1] == DATA


@pytest.mark.parametrize("method", ["gzip", "bzip2", "xz"])
def test_truncated_stream_is_corrupt(method: str) -> None:
    with pytest.raises(CorruptLayer):
        _read_all(compress(DATA, method)[:-20])


def test_garbage_after_gzip_is_corrupt() -> None:
    with pytest.raises(CorruptLayer):
        _read_all(gzip.compress(DATA) + b"not gzip")


@pytest.mark.realdata
def test_containers_image_samples(testdata: Path) -> None:
    folder = testdata / "images/containers-image/compression"
    plain = (folder / "Hello.uncompressed").read_bytes()
    for name, kind in [("Hello.gz", "gzip"), ("Hello.bz2", "bzip2"), ("Hello.xz", "xz"),
                       ("Hello.zst", "zstd"), ("Hello.uncompressed", "none")]:
        blob = (folder / name).read_bytes()
        assert detect(blob[:6]) == Compression(kind)
        assert _read_all(blob) == (Compression(kind), plain)
