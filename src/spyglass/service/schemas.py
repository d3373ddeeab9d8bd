"""The API's request and response bodies (Pydantic), and how store rows become them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from spyglass.store.catalog import Asset, ImageDetail, ImageRow
from spyglass.store.events import Changes, Event
from spyglass.store.models import SEVERITIES, Finding, QueueEntry, Scan

ScanState = Literal["queued", "sent", "scanned", "invalid"]
EventKind = Literal["new", "resolved"]
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
"""No control characters (PostgreSQL refuses NUL in text; no reference or name has any)."""


class ScanRequest(BaseModel):
    """Scan this image: a registry reference, or an archive or layout the server can read."""

    reference: str = Field(min_length=1, max_length=2000, pattern=PRINTABLE,
                           examples=["alpine:3.19", "oci:/srv/layouts/app:1.2"])
    platform: str = Field(default="linux/amd64", pattern=r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
    registry: str | None = Field(default=None, max_length=200, pattern=PRINTABLE,
                                 description="name of a configured registry")


class QueueEntryOut(BaseModel):
    """One entry of the scan queue."""

    id: int
    reference: str
    platform: str
    digest: str | None
    state: str = Field(description="queued, sent, scanned or invalid")
    reason: str | None = Field(description="why the entry is invalid (or was queued again)")
    attempt: int
    created_at: datetime
    sent_at: datetime | None
    finished_at: datetime | None
    image_id: int | None

    @classmethod
    def of(cls, e: QueueEntry) -> QueueEntryOut:
        """From a store row."""
        return cls(id=e.id, reference=e.reference, platform=e.platform, digest=e.digest,
                   state=e.state, reason=e.reason, attempt=e.attempt, created_at=e.created_at,
                   sent_at=e.sent_at, finished_at=e.finished_at, image_id=e.image_id)


class Page(BaseModel):
    """Pagination of a list response."""

    total: int
    limit: int
    offset: int


class QueuePage(Page):
    """A page of queue entries."""

    items: list[QueueEntryOut]


class SeverityCounts(BaseModel):
    """Open findings per severity."""

    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    negligible: int = 0
    unknown: int = 0


class ImageOut(BaseModel):
    """One image (a manifest digest in a repository) with its latest scan's counts."""

    id: int
    digest: str
    reference: str
    registry: str
    repository: str
    tags: list[str]
    platform: str
    os_family: str | None
    os_version: str | None
    first_seen: datetime
    scanned_at: datetime | None
    packages: int
    severities: SeverityCounts
    fixable: int = Field(description="open findings with a fixed version")
    exploited: int = Field(description="open findings known to be exploited")
    state: ScanState = Field(
        description="scan state: that of the image's latest queue entry, else scanned")

    @classmethod
    def of(cls, row: ImageRow) -> ImageOut:
        """From a catalog row."""
        i = row.image
        counts = SeverityCounts(**{s: getattr(i, s) for s in SEVERITIES})
        return cls(id=i.id, digest=i.digest, reference=i.reference, registry=row.host,
                   repository=row.repository, tags=list(row.tags), platform=i.platform,
                   os_family=i.os_family, os_version=i.os_version, first_seen=i.first_seen,
                   scanned_at=i.scanned_at, packages=i.packages, severities=counts,
                   fixable=i.fixable, exploited=i.exploited,
                   state=cast(ScanState, row.state))  # pydantic checks it


class ImagePage(Page):
    """A page of images."""

    items: list[ImageOut]


FIX_COMMANDS = {
    "deb": "apt-get install --only-upgrade {name}={version}",
    "apk": "apk add {name}={version}",
    "rpm": "dnf upgrade {name}-{version}",
}


