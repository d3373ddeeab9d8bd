"""The feed seam: a named, versioned plugin whose ``fetch`` is separate from its ``parse``.

``fetch`` brings the feed's files to a local path, conditionally (ETag / Last-Modified are
remembered per URL), and can answer "unchanged" without downloading anything. ``parse`` turns
a local path into :class:`~spyglass.vulndb.model.FeedData` and never touches the network, so
it is tested offline on real files. A feed whose configured source is a local file or folder
skips the download and parses it in place.
"""

from __future__ import annotations

import copy
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from spyglass.vulndb.model import FeedData

Progress = Callable[[int, int | None], None]
"""Called as bytes arrive: (bytes so far, total or ``None``)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Validator:
    """What a server said about one URL last time, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"etag": self.etag, "last_modified": self.last_modified}


@dataclass(frozen=True)
class FetchState:
    """What a feed remembers between fetches (kept by the store, per feed)."""

    version: int | None = None
    """The feed plugin version that produced the stored data; a new version re-parses."""
    validators: dict[str, Validator] = field(default_factory=dict)
    """Per URL."""
    content_hash: str = ""


@dataclass(frozen=True)
class Target:
    """One file a feed needs: where it comes from and its file name in the feed's cache."""

    source: str
    """An ``http(s)://`` URL, a ``file://`` URL or a local path."""
    filename: str


@dataclass(frozen=True)
class Fetched:
    """The result of a fetch: a local path to parse, or "unchanged"."""

    path: Path | None
    """A file or folder to hand to ``parse``; ``None`` when nothing changed."""
    state: FetchState
    """Validators and content hash to record once the parsed data is stored."""
    source: str
    downloaded: int = 0
    """Bytes received over the network."""

    @property
    def unchanged(self) -> bool:
        """True when the feed has nothing new since the stored data."""
        return self.path is None


class Feed(ABC):
    """A vulnerability feed plugin."""

    name: str
    """Stable name such as ``osv/PyPI`` or ``alpine/secdb``."""
    version: int
    """Bumped whenever ``parse`` changes what it produces, so stored data is re-parsed."""

    def __init__(self, source: str | None = None) -> None:
        self._source = source

    @property
    def source(self) -> str:
        """Where the data comes from: the override given, else the configured default."""
        return self._source or os.environ.get(self.env_var(), "") or self.default_source()

    def with_source(self, source: str) -> Feed:
        """A copy of this feed reading from ``source`` (a URL, a local file or folder)."""
        clone = copy.copy(self)
        clone._source = source
        return clone

    def env_var(self) -> str:
        """Environment variable that overrides this feed's source."""
        slug = "".join(c if c.isalnum() else "_" for c in self.name.upper())
        return f"SPYGLASS_FEED_{slug}"

    @abstractmethod
    def default_source(self) -> str:
        """The public location used when nothing is configured."""

    def targets(self) -> list[Target]:
        """The files to fetch; by default the source itself."""
        filename = self.source.rstrip("/").rsplit("/", 1)[-1] or "data"
        return [Target(self.source, filename)]

    def fetch(
        self,
        cache: Path,
        previous: FetchState,
        client: httpx.Client,
        progress: Progress | None = None,
    ) -> Fetched:
        """Bring the feed's files into ``cache`` (or point at a local source); may be unchanged."""
        from spyglass.vulndb.feeds.download import fetch_targets

        return fetch_targets(self, cache, previous, client, progress)

    @abstractmethod
    def parse(self, path: Path) -> FeedData:
        """Read a fetched file or folder; raise ``FeedError`` only when nothing can be read."""

    def parse_parts(self, path: Path, convert: Callable[[FeedData], T]) -> Iterator[T]:
        """``convert`` of what :meth:`parse` reads, in consecutive parts (here, one part).

        A feed of many independent records parses parts in worker processes and runs
        ``convert`` there too (so it must be a module-level function, or a ``partial`` of one):
        the store then receives rows while later parts are still being parsed.
        """
        yield convert(self.parse(path))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} v{self.version}>"
