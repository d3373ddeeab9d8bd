"""Re-evaluation: match every stored inventory again after the vulnerability data changed.

No image is pulled: each image's latest inventory is read back from the store. Images are
streamed in batches by id (keyset pagination), so memory holds one batch of inventories; one
:class:`~spyglass.match.CandidateCache` serves the whole run, so an advisory shared by a
thousand images is fetched and compiled once. Each batch is written in one transaction through
``results.apply_findings``, which records ``new`` and ``resolved`` finding events and
recomputes the image row's counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spyglass.errors import SpyglassError
from spyglass.inventory import Inventory
from spyglass.jobs.findings import to_row
from spyglass.jobs.runtime import Runtime
from spyglass.match import CandidateCache, match
from spyglass.store.models import Image, InventoryRecord, utcnow
from spyglass.store.results import FindingRow, apply_findings
from spyglass.vulndb.store import FeedStatus, VulnStore

log = logging.getLogger(__name__)

BATCH = 200
"""Images per read and per write transaction."""


@dataclass(frozen=True)
class Stored:
    """One image's latest scan, as read back for matching."""

    image_id: int
    scan_id: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Matched:
    """One image's findings against the current data."""

    image_id: int
    scan_id: int
    findings: list[FindingRow]


@dataclass
class Reevaluation:
    """What one run did: images matched, findings opened and resolved, images skipped."""

    started_at: datetime
    images: int = 0
    new: int = 0
    resolved: int = 0
    skipped: int = 0
    """Images whose inventory could not be matched, or that a newer scan replaced meanwhile."""
    changed: list[int] = field(default_factory=list)
    """Ids of the images whose open findings changed."""


def stream(runtime: Runtime, batch: int = BATCH) -> Iterator[list[Stored]]:
    """Every scanned image's latest inventory, ``batch`` images at a time, by image id."""
    after = 0
    while True:
        with runtime.db.transaction() as session:
            rows = session.execute(
                select(Image.id, Image.last_scan_id, InventoryRecord.data)
                .join(InventoryRecord, InventoryRecord.scan_id == Image.last_scan_id)
                .where(Image.id > after)
                .order_by(Image.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        yield [Stored(r[0], r[1], r[2]) for r in rows]
        after = rows[-1][0]


def match_one(store: VulnStore, cache: CandidateCache, stored: Stored) -> Matched | None:
    """The image's findings now; ``None`` (logged) when its inventory cannot be matched."""
    try:
        inventory = Inventory.from_dict(stored.data)
        result = match(inventory, store, cache=cache)
    except (SpyglassError, KeyError, TypeError, ValueError) as exc:
        # An inventory stored by an older version may not read back; keep its findings.
        log.warning("re-evaluating image %s failed: %s", stored.image_id, exc)
        return None
    return Matched(stored.image_id, stored.scan_id, [to_row(f) for f in result.findings])


def write(session: Session, matched: Sequence[Matched], run: Reevaluation, now: datetime) -> None:
    """Apply each image's findings, unless a scan recorded since replaced its inventory."""
    # Locking the batch's rows (in id order, so two runs cannot deadlock) makes a concurrent
    # scan or re-evaluation of these images wait for this transaction.
    wanted = sorted(m.image_id for m in matched)
    images = {i.id: i for i in session.scalars(
        select(Image).where(Image.id.in_(wanted)).order_by(Image.id)
        .with_for_update().execution_options(populate_existing=True)
    )}
    for item in matched:
        image = images.get(item.image_id)
        if image is None or image.last_scan_id != item.scan_id:
            run.skipped += 1
            continue
        new, resolved = apply_findings(session, image, item.findings, now=now)
        run.images, run.new, run.resolved = run.images + 1, run.new + new, run.resolved + resolved
        if new or resolved:
            run.changed.append(image.id)


class _Snapshot(VulnStore):
    """The store with its feed list read once: the matcher asks for it per inventory, and the
    refresh lock keeps the feeds still while the run lasts."""

    def __init__(self, store: VulnStore) -> None:
        super().__init__(store.engine)
        self._feeds = store.feeds()

    def feeds(self) -> list[FeedStatus]:
        """The feeds as they were when the run began."""
        return self._feeds


def reevaluate(runtime: Runtime, *, batch: int = BATCH, now: datetime | None = None
               ) -> Reevaluation:
    """Match every stored inventory against the current data and record what changed."""
    run = Reevaluation(started_at=now or utcnow())
    store = _Snapshot(VulnStore(runtime.db.engine))  # the vuln_ tables sit beside ours
    if not store.feeds():
        return run
    cache = CandidateCache()
    for stored in stream(runtime, batch):
        matched = [m for s in stored if (m := match_one(store, cache, s)) is not None]
        run.skipped += len(stored) - len(matched)
        with runtime.db.transaction() as session:
            write(session, matched, run, run.started_at)
    log.info("re-evaluated %d images: %d new findings, %d resolved, %d skipped",
             run.images, run.new, run.resolved, run.skipped)
    return run
