"""Refreshing the vulnerability data on a schedule, then re-evaluating the stored inventories.

A periodic Huey task checks every 15 minutes whether the data is older than
``SPYGLASS_FEED_INTERVAL_HOURS`` (default 6) and, if so, updates the feeds through
``vulndb.update``; "refresh now" queues the same work at once. When any feed changed, every
stored inventory is matched again (:mod:`.reevaluate`). Checking often and deciding from the
stored ``checked_at`` rather than a fixed crontab means a restart neither skips nor repeats a
refresh. The feeds' stamp at the last completed re-evaluation is kept in the queue's key-value
store, so data changed outside the service (``spyglass db update``) or a re-evaluation cut short
by a dying worker is caught up at the next check. One refresh runs at a time per
installation: a PostgreSQL advisory lock, or a file lock in the data directory on SQLite; both
are released by the server or the operating system when a worker dies, so no stale lock
survives it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import httpx
from huey import Huey, crontab
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from spyglass.config import positive_number
from spyglass.errors import DataError
from spyglass.jobs.reevaluate import Reevaluation, reevaluate
from spyglass.jobs.runtime import Runtime
from spyglass.store.models import utcnow
from spyglass.vulndb.feeds.interface import Feed
from spyglass.vulndb.store import VulnStore
from spyglass.vulndb.update import UPDATED, UpdateResult, update

if TYPE_CHECKING:
    from spyglass.jobs.tasks import Jobs

log = logging.getLogger(__name__)

INTERVAL_ENV = "SPYGLASS_FEED_INTERVAL_HOURS"
FEEDS_ENV = "SPYGLASS_FEEDS"
DEFAULT_INTERVAL_HOURS = 6.0
CHECK_SCHEDULE = crontab(minute="*/15")
_PG_LOCK_KEY = 0x5350_4746  # "SPGF": this installation's feed refresh


def interval_hours() -> float:
    """Hours between refreshes, from ``SPYGLASS_FEED_INTERVAL_HOURS`` (default 6)."""
    return positive_number(
        INTERVAL_ENV, DEFAULT_INTERVAL_HOURS, unit="hours", example="6", maximum=24 * 30
    )


def configured_feeds() -> list[Feed]:
    """The feeds named in ``SPYGLASS_FEEDS`` (comma-separated names or groups), else all.

    Each feed's source follows its own ``SPYGLASS_FEED_<NAME>`` variable (see ``Feed.source``).
    """
    from spyglass.vulndb.feeds.registry import select

    names = [n.strip() for n in os.environ.get(FEEDS_ENV, "").split(",") if n.strip()]
    return select(names)


def is_due(store: VulnStore, interval: timedelta, now: datetime) -> bool:
    """True when no feed is stored yet, or the newest check is older than ``interval``."""
    checked = [f.checked_at for f in store.feeds() if f.checked_at]
    if not checked:
        return True
    return datetime.fromisoformat(max(checked)) + interval <= now


@dataclass(frozen=True)
class Refresh:
    """One refresh: each feed's update result and, if anything changed, the re-evaluation."""

    results: tuple[UpdateResult, ...]
    reevaluation: Reevaluation | None

    @property
    def changed(self) -> bool:
        """True when at least one feed's data was replaced."""
        return any(r.status == UPDATED for r in self.results)


@contextmanager
def exclusive(runtime: Runtime) -> Iterator[bool]:
    """Hold this installation's refresh lock for the block; yields False if another has it."""
    if runtime.db.engine.dialect.name == "postgresql":
        with _pg_lock(runtime) as held:
            yield held
        return
    path = runtime.settings.data_dir / "feeds-refresh.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True  # closing the file releases the lock


@contextmanager
def _pg_lock(runtime: Runtime) -> Iterator[bool]:
    # A session-level advisory lock on an autocommit connection: no transaction stays open
    # for the refresh's duration, and the server releases it if this process dies.
    try:
        engine = runtime.db.engine.execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                     {"k": _PG_LOCK_KEY}).scalar())
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
    except SQLAlchemyError as exc:
        raise DataError(f"cannot take the feed refresh lock ({exc}); check the database") from exc


