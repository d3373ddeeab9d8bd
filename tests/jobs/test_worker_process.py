"""Real ``spyglass worker`` processes: killed mid-scan, restarted, and two at once.

Each backend runs these (SQLite + Huey-on-SQLite, PostgreSQL + Huey-on-Redis). Every worker
process is stopped at the end of its block, and waits are bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from spyglass.jobs.runtime import Runtime
from spyglass.jobs.tasks import Jobs
from spyglass.store import queue
from spyglass.store.engine import Database
from spyglass.store.models import Image, QueueEntry, Scan, utcnow
from tests.helpers.backends import Backend
from tests.helpers.images import build_image, write_oci_layout
from tests.helpers.stall_registry import StallRegistry

WORKER = [sys.executable, "-c", "from spyglass.cli.main import main; main()", "worker",
          "--log-level", "warning"]


@contextmanager
def worker_process(
    backend: Backend, log: Path, concurrency: int = 2
) -> Iterator[subprocess.Popen[bytes]]:
    """A ``spyglass worker`` subprocess on the backend; interrupted (then killed) at the end."""
    with log.open("ab") as out:
        proc = subprocess.Popen([*WORKER, "--concurrency", str(concurrency)], env=backend.env(),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout} s; worker log:\n"
                                 f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def _entry(db: Database, entry_id: int) -> QueueEntry:
    with db.transaction() as s:
        return s.get_one(QueueEntry, entry_id)


def _submit(db: Database, jobs: Jobs, reference: str, digest: str | None) -> int:
    with db.transaction() as s:
        entry, created = queue.submit(s, reference, digest=digest, now=utcnow())
    assert created
    jobs.enqueue_scan(entry.id)
    return entry.id


def test_worker_killed_mid_scan_then_entry_is_scanned_once(
    backend: Backend, db: Database, tmp_path: Path
) -> None:
    image = build_image([{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"},
                         {"opt/payload.bin": os.urandom(512 * 1024)}])
    stall = image.layer_digests[1]
    registry = StallRegistry({"test/slow": {"v1": image}}).start()
    registry.stall_digest = stall
    registry.stalling.set()
    runtime = Runtime.from_settings(backend.settings)
    jobs = Jobs(runtime)
    log = tmp_path / "worker.log"
    try:
        jobs.flush()
        entry_id = _submit(db, jobs, f"{registry.host}/test/slow:v1", image.digest)
        with worker_process(backend, log) as first:
            wait_until(lambda: registry.blob_requests[stall] == 1
                       and _entry(db, entry_id).state == "sent", 60, "the stalled scan", log)
            first.kill()  # SIGKILL: no cleanup, the lease just stops being renewed
            first.wait(timeout=10)
        assert _entry(db, entry_id).state == "sent"
        registry.stalling.clear()
        with worker_process(backend, log):
            wait_until(lambda: _entry(db, entry_id).state == "scanned", 60, "the rescan", log)
        done = _entry(db, entry_id)
        assert done.attempt == 2 and done.image_id is not None
        with db.transaction() as s:
            scans = s.scalars(select(Scan).where(Scan.queue_entry_id == entry_id)).all()
            assert [sc.id for sc in scans] == [done.scan_id]
            assert s.scalar(select(func.count()).select_from(Image)) == 1
        assert registry.blob_requests[stall] == 2
    finally:
        registry.stop()
        runtime.close()


def test_many_submissions_two_workers_none_lost_none_twice(
    backend: Backend, db: Database, tmp_path: Path
) -> None:
    runtime = Runtime.from_settings(backend.settings)
    jobs = Jobs(runtime)
    jobs.flush()
    log = tmp_path / "workers.log"
    ids, missing = [], []
    try:
        for n in range(200):
            if n % 20 == 19:  # one in twenty cannot be read
                missing.append(_submit(db, jobs, f"oci:{tmp_path / f'gone-{n}'}", None))
                continue
            built = build_image([{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n",
                                  "etc/image-number": str(n).encode()}])
            write_oci_layout(built, tmp_path / f"img-{n}", tag="1")
            ids.append(_submit(db, jobs, f"oci:{tmp_path / f'img-{n}'}:1", built.digest))
        everything = ids + missing

        def finished() -> bool:
            with db.transaction() as s:
                active = select(func.count()).select_from(QueueEntry).where(
                    QueueEntry.state.in_(("queued", "sent")))
                return s.scalar(active) == 0

        with worker_process(backend, log), worker_process(backend, log):
            wait_until(finished, 100, "200 entries finishing", log)
        with db.transaction() as s:
            states = {i: st for i, st in s.execute(select(QueueEntry.id, QueueEntry.state))}
            per_entry = Counter(s.scalars(select(Scan.queue_entry_id)).all())
        assert sorted(states) == sorted(everything)
        assert {states[i] for i in ids} == {"scanned"}
        assert {states[i] for i in missing} == {"invalid"}
        assert set(per_entry) == set(ids) and set(per_entry.values()) == {1}
    finally:
        runtime.close()
