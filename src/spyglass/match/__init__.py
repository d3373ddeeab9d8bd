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

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import partial

from spyglass import versions
from spyglass.errors import InvalidVersion, SpyglassError, UsageError
from spyglass.inventory import Inventory
from spyglass.match.interface import Finding, MatchNote, MatchResult
from spyglass.match.language import is_language_package, language_lookup
from spyglass.match.lookup import Lookup
from spyglass.match.merge import Hit, build_finding, group_hits
from spyglass.match.os import is_os_package, os_lookup
from spyglass.match.ranges import Parse, evaluate
from spyglass.vulndb.model import NOT_AFFECTED, SEVERITIES
from spyglass.vulndb.store import Candidate, VulnStore

__all__ = ["Finding", "MatchNote", "MatchResult", "match", "match_inventory"]

Found = dict[tuple[str, str | None, str], list["Candidate"]]
"""Store candidates keyed by (ecosystem, distro, name)."""

ParserFor = Callable[[str], Parse]
"""A version kind to its parse function."""


def parser_for(kind: str) -> Parse:
    """The parse function of one version kind; ``UsageError`` when there is none."""
    if kind not in versions.KINDS:
        raise UsageError(f"no version comparison for {kind!r}")
    return partial(versions.parse, kind)  # versions.parse memoises: bounds repeat a lot


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


def fetch_candidates(store: VulnStore, lookups: Sequence[Lookup]) -> Found:
    """One store query per (ecosystem, distro): candidates keyed by (ecosystem, distro, name)."""
    wanted: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for lookup in lookups:
        wanted[(lookup.ecosystem, lookup.distro)].update(lookup.names)
    found: Found = defaultdict(list)
    for (ecosystem, distro), names in wanted.items():
        for cand in store.candidates(ecosystem, distro, names):
            found[(ecosystem, distro, cand.affected.name)].append(cand)
    return found


def _candidates_of(lookup: Lookup, found: Found) -> list[Candidate]:
    return [
        c for name in lookup.names for c in found.get((lookup.ecosystem, lookup.distro, name), ())
    ]


def _cleared(candidates: Iterable[Candidate]) -> set[str]:
    """Ids a distro says this package was never affected by."""
    return {c.advisory.id for c in candidates if c.affected.state == NOT_AFFECTED}


def decide(
    lookup: Lookup, candidates: Sequence[Candidate], parse: Parse
) -> tuple[list[Hit], list[MatchNote]]:
    """The records that hold for the lookup's version, and notes for those that cannot be read."""
    try:
        parse(lookup.version)
    except InvalidVersion as exc:
        return [], [MatchNote(lookup.package, f"cannot compare versions: {exc}")]
    cleared = _cleared(candidates)
    hits: list[Hit] = []
    notes: list[MatchNote] = []
    for cand in candidates:
        if cand.affected.state == NOT_AFFECTED or cand.advisory.withdrawn:
            continue
        if cleared & set(cand.advisory.ids):
            continue
        try:
            verdict = evaluate(lookup.version, cand.affected, parse)
        except InvalidVersion as exc:
            notes.append(
                MatchNote(
                    lookup.package, f"cannot evaluate the affected range: {exc}", cand.advisory.id
                )
            )
            continue
        if verdict.affected:
            hits.append(Hit(cand, verdict.fixed))
    return hits, notes


def _ordered_fixes(hits: Sequence[Hit], parse: Parse) -> list[str]:
    fixes = list(dict.fromkeys(f for hit in hits for f in hit.fixed))
    try:
        return sorted(fixes, key=parse)
    except InvalidVersion:
        return fixes


def findings_for(lookup: Lookup, hits: Sequence[Hit], parse: Parse) -> list[Finding]:
    """One finding per vulnerability among one package's hits."""
    return [
        build_finding(
            lookup.package,
            lookup.version,
            group[0].candidate.affected.name,
            group,
            _ordered_fixes(group, parse),
        )
        for group in group_hits(hits)
    ]


def _order(finding: Finding) -> tuple[int, str, str, str]:
    rank = SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else 99
    return (rank, finding.package.name, finding.package.version, finding.id)


def _parser(kind: str, parsers: ParserFor) -> Parse | None:
    try:
        return parsers(kind)
    except SpyglassError:
        return None


def match(
    inventory: Inventory, store: VulnStore, *, parsers: ParserFor = parser_for
) -> MatchResult:
    """Match every package of ``inventory`` against ``store``: findings and notes."""
    lookups, notes = plan(inventory)
    found = fetch_candidates(store, lookups)
    findings: list[Finding] = []
    for lookup in lookups:
        candidates = _candidates_of(lookup, found)
        if not candidates:
            continue
        parse = _parser(lookup.kind, parsers)
        if parse is None:
            notes.append(MatchNote(lookup.package, f"no version comparison for {lookup.kind!r}"))
            continue
        hits, more = decide(lookup, candidates, parse)
        notes.extend(more)
        findings.extend(findings_for(lookup, hits, parse))
    findings.sort(key=_order)
    feeds = tuple((f.name, f.refreshed_at) for f in store.feeds())
    return MatchResult(tuple(findings), tuple(notes), len(lookups), feeds)


def match_inventory(inventory: Inventory, store: VulnStore) -> list[Finding]:
    """The findings of ``inventory`` against ``store`` (notes are in :func:`match`)."""
    return list(match(inventory, store).findings)
