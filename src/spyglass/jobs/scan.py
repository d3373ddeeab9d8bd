"""Scanning one queue entry: claim it, keep its lease alive, scan, match, record, finish.

Everything the scan produced is written in one transaction together with the entry's move to
``scanned``, and only if this worker still holds the attempt it claimed: a worker that dies
mid-scan leaves nothing behind, and its entry is scanned once by whoever takes it next.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime
from types import TracebackType

from spyglass.errors import AuthError, SpyglassError
from spyglass.inventory import Inventory
from spyglass.jobs.findings import match_findings
from spyglass.jobs.runtime import Runtime
from spyglass.store import queue
from spyglass.store.locate import locate
from spyglass.store.models import INVALID, SCANNED, Registry, utcnow
from spyglass.store.results import FindingRow, image_for, record_scan

log = logging.getLogger(__name__)


class Lease:
    """Heartbeats the claimed attempt from a thread until the block ends."""

    def __init__(self, runtime: Runtime, held: queue.Claim) -> None:
        self.runtime, self.held = runtime, held
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._every = max(0.2, runtime.settings.visibility_timeout / 3)
        self._thread = threading.Thread(target=self._beat, name=f"lease-{held.entry_id}",
                                        daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            try:
                with self.runtime.db.transaction() as session:
                    ours = queue.heartbeat(session, self.held, now=utcnow(),
                                           lease=self.runtime.settings.visibility_timeout)
            except SpyglassError as exc:  # a database hiccup: try again next beat
                log.warning("heartbeat for entry %s failed: %s", self.held.entry_id, exc)
                continue
            if not ours:
                self.lost.set()
                return


def inventory_of(runtime: Runtime, held: queue.Claim) -> Inventory:
    """Open and analyze the entry's image (layer results cached in the data directory)."""
    from spyglass.analyze.cache import LayerCache
    from spyglass.analyze.registry import select
    from spyglass.analyze.scan import scan_image
    from spyglass.config import cache_dir
    from spyglass.image.open import open_image
    from spyglass.jobs.poll import open_options

    # A configured registry's credentials and insecure flag; anonymous otherwise.
    options = open_options(runtime, held.registry_id, held.platform)
    with open_image(held.reference, options) as image:
        return scan_image(image, select(), cache=LayerCache(cache_dir()))


def scan_entry(runtime: Runtime, entry_id: int) -> str:
    """Scan entry ``entry_id`` if it is still queued; what happened, in a word."""
    with runtime.db.transaction() as session:
        held = queue.claim(session, entry_id, lease=runtime.settings.visibility_timeout,
                           now=utcnow())
    if held is None:
        return "skipped"
    started = utcnow()
    with Lease(runtime, held):
        try:
            inventory = inventory_of(runtime, held)
        except SpyglassError as exc:
            return _invalid(runtime, held, _reason(runtime, held, exc))
        except Exception as exc:  # a bug must not leave the entry sent forever
            log.exception("scanning entry %s failed unexpectedly", entry_id)
            return _invalid(runtime, held, f"unexpected error while scanning ({type(exc).__name__}"
                            f": {exc}); this is a Spyglass bug, please report it")
        findings = match_findings(runtime, inventory)
        return _record(runtime, held, inventory, findings, started)


def _reason(runtime: Runtime, held: queue.Claim, exc: SpyglassError) -> str:
    """Why the entry is invalid, with advice that fits the service: credentials live in a
    registry record here, not in ``docker login`` (the registry client's advice is the CLI's)."""
    if not isinstance(exc, AuthError):
        return str(exc)
    from spyglass.jobs.poll import failure

    with runtime.db.transaction() as session:
        registry = None if held.registry_id is None else session.get(Registry, held.registry_id)
        if registry is not None:
            return failure(registry, exc)
    what = str(exc).partition("; ")[0]
    return (f"{what}; add the registry with its credentials (POST /api/v1/registries) and "
            "submit the scan naming that registry")


def _invalid(runtime: Runtime, held: queue.Claim, reason: str) -> str:
    with runtime.db.transaction() as session:
        ours = queue.finish(session, held, state=INVALID, reason=reason, now=utcnow())
    return INVALID if ours else "lost"


def _digest(inventory: Inventory, held: queue.Claim) -> str:
    # Sources without a manifest digest (old docker-archives) are named by their layers.
    if inventory.digest:
        return inventory.digest
    if held.digest:
        return held.digest
    joined = ",".join(layer.diff_id for layer in inventory.layers)
    return "sha256:" + hashlib.sha256(joined.encode()).hexdigest()


def _record(runtime: Runtime, held: queue.Claim, inventory: Inventory,
            findings: list[FindingRow] | None, started: datetime) -> str:
    now = utcnow()
    with runtime.db.transaction() as session:
        # Lock our attempt first: a concurrent requeue now waits for us, or we see we lost it.
        if not queue.heartbeat(session, held, lease=runtime.settings.visibility_timeout, now=now):
            return "lost"
        image = image_for(session, locate(held.reference), _digest(inventory, held), now)
        scan = record_scan(session, image, inventory, findings, entry_id=held.entry_id,
                           started_at=started, now=now)
        queue.finish(session, held, state=SCANNED, now=now, image_id=image.id, scan_id=scan.id)
    return SCANNED


def sweep(runtime: Runtime) -> list[int]:
    """Entries to send again: expired leases back to ``queued``, and long-unclaimed entries."""
    now = utcnow()
    timeout = runtime.settings.visibility_timeout
    with runtime.db.transaction() as session:
        requeued = queue.requeue_expired(session, now=now)
        stale = queue.stale_queued(session, older_than=4 * timeout, now=now)
    return sorted(set(requeued) | set(stale))
