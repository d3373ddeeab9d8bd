"""The one explicit list of feeds, and selection by name with per-feed source overrides.

Add a feed by adding it to ``FEEDS``; nothing registers itself on import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from spyglass.errors import UsageError
from spyglass.vulndb.feeds.alpine import AlpineSecdbFeed
from spyglass.vulndb.feeds.debian import DebianTrackerFeed
from spyglass.vulndb.feeds.interface import Feed
from spyglass.vulndb.feeds.kev import KevFeed
from spyglass.vulndb.feeds.osv import OsvFeed

OSV_ECOSYSTEMS = (
    "AlmaLinux",
    "Alpine",
    "Chainguard",
    "Debian",
    "Go",
    "Maven",
    "NuGet",
    "Packagist",
    "PyPI",
    "Rocky Linux",
    "RubyGems",
    "Ubuntu",
    "Wolfi",
    "crates.io",
    "npm",
)
"""osv.dev ecosystems fetched by default (each its own feed, ``osv/<ecosystem>``)."""

FEEDS: tuple[Feed, ...] = (
    AlpineSecdbFeed(),
    KevFeed(),
    DebianTrackerFeed(),
    *(OsvFeed(ecosystem) for ecosystem in OSV_ECOSYSTEMS),
)


def select(
    names: Iterable[str] = (),
    sources: Mapping[str, str] | None = None,
    *,
    available: Iterable[Feed] = FEEDS,
) -> list[Feed]:
    """The feeds named (all when none), each with its source override from ``sources``.

    A name may also be a prefix group such as ``osv`` (every ``osv/…`` feed).
    """
    known = {f.name: f for f in available}
    names, sources = list(names), dict(sources or {})
    groups = {name.split("/", 1)[0] for name in known}
    unknown = [n for n in [*names, *sources] if n not in known and n not in groups]
    if unknown:
        raise UsageError(f"unknown feed(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    chosen = [
        f for f in known.values() if not names or f.name in names or f.name.split("/")[0] in names
    ]
    return [f.with_source(sources[f.name]) if f.name in sources else f for f in chosen]
