"""The Huey instance and its tasks, chosen by settings: Huey on SQLite in the data directory by
default, Huey on Redis when ``SPYGLASS_QUEUE_URL=redis://…``.

Huey carries only "scan entry N"; the entry's state lives in the database (``store.queue``), so
a lost or duplicated message costs nothing. Tasks are registered on the instance by explicit
name when :class:`Jobs` is built, never by import side effects.
"""

from __future__ import annotations

import logging
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab

from spyglass.errors import DataError
from spyglass.jobs import refresh
from spyglass.jobs.poll import poll_and_send
from spyglass.jobs.runtime import Runtime
from spyglass.jobs.scan import scan_entry, sweep
from spyglass.service.settings import QUEUE_URL_ENV, Settings
from spyglass.store import queue
from spyglass.store.models import utcnow

log = logging.getLogger(__name__)



def make_huey(settings: Settings) -> Huey:
    """Huey on Redis (``queue_url``) or on SQLite in the data directory; results are not kept."""
    if settings.queue_url:
        return RedisHuey(settings.queue_name, url=settings.queue_url, results=False)
    path = settings.data_dir / "queue.db"
    return SqliteHuey(settings.queue_name, filename=str(path), results=False)


class Jobs:
    """The queue with its tasks bound to one runtime (settings + database)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.huey = make_huey(runtime.settings)
        self._scan = self.huey.task(name="scan_entry")(self._run_scan)
        self.huey.periodic_task(crontab(minute="*/10"), name="purge_queue")(self.purge)
        self.feeds = refresh.register(self)  # feed refresh: task, schedule, "refresh now"
        self.huey.periodic_task(crontab(), name="poll_registries")(lambda: poll_and_send(self))

    def _run_scan(self, entry_id: int) -> None:
        outcome = scan_entry(self.runtime, entry_id)
        log.info("entry %s: %s", entry_id, outcome)

    def enqueue_scan(self, entry_id: int) -> bool:
        """Send "scan entry N" to the workers; False (logged) when the broker is unreachable.

        The entry is already committed as ``queued``: the sweep sends it again later.
        """
        try:
            self._scan(entry_id)
            return True
        except Exception as exc:  # whatever the broker raises (redis, sqlite, OS)
            log.warning("could not enqueue entry %s (%s); the sweep will retry", entry_id, exc)
            return False

    def sweep(self) -> list[int]:
        """Requeue entries whose worker died and resend lost messages; the ids sent."""
        ids = sweep(self.runtime)
        for entry_id in ids:
            self.enqueue_scan(entry_id)
        return ids

    def purge(self) -> int:
        """Delete entries finished longer ago than the retention time (24 h by default)."""
        with self.runtime.db.transaction() as session:
            return queue.purge_finished(
                session, retention=self.runtime.settings.retention, now=utcnow()
            )

    def pending(self) -> int:
        """Messages waiting in the broker (for tests and status)."""
        try:
            return int(self.huey.pending_count())
        except Exception as exc:
            raise DataError(
                f"the task queue is unreachable ({exc}); check {QUEUE_URL_ENV}"
            ) from exc

    def flush(self) -> None:
        """Drop every message and schedule in the broker (tests)."""
        self.huey.flush()


def describe(settings: Settings) -> dict[str, Any]:
    """What the queue is, for logs and ``/healthz``."""
    return {"queue": "redis" if settings.queue_url else "sqlite", "name": settings.queue_name}
