"""Reading finding events back: an image's history of new and resolved findings.

``results.apply_findings`` writes the events; each names the scan that caused it, or none when a
re-evaluation did. One re-evaluation stamps all its events with its start time, which is how the
last run's changes are told apart from earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spyglass.store.models import Finding, FindingEvent


@dataclass(frozen=True)
class Event:
    """A finding appeared (``new``) or went away (``resolved``) on an image."""

    id: int
    kind: str
    at: datetime
    advisory_id: str
    package: str
    version: str
    scan_id: int | None
    """The scan that caused it; ``None`` for a re-evaluation."""


@dataclass(frozen=True)
class Changes:
    """What the image's latest re-evaluation changed."""

    at: datetime | None
    """When that re-evaluation ran; ``None`` if none has changed this image."""
    new: int = 0
    resolved: int = 0


def image_events(session: Session, image_id: int, *, limit: int = 50, offset: int = 0
                 ) -> tuple[list[Event], int]:
    """A page of the image's finding events, newest first, and how many there are."""
    total = session.scalar(
        select(func.count()).select_from(FindingEvent).where(FindingEvent.image_id == image_id)
    ) or 0
    rows = session.execute(
        select(FindingEvent.id, FindingEvent.kind, FindingEvent.at, Finding.advisory_id,
               Finding.package, Finding.version, FindingEvent.scan_id)
        .join(Finding, Finding.id == FindingEvent.finding_id)
        .where(FindingEvent.image_id == image_id)
        .order_by(FindingEvent.at.desc(), FindingEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return [Event(*row) for row in rows], total


def last_reevaluation(session: Session, image_id: int) -> Changes:
    """How many findings the latest re-evaluation that changed the image opened and resolved.

    A run that changed nothing writes no event, so this is the last run with an effect.
    """
    by_rerun = (FindingEvent.image_id == image_id, FindingEvent.scan_id.is_(None))
    at = session.scalar(select(func.max(FindingEvent.at)).where(*by_rerun))
    if at is None:
        return Changes(None)
    counts = dict(session.execute(
        select(FindingEvent.kind, func.count()).where(*by_rerun, FindingEvent.at == at)
        .group_by(FindingEvent.kind)
    ).all())
    return Changes(at, new=counts.get("new", 0), resolved=counts.get("resolved", 0))
