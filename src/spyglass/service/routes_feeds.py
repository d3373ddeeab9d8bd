"""The vulnerability data routes: feed status, and "refresh now" for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from spyglass.jobs.refresh import FeedTasks, interval_hours
from spyglass.service.auth import Admin, Viewer, runtime_of
from spyglass.vulndb.store import FeedStatus, VulnStore

router = APIRouter(prefix="/api/v1", tags=["feeds"])


class FeedOut(BaseModel):
    """One stored feed: how many records, when it last changed, when it was last checked."""

    name: str
    version: int = Field(description="version of the feed plugin that parsed the data")
    records: int
    refreshed_at: datetime | None = Field(description="when the data was last replaced")
    checked_at: datetime | None = Field(description="when the source was last checked")
    source: str

    @classmethod
    def of(cls, feed: FeedStatus) -> FeedOut:
        """From the vulnerability store's status."""
        return cls(name=feed.name, version=feed.version, records=feed.records,
                   refreshed_at=_when(feed.refreshed_at), checked_at=_when(feed.checked_at),
                   source=feed.source)


def _when(stamp: str | None) -> datetime | None:
    # The vulnerability store keeps ISO 8601 text (``…Z``), the API gives timestamps.
    return datetime.fromisoformat(stamp) if stamp else None


class FeedsOut(BaseModel):
    """Every stored feed, and how often the data is refreshed."""

    items: list[FeedOut]
    interval_hours: float


class RefreshOut(BaseModel):
    """A queued refresh: the task id the workers run it under."""

    task_id: str
    queued_at: datetime
    status: Literal["queued"] = "queued"


@router.get("/feeds", response_model=FeedsOut)
def list_feeds(request: Request, _: Viewer) -> FeedsOut:
    """Feed status: name, records, last refreshed and checked, source."""
    feeds = VulnStore(runtime_of(request).db.engine).feeds()
    return FeedsOut(items=[FeedOut.of(f) for f in feeds], interval_hours=interval_hours())


@router.post("/feeds/refresh", response_model=RefreshOut, status_code=status.HTTP_202_ACCEPTED)
def refresh_feeds(request: Request, _: Admin) -> RefreshOut:
    """Queue a refresh of the vulnerability data now; stored images are re-evaluated after."""
    tasks: FeedTasks = request.app.state.jobs.feeds
    ticket = tasks.enqueue()
    return RefreshOut(task_id=ticket.task_id, queued_at=ticket.queued_at)
