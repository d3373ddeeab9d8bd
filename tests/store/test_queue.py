"""Queue states in the database: claimed once, leases, requeue after a dead worker, purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from spyglass.store import queue
from spyglass.store.engine import Database
from spyglass.store.models import QueueEntry

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32


def _submit(db: Database, digest: str | None = DIGEST, now: datetime = T0) -> tuple[int, bool]:
    with db.transaction() as s:
        entry, created = queue.submit(s, "oci:/x:1", digest=digest, now=now)
        return entry.id, created


def _claim(db: Database, entry_id: int, now: datetime = T0) -> queue.Claim | None:
    with db.transaction() as s:
        return queue.claim(s, entry_id, lease=60, now=now)


def _state(db: Database, entry_id: int) -> QueueEntry:
    with db.transaction() as s:
        return s.get_one(QueueEntry, entry_id)


def test_same_digest_while_active_returns_the_existing_entry(db: Database) -> None:
    first, created = _submit(db)
    assert created
    assert _submit(db) == (first, False)
    held = _claim(db, first)
    assert held is not None
    assert _submit(db) == (first, False)  # still while sent
    with db.transaction() as s:
        assert queue.finish(s, held, state=queue.SCANNED, now=T0)
    again, created = _submit(db)
    assert created and again != first  # finished: a new scan may be asked for
    unknown_a, _ = _submit(db, digest=None)
    unknown_b, _ = _submit(db, digest=None)
    assert unknown_a != unknown_b  # no digest yet: nothing to deduplicate on


def test_an_entry_is_claimed_once(db: Database) -> None:
    entry_id, _ = _submit(db)
    held = _claim(db, entry_id)
    assert held is not None and held.attempt == 1 and held.digest == DIGEST
    assert _claim(db, entry_id) is None
    row = _state(db, entry_id)
    assert row.state == queue.SENT and row.sent_at == T0
    assert row.lease_until == T0 + timedelta(seconds=60)


def test_expired_lease_requeues_and_the_old_attempt_cannot_finish(db: Database) -> None:
    entry_id, _ = _submit(db)
    old = _claim(db, entry_id)
    assert old is not None
    with db.transaction() as s:
        assert queue.requeue_expired(s, now=T0 + timedelta(seconds=30)) == []
        assert queue.requeue_expired(s, now=T0 + timedelta(seconds=61)) == [entry_id]
    row = _state(db, entry_id)
    assert row.state == queue.QUEUED and "queued again" in (row.reason or "")
    new = _claim(db, entry_id, T0 + timedelta(seconds=62))
    assert new is not None and new.attempt == 2
    with db.transaction() as s:
        assert not queue.heartbeat(s, old, lease=60, now=T0 + timedelta(seconds=63))
        assert not queue.finish(s, old, state=queue.SCANNED, now=T0 + timedelta(seconds=63))
        assert queue.heartbeat(s, new, lease=60, now=T0 + timedelta(seconds=63))
        later = T0 + timedelta(seconds=70)
        assert queue.finish(s, new, state=queue.INVALID, reason="why", now=later)
    row = _state(db, entry_id)
    assert (row.state, row.reason, row.attempt) == (queue.INVALID, "why", 2)


def test_heartbeat_keeps_a_slow_scan(db: Database) -> None:
    entry_id, _ = _submit(db)
    held = _claim(db, entry_id)
    assert held is not None
    with db.transaction() as s:
        assert queue.heartbeat(s, held, lease=60, now=T0 + timedelta(seconds=50))
        assert queue.requeue_expired(s, now=T0 + timedelta(seconds=100)) == []


def test_stale_queued_entries_are_sent_again(db: Database) -> None:
    entry_id, _ = _submit(db)
    with db.transaction() as s:
        assert queue.stale_queued(s, older_than=60, now=T0 + timedelta(seconds=30)) == []
        assert queue.stale_queued(s, older_than=60, now=T0 + timedelta(seconds=61)) == [entry_id]
        assert queue.stale_queued(s, older_than=60, now=T0 + timedelta(seconds=62)) == []


def test_finished_entries_leave_after_the_retention_time(db: Database) -> None:
    done, _ = _submit(db)
    held = _claim(db, done)
    assert held is not None
    with db.transaction() as s:
        queue.finish(s, held, state=queue.SCANNED, now=T0)
    waiting, _ = _submit(db, digest=None)
    day = 24 * 3600
    with db.transaction() as s:
        assert queue.purge_finished(s, retention=day, now=T0 + timedelta(hours=23)) == 0
        assert queue.purge_finished(s, retention=day, now=T0 + timedelta(hours=25)) == 1
        items, total = queue.list_entries(s)
    assert total == 1 and [e.id for e in items] == [waiting]
