"""One finding per (package, vulnerability): records from several feeds merged by alias.

Records that share an id or alias describe the same vulnerability (OSV's meaning of
``aliases``) and become one finding. A record that names several CVEs (a DSA or an ALSA fixing
many at once) is a bundle rather than an alias of each, so its CVEs do not join findings
together; it joins others only through its own and non-CVE ids.

Severity follows the distro where it gives one (Debian urgency, Red Hat/Alma impact), then the
advisory's own label (GHSA, PyPA), then the CVSS base score; CVSS is the preferred vector of
all merged records. The finding's main id is its CVE when the records name exactly one.

The CVEs a distro erratum fixes (``Advisory.fixes``, OSV ``related``) join the finding's
aliases and its known-exploited flag, but never link records: two errata fixing one CVE are
two updates, hence two findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spyglass.inventory import Package
from spyglass.match.candidates import Entry
from spyglass.match.interface import Finding
from spyglass.vulndb.model import END_OF_LIFE, FIXED, SEVERITIES, UNFIXED, WILL_NOT_FIX, Advisory
from spyglass.vulndb.severity import label_for_score
from spyglass.vulndb.store import Candidate

_STATE_ORDER = (FIXED, WILL_NOT_FIX, END_OF_LIFE, UNFIXED)
_CVSS_RANK = {v: i for i, v in enumerate(("3.1", "3.0", "4.0", "2.0"))}
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class Hit:
    """One advisory record that holds for one package version."""

    entry: Entry
    fixed: tuple[str, ...]

    @property
    def candidate(self) -> Candidate:
        """The store's row and advisory."""
        return self.entry.candidate

    @property
    def advisory(self) -> Advisory:
        """The record's advisory."""
        return self.entry.candidate.advisory


@dataclass(frozen=True, slots=True)
class Facts:
    """What a finding says about its vulnerability: everything that does not depend on the
    installed version, so a warm matcher computes it once per record."""

    id: str
    aliases: tuple[str, ...]
    records: tuple[str, ...]
    feeds: tuple[str, ...]
    severity: str
    severity_source: str
    cvss_score: float | None
    cvss_vector: str | None
    cvss_version: str | None
    known_exploited: bool
    title: str
    url: str
    matched_name: str
    unfixed_state: str
    """The state when no fix applies: ``unfixed``, ``will-not-fix`` or ``end-of-life``."""


def _is_cve(identifier: str) -> bool:
    return identifier.startswith("CVE-")


def _links(advisory: Advisory) -> set[str]:
    ids = set(advisory.ids)
    if sum(map(_is_cve, ids)) > 1:
        return {i for i in ids if not _is_cve(i)}
    return ids


def _memoised_links(entry: Entry) -> frozenset[str]:
    links = entry.memo.get("links")
    if links is None:
        links = entry.memo["links"] = frozenset(_links(entry.candidate.advisory))
    return links


