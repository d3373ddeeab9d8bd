"""The queue's maintenance tasks in-process: purge after retention, sweep of lost entries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from spyglass.jobs.runtime import Runtime
from spyglass.jobs.tasks import Jobs, make_huey
from spyglass.store import queue
from spyglass.store.engine import Database
from spyglass.store.models import QueueEntry, utcnow
from tests.helpers.backends import Backend


def _entry(db: Database, **values: object) -> int:
    with db.transaction() as s:
        entry, _ = queue.submit(s, "oci:/x", digest=None, now=utcnow())
    if values:
        with db.transaction() as s:
            s.execute(update(QueueEntry).where(QueueEntry.id == entry.id).values(**values))
    return entry.id


def test_purge_removes_only_entries_finished_a_day_ago(backend: Backend, db: Database) -> None:
    runtime = Runtime.from_settings(backend.settings)
    try:
        now = utcnow()
        _entry(db, state="scanned", finished_at=now - timedelta(hours=25))
        _entry(db, state="invalid", finished_at=now - timedelta(hours=25), reason="gone")
        recent = _entry(db, state="scanned", finished_at=now - timedelta(hours=1))
        waiting = _entry(db)
        assert Jobs(runtime).purge() == 2
        with db.transaction() as s:
            assert sorted(e.id for e in queue.list_entries(s)[0]) == [recent, waiting]
    finally:
        runtime.close()


def test_sweep_requeues_a_dead_workers_entry_and_sends_it_again(
    backend: Backend, db: Database
) -> None:
    runtime = Runtime.from_settings(backend.settings)
    jobs = Jobs(runtime)
    try:
        jobs.flush()
        now = utcnow()
        dead = _entry(db, state="sent", attempt=1, lease_until=now - timedelta(seconds=1))
        alive = _entry(db, state="sent", attempt=1, lease_until=now + timedelta(minutes=5))
        assert jobs.sweep() == [dead]
        assert jobs.pending() == 1
        with db.transaction() as s:
            assert s.get_one(QueueEntry, dead).state == "queued"
            assert s.get_one(QueueEntry, alive).state == "sent"
    finally:
        jobs.flush()
        runtime.close()


def test_queue_backend_follows_the_settings(backend: Backend) -> None:
    kind = type(make_huey(backend.settings).storage).__name__
    assert kind == ("SqliteStorage" if backend.name == "sqlite" else "RedisStorage")
