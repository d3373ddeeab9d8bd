"""The per-layer cache: hits skip the layer, version bumps miss, corrupt entries are ignored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from spyglass.analyze import layer
from spyglass.analyze.cache import LayerCache, analyzer_versions, cache_key
from spyglass.analyze.layer import LayerResult
from spyglass.analyze.walker import walk_layer
from spyglass.config import cache_dir
from spyglass.inventory import DiffId
from tests.analyze.fakes import Everything, Lines
from tests.helpers.images import Dir, Symlink, Whiteout, compress, layer_tar, sha256


def _result() -> LayerResult:
    tar = layer_tar({"etc/thing": b"a 1\n", "l": Symlink("x"), "w": Whiteout()})
    return walk_layer(io.BytesIO(compress(tar, "gzip")), [Lines(), Everything()],
                      diff_id=DiffId(sha256(tar)))


class LinesV2(Lines):
    version = 2


def test_round_trip_in_the_configured_directory() -> None:
    cache, result = LayerCache(), _result()
    assert cache.get(result.diff_id, [Lines(), Everything()]) is None
    cache.put(result, [Lines(), Everything()])
    assert cache.get(result.diff_id, [Everything(), Lines()]) == result  # order does not matter
    assert cache.path(result.diff_id, [Lines()]).is_relative_to(cache_dir())


def test_other_analyzer_versions_or_sets_miss() -> None:
    cache, result = LayerCache(), _result()
    cache.put(result, [Lines(), Everything()])
    assert cache.get(result.diff_id, [LinesV2(), Everything()]) is None
    assert cache.get(result.diff_id, [Lines()]) is None
    assert cache.get(DiffId("sha256:" + "0" * 64), [Lines(), Everything()]) is None


def test_key_depends_on_every_part() -> None:
    diff_id = DiffId("sha256:" + "1" * 64)
    keys = {
        cache_key(diff_id, analyzer_versions([Lines()])),
        cache_key(diff_id, analyzer_versions([LinesV2()])),
        cache_key(DiffId("sha256:" + "2" * 64), analyzer_versions([Lines()])),
        cache_key(diff_id, ()),
    }
    assert len(keys) == 4


def test_corrupt_entries_are_ignored_and_overwritten(tmp_path: Path) -> None:
    cache, result = LayerCache(tmp_path), _result()
    analyzers = [Lines(), Everything()]
    path = cache.path(result.diff_id, analyzers)
    for junk in (b"{not json", b"[]", b'{"format": 1, "analyzers": [], "layer": {}}', b"\xff"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(junk)
        assert cache.get(result.diff_id, analyzers) is None
    cache.put(result, analyzers)
    assert cache.get(result.diff_id, analyzers) == result
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    LayerCache(blocker).put(_result(), [Lines()])


def test_streamed_json_is_the_dict_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layer, "_BATCH", 2)  # several batches for every part
    tar = layer_tar({**{f"d{i}/thing": b"" for i in range(5)}, "etc/thing": b"a 1\n",
                     **{f"l{i}": Symlink("x") for i in range(5)}, "w": Whiteout(), "z": Dir()})
    result = walk_layer(io.BytesIO(compress(tar, "gzip")), [Lines(), Everything()],
                        diff_id=DiffId(sha256(tar)))
    out = io.StringIO()
    result.write_json(out)
    assert json.loads(out.getvalue()) == result.to_dict()
    assert LayerResult.from_dict(json.loads(out.getvalue())) == result


def test_reading_lock_files_is_part_of_the_key() -> None:
    from spyglass.analyze.cache import analyzer_versions
    from spyglass.analyze.registry import select

    image_scan = analyzer_versions(select(["node"]))
    repository_scan = analyzer_versions(select(["node"], lockfiles=True))
    assert image_scan == (("lang/node", image_scan[0][1]),)
    assert repository_scan != image_scan