def group_hits(hits: Sequence[Hit]) -> list[list[Hit]]:
    """Hits of one package, grouped by shared ids (union-find), in first-seen order."""
    if len(hits) < 2:
        return [list(hits)] if hits else []
    links = [_memoised_links(hit.entry) for hit in hits]
    if len(frozenset().union(*links)) == sum(map(len, links)):
        return [[hit] for hit in hits]  # no id shared: the usual case, decided in C
    parent = list(range(len(hits)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, ids in enumerate(links):
        for identifier in ids:
            if identifier in owner:
                parent[root(index)] = root(owner[identifier])
            else:
                owner[identifier] = index
    groups: dict[int, list[Hit]] = {}
    for index, hit in enumerate(hits):
        groups.setdefault(root(index), []).append(hit)
    return list(groups.values())


def _main_id(group: Sequence[Hit]) -> str:
    cves = {i for hit in group for i in hit.advisory.ids if _is_cve(i)}
    if len(cves) == 1:
        return next(iter(cves))
    if len(group) == 1:
        return group[0].advisory.id
    return min((h.advisory.id for h in group), key=lambda i: (not i.startswith("GHSA-"), i))


def _rank(severity: str) -> int:
    return _SEVERITY_RANK.get(severity, len(SEVERITIES))


def _most_severe(claims: Iterable[tuple[str | None, str]]) -> tuple[str, str] | None:
    best: tuple[str, str] | None = None
    for severity, feed in claims:
        if not severity or severity == "unknown" or severity not in _SEVERITY_RANK:
            continue
        if best is None or _rank(severity) < _rank(best[0]):
            best = (severity, feed)
    return best


def choose_severity(group: Sequence[Hit]) -> tuple[str, str]:
    """(severity, where it came from): distro first, then the advisory's label, then CVSS.

    Within a tier the most severe claim wins.
    """
    distro = [h for h in group if h.candidate.affected.distro is not None]
    for hits in (distro, group) if distro else (group,):
        for claim in (
            _most_severe((h.candidate.affected.severity, h.advisory.feed) for h in hits),
            _most_severe((h.advisory.severity, h.advisory.feed) for h in hits),
        ):
            if claim is not None:
                return claim
    score = max((h.advisory.cvss_score or 0.0 for h in group), default=0.0)
    return (label_for_score(score), "cvss") if score else ("unknown", "")


def _cvss(group: Sequence[Hit]) -> Advisory | None:
    scored = [h.advisory for h in group if h.advisory.cvss_vector]
    if len(scored) > 1:
        scored.sort(key=lambda a: (_CVSS_RANK.get(a.cvss_version or "", 9), -(a.cvss_score or 0.0)))
    return scored[0] if scored else None


def _unfixed_state(group: Sequence[Hit]) -> str:
    states = [h.candidate.affected.state for h in group if h.candidate.affected.state != FIXED]
    return min(states, key=_STATE_ORDER.index, default=UNFIXED)


def _first_line(text: str) -> str:
    # Details can run to pages; only the start is ever shown.
    return text[:1000].strip().split("\n", 1)[0][:160]


def _title_and_url(group: Sequence[Hit], main: str) -> tuple[str, str]:
    ordered = sorted(group, key=lambda h: h.advisory.id != main) if len(group) > 1 else group
    advisories = [h.advisory for h in ordered]
    title = next((a.summary for a in advisories if a.summary), "")
    if not title:
        title = _first_line(next((a.details for a in advisories if a.details), ""))
    return title, next((a.url for a in advisories if a.url), "")


def facts(group: Sequence[Hit]) -> Facts:
    """The version-independent part of the finding for one group of hits."""
    main = _main_id(group)
    ids = {i for hit in group for i in hit.advisory.all_ids}
    ids.discard(main)
    severity, source = choose_severity(group)
    cvss = _cvss(group)
    title, url = _title_and_url(group, main)
    return Facts(
        id=main,
        aliases=tuple(sorted(ids)),
        records=tuple(dict.fromkeys(h.advisory.id for h in group)),
        feeds=tuple(dict.fromkeys(h.advisory.feed for h in group)),
        severity=severity,
        severity_source=source,
        cvss_score=cvss.cvss_score if cvss else None,
        cvss_vector=cvss.cvss_vector if cvss else None,
        cvss_version=cvss.cvss_version if cvss else None,
        known_exploited=any(h.candidate.known_exploited for h in group),
        title=title,
        url=url,
        matched_name=group[0].candidate.affected.name,
        unfixed_state=_unfixed_state(group),
    )


def memoised_facts(group: Sequence[Hit]) -> Facts:
    """:func:`facts`, kept on the candidate entry when the group is one record (the usual case)."""
    if len(group) != 1:
        return facts(group)
    memo = group[0].entry.memo
    found = memo.get("facts")
    if not isinstance(found, Facts):
        found = memo["facts"] = facts(group)
    return found


def finding_for(
    package: Package, installed: str, group: Sequence[Hit], fixed: Sequence[str]
) -> Finding:
    """The finding of one package and one group of hits; ``fixed`` is ordered by version.

    For a one-record group (the usual case) the finding is made from a template kept on the
    candidate entry, so a warm matcher only fills in the package's own fields.
    """
    if len(group) != 1:
        return build_finding(package, installed, facts(group), fixed)
    memo = group[0].entry.memo
    template = memo.get("finding")
    if template is None:
        finding = build_finding(package, installed, memoised_facts(group), fixed)
        memo["finding"], memo["unfixed_state"] = finding.template(), _unfixed_state(group)
        return finding
    state = FIXED if fixed else memo["unfixed_state"]
    return Finding.like(template, package, installed, state, tuple(fixed))


def build_finding(package: Package, installed: str, about: Facts, fixed: Sequence[str]) -> Finding:
    """The finding of one package and one vulnerability; ``fixed`` is ordered by version."""
    return Finding(
        id=about.id,
        package=package,
        installed_version=installed,
        severity=about.severity,
        state=FIXED if fixed else about.unfixed_state,
        fixed_versions=tuple(fixed),
        aliases=about.aliases,
        records=about.records,
        feeds=about.feeds,
        severity_source=about.severity_source,
        cvss_score=about.cvss_score,
        cvss_vector=about.cvss_vector,
        cvss_version=about.cvss_version,
        known_exploited=about.known_exploited,
        title=about.title,
        url=about.url,
        matched_name=about.matched_name,
    )
