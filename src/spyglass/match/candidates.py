"""The coarse half of matching: store candidates for a whole inventory, compiled once.

:func:`fetch` asks the store one query per (ecosystem, distro) for every name the inventory
uses, and compiles each affected entry's ranges with that ecosystem's version parser.
A :class:`CandidateCache` keeps the compiled entries between matches (a service re-matching
many images, a benchmark's warm runs) and drops them when the store's feeds change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spyglass.errors import SpyglassError
from spyglass.match.lookup import Lookup
from spyglass.match.ranges import Compiled, Parse, compile_entry
from spyglass.vulndb.model import NOT_AFFECTED
from spyglass.vulndb.store import Candidate, FeedStatus, VulnStore

Key = tuple[str, str | None, str]
"""(ecosystem, distro, store name)."""

Group = tuple[str, str | None]
"""(ecosystem, distro): what one store query covers."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One store candidate with its ranges compiled (``compiled`` is None without a parser)."""

    candidate: Candidate
    compiled: Compiled | None
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What the matcher derived from this record alone, kept while the entry is cached."""


@dataclass(frozen=True, slots=True)
class Bucket:
    """The candidates of one store name, with what the matcher needs of them worked out once."""

    entries: tuple[Entry, ...]
    """Every candidate, in store order."""
    live: tuple[Entry, ...]
    """Those to evaluate: affected, not withdrawn, compiled, and not cleared."""
    compiled: tuple[Compiled, ...]
    """The compiled ranges of ``live``, in the same order."""
    cleared: frozenset[str]
    """Ids of the vulnerabilities this name's distro says it is never affected by."""
    comparable: bool
    """The ecosystem has a version comparison (else nothing here can be decided)."""


Found = Mapping[Key, Bucket]


def bucket(entries: Iterable[Entry]) -> Bucket:
    """The bucket of one name's candidates."""
    entries = tuple(entries)
    cleared = frozenset(
        e.candidate.advisory.id for e in entries if e.candidate.affected.state == NOT_AFFECTED
    )
    live = tuple(e for e in entries if evaluable(e, cleared))
    compiled = tuple(e.compiled for e in live if e.compiled is not None)
    return Bucket(
        entries, live, compiled, cleared, bool(entries) and entries[0].compiled is not None
    )


def evaluable(entry: Entry, cleared: frozenset[str]) -> bool:
    """Whether ``entry`` is worth evaluating once ``cleared`` vulnerabilities are silenced."""
    cand = entry.candidate
    if cand.affected.state == NOT_AFFECTED or cand.advisory.withdrawn or entry.compiled is None:
        return False
    return not cleared or cleared.isdisjoint(cand.advisory.ids)


def wanted(lookups: Iterable[Lookup]) -> dict[Group, set[str]]:
    """Every store name the lookups use, per (ecosystem, distro)."""
    names: dict[Group, set[str]] = defaultdict(set)
    for lookup in lookups:
        names[(lookup.ecosystem, lookup.distro)].update(lookup.names)
    return names


def _parser(ecosystem: str, parsers: Callable[[str], Parse]) -> Parse | None:
    try:
        return parsers(ecosystem)
    except SpyglassError:
        return None


def query(
    store: VulnStore, groups: Mapping[Group, set[str]], parsers: Callable[[str], Parse]
) -> dict[Key, Bucket]:
    """One store query per group; candidates compiled with their ecosystem's parser."""
    found: dict[Key, list[Entry]] = defaultdict(list)
    for (ecosystem, distro), names in groups.items():
        if not names:
            continue
        parse = _parser(ecosystem, parsers)
        for cand in store.candidates(ecosystem, distro, names):
            compiled = compile_entry(cand.affected, parse) if parse is not None else None
            found[(ecosystem, distro, cand.affected.name)].append(Entry(cand, compiled))
    return {key: bucket(entries) for key, entries in found.items()}


def _stamp(store: VulnStore, feeds: Sequence[FeedStatus]) -> tuple[object, ...]:
    stamps = tuple((f.name, f.version, f.records, f.refreshed_at, f.content_hash) for f in feeds)
    return (str(store.engine.url), stamps)


class CandidateCache:
    """Compiled candidates kept between matches while the store's feeds stay the same.

    The feeds' stamps (refreshed time, record count, content hash) are checked on every use;
    a process that rewrites a feed itself within the same second should :meth:`clear` it.
    Not thread-safe: one cache per worker.
    """

    def __init__(self) -> None:
        self._stamp: tuple[object, ...] | None = None
        self._entries: dict[Key, Bucket] = {}
        self._asked: dict[Group, set[str]] = defaultdict(set)

    def clear(self) -> None:
        """Forget everything."""
        self._stamp, self._entries, self._asked = None, {}, defaultdict(set)

    def fetch(
        self,
        store: VulnStore,
        groups: Mapping[Group, set[str]],
        parsers: Callable[[str], Parse],
        feeds: Sequence[FeedStatus] | None = None,
    ) -> Found:
        """Candidates for ``groups``, querying the store only for names not seen before.

        ``feeds`` is the store's feed list when the caller has just read it (saves a query).
        """
        stamp = _stamp(store, store.feeds() if feeds is None else feeds)
        if stamp != self._stamp:
            self.clear()
            self._stamp = stamp
        missing = {g: names - self._asked[g] for g, names in groups.items()}
        self._entries.update(query(store, missing, parsers))
        for group, names in missing.items():
            self._asked[group] |= names
        return self._entries
