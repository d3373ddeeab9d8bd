"""Reading files of a tar (plain or gzip) or a directory in place."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
import zstandard

from spyglass.errors import ArchiveError
from spyglass.image.archivefs import DirStore, TarStore, normalize


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info in members:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    members = [
        _member("./dir/", tarfile.DIRTYPE),
        _member("./dir/file", tarfile.REGTYPE),
        _member("hard", tarfile.LNKTYPE, "dir/file"),
        _member("dir/sym", tarfile.SYMTYPE, "file"),
        _member("chain", tarfile.SYMTYPE, "dir/sym"),
        _member("loop1", tarfile.SYMTYPE, "loop2"),
        _member("loop2", tarfile.SYMTYPE, "loop1"),
        _member("up", tarfile.SYMTYPE, "../../../etc/passwd"),
    ]
    return _tar(tmp_path / "a.tar", members, {"./dir/file": b"content"})


NAMES = ["dir/file", "./dir/file", "/dir/file", "hard", "dir/sym", "chain"]


@pytest.mark.parametrize("name", NAMES)
def test_links_resolve_inside_the_archive(archive: Path, name: str) -> None:
    store = TarStore(archive)
    try:
        assert store.read_bytes(name) == b"content"
        assert store.size(name) == 7
    finally:
        store.close()


def test_bad_links_and_missing_members(archive: Path) -> None:
    store = TarStore(archive)
    try:
        with pytest.raises(ArchiveError, match="does not end"):
            store.read_bytes("loop1")
        with pytest.raises(ArchiveError, match="not in"):
            store.read_bytes("up")  # clamped to the archive root: etc/passwd is not there
        with pytest.raises(ArchiveError, match="not a regular file"):
            store.read_bytes("dir")
        assert not store.exists("missing")
    finally:
        store.close()


def test_gzip_archive_random_access(archive: Path, tmp_path: Path) -> None:
    packed = tmp_path / "a.tar.gz"
    packed.write_bytes(gzip.compress(archive.read_bytes()))
    store = TarStore(packed)
    try:
        window = store.open("chain")
        assert window.read(3) == b"con"
        assert store.read_bytes("hard") == b"content"  # another read in between
        assert window.read() == b"tent"
    finally:
        store.close()


def test_other_compression_is_refused(archive: Path, tmp_path: Path) -> None:
    packed = tmp_path / "a.tar.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(archive.read_bytes()))
    with pytest.raises(ArchiveError, match="zstd-compressed"):
        TarStore(packed)


def test_not_a_tar(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(b"hello, this is not a tar archive at all" * 20)
    with pytest.raises(ArchiveError, match="not a readable tar"):
        TarStore(path)


def test_dir_store_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "f").write_bytes(b"x")
    (tmp_path / "secret").write_bytes(b"s")
    (tmp_path / "root" / "out").symlink_to(tmp_path / "secret")
    store = DirStore(tmp_path / "root")
    assert store.read_bytes("f") == b"x"
    assert store.read_bytes("../f") == b"x"  # ".." is clamped at the root
    with pytest.raises(ArchiveError, match="outside"):
        store.read_bytes("out")


def test_normalize() -> None:
    assert normalize("./a/b/") == "a/b"
    assert normalize("/../../a") == "a"
    assert normalize("./") == ""
