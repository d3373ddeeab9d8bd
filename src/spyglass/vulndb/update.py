"""``db update``: fetch each feed, parse it fully, then swap it into the store.

A feed is all-or-nothing: the download goes to a side file, the parse must finish, and only
then are that feed's rows replaced in one transaction. A failure of one feed is reported in its
:class:`UpdateResult` and the other feeds go on; the failed feed keeps its previous data.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from spyglass import __version__
from spyglass.config import data_dir
from spyglass.errors import FeedError
from spyglass.vulndb.feeds.interface import Feed
from spyglass.vulndb.model import FeedData
from spyglass.vulndb.store import VulnStore

UPDATED, UNCHANGED, FAILED = "updated", "unchanged", "failed"

FeedProgress = Callable[[str, int, int | None], None]
"""Called as a feed downloads: (feed name, bytes so far, total or ``None``)."""


@dataclass(frozen=True)
class UpdateResult:
    """What happened to one feed."""

    feed: str
    status: str
    """``updated``, ``unchanged`` or ``failed``."""
    records: int = 0
    downloaded: int = 0
    skipped: int = 0
    """Records the parser could not read (the rest were stored)."""
    error: str = ""


def _parse(feed: Feed, path: Path, cache: Path) -> FeedData:
    try:
        data = feed.parse(path)
        if data.records == 0 and data.skipped:
            raise FeedError(f"feed {feed.name}: no record could be read ({data.skipped[0].reason})")
    except FeedError:
        # A downloaded copy that does not parse must not be revalidated with a 304 later.
        if path.is_relative_to(cache):
            shutil.rmtree(cache, ignore_errors=True)
        raise
    return data


def feed_cache(feed: Feed) -> Path:
    """Where a feed's downloaded files are kept between updates."""
    slug = "".join(c if c.isalnum() or c in ".-" else "_" for c in feed.name)
    return data_dir() / "feeds" / slug


def client() -> httpx.Client:
    """The HTTP client feeds are fetched with (redirects followed, generous read timeout)."""
    return httpx.Client(
        follow_redirects=True,
        timeout=httpx.Timeout(30.0, read=120.0),
        headers={"User-Agent": f"spyglass/{__version__}"},
    )


def update(
    store: VulnStore,
    feeds: Iterable[Feed],
    *,
    http: httpx.Client | None = None,
    progress: FeedProgress | None = None,
) -> list[UpdateResult]:
    """Update every feed in turn; never raises for one feed's failure."""
    own = http is None
    http = http or client()
    try:
        return [update_feed(store, feed, http, progress) for feed in feeds]
    finally:
        if own:
            http.close()


def update_feed(
    store: VulnStore, feed: Feed, http: httpx.Client, progress: FeedProgress | None = None
) -> UpdateResult:
    """Fetch, parse and store one feed; a ``FeedError`` becomes a ``failed`` result."""
    report = (lambda done, total: progress(feed.name, done, total)) if progress else None
    cache = feed_cache(feed)
    try:
        fetched = feed.fetch(cache, store.fetch_state(feed.name), http, report)
        if fetched.path is None:
            store.mark_checked(feed.name)
            return UpdateResult(feed.name, UNCHANGED, downloaded=fetched.downloaded)
        data = _parse(feed, fetched.path, cache)
        store.replace(feed.name, data, fetched.state, fetched.source)
    except FeedError as exc:
        return UpdateResult(feed.name, FAILED, error=str(exc))
    except OSError as exc:  # a local source or the cache folder that cannot be read
        return UpdateResult(feed.name, FAILED, error=f"feed {feed.name}: {exc}")
    return UpdateResult(feed.name, UPDATED, data.records, fetched.downloaded, len(data.skipped))
