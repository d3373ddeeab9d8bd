"""Recording what a scan found: repository, image, tag, scan, inventory and findings.

Findings are compared with the image's open findings by (advisory, package, version): new ones
are added with a ``new`` event, those no longer found are closed with a ``resolved`` event, so
re-matching a stored inventory after a feed refresh uses the same function. The image row's
per-severity counts are recomputed each time, for the list's filters and sorting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spyglass.inventory import Inventory
from spyglass.store.locate import Location
from spyglass.store.models import (
    SEVERITIES,
    Finding,
    FindingEvent,
    Image,
    InventoryRecord,
    Repository,
    Scan,
    Tag,
)


@dataclass(frozen=True)
class FindingRow:
    """One finding as the store keeps it (the matcher's ``Finding`` reduced to columns)."""

    advisory_id: str
    package: str
    version: str
    ecosystem: str
    severity: str
    fixed_version: str | None = None
    known_exploited: bool = False
    layer: str | None = None
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two findings the same across scans."""
        return (self.advisory_id, self.package, self.version)


def _one_or_create(session: Session, model: type[Any], where: dict[str, Any]) -> Any:
    """The row matching ``where``, created when missing (a concurrent creator may win)."""
    query = select(model).filter_by(**where)
    found = session.scalars(query).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = model(**where)
            session.add(row)
        return row
    except IntegrityError:
        return session.scalars(query).one()


def image_for(session: Session, where: Location, digest: str, now: datetime) -> Image:
    """The image row for ``digest`` in the located repository (created with its repository)."""
    repo = _one_or_create(session, Repository, {"host": where.host, "name": where.repository})
    image: Image | None = session.scalars(
        select(Image).filter_by(repository_id=repo.id, digest=digest)
    ).first()
    if image is None:
        try:
            with session.begin_nested():
                image = Image(repository_id=repo.id, digest=digest, reference=where.reference,
                              first_seen=now)
                session.add(image)
        except IntegrityError:
            image = session.scalars(
                select(Image).filter_by(repository_id=repo.id, digest=digest)
            ).one()
    if where.tag:
        _tag(session, repo.id, where.tag, image.id, now)
    return image


def _tag(session: Session, repository_id: int, name: str, image_id: int, now: datetime) -> Tag:
    tag: Tag | None = session.scalars(
        select(Tag).filter_by(repository_id=repository_id, name=name)
    ).first()
    if tag is None:
        try:
            with session.begin_nested():
                tag = Tag(repository_id=repository_id, name=name, image_id=image_id,
                          updated_at=now)
                session.add(tag)
        except IntegrityError:
            tag = session.scalars(
                select(Tag).filter_by(repository_id=repository_id, name=name)
            ).one()
    if tag.image_id != image_id:
        tag.image_id, tag.updated_at = image_id, now
    return tag


def record_scan(
    session: Session,
    image: Image,
    inventory: Inventory,
    findings: Sequence[FindingRow] | None,
    *,
    entry_id: int | None,
    started_at: datetime,
    now: datetime,
) -> Scan:
    """Store one scan of ``image``; ``findings`` is ``None`` when nothing could be matched."""
    scan = Scan(
        image_id=image.id, queue_entry_id=entry_id, reference=inventory.reference,
        started_at=started_at, finished_at=now, packages=len(inventory.packages),
        findings=len(findings or ()), matched=findings is not None,
    )
    session.add(scan)
    session.flush()
    session.add(InventoryRecord(scan_id=scan.id, data=inventory.to_dict()))
    image.last_scan_id, image.scanned_at = scan.id, now
    image.packages, image.platform = len(inventory.packages), inventory.platform
    image.os_family = inventory.os.family if inventory.os else None
    image.os_version = inventory.os.version if inventory.os else None
    if findings is not None:
        apply_findings(session, image, findings, now=now, scan_id=scan.id)
    return scan


def apply_findings(
    session: Session, image: Image, findings: Sequence[FindingRow], *, now: datetime,
    scan_id: int | None = None,
) -> tuple[int, int]:
    """Make ``findings`` the image's open findings; (how many are new, how many resolved).

    The events name ``scan_id``, the scan that found them; ``None`` means a re-evaluation.
    """
    open_rows = session.scalars(
        select(Finding).where(Finding.image_id == image.id, Finding.resolved_at.is_(None))
    ).all()
    current = {(f.advisory_id, f.package, f.version): f for f in open_rows}
    wanted = {f.key: f for f in findings}
    added = [_new_finding(image.id, row, now) for key, row in wanted.items() if key not in current]
    session.add_all(added)
    gone = [f for key, f in current.items() if key not in wanted]
    for finding in gone:
        finding.resolved_at = now
    session.flush()
    session.add_all([FindingEvent(finding_id=f.id, image_id=image.id, kind=kind, at=now,
                                  scan_id=scan_id)
                     for kind, rows in (("new", added), ("resolved", gone)) for f in rows])
    _count(image, list(wanted.values()))
    return len(added), len(gone)


def _new_finding(image_id: int, row: FindingRow, now: datetime) -> Finding:
    return Finding(
        image_id=image_id, advisory_id=row.advisory_id, package=row.package,
        version=row.version, ecosystem=row.ecosystem, severity=row.severity,
        fixed_version=row.fixed_version, known_exploited=row.known_exploited, layer=row.layer,
        detail=row.detail, first_seen=now,
    )


def _count(image: Image, rows: Sequence[FindingRow]) -> None:
    for severity in SEVERITIES:
        setattr(image, severity, sum(1 for r in rows if _severity(r) == severity))
    image.fixable = sum(1 for r in rows if r.fixed_version)
    image.exploited = sum(1 for r in rows if r.known_exploited)


def _severity(row: FindingRow) -> str:
    return row.severity if row.severity in SEVERITIES else "unknown"
