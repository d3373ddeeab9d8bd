"""The ``/api/v1`` routes: submit a scan, the scan queue, images, image detail, assets.

Routes are plain ``def`` functions: FastAPI runs them in its thread pool, which suits the
synchronous SQLAlchemy sessions and the image opening that a submission does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from sqlalchemy import select

from spyglass.errors import ImageError, ReferenceError_, UsageError
from spyglass.service.auth import Admin, Viewer, runtime_of
from spyglass.service.schemas import (
    AssetOut,
    AssetPage,
    EventOut,
    EventPage,
    ImageDetailOut,
    ImageOut,
    ImagePage,
    QueueEntryOut,
    QueuePage,
    ScanRequest,
)
from spyglass.store import catalog, events, queue
from spyglass.store.models import Image, QueueEntry, Registry, utcnow

router = APIRouter(prefix="/api/v1")

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]  # PostgreSQL INTEGER
Limit = Annotated[int, Query(ge=1, le=500)]
# Printable text only: PostgreSQL refuses NUL in text, and no name contains control characters.
Name = Annotated[str | None, Query(max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
State = Literal["queued", "sent", "scanned", "invalid"]
Severity = Literal["critical", "high", "medium", "low", "negligible", "unknown"]
Sort = Annotated[str, Query(
    pattern=f"^-?({'|'.join(catalog.SORT_KEYS)})$",
    description="a column to sort by, prefixed with - for descending",
)]


def resolve_digest(reference: str, platform: str) -> str | None:
    """The manifest digest ``reference`` names now; ``None`` when the image cannot be opened
    yet (the worker then records why). A reference that does not parse is refused here."""
    from spyglass.image.interface import OpenOptions, Platform
    from spyglass.image.open import open_image

    try:
        with open_image(reference, OpenOptions(platform=Platform.parse(platform))) as image:
            return image.digest
    except (ReferenceError_, UsageError):
        raise
    except ImageError:
        return None


def _registry_id(request: Request, name: str | None) -> int | None:
    if name is None:
        return None
    with runtime_of(request).db.transaction() as session:
        found = session.scalars(select(Registry.id).where(Registry.name == name)).first()
    if found is None:
        raise HTTPException(422,
                            f"no registry named {name!r}; list them with GET /api/v1/registries")
    return found


@router.post("/scans", response_model=QueueEntryOut, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": QueueEntryOut,
                              "description": "the same digest is already queued or sent"}})
def submit_scan(body: ScanRequest, request: Request, response: Response,
                _: Admin) -> QueueEntryOut:
    """Queue a scan; the same digest while queued or sent returns the existing entry."""
    registry_id = _registry_id(request, body.registry)
    digest = resolve_digest(body.reference, body.platform)
    runtime = runtime_of(request)
    with runtime.db.transaction() as session:
        entry, created = queue.submit(session, body.reference, digest=digest,
                                      platform=body.platform, registry_id=registry_id,
                                      now=utcnow())
    if created:
        request.app.state.jobs.enqueue_scan(entry.id)
    else:
        response.status_code = status.HTTP_200_OK
    return QueueEntryOut.of(entry)


@router.get("/queue", response_model=QueuePage)
def list_queue(request: Request, _: Viewer, state: Annotated[list[State] | None, Query()] = None,
               limit: Limit = 50, offset: Offset = 0) -> QueuePage:
    """Queue entries, newest first; finished entries leave the queue after 24 hours."""
    with runtime_of(request).db.transaction() as session:
        items, total = queue.list_entries(session, states=tuple(state or ()), limit=limit,
                                          offset=offset)
        return QueuePage(items=[QueueEntryOut.of(e) for e in items], total=total, limit=limit,
                         offset=offset)


@router.get("/queue/{entry_id}", response_model=QueueEntryOut)
def get_queue_entry(entry_id: Id, request: Request, _: Viewer) -> QueueEntryOut:
    """One queue entry."""
    with runtime_of(request).db.transaction() as session:
        entry = session.get(QueueEntry, entry_id)
        if entry is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no queue entry {entry_id}")
        return QueueEntryOut.of(entry)


def image_filter(
    registry: Name = None, repository: Name = None, tag: Name = None,
    os: Annotated[str | None, Query(description="family or family:version", max_length=200,
                                    pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
    severity: Annotated[Severity | None, Query(description="at least this severity")] = None,
    fixable: Annotated[bool | None, Query(description="has a fix available")] = None,
    exploited: Annotated[bool | None, Query(description="known-exploited findings")] = None,
    state: Annotated[State | None, Query(description="scan state: that of the image's "
                                         "latest queue entry, else scanned")] = None,
    scanned_after: datetime | None = None, scanned_before: datetime | None = None,
) -> catalog.ImageFilter:
    """The image list's filters from the query string (the CSV exports share them)."""
    return catalog.ImageFilter(
        registry=registry, repository=repository, tag=tag, os=os, severity=severity,
        fixable=fixable, exploited=exploited, scanned_after=scanned_after,
        scanned_before=scanned_before, state=state,
    )


ImageFilterQuery = Annotated[catalog.ImageFilter, Depends(image_filter)]


@router.get("/images", response_model=ImagePage)
def list_images(
    request: Request, _: Viewer, wanted: ImageFilterQuery,
    sort: Sort = "-scanned_at", limit: Limit = 50, offset: Offset = 0,
) -> ImagePage:
    """Scanned images with filters, sorting and pagination; counts per severity on each row."""
    with runtime_of(request).db.transaction() as session:
        rows, total = catalog.list_images(session, wanted, sort=sort, limit=limit, offset=offset)
        return ImagePage(items=[ImageOut.of(r) for r in rows], total=total, limit=limit,
                         offset=offset)


@router.get("/images/{image_id}", response_model=ImageDetailOut)
def get_image(image_id: Id, request: Request, _: Viewer) -> ImageDetailOut:
    """An image with its latest inventory, open findings (with fixes) and scan history."""
    with runtime_of(request).db.transaction() as session:
        detail = catalog.image_detail(session, image_id)
        if detail is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no image {image_id}")
        return ImageDetailOut.of_detail(detail)


@router.get("/images/{image_id}/events", response_model=EventPage)
def list_image_events(image_id: Id, request: Request, _: Viewer, limit: Limit = 50,
                      offset: Offset = 0) -> EventPage:
    """The image's findings that appeared or were resolved, newest first, with their cause."""
    with runtime_of(request).db.transaction() as session:
        if session.get(Image, image_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no image {image_id}")
        items, total = events.image_events(session, image_id, limit=limit, offset=offset)
        return EventPage(items=[EventOut.of(e) for e in items], total=total, limit=limit,
                         offset=offset)


@router.get("/assets", response_model=AssetPage)
def list_assets(request: Request, _: Viewer, limit: Limit = 50, offset: Offset = 0) -> AssetPage:
    """The number of distinct images scanned (licensed assets) and a page of them."""
    with runtime_of(request).db.transaction() as session:
        items, total = catalog.assets(session, limit=limit, offset=offset)
        return AssetPage(count=total, total=total, limit=limit, offset=offset,
                         items=[AssetOut.of(a) for a in items])