class FindingOut(BaseModel):
    """An open finding of an image."""

    id: int
    advisory_id: str
    package: str
    version: str
    ecosystem: str
    severity: str
    fixed_version: str | None
    fix_command: str | None = Field(description="the OS package manager command that fixes it")
    known_exploited: bool
    layer: str | None = Field(description="diff_id of the layer that added the package")
    first_seen: datetime
    title: str = ""
    url: str = ""

    @classmethod
    def of(cls, f: Finding) -> FindingOut:
        """From a store row."""
        template = FIX_COMMANDS.get(f.ecosystem)
        fix = template.format(name=f.package, version=f.fixed_version) \
            if template and f.fixed_version else None
        return cls(id=f.id, advisory_id=f.advisory_id, package=f.package, version=f.version,
                   ecosystem=f.ecosystem, severity=f.severity, fixed_version=f.fixed_version,
                   fix_command=fix, known_exploited=f.known_exploited, layer=f.layer,
                   first_seen=f.first_seen, title=str(f.detail.get("title", "")),
                   url=str(f.detail.get("url", "")))


class ScanOut(BaseModel):
    """One past scan of an image."""

    id: int
    started_at: datetime
    finished_at: datetime
    packages: int
    findings: int
    matched: bool = Field(description="false when no vulnerability data was loaded")

    @classmethod
    def of(cls, s: Scan) -> ScanOut:
        """From a store row."""
        return cls(id=s.id, started_at=s.started_at, finished_at=s.finished_at,
                   packages=s.packages, findings=s.findings, matched=s.matched)


class ChangesOut(BaseModel):
    """What the image's latest re-evaluation with an effect changed (runs that changed
    nothing leave no trace)."""

    at: datetime | None = Field(description="when it ran; null if none changed this image")
    new: int = Field(description="findings it opened")
    resolved: int = Field(description="findings it resolved")

    @classmethod
    def of(cls, c: Changes) -> ChangesOut:
        """From the store's summary."""
        return cls(at=c.at, new=c.new, resolved=c.resolved)


class ImageDetailOut(ImageOut):
    """An image with its inventory, open findings and scan history."""

    inventory: dict[str, Any] | None
    findings: list[FindingOut]
    scans: list[ScanOut]
    last_reevaluation: ChangesOut

    @classmethod
    def of_detail(cls, d: ImageDetail) -> ImageDetailOut:
        """From the catalog's detail."""
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        findings = sorted(d.findings, key=lambda f: (rank.get(f.severity, 99), f.package,
                                                     f.advisory_id))
        return cls(**ImageOut.of(d.row).model_dump(), inventory=d.inventory,
                   findings=[FindingOut.of(f) for f in findings],
                   scans=[ScanOut.of(s) for s in d.scans],
                   last_reevaluation=ChangesOut.of(d.changes))


class EventOut(BaseModel):
    """A finding that appeared on an image or went away, when, and what caused it."""

    id: int
    advisory_id: str
    package: str
    version: str
    kind: EventKind
    at: datetime
    cause: Literal["scan", "reevaluation"] = Field(
        description="a scan of the image, or re-matching after the vulnerability data changed")
    scan_id: int | None = Field(description="the scan that caused it (cause scan)")

    @classmethod
    def of(cls, e: Event) -> EventOut:
        """From the store's event."""
        return cls(id=e.id, advisory_id=e.advisory_id, package=e.package, version=e.version,
                   kind=cast(EventKind, e.kind), at=e.at,  # pydantic checks it
                   cause="reevaluation" if e.scan_id is None else "scan", scan_id=e.scan_id)


class EventPage(Page):
    """A page of an image's finding events, newest first."""

    items: list[EventOut]


class AssetOut(BaseModel):
    """A licensed asset: one distinct image digest that was scanned."""

    digest: str
    repositories: int
    first_seen: datetime
    last_scanned: datetime

    @classmethod
    def of(cls, a: Asset) -> AssetOut:
        """From the catalog's asset."""
        return cls(digest=a.digest, repositories=a.repositories, first_seen=a.first_seen,
                   last_scanned=a.last_scanned)


class AssetPage(Page):
    """The asset count and a page of assets."""

    count: int = Field(description="distinct images scanned (licensed assets)")
    items: list[AssetOut]


class Health(BaseModel):
    """``/healthz``."""

    status: str
    database: str
    queue: str
