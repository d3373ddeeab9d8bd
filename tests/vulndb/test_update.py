"""``db update`` against a real HTTP server on loopback laid out like osv.dev's bucket.

The zips are built here from the real records. Shows: a first update stores everything; a
second is "unchanged" and downloads nothing; an interrupted or short download fails that feed
and keeps the old data; a multi-file feed (Alpine secdb) and local sources behave the same.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from spyglass.vulndb.feeds.alpine import AlpineSecdbFeed
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.store import VulnStore
from spyglass.vulndb.update import FAILED, UNCHANGED, UPDATED, update
from tests.vulndb.feedserver import FeedServer, serve

pytestmark = pytest.mark.realdata


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[VulnStore]:
    store = VulnStore.open(f"sqlite:///{tmp_path / 'vuln.db'}")
    yield store
    store.close()


def _zip(records: list[Path], dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for record in records:
            zf.write(record, record.name)
    return dest


@pytest.fixture
def bucket(advisories: Path, tmp_path: Path) -> Path:
    """``<bucket>/crates.io/all.zip`` and ``<bucket>/Go/all.zip`` from the real records."""
    root = tmp_path / "bucket"
    _zip(sorted((advisories / "osv-crates/crates").glob("*.json")), root / "crates.io/all.zip")
    _zip(sorted((advisories / "osv-go/osv").glob("*.json"))[:300], root / "Go/all.zip")
    return root


@pytest.fixture
def server(bucket: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    with serve(bucket) as running:
        monkeypatch.setenv("SPYGLASS_OSV_URL", running.url)
        yield running


def test_first_update_then_unchanged_downloads_nothing(
    sqlite_store: VulnStore, server: FeedServer, bucket: Path
) -> None:
    feeds = [OsvFeed("crates.io"), OsvFeed("Go")]
    first = update(sqlite_store, feeds)
    assert [(r.feed, r.status, r.records) for r in first] == [
        ("osv/crates.io", UPDATED, 1206),
        ("osv/Go", UPDATED, 300),
    ]
    assert first[0].downloaded == (bucket / "crates.io/all.zip").stat().st_size
    assert sqlite_store.candidates("cargo", None, ["smallvec"])
    before, requests = server.body_bytes, len(server.requests)

    second = update(sqlite_store, feeds)
    assert [r.status for r in second] == [UNCHANGED, UNCHANGED]
    assert server.statuses[requests:] == [304, 304]
    assert server.body_bytes == before and all(r.downloaded == 0 for r in second)
    status = sqlite_store.status("osv/crates.io")
    assert status is not None and status.records == 1206 and status.checked_at
    assert status.validators[f"{server.url}/crates.io/all.zip"].etag


@pytest.mark.parametrize("mode", ["close", "short"])
def test_broken_download_keeps_old_data(
    sqlite_store: VulnStore, server: FeedServer, bucket: Path, advisories: Path, mode: str
) -> None:
    feed = OsvFeed("crates.io")
    assert update(sqlite_store, [feed])[0].status == UPDATED
    _zip(
        sorted((advisories / "osv-crates/crates").glob("*.json"))[:100],
        bucket / "crates.io/all.zip",
    )

    server.break_next = mode
    (result,) = update(sqlite_store, [feed])
    assert result.status == FAILED
    assert "previous data stays" in result.error or "damaged" in result.error
    status = sqlite_store.status("osv/crates.io")
    assert status is not None and status.records == 1206
    assert len(sqlite_store.feed_data("osv/crates.io").advisories) == 1206

    (retry,) = update(sqlite_store, [feed])
    assert (retry.status, retry.records) == (UPDATED, 100)


def test_http_error_fails_only_that_feed(sqlite_store: VulnStore, server: FeedServer) -> None:
    results = update(sqlite_store, [OsvFeed("NoSuchEcosystem"), OsvFeed("Go")])
    assert [r.status for r in results] == [FAILED, UPDATED]
    assert "HTTP 404" in results[0].error


def test_alpine_secdb_files_from_a_server(
    sqlite_store: VulnStore, advisories: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "secdb"
    (root / "v3.10").mkdir(parents=True)
    for repo in ("main", "community"):
        document = yaml.safe_load((advisories / f"alpine-secdb/yaml/v3.10/{repo}.yaml").read_text())
        (root / f"v3.10/{repo}.json").write_text(json.dumps(document, default=str))
    monkeypatch.setenv("SPYGLASS_ALPINE_RELEASES", "v3.10")
    with serve(root) as server:
        feed = AlpineSecdbFeed(server.url)
        (first,) = update(sqlite_store, [feed])
        assert first.status == UPDATED and first.records > 0
        assert sqlite_store.candidates("apk", "alpine:3.10", ["musl"])
        (second,) = update(sqlite_store, [feed])
        assert second.status == UNCHANGED and server.statuses[-2:] == [304, 304]


def test_local_folder_source_and_version_bump(sqlite_store: VulnStore, advisories: Path) -> None:
    feed = OsvFeed("crates.io", str(advisories / "osv-crates/crates"))
    assert update(sqlite_store, [feed])[0].status == UPDATED
    assert update(sqlite_store, [feed])[0].status == UNCHANGED
    feed.version += 1  # a new parser version re-reads unchanged input
    assert update(sqlite_store, [feed])[0].status == UPDATED


def test_missing_local_source_fails_cleanly(sqlite_store: VulnStore, tmp_path: Path) -> None:
    (result,) = update(sqlite_store, [OsvFeed("PyPI", str(tmp_path / "absent"))])
    assert result.status == FAILED and "does not exist" in result.error
