"""Matching: inventory x vulnerability data -> findings.

The matcher asks the store one coarse question per (ecosystem, distro) for the whole inventory
("which records name any of these packages", claircore style), then decides each candidate with
the ecosystem's own version comparison (:mod:`spyglass.versions`) and OSV range semantics
(:mod:`.ranges`). Distro packages are looked up only under their distro (:mod:`.os`), libraries
under their ecosystem (:mod:`.language`); records that agree by alias are merged into one
finding (:mod:`.merge`). Withdrawn records are ignored; a distro's "not affected" for a
vulnerability silences every other record of it for that package. What cannot be decided (an
unparseable version, no detected distro) becomes a :class:`MatchNote`, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from spyglass import versions
from spyglass.errors import InvalidVersion, UsageError
from spyglass.inventory import Inventory
from spyglass.match import candidates
from spyglass.match.candidates import Bucket, CandidateCache, Found
from spyglass.match.interface import Finding, MatchNote, MatchResult
from spyglass.match.language import is_language_package, language_lookup
from spyglass.match.lookup import Lookup
from spyglass.match.merge import Hit, finding_for, group_hits
from spyglass.match.os import is_os_package, os_lookup
from spyglass.match.ranges import Parse, matches
from spyglass.versions import Key
from spyglass.vulndb.model import SEVERITIES
from spyglass.vulndb.store import VulnStore

__all__ = ["CandidateCache", "Finding", "MatchNote", "MatchResult", "match", "match_inventory"]


ParserFor = Callable[[str], Parse]
"""A version kind to its parse function."""


@cache
def parser_for(kind: str) -> Parse:
    """The parse function of one version kind (to its sort key); ``UsageError`` if there is none."""
    if kind not in versions.KINDS:
        raise UsageError(f"no version comparison for {kind!r}")
    parse = versions.parse  # memoised there: advisories repeat the same bounds

    def key(text: str) -> Key:
        return parse(kind, text).key  # plain tuples compare in C

    def pep440_key(text: str) -> Any:
        # PyPI's key is (packaging Version,): comparing or hashing it runs two Python methods
        # that compare the Version's own tuple key; that tuple compares in C, several times
        # faster. packaging orders versions by exactly ``_key``; without it, the Version.
        wrapped = parse(kind, text).key
        return getattr(wrapped[0], "_key", wrapped)

    return pep440_key if kind == "pypi" else key


def plan(inventory: Inventory) -> tuple[list[Lookup], list[MatchNote]]:
    """The store lookup of every package the matcher can handle, and notes for the rest."""
    lookups: list[Lookup] = []
    notes: list[MatchNote] = []
    for pkg in inventory.packages:
        if is_os_package(pkg):
            if inventory.os is None:
                notes.append(
                    MatchNote(
                        pkg,
                        "no distribution detected in the image, so its "
                        "OS packages cannot be matched",
                    )
                )
                continue
            lookups.append(os_lookup(pkg, inventory.os))
        elif is_language_package(pkg):
            lookups.append(language_lookup(pkg))
    return lookups, notes


def _bucket_of(lookup: Lookup, found: Found) -> Bucket | None:
    """The candidates of every name of the lookup, as one bucket (None when there are none)."""
    ecosystem, distro, names = lookup.ecosystem, lookup.distro, lookup.names
    if len(names) == 1:
        return found.get((ecosystem, distro, names[0]))
    buckets = [b for b in (found.get((ecosystem, distro, n)) for n in names) if b is not None]
    if len(buckets) < 2:
        return buckets[0] if buckets else None
    # A distro's "not affected" under one name silences the records under the other too.
    return candidates.bucket(e for b in buckets for e in b.entries)


def decide(lookup: Lookup, bucket: Bucket, parse: Parse) -> tuple[list[Hit], list[MatchNote]]:
    """The records of ``bucket`` that hold for the lookup's version, and notes for those that
    cannot be read (cleared and withdrawn records are already left out of the bucket)."""
    text = lookup.version
    try:
        version = parse(text)
    except InvalidVersion as exc:
        return [], [MatchNote(lookup.package, f"cannot compare versions: {exc}")]
    hits: list[Hit] = []
    notes: list[MatchNote] = []
    live = bucket.live
    for index, outcome in matches(version, text, bucket.compiled):
        if isinstance(outcome, InvalidVersion):
            reason = f"cannot evaluate the affected range: {outcome}"
            notes.append(MatchNote(lookup.package, reason, live[index].candidate.advisory.id))
        else:
            hits.append(Hit(live[index], outcome))
    return hits, notes


def _ordered_fixes(hits: Sequence[Hit], parse: Parse) -> tuple[str, ...]:
    if len(hits) == 1:
        fixes = hits[0].fixed  # already without repeats
    else:
        fixes = tuple(dict.fromkeys(f for hit in hits for f in hit.fixed))
    if len(fixes) < 2:
        return fixes
    try:
        return tuple(sorted(fixes, key=parse))
    except InvalidVersion:
        return fixes


def findings_for(lookup: Lookup, hits: Sequence[Hit], parse: Parse) -> list[Finding]:
    """One finding per vulnerability among one package's hits."""
    package, version = lookup.package, lookup.version
    return [
        finding_for(package, version, group, _ordered_fixes(group, parse))
        for group in group_hits(hits)
    ]


_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def _order(finding: Finding) -> tuple[int, str, str, str]:
    package = finding.package
    return (_RANK.get(finding.severity, 99), package.name, package.version, finding.id)


def match(
    inventory: Inventory,
    store: VulnStore,
    *,
    cache: CandidateCache | None = None,
    parsers: ParserFor = parser_for,
) -> MatchResult:
    """Match every package of ``inventory`` against ``store``: findings and notes.

    With a ``cache``, compiled store candidates are reused from earlier matches.
    """
    lookups, notes = plan(inventory)
    groups = candidates.wanted(lookups)
    feeds = store.feeds()
    found = (
        cache.fetch(store, groups, parsers, feeds)
        if cache is not None
        else candidates.query(store, groups, parsers)
    )
    findings: list[Finding] = []
    for lookup in lookups:
        bucket = _bucket_of(lookup, found)
        if bucket is None:
            continue
        if not bucket.comparable:
            notes.append(MatchNote(lookup.package, f"no version comparison for {lookup.kind!r}"))
            continue
        parse = parsers(lookup.kind)
        hits, more = decide(lookup, bucket, parse)
        if more:
            notes.extend(more)
        if hits:
            findings.extend(findings_for(lookup, hits, parse))
    findings.sort(key=_order)
    stamps = tuple((f.name, f.refreshed_at) for f in feeds)
    return MatchResult(tuple(findings), tuple(notes), len(lookups), stamps)


def match_inventory(inventory: Inventory, store: VulnStore) -> list[Finding]:
    """The findings of ``inventory`` against ``store`` (notes are in :func:`match`)."""
    return list(match(inventory, store).findings)
