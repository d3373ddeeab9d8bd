"""Running the queue: ``spyglass worker`` (a Huey consumer in the foreground) and the consumer
that ``spyglass serve`` starts beside the API on the embedded default.

Each running consumer also runs a sweeper thread: entries whose worker died go back to
``queued`` once their lease expires, and entries whose message was lost are sent again. It is a
thread rather than a Huey periodic task because Huey's schedule has one-minute resolution and
the visibility timeout may be shorter.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from huey.consumer import Consumer

from spyglass.errors import SpyglassError
from spyglass.jobs.runtime import Runtime
from spyglass.jobs.tasks import Jobs
from spyglass.store.schema import require_current

log = logging.getLogger(__name__)


class Sweeper:
    """Calls ``Jobs.sweep`` every third of the visibility timeout (at most each minute)."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs
        self.every = min(60.0, max(0.5, jobs.runtime.settings.visibility_timeout / 3))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="spyglass-sweeper", daemon=True)

    def start(self) -> None:
        """Sweep once now, then periodically."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while True:
            try:
                self.jobs.sweep()
            except SpyglassError as exc:
                log.warning("queue sweep failed: %s", exc)
            if self._stop.wait(self.every):
                return


class _QuietConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signal handling to its host (uvicorn, or pytest)."""

    def _set_signal_handlers(self) -> None:
        pass


def _options(concurrency: int) -> dict[str, object]:
    # Short polling delays: SqliteHuey is polled, and a scan request should start promptly.
    return {"workers": concurrency, "worker_type": "thread", "periodic": True,
            "initial_delay": 0.05, "backoff": 1.5, "max_delay": 1.0}


class EmbeddedWorker:
    """A consumer and sweeper inside another process (``serve``, tests); a context manager."""

    def __init__(self, jobs: Jobs, concurrency: int = 2) -> None:
        self.jobs = jobs
        self.consumer = _QuietConsumer(jobs.huey, **_options(concurrency))
        self.sweeper = Sweeper(jobs)

    def start(self) -> EmbeddedWorker:
        """Start the consumer threads and the sweeper."""
        self.consumer.start()
        self.sweeper.start()
        return self

    def stop(self) -> None:
        """Let running scans finish, then stop."""
        self.sweeper.stop()
        self.consumer.stop(graceful=True)

    def __enter__(self) -> EmbeddedWorker:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def run_worker(runtime: Runtime, concurrency: int = 2) -> None:
    """``spyglass worker``: refuse an outdated schema, then consume until SIGINT/SIGTERM."""
    require_current(runtime.db.engine)
    jobs = Jobs(runtime)
    sweeper = Sweeper(jobs)
    sweeper.start()
    try:
        Consumer(jobs.huey, **_options(concurrency)).run()
    finally:
        sweeper.stop()
