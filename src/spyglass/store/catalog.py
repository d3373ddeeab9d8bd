"""Reading images back: the filtered, sorted, paginated list, one image's detail, and assets.

Filters and sort keys work on the image row's own columns (its counts are kept up to date by
``results.apply_findings``), joined to its repository; tag filters use an ``EXISTS`` so an image
with many tags appears once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from spyglass.errors import UsageError
from spyglass.store.events import Changes, last_reevaluation
from spyglass.store.models import (
    SCANNED,
    SEVERITIES,
    Finding,
    Image,
    InventoryRecord,
    QueueEntry,
    Repository,
    Scan,
    Tag,
)

SORT_KEYS: dict[str, Any] = {
    "scanned_at": Image.scanned_at,
    "first_seen": Image.first_seen,
    "repository": Repository.name,
    "packages": Image.packages,
    "fixable": Image.fixable,
    "exploited": Image.exploited,
    **{s: getattr(Image, s) for s in SEVERITIES},
}


@dataclass(frozen=True)
class ImageFilter:
    """What the image list (and later its CSV export) may be narrowed by."""

    registry: str | None = None
    repository: str | None = None
    tag: str | None = None
    os: str | None = None
    """``family`` or ``family:version``."""
    severity: str | None = None
    """At least this severity among the open findings."""
    fixable: bool | None = None
    exploited: bool | None = None
    scanned_after: datetime | None = None
    scanned_before: datetime | None = None
    state: str | None = None
    """Scan state: that of the image's latest queue entry, ``scanned`` once none is left."""


@dataclass(frozen=True)
class ImageRow:
    """One line of the image list."""

    image: Image
    host: str
    repository: str
    tags: tuple[str, ...]
    state: str = SCANNED
    """That of the image's latest queue entry; ``scanned`` once none is left."""


def _at_least(severity: str) -> ColumnElement[bool]:
    if severity not in SEVERITIES:
        raise UsageError(f"unknown severity {severity!r}; choose from {', '.join(SEVERITIES)}")
    worse = SEVERITIES[: SEVERITIES.index(severity) + 1]
    return or_(*(getattr(Image, s) > 0 for s in worse))


def _conditions(f: ImageFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Image.scanned_at.is_not(None)]
    if f.registry:
        where.append(Repository.host == f.registry)
    if f.repository:
        where.append(Repository.name == f.repository)
    if f.tag:
        where.append(exists().where(Tag.image_id == Image.id, Tag.name == f.tag))
    if f.os:
        family, _, version = f.os.partition(":")
        where.append(Image.os_family == family)
        if version:
            where.append(Image.os_version == version)
    if f.severity:
        where.append(_at_least(f.severity))
    if f.fixable is not None:
        where.append(Image.fixable > 0 if f.fixable else Image.fixable == 0)
    if f.exploited is not None:
        where.append(Image.exploited > 0 if f.exploited else Image.exploited == 0)
    if f.scanned_after:
        where.append(Image.scanned_at >= f.scanned_after)
    if f.scanned_before:
        where.append(Image.scanned_at < f.scanned_before)
    if f.state:
        where.append(_state_is(f.state))
    return where


def _latest_entries() -> Select[Any]:
    """The id of each image's latest queue entry."""
    return (select(func.max(QueueEntry.id)).where(QueueEntry.image_id.is_not(None))
            .group_by(QueueEntry.image_id))


def _state_is(state: str) -> ColumnElement[bool]:
    """The image's latest queue entry is in ``state`` (a rescan may be queued or have failed);
    ``scanned`` also when none is left (finished entries are purged). Written as semi-joins on
    the small queue table rather than a per-image subquery, so no index is needed."""
    latest = _latest_entries()
    if state == SCANNED:  # NOT IN is safe: image_id is never NULL in the subquery
        elsewhere = select(QueueEntry.image_id).where(QueueEntry.id.in_(latest),
                                                       QueueEntry.state != SCANNED)
        return Image.id.not_in(elsewhere)
    return Image.id.in_(select(QueueEntry.image_id).where(QueueEntry.id.in_(latest),
                                                          QueueEntry.state == state))


def filtered(f: ImageFilter, *columns: Any, repository: bool = True) -> Select[Any]:
    """``SELECT columns`` over the images that ``f`` keeps, joined to their repository unless
    ``repository`` is false and no filter needs it (PostgreSQL never drops an inner join)."""
    query = select(*columns).select_from(Image)
    if repository or f.registry or f.repository:
        query = query.join(Repository, Repository.id == Image.repository_id)
    return query.where(*_conditions(f))


def ordered(query: Select[Any], sort: str) -> Select[Any]:
    """``query`` sorted by the list's sort key (``-`` for descending), ties by image id."""
    return _ordered(query, sort)


