"""What the service, its workers and its queue read from the environment, in one object.

Implementations are chosen by settings, not by code: ``SPYGLASS_DATABASE_URL`` picks SQLite (the
default, in the data directory) or PostgreSQL, ``SPYGLASS_QUEUE_URL`` picks Huey on SQLite (the
default) or Huey on Redis (``redis://``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from spyglass.config import data_dir, positive_number
from spyglass.errors import UsageError
from spyglass.vulndb.store import database_url

QUEUE_URL_ENV = "SPYGLASS_QUEUE_URL"
QUEUE_NAME_ENV = "SPYGLASS_QUEUE_NAME"
VISIBILITY_ENV = "SPYGLASS_VISIBILITY_TIMEOUT"
PURGE_ENV = "SPYGLASS_QUEUE_RETENTION"


def _seconds(name: str, default: float) -> float:
    return positive_number(name, default, unit="seconds", example="300")


@dataclass(frozen=True)
class Settings:
    """Where the database and the queue are, and the queue's timings."""

    database_url: str
    queue_url: str
    """``redis://…`` for Huey on Redis; empty for Huey on SQLite in ``data_dir``."""
    data_dir: Path
    queue_name: str = "spyglass"
    """Huey's name: the key prefix on Redis, so several installations can share one server."""
    visibility_timeout: float = 300.0
    """Seconds a ``sent`` entry may go without a heartbeat before it returns to ``queued``."""
    retention: float = 24 * 3600.0
    """Seconds a finished (``scanned``/``invalid``) entry stays in the queue."""

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``SPYGLASS_*`` environment variables, with the embedded defaults."""
        queue_url = os.environ.get(QUEUE_URL_ENV, "").strip()
        if queue_url and not queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise UsageError(
                f"{QUEUE_URL_ENV}={queue_url!r} is not a Redis URL; use redis://HOST:PORT/DB, "
                "or unset it for the embedded queue"
            )
        return cls(
            database_url=database_url(),
            queue_url=queue_url,
            data_dir=data_dir(),
            queue_name=os.environ.get(QUEUE_NAME_ENV, "").strip() or "spyglass",
            visibility_timeout=_seconds(VISIBILITY_ENV, 300.0),
            retention=_seconds(PURGE_ENV, 24 * 3600.0),
        )

    @property
    def embedded_queue(self) -> bool:
        """True when the queue is Huey on SQLite (one machine)."""
        return not self.queue_url
