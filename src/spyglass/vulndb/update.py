"""``db update``: fetch each feed, parse it, and swap it into the store.

A feed is all-or-nothing: the download goes to a side file, and the feed's rows are replaced
in one transaction that commits only when the whole parse has finished (rows of parsed parts
go in while the rest is parsed, see :func:`ingest`). A failure of one feed is reported in its
:class:`UpdateResult` and the other feeds go on; the failed feed keeps its previous data.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from spyglass import __version__
from spyglass.config import data_dir
from spyglass.errors import FeedError
from spyglass.vulndb import rows
from spyglass.vulndb.feeds.interface import Feed, Fetched, FetchState
from spyglass.vulndb.feeds.parallel import bulk, shared_workers
from spyglass.vulndb.store import VulnStore
from spyglass.vulndb.writes import Stored

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


def ingest(store: VulnStore, feed: Feed, path: Path, state: FetchState, source: str) -> Stored:
    """Parse ``feed``'s files at ``path`` and store them in one transaction, rows going in as
    parts are parsed; ``FeedError`` (and the previous data kept) when no record is readable."""
    parts = feed.parse_parts(path, partial(rows.feed_part, feed.name))
    try:
        with bulk():
            return store.replace_parts(feed.name, _readable(feed, parts), state, source)
    finally:
        if isinstance(parts, Generator):  # stop parse workers early when the store failed
            parts.close()


def _readable(feed: Feed, parts: Iterable[rows.FeedPart]) -> Iterator[rows.FeedPart]:
    # Raised after the last part, inside the store's transaction, so nothing is replaced.
    records, skipped = 0, None
    for part in parts:
        records += part.records
        skipped = skipped or next(iter(part.skipped), None)
        yield part
    if records == 0 and skipped is not None:
        raise FeedError(f"feed {feed.name}: no record could be read ({skipped.reason})")


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
        with shared_workers():
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
        stored = _ingest_fetched(store, feed, fetched.path, fetched, cache)
    except FeedError as exc:
        return UpdateResult(feed.name, FAILED, error=str(exc))
    except OSError as exc:  # a local source or the cache folder that cannot be read
        return UpdateResult(feed.name, FAILED, error=f"feed {feed.name}: {exc}")
    return UpdateResult(feed.name, UPDATED, stored.records, fetched.downloaded, len(stored.skipped))


def _ingest_fetched(
    store: VulnStore, feed: Feed, path: Path, fetched: Fetched, cache: Path
) -> Stored:
    try:
        return ingest(store, feed, path, fetched.state, fetched.source)
    except FeedError:
        # A downloaded copy that does not parse must not be revalidated with a 304 later.
        if path.is_relative_to(cache):
            shutil.rmtree(cache, ignore_errors=True)
        raise