class Marker(Protocol):
    """Where the feeds' stamp at the last completed re-evaluation is kept."""

    def get(self) -> str | None:
        """The stamp recorded last, if any."""

    def put(self, stamp: str) -> None:
        """Record ``stamp`` once a re-evaluation against it has completed."""


class HueyMarker:
    """The marker in the queue's key-value store: shared by every worker of the installation."""

    KEY = "spyglass-feeds-reevaluated"

    def __init__(self, huey: Huey) -> None:
        self.huey = huey

    def get(self) -> str | None:
        """The stamp recorded last, if any."""
        found = self.huey.get(self.KEY, peek=True)
        return found if isinstance(found, str) else None

    def put(self, stamp: str) -> None:
        """Record ``stamp``."""
        self.huey.put(self.KEY, stamp)


def stamp(store: VulnStore) -> str:
    """What identifies the stored data: each feed's name, plugin version, time and hash."""
    return json.dumps([[f.name, f.version, f.refreshed_at, f.content_hash]
                       for f in store.feeds()])


def refresh(runtime: Runtime, feeds: list[Feed] | None = None, *,
            http: httpx.Client | None = None, marker: Marker | None = None) -> Refresh | None:
    """Update the feeds and re-evaluate if any changed; ``None`` if a refresh is running.

    With a ``marker``, also re-evaluate when the data differs from the last completed
    re-evaluation: a run cut short by a dying worker, or ``spyglass db update`` run by hand.
    """
    with exclusive(runtime) as held:
        if not held:
            log.info("a feed refresh is already running; skipped")
            return None
        store = VulnStore(runtime.db.engine)
        results = tuple(update(store, feeds if feeds is not None else configured_feeds(),
                               http=http))
        for failed in (r for r in results if r.error):
            log.warning("feed %s: %s", failed.feed, failed.error)
        now = stamp(store)
        done = Refresh(results, None)
        if done.changed or (marker is not None and marker.get() != now):
            done = Refresh(results, reevaluate(runtime))
            if marker is not None:
                marker.put(now)
        return done


@dataclass(frozen=True)
class Ticket:
    """A queued "refresh now": the Huey task id and when it was queued."""

    task_id: str
    queued_at: datetime


class FeedTasks:
    """The refresh tasks of one :class:`~spyglass.jobs.tasks.Jobs` (its Huey and runtime)."""

    def __init__(self, jobs: Jobs) -> None:
        self.runtime = jobs.runtime
        self.huey = jobs.huey
        self.marker = HueyMarker(jobs.huey)
        self._now = self.huey.task(name="refresh_feeds")(self.run)
        self.huey.periodic_task(CHECK_SCHEDULE, name="refresh_feeds_if_due")(self.run_if_due)

    def run(self) -> Refresh | None:
        """Refresh now (what the queued task does)."""
        return refresh(self.runtime, marker=self.marker)

    def run_if_due(self) -> Refresh | None:
        """Refresh when the data is older than the configured interval; otherwise only catch
        up on a re-evaluation that the data needs (no feed is fetched then)."""
        store = VulnStore(self.runtime.db.engine)
        if is_due(store, timedelta(hours=interval_hours()), utcnow()):
            return self.run()
        if self.marker.get() == stamp(store):
            return None
        return refresh(self.runtime, [], marker=self.marker)

    def enqueue(self) -> Ticket:
        """Queue "refresh now" for the workers; ``DataError`` when the broker is unreachable."""
        task = self._now.s()
        try:
            self.huey.enqueue(task)
        except Exception as exc:  # whatever the broker raises (redis, sqlite, OS)
            raise DataError(f"the task queue is unreachable ({exc}); check the queue URL") from exc
        return Ticket(str(task.id), utcnow())


def register(jobs: Jobs) -> FeedTasks:
    """Register the refresh task and its schedule on ``jobs``' Huey instance."""
    return FeedTasks(jobs)