def _ordered(query: Select[Any], sort: str) -> Select[Any]:
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        raise UsageError(f"cannot sort by {sort!r}; choose from {', '.join(sorted(SORT_KEYS))} "
                         "(prefix - for descending)")
    column = SORT_KEYS[key]
    if sort.startswith("-"):
        return query.order_by(column.desc(), Image.id.desc())
    return query.order_by(column.asc(), Image.id.asc())


def list_images(
    session: Session, f: ImageFilter, *, sort: str = "-scanned_at", limit: int = 50,
    offset: int = 0,
) -> tuple[list[ImageRow], int]:
    """One page of scanned images and how many match in all.

    The page's ids are found first and their rows fetched after ("deferred join"), so a deep
    offset walks the sort index alone, not the repository join of every skipped row.
    """
    by_repository = sort.lstrip("-") == "repository"
    total = session.scalar(filtered(f, func.count(), repository=False)) or 0
    ids = session.scalars(
        _ordered(filtered(f, Image.id, repository=by_repository), sort)
        .limit(limit).offset(offset)
    ).all()
    found = session.execute(
        select(Image, Repository.host, Repository.name)
        .join(Repository, Repository.id == Image.repository_id).where(Image.id.in_(ids))
    ).all()
    by_id = {img.id: (img, host, name) for img, host, name in found}
    tags, states = tags_of(session, ids), states_of(session, ids)
    rows = [ImageRow(*by_id[i], tags.get(i, ()), states.get(i, SCANNED))
            for i in ids if i in by_id]
    return rows, total


def tags_of(session: Session, image_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The tags pointing at each image, sorted."""
    found: dict[int, list[str]] = defaultdict(list)
    if image_ids:
        query = select(Tag.image_id, Tag.name).where(Tag.image_id.in_(image_ids))
        for image_id, name in session.execute(query.order_by(Tag.name)):
            found[image_id].append(name)
    return {k: tuple(v) for k, v in found.items()}


def states_of(session: Session, image_ids: Sequence[int]) -> dict[int, str]:
    """The state of each image's latest queue entry, for those that still have one.

    One query per page: the queue is small (finished entries are purged), so it is read whole
    rather than by an index on ``image_id``.
    """
    if not image_ids:
        return {}
    query = select(QueueEntry.image_id, QueueEntry.state).where(
        QueueEntry.id.in_(_latest_entries().where(QueueEntry.image_id.in_(image_ids))))
    return {image_id: state for image_id, state in session.execute(query) if image_id}


@dataclass(frozen=True)
class ImageDetail:
    """Everything the detail page shows."""

    row: ImageRow
    inventory: dict[str, Any] | None
    findings: list[Finding]
    scans: list[Scan]
    changes: Changes
    """What the latest re-evaluation that changed the image's findings opened and resolved."""


def image_detail(session: Session, image_id: int) -> ImageDetail | None:
    """The image's latest inventory, open findings and scan history; ``None`` if unknown."""
    found = session.execute(
        select(Image, Repository.host, Repository.name)
        .join(Repository, Repository.id == Image.repository_id).where(Image.id == image_id)
    ).first()
    if found is None:
        return None
    image, host, name = found
    inventory = session.get(InventoryRecord, image.last_scan_id) if image.last_scan_id else None
    findings = session.scalars(
        select(Finding).where(Finding.image_id == image_id, Finding.resolved_at.is_(None))
        .order_by(Finding.severity, Finding.package, Finding.advisory_id)
    ).all()
    scans = session.scalars(
        select(Scan).where(Scan.image_id == image_id).order_by(Scan.id.desc())
    ).all()
    row = ImageRow(image, host, name, tags_of(session, [image.id]).get(image.id, ()),
                   states_of(session, [image.id]).get(image.id, SCANNED))
    return ImageDetail(row, inventory.data if inventory else None, list(findings), list(scans),
                       last_reevaluation(session, image_id))


@dataclass(frozen=True)
class Asset:
    """A distinct scanned image (manifest digest), wherever it was found."""

    digest: str
    repositories: int
    first_seen: datetime
    last_scanned: datetime


def assets(session: Session, *, limit: int = 50, offset: int = 0) -> tuple[list[Asset], int]:
    """Distinct scanned digests (licensed assets), most recently scanned first, and the count."""
    scanned = Image.scanned_at.is_not(None)
    total = session.scalar(select(func.count(func.distinct(Image.digest))).where(scanned)) or 0
    query = (
        select(Image.digest, func.count(func.distinct(Image.repository_id)),
               func.min(Image.first_seen), func.max(Image.scanned_at))
        .where(scanned).group_by(Image.digest)
        .order_by(func.max(Image.scanned_at).desc(), Image.digest).limit(limit).offset(offset)
    )
    found = session.execute(query).all()
    return [Asset(d, n, first, last or first) for d, n, first, last in found], total
