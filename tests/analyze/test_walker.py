"""One layer, read once as a stream: tree changes, wanted files, verification, bad input."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.analyze import files, hidden
from spyglass.analyze.interface import Analyzer
from spyglass.analyze.layer import LayerResult
from spyglass.analyze.walker import walk_layer
from spyglass.errors import CorruptLayer, DigestMismatch
from spyglass.inventory import DiffId
from tests.analyze.fakes import Everything, Lines, Small
from tests.helpers.images import (
    Dir,
    Hardlink,
    OpaqueWhiteout,
    Symlink,
    Whiteout,
    build_image,
    compress,
    layer_tar,
    sha256,
)


def walk(
    tar: bytes, analyzers: Sequence[Analyzer], compression: str = "gzip", diff_id: str = ""
) -> LayerResult:
    blob = io.BytesIO(compress(tar, compression))
    return walk_layer(blob, analyzers, diff_id=DiffId(diff_id or sha256(tar)), name="layer 1 of t")


def names(result: LayerResult, path: str) -> list[str]:
    return [p.name for _, r in result.files[path] for p in r.packages]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none", "bzip2", "xz"])
def test_wanted_files_are_analyzed_whatever_the_compression(compression: str) -> None:
    tar = layer_tar({"./etc/thing": b"a 1\nb 2\n", "/usr/thing": b"c 3\n", "etc/other": b"x"})
    result = walk(tar, [Lines()], compression)
    assert sorted(result.files) == ["etc/thing", "usr/thing"]
    assert names(result, "etc/thing") == ["a", "b"]
    pkg = result.files["usr/thing"][0][1].packages[0]
    assert (pkg.path, pkg.analyzer) == ("usr/thing", "test/lines")
    assert result.size == len(tar) and result.compression == compression


def test_tree_changes_are_recorded() -> None:
    tar = layer_tar({
        "opt": Dir(), "opt/.wh.gone": b"", "var/cache": OpaqueWhiteout(), "tmp/x": Whiteout(),
        "etc/os-release": Symlink("../usr/lib/os-release"), "bin/a": b"data",
        "bin/b": Hardlink("bin/a"), ".wh..wh.plnk": Dir(),
    })
    result = walk(tar, [])
    assert result.whiteouts == ("opt/gone", "tmp/x")
    assert result.opaque_dirs == ("var/cache",)
    assert result.symlinks == {"etc/os-release": "../usr/lib/os-release"}
    assert result.hardlinks == {"bin/b": "bin/a"}
    assert result.dirs == ("opt",)


def test_later_entry_for_a_path_replaces_the_earlier_one() -> None:
    first = layer_tar({"var/run": Symlink("../run")})
    second = layer_tar({"var/run": Dir(), "var/run/thing": b"a 1\n"})
    result = walk(first[:-1024] + second, [Lines()])  # one tar stream cut before its end marker
    assert result.symlinks == {} and result.dirs == ("var/run",)
    assert list(result.files) == ["var/run/thing"]


def test_concatenated_tar_streams_are_both_read() -> None:
    result = walk(layer_tar({"a/thing": b"a 1\n"}) + layer_tar({"b/thing": b"b 1\n"}), [Lines()])
    assert sorted(result.files) == ["a/thing", "b/thing"]


def test_hard_link_is_analyzed_with_its_targets_content() -> None:
    tar = layer_tar({"usr/thing": b"a 1\n", "opt/thing": Hardlink("usr/thing"),
                     "x/thing": Hardlink("/missing/file")})
    result = walk(tar, [Lines()])
    assert names(result, "opt/thing") == ["a"]
    unknown = result.files["x/thing"][0][1].unknowns[0]
    assert "hard link" in unknown.reason and unknown.layer == sha256(tar)


class OnlyLinks(Lines):
    """Wants only paths under ``links/``."""

    name = "test/only-links"

    def required(self, path: str, size: int) -> bool:
        return path.startswith("links/")


def test_hard_link_to_content_no_longer_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing in memory is kept once a later file is spooled: the link's analyzers that saw the
    # target get its result with the path moved; one that did not gets an Unknown.
    monkeypatch.setattr(files, "KEEP_MEMORY", 0)
    tar = layer_tar({"usr/thing": b"a 1\n", "usr/other-thing": b"b 1\n",
                     "links/thing": Hardlink("usr/thing")})
    result = walk(tar, [Lines(), OnlyLinks()])
    lines, only = result.files["links/thing"]
    assert [(p.name, p.path) for p in lines[1].packages] == [("a", "links/thing")]
    assert only[0] == "test/only-links" and "not kept" in only[1].unknowns[0].reason


def test_hard_link_to_a_large_file_kept_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "SPOOL_MEMORY", 5)
    monkeypatch.setattr(files, "KEEP_MEMORY", 0)
    tar = layer_tar({"usr/thing": b"a 1\nb 2\n", "usr/other-thing": b"c 1\n",
                     "links/thing": Hardlink("usr/thing")})
    analyzer = OnlyLinks()
    result = walk(tar, [Lines(), analyzer])
    assert names(result, "links/thing") == ["a", "b", "a", "b"]
    assert analyzer.seen == {"links/thing": 1}


def test_files_in_which_nothing_was_found_are_kept_as_digests() -> None:
    result = walk(layer_tar({"a/thing": b"", "b/thing": b"", "c/thing": b"x 1\n"}), [Lines()])
    assert list(result.files) == ["c/thing"] and names(result, "c/thing") == ["x"]
    assert len(result.hidden) == 16
    assert hidden.contains(result.hidden, "a/thing") and hidden.contains(result.hidden, "b/thing")
    assert not hidden.contains(result.hidden, "c/thing")


class SizedLines(Lines):
    """Wants files named ``thing`` of at least 3 bytes."""

    name = "test/sized"

    def required(self, path: str, size: int) -> bool:
        return path.endswith("thing") and size >= 3


def test_hard_link_to_a_file_with_nothing_found(monkeypatch: pytest.MonkeyPatch) -> None:
    # The target is only a digest and its content is gone: its size and analyzers are known.
    monkeypatch.setattr(files, "KEEP_MEMORY", 0)
    tar = layer_tar({"usr/thing": b"   \n", "usr/other-thing": b"b 1\n",
                     "links/thing": Hardlink("usr/thing")})
    result = walk(tar, [SizedLines()])
    assert "links/thing" not in result.files and not result.unknowns
    assert hidden.contains(result.hidden, "links/thing")


def test_names_leaving_the_root_are_refused() -> None:
    tar = layer_tar({"../../../../etc/thing": b"evil 1\n", "a/../../thing": b"evil 2\n",
                     "a/b/../thing": b"ok 1\n", "etc/x": Hardlink("../../etc/shadow")})
    result = walk(tar, [Lines()])
    assert list(result.files) == ["a/thing"]
    assert sorted(u.path for u in result.unknowns) == ["../../../../etc/thing", "a/../../thing",
                                                       "etc/x"]


def test_analyzer_failures_and_oversize_files_become_unknowns() -> None:
    tar = layer_tar({"a/thing": b"BAD", "b/thing": b"CRASH", "big": b"x" * 11})
    result = walk(tar, [Lines(), Small()])
    reasons = {p: r[0][1].unknowns[0].reason for p, r in result.files.items()}
    assert reasons["a/thing"] == "a/thing starts with BAD"
    assert "RuntimeError: boom" in reasons["b/thing"]
    assert "11 bytes" in reasons["big"]
    assert all(r[0][1].unknowns[0].analyzer for r in result.files.values())


def test_unwanted_data_is_skipped_exactly() -> None:
    big = bytes(range(256)) * 20_000  # 5 MB, not wanted, spans several chunks
    tar = layer_tar({"blob": big, "etc/thing": b"after 1\n", "huge/thing": b"z 1\n" * 400_000})
    result = walk(tar, [Lines()])
    assert names(result, "etc/thing") == ["after"]
    assert len(names(result, "huge/thing")) == 400_000


def test_long_names_gnu_and_pax() -> None:
    long = "d/" + "x" * 150 + "/thing"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo(long)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"g 1\n"))
    assert list(walk(buf.getvalue(), [Lines()]).files) == [long]
    pax = layer_tar({long + "é": b"p 1\n"})
    assert list(walk(pax, [Everything()]).files) == [long + "é"]


def test_truncated_gzip_is_a_corrupt_layer() -> None:
    tar = layer_tar({"etc/thing": b"a 1\n" * 10_000})
    blob = compress(tar, "gzip")
    with pytest.raises(CorruptLayer, match="layer 1 of t is truncated or corrupt"):
        walk_layer(
            io.BytesIO(blob[: len(blob) // 2]), [Lines()], diff_id=sha256(tar), name="layer 1 of t"
        )


@pytest.mark.parametrize("cut", [100, 700, 1500])
def test_truncated_tar_is_a_corrupt_layer(cut: int) -> None:
    tar = layer_tar({"etc/thing": b"a 1\n" * 300, "b": b"x"})
    with pytest.raises(CorruptLayer, match="pull the image again"):
        walk(tar[:cut], [Lines()], "none", diff_id=sha256(tar))


def test_not_a_tar_is_a_corrupt_layer() -> None:
    with pytest.raises(CorruptLayer, match="bad tar header"):
        walk(b"hello world" * 100, [], "gzip")


def test_wrong_diff_id_is_a_digest_mismatch() -> None:
    tar = layer_tar({"etc/thing": b"a 1\n"})
    with pytest.raises(DigestMismatch, match="layer 1 of t"):
        walk(tar, [Lines()], diff_id="sha256:" + "0" * 64)


def test_blob_digest_is_checked_by_the_image_stream() -> None:
    image = build_image([{"etc/thing": b"a 1\n"}]).as_image()
    layer = image.layers[0]
    image.blobs[layer.descriptor.digest] += bytes(512)  # gzip tolerates NUL padding
    with pytest.raises(DigestMismatch), image.open_layer(layer) as stream:
        walk_layer(stream, [Lines()], diff_id=layer.diff_id)


def test_progress_reports_stored_bytes() -> None:
    tar = layer_tar({"blob": bytes(3_000_000)})
    blob = compress(tar, "none")
    seen: list[int] = []
    walk_layer(io.BytesIO(blob), [], diff_id=sha256(tar), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == len(blob)


def test_empty_layer() -> None:
    assert walk(b"", [Lines()], "gzip").files == {}
    assert walk(bytes(1024), [Lines()], "gzip").files == {}


def test_json_round_trip() -> None:
    tar = layer_tar({"etc/thing": b"a 1\n", "l": Symlink("/x"), "w": Whiteout(), "bad\udcfd": b""})
    result = walk(tar, [Lines(), Everything()])
    assert LayerResult.from_dict(result.to_dict()) == result


@pytest.mark.realdata
def test_claircore_layers(testdata: Path) -> None:
    folder = testdata / "images/claircore/tarfs"
    odd = walk((folder / "oddlayer.tar").read_bytes(), [Everything()], "none")
    assert (odd.files, odd.dirs, odd.symlinks) == ({}, (), {})
    bad = walk((folder / "bad_name.tar").read_bytes(), [Everything()], "none")
    (name,) = bad.files
    assert name.endswith("bad\udcfdname") and name.startswith("_" * 100)
    concat = walk((folder / "concat.tar").read_bytes(), [Everything()], "gzip")
    assert "var/run/console/algo.txt" in concat.files and "run/logs/log.txt" in concat.files
    assert "var/run" in concat.dirs and "var/run" not in concat.symlinks


@pytest.mark.realdata
def test_scalibr_escape_layer_keeps_links_as_data(testdata: Path) -> None:
    tar = (testdata / "images/osv-scalibr/unpack/escape.tar").read_bytes()
    result = walk(tar, [Everything()], "gzip")
    assert list(result.files) == ["escape/poc.txt"]
    assert result.symlinks["trampoline"] == "."
    assert result.symlinks["usr/share/doc/c/copyright"] == "/escape/poc.txt"


def slow_normalise(name: str) -> str | None:
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


@given(st.text("a./", max_size=12))
def test_normalise_fast_path_agrees_with_splitting(name: str) -> None:
    assert files.normalise(name) == slow_normalise(name)
