"""``update.ingest``: rows streamed from parse workers into one transaction store exactly what
``parse`` + ``replace`` store, and any failure before the commit keeps the previous data."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from spyglass.errors import FeedError
from spyglass.vulndb import rows
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.feeds.parallel import WORKERS_ENV
from spyglass.vulndb.model import Advisory, AdvisoryId, Affected, Event, FeedData, Range
from spyglass.vulndb.store import VulnStore
from spyglass.vulndb.update import ingest

STATE = FetchState(1, {}, "sha256:1")


def _advisory(advisory_id: str, summary: str = "") -> Advisory:
    return Advisory(id=AdvisoryId(advisory_id), feed="osv/PyPI", summary=summary)


def _affected(advisory_id: str, name: str) -> Affected:
    ranges = (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "2.0"))),)
    return Affected(AdvisoryId(advisory_id), "pypi", None, name, ranges)


def _old(store: VulnStore) -> FeedData:
    data = FeedData((_advisory("OLD-1"),), (_affected("OLD-1", "django"),))
    store.replace("osv/PyPI", data, STATE, "before")
    return data


@pytest.mark.realdata
def test_ingest_stores_what_parse_and_replace_store(
    store: VulnStore, testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = testdata / "advisories/osv-go/osv"
    monkeypatch.setenv(WORKERS_ENV, "2")
    stored = ingest(store, OsvFeed("Go"), folder, STATE, "local")
    assert (stored.records, stored.skipped) == (4291, ())
    monkeypatch.setenv(WORKERS_ENV, "1")
    parsed = OsvFeed("Go").parse(folder)
    assert store.feed_data("osv/Go") == FeedData(parsed.advisories, parsed.affected)
    status = store.status("osv/Go")
    assert status is not None and status.records == 4291 and status.source == "local"


@pytest.mark.realdata
def test_ingest_of_a_zip_in_workers(
    store: VulnStore, testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((testdata / "advisories/osv-go/osv").glob("*.json"))[:450]:
            zf.write(path, path.name)
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert ingest(store, OsvFeed("Go"), archive, STATE, "zip").records == 450
    monkeypatch.setenv(WORKERS_ENV, "1")
    parsed = OsvFeed("Go").parse(archive)
    assert store.feed_data("osv/Go") == FeedData(parsed.advisories, parsed.affected)


def test_nothing_readable_fails_and_keeps_old_data(store: VulnStore, tmp_path: Path) -> None:
    old = _old(store)
    for i in range(3):
        (tmp_path / f"PYSEC-{i}.json").write_text("{ not json")
    with pytest.raises(FeedError, match="no record could be read"):
        ingest(store, OsvFeed("PyPI"), tmp_path, FetchState(1, {}, "sha256:2"), "after")
    assert store.feed_data("osv/PyPI") == old
    assert store.fetch_state("osv/PyPI") == STATE


def test_failure_between_parts_keeps_old_data(store: VulnStore) -> None:
    old = _old(store)
    new = FeedData((_advisory("NEW-1"),), (_affected("NEW-1", "flask"),))

    def parts() -> Iterator[rows.FeedPart]:
        yield rows.feed_part("osv/PyPI", new)  # stored, then the next part cannot be parsed
        raise FeedError("OSV archive all.zip is damaged")

    with pytest.raises(FeedError, match="damaged"):
        store.replace_parts("osv/PyPI", parts(), FetchState(1, {}, "sha256:2"), "after")
    assert store.feed_data("osv/PyPI") == old
    assert store.candidates("pypi", None, ["flask"]) == []


def test_repeated_id_keeps_first_place_and_last_row(store: VulnStore) -> None:
    first = FeedData((_advisory("A-1", "old"), _advisory("B-1")), (_affected("A-1", "x"),))
    second = FeedData((_advisory("C-1"), _advisory("A-1", "new")), (_affected("C-1", "y"),))
    parts = [rows.feed_part("osv/PyPI", first), rows.feed_part("osv/PyPI", second)]
    assert store.replace_parts("osv/PyPI", parts, STATE, "src").records == 4
    stored = store.feed_data("osv/PyPI").advisories
    assert [(a.id, a.summary) for a in stored] == [("A-1", "new"), ("B-1", ""), ("C-1", "")]
    whole = FeedData(first.advisories + second.advisories, first.affected + second.affected)
    store.replace("osv/PyPI", whole, STATE, "src")
    assert store.feed_data("osv/PyPI").advisories == stored


def test_sqlite_checkpoints_resume_after_a_replace(tmp_path: Path) -> None:
    store = VulnStore.open(f"sqlite:///{tmp_path / 'vuln.db'}")
    try:
        _old(store)
        with pytest.raises(FeedError):
            store.replace_parts("osv/PyPI", _failing(), STATE, "src")
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        store.close()
    assert not (tmp_path / "vuln.db-wal").exists()  # checkpointed when the store closed


def _failing() -> Iterator[rows.FeedPart]:
    raise FeedError("broken")
    yield  # pragma: no cover
