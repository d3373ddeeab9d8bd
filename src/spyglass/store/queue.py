"""The scan queue's states, kept in the database: the source of truth, not the task broker.

Huey only carries "look at entry N"; whether N is scanned is decided here with conditional
updates, so a message delivered twice, or to a worker presumed dead, cannot scan twice:

- ``claim``: ``queued`` -> ``sent`` bumps ``attempt`` and sets a lease; only one caller wins;
- ``heartbeat``: the holder of the current attempt pushes its lease forward;
- ``finish``: the holder moves the entry to ``scanned`` or ``invalid`` (with the reason);
- ``requeue_expired``: a ``sent`` entry whose lease ran out (its worker died) goes back to
  ``queued``;
- ``purge_finished``: finished entries leave the queue after the retention time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spyglass.store.models import (
    ACTIVE_STATES,
    FINISHED_STATES,
    INVALID,
    QUEUED,
    SCANNED,
    SENT,
    QueueEntry,
)


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one attempt at one entry."""

    entry_id: int
    attempt: int
    reference: str
    platform: str
    digest: str | None
    registry_id: int | None


def _active_by_digest(session: Session, digest: str) -> QueueEntry | None:
    query = select(QueueEntry).where(
        QueueEntry.digest == digest, QueueEntry.state.in_(ACTIVE_STATES)
    )
    return session.scalars(query).first()


def submit(
    session: Session,
    reference: str,
    *,
    digest: str | None,
    platform: str = "linux/amd64",
    registry_id: int | None = None,
    now: datetime,
) -> tuple[QueueEntry, bool]:
    """The new entry and True, or the queued/sent entry for the same digest and False."""
    for _ in range(3):  # the other entry may finish between our insert and our look-up
        if digest is not None and (found := _active_by_digest(session, digest)) is not None:
            return found, False
        entry = QueueEntry(
            reference=reference, platform=platform, digest=digest, registry_id=registry_id,
            state=QUEUED, attempt=0, created_at=now, enqueued_at=now,
        )
        try:
            with session.begin_nested():
                session.add(entry)
            return entry, True
        except IntegrityError:  # a concurrent submission of the same digest won the index
            continue
    raise AssertionError("unreachable: the active-digest index kept changing")


def claim(session: Session, entry_id: int, *, lease: float, now: datetime) -> Claim | None:
    """Take a ``queued`` entry for one attempt; ``None`` when it is not queued (any more)."""
    taken = session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == entry_id, QueueEntry.state == QUEUED)
        .values(state=SENT, attempt=QueueEntry.attempt + 1, sent_at=now,
                lease_until=now + timedelta(seconds=lease))
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    entry = session.get_one(QueueEntry, entry_id, populate_existing=True)
    return Claim(entry.id, entry.attempt, entry.reference, entry.platform, entry.digest,
                 entry.registry_id)


def _held(held: Claim):  # type: ignore[no-untyped-def]
    return and_(
        QueueEntry.id == held.entry_id, QueueEntry.state == SENT,
        QueueEntry.attempt == held.attempt,
    )


def heartbeat(session: Session, held: Claim, *, lease: float, now: datetime) -> bool:
    """Extend the lease; False when the attempt is no longer ours (requeued or finished)."""
    result = session.execute(
        update(QueueEntry).where(_held(held))
        .values(lease_until=now + timedelta(seconds=lease))
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def finish(
    session: Session,
    held: Claim,
    *,
    state: str,
    now: datetime,
    reason: str | None = None,
    image_id: int | None = None,
    scan_id: int | None = None,
) -> bool:
    """Move our attempt to ``scanned`` or ``invalid``; False when it is no longer ours."""
    assert state in FINISHED_STATES
    result = session.execute(
        update(QueueEntry).where(_held(held))
        .values(state=state, reason=reason, finished_at=now, lease_until=None,
                image_id=image_id, scan_id=scan_id)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def requeue_expired(session: Session, *, now: datetime) -> list[int]:
    """Return ``sent`` entries whose lease ran out to ``queued``; their ids, to enqueue again."""
    expired = session.scalars(
        select(QueueEntry.id).where(QueueEntry.state == SENT, QueueEntry.lease_until < now)
    ).all()
    requeued = []
    for entry_id in expired:  # one conditional update each: a live heartbeat may win the race
        result = session.execute(
            update(QueueEntry)
            .where(QueueEntry.id == entry_id, QueueEntry.state == SENT,
                   QueueEntry.lease_until < now)
            .values(state=QUEUED, lease_until=None, enqueued_at=now,
                    reason="the worker stopped during the scan; queued again")
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            requeued.append(entry_id)
    return requeued


def stale_queued(session: Session, *, older_than: float, now: datetime) -> list[int]:
    """``queued`` entries no worker took for ``older_than`` seconds (message lost); enqueue again.

    A duplicate message is harmless: ``claim`` lets only one through.
    """
    cutoff = now - timedelta(seconds=older_than)
    ids = list(session.scalars(
        select(QueueEntry.id).where(QueueEntry.state == QUEUED, QueueEntry.enqueued_at < cutoff)
    ).all())
    if ids:
        session.execute(
            update(QueueEntry).where(QueueEntry.id.in_(ids)).values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def purge_finished(session: Session, *, retention: float, now: datetime) -> int:
    """Delete entries finished more than ``retention`` seconds ago; how many went."""
    result = session.execute(
        delete(QueueEntry)
        .where(QueueEntry.state.in_(FINISHED_STATES),
               QueueEntry.finished_at < now - timedelta(seconds=retention))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def list_entries(
    session: Session, *, states: tuple[str, ...] = (), limit: int = 50, offset: int = 0
) -> tuple[list[QueueEntry], int]:
    """One page of entries, newest first, and how many match in all."""
    where = [QueueEntry.state.in_(states)] if states else []
    total = session.scalar(select(func.count()).select_from(QueueEntry).where(*where)) or 0
    page = session.scalars(
        select(QueueEntry).where(*where).order_by(QueueEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(page), total


__all__ = [
    "INVALID", "QUEUED", "SCANNED", "SENT", "Claim", "claim", "finish", "heartbeat",
    "list_entries", "purge_finished", "requeue_expired", "stale_queued", "submit",
]
