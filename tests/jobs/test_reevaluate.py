"""Re-evaluating stored inventories and refreshing feeds, on both backends.

Images are recorded the way a worker records them (``results.record_scan``), before any
vulnerability data exists; the data is then stored and changed, and re-evaluation must open and
resolve findings with events, in batches, keeping the image rows' counts right.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from spyglass.errors import UsageError
from spyglass.inventory import Digest, Inventory, OSRelease, Package
from spyglass.jobs.reevaluate import Matched, Reevaluation, reevaluate, write
from spyglass.jobs.refresh import exclusive, interval_hours, is_due, refresh
from spyglass.jobs.runtime import Runtime
from spyglass.jobs.tasks import Jobs
from spyglass.store.engine import Database
from spyglass.store.locate import Location
from spyglass.store.models import Finding, FindingEvent, Image, InventoryRecord, utcnow
from spyglass.store.results import image_for, record_scan
from spyglass.vulndb.ecosystems import distro_key
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.model import Advisory, AdvisoryId, Affected, Event, FeedData, Range
from spyglass.vulndb.store import VulnStore
from tests.helpers.backends import Backend

ALPINE = OSRelease("alpine", "3.19.1")


@pytest.fixture
def runtime(backend: Backend, db: Database) -> Iterator[Runtime]:
    yield Runtime(backend.settings, db)


def store_image(runtime: Runtime, index: int, musl: str) -> int:
    """Record a scan of an Alpine image with ``musl`` at that version, unmatched; its id."""
    package = Package("musl", musl, "apk", source_name="musl", layer=None)
    inventory = Inventory(reference=f"example.test/team/app{index}:1.0",
                          digest=Digest(f"sha256:{index:064x}"), platform="linux/amd64", os=ALPINE,
                          layers=(), packages=(package,))
    now = utcnow()
    with runtime.db.transaction() as session:
        where = Location("example.test", f"team/app{index}", "1.0", inventory.reference)
        image = image_for(session, where, f"sha256:{index:064x}", now)
        record_scan(session, image, inventory, None, entry_id=None, started_at=now, now=now)
        return image.id


def musl_advisory(vuln_id: str, fixed: str, *, withdrawn: str | None = None) -> FeedData:
    advisory = Advisory(id=AdvisoryId(vuln_id), feed="test", severity="high",
                        summary="musl overflow", withdrawn=withdrawn)
    ranges = (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", fixed))),)
    affected = Affected(AdvisoryId(vuln_id), "apk", distro_key(ALPINE), "musl", ranges)
    return FeedData((advisory,), (affected,), ())


def load(runtime: Runtime, data: FeedData) -> None:
    VulnStore(runtime.db.engine).replace("test", data, FetchState(1), "test")


def events(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.db.transaction() as session:
        rows = session.execute(
            select(Finding.advisory_id, FindingEvent.kind)
            .join(Finding, Finding.id == FindingEvent.finding_id)
        ).all()
    return sorted((a, k) for a, k in rows)


def test_nothing_to_do_without_vulnerability_data(runtime: Runtime) -> None:
    store_image(runtime, 1, "1.2.4-r2")
    run = reevaluate(runtime)
    assert (run.images, run.new, run.resolved) == (0, 0, 0)


def test_findings_open_and_resolve_in_batches(runtime: Runtime) -> None:
    ids = [store_image(runtime, i, "1.2.4-r2" if i % 2 else "1.2.4-r3") for i in range(1, 6)]
    load(runtime, musl_advisory("CVE-2099-0001", "1.2.4-r3"))

    run = reevaluate(runtime, batch=2)
    assert (run.images, run.new, run.resolved, run.skipped) == (5, 3, 0, 0)
    assert sorted(run.changed) == [ids[0], ids[2], ids[4]]
    with runtime.db.transaction() as session:
        highs = dict(session.execute(select(Image.id, Image.high)).all())
        fixable = session.scalar(select(func.sum(Image.fixable)))
    assert highs == {i: (1 if n % 2 == 0 else 0) for n, i in enumerate(ids)}
    assert fixable == 3
    assert events(runtime) == [("CVE-2099-0001", "new")] * 3

    again = reevaluate(runtime, batch=2)  # nothing changed: no events, same counts
    assert (again.images, again.new, again.resolved, again.changed) == (5, 0, 0, [])

    load(runtime, musl_advisory("CVE-2099-0001", "1.2.4-r3", withdrawn="2099-01-01T00:00:00Z"))
    gone = reevaluate(runtime, batch=3)
    assert (gone.new, gone.resolved) == (0, 3)
    assert events(runtime).count(("CVE-2099-0001", "resolved")) == 3
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.sum(Image.high))) == 0
        assert session.scalar(select(func.count()).select_from(Finding)
                              .where(Finding.resolved_at.is_(None))) == 0


def test_unreadable_inventory_is_skipped_and_the_rest_go_on(runtime: Runtime) -> None:
    broken, fine = store_image(runtime, 1, "1.2.4-r2"), store_image(runtime, 2, "1.2.4-r2")
    with runtime.db.transaction() as session:
        scan_id = session.get(Image, broken).last_scan_id  # type: ignore[union-attr]
        session.get(InventoryRecord, scan_id).data = {"written by": "a future version"}  # type: ignore[union-attr]
    load(runtime, musl_advisory("CVE-2099-0001", "1.2.4-r3"))
    run = reevaluate(runtime)
    assert (run.images, run.skipped, run.changed) == (1, 1, [fine])


def test_an_image_rescanned_meanwhile_is_left_to_its_new_scan(runtime: Runtime) -> None:
    image_id = store_image(runtime, 1, "1.2.4-r2")
    run = Reevaluation(started_at=utcnow())
    with runtime.db.transaction() as session:
        write(session, [Matched(image_id, scan_id=-1, findings=[])], run, utcnow())
    assert (run.images, run.skipped) == (0, 1)


def osv_folder(root: Path, *records: dict[str, object]) -> OsvFeed:
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.json"):
        old.unlink()
    for record in records:
        (root / f"{record['id']}.json").write_text(json.dumps(record))
    return OsvFeed("Alpine", source=str(root))


def musl_record(vuln_id: str, fixed: str) -> dict[str, object]:
    return {"id": vuln_id, "modified": "2026-01-01T00:00:00Z", "affected": [{
        "package": {"ecosystem": "Alpine:v3.19", "name": "musl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}


def test_refresh_reevaluates_only_when_a_feed_changed(runtime: Runtime, tmp_path: Path) -> None:
    store_image(runtime, 1, "1.2.4-r2")
    feed = osv_folder(tmp_path / "osv", musl_record("CVE-2099-0002", "1.2.4-r3"))
    first = refresh(runtime, [feed])
    assert first is not None and first.changed and first.reevaluation is not None
    assert first.reevaluation.new == 1
    unchanged = refresh(runtime, [feed])
    assert unchanged is not None and not unchanged.changed and unchanged.reevaluation is None

    osv_folder(tmp_path / "osv", musl_record("CVE-2099-0003", "1.2.4-r3"))
    with exclusive(runtime) as held:
        assert held
        assert refresh(runtime, [feed]) is None  # another refresh holds the lock
    changed = refresh(runtime, [feed])
    assert changed is not None and changed.reevaluation is not None
    assert (changed.reevaluation.new, changed.reevaluation.resolved) == (1, 1)


def test_due_after_the_interval(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    store = VulnStore(runtime.db.engine)
    assert is_due(store, timedelta(hours=6), utcnow())  # no data yet
    load(runtime, musl_advisory("CVE-2099-0001", "1.2.4-r3"))
    assert not is_due(store, timedelta(hours=6), utcnow())
    assert is_due(store, timedelta(hours=6), utcnow() + timedelta(hours=6, seconds=1))

    monkeypatch.delenv("SPYGLASS_FEED_INTERVAL_HOURS", raising=False)
    assert interval_hours() == 6.0
    monkeypatch.setenv("SPYGLASS_FEED_INTERVAL_HOURS", "0.5")
    assert interval_hours() == 0.5
    for bad in ("soon", "0", "-1"):
        monkeypatch.setenv("SPYGLASS_FEED_INTERVAL_HOURS", bad)
        with pytest.raises(UsageError, match="SPYGLASS_FEED_INTERVAL_HOURS"):
            interval_hours()


def test_data_changed_outside_the_service_is_caught_up_once(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPYGLASS_FEEDS", "osv/Alpine")  # no network even if a check were due
    jobs = Jobs(runtime)
    jobs.flush()
    try:
        store_image(runtime, 1, "1.2.4-r2")
        load(runtime, musl_advisory("CVE-2099-0001", "1.2.4-r3"))  # as `spyglass db update`
        caught_up = jobs.feeds.run_if_due()  # not due: fetches nothing, re-evaluates
        assert caught_up is not None and caught_up.results == ()
        assert caught_up.reevaluation is not None and caught_up.reevaluation.new == 1
        assert jobs.feeds.run_if_due() is None  # the marker now matches the data
    finally:
        jobs.flush()
