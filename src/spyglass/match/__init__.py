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

from spyglass import versions
from spyglass.errors import InvalidVersion, UsageError
from spyglass.inventory import Inventory
from spyglass.match import candidates
from spyglass.match.candidates import CandidateCache, Entry, Found
from spyglass.match.interface import Finding, MatchNote, MatchResult
from spyglass.match.language import is_language_package, language_lookup
from spyglass.match.lookup import Lookup
from spyglass.match.merge import Hit, build_finding, group_hits, memoised_facts
from spyglass.match.os import is_os_package, os_lookup
from spyglass.match.ranges import Parse, evaluate_compiled
from spyglass.versions import Key
from spyglass.vulndb.model import NOT_AFFECTED, SEVERITIES
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

    return key


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


def _entries_of(lookup: Lookup, found: Found) -> list[Entry]:
    return [
        e for name in lookup.names for e in found.get((lookup.ecosystem, lookup.distro, name), ())
    ]


def decide(
    lookup: Lookup, entries: Sequence[Entry], parse: Parse
) -> tuple[list[Hit], list[MatchNote]]:
    """The records that hold for the lookup's version, and notes for those that cannot be read."""
    try:
        version = parse(lookup.version)
    except InvalidVersion as exc:
        return [], [MatchNote(lookup.package, f"cannot compare versions: {exc}")]
    # A distro's "never affected" for a vulnerability silences every record of it.
    cleared = {
        e.candidate.advisory.id for e in entries if e.candidate.affected.state == NOT_AFFECTED
    }
    hits: list[Hit] = []
    notes: list[MatchNote] = []
    for entry in entries:
        cand = entry.candidate
        if cand.affected.state == NOT_AFFECTED or cand.advisory.withdrawn or entry.compiled is None:
            continue
        if cleared and not cleared.isdisjoint(cand.advisory.ids):
            continue
        try:
            verdict = evaluate_compiled(version, lookup.version, entry.compiled)
        except InvalidVersion as exc:
            notes.append(
                MatchNote(
                    lookup.package, f"cannot evaluate the affected range: {exc}", cand.advisory.id
                )
            )
            continue
        if verdict.affected:
            hits.append(Hit(entry, verdict.fixed))
    return hits, notes


def _ordered_fixes(hits: Sequence[Hit], parse: Parse) -> list[str]:
    fixes = list(dict.fromkeys(f for hit in hits for f in hit.fixed))
    if len(fixes) < 2:
        return fixes
    try:
        return sorted(fixes, key=parse)
    except InvalidVersion:
        return fixes


def findings_for(lookup: Lookup, hits: Sequence[Hit], parse: Parse) -> list[Finding]:
    """One finding per vulnerability among one package's hits."""
    return [
        build_finding(
            lookup.package, lookup.version, memoised_facts(group), _ordered_fixes(group, parse)
        )
        for group in group_hits(hits)
    ]


def _order(finding: Finding) -> tuple[int, str, str, str]:
    rank = SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else 99
    return (rank, finding.package.name, finding.package.version, finding.id)


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
    found = (
        cache.fetch(store, groups, parsers)
        if cache is not None
        else candidates.query(store, groups, parsers)
    )
    findings: list[Finding] = []
    for lookup in lookups:
        entries = _entries_of(lookup, found)
        if not entries:
            continue
        if entries[0].compiled is None:
            notes.append(MatchNote(lookup.package, f"no version comparison for {lookup.kind!r}"))
            continue
        hits, more = decide(lookup, entries, parsers(lookup.kind))
        notes.extend(more)
        findings.extend(findings_for(lookup, hits, parsers(lookup.kind)))
    findings.sort(key=_order)
    feeds = tuple((f.name, f.refreshed_at) for f in store.feeds())
    return MatchResult(tuple(findings), tuple(notes), len(lookups), feeds)


def match_inventory(inventory: Inventory, store: VulnStore) -> list[Finding]:
    """The findings of ``inventory`` against ``store`` (notes are in :func:`match`)."""
    return list(match(inventory, store).findings)
