"""One finding per (package, vulnerability): records from several feeds merged by alias.

Records that share an id or alias describe the same vulnerability (OSV's meaning of
``aliases``) and become one finding. A record that names several CVEs (a DSA or an ALSA fixing
many at once) is a bundle rather than an alias of each, so its CVEs do not join findings
together; it joins others only through its own and non-CVE ids.

Severity follows the distro where it gives one (Debian urgency, Red Hat/Alma impact), then the
advisory's own label (GHSA, PyPA), then the CVSS base score; CVSS is the preferred vector of
all merged records. The finding's main id is its CVE when the records name exactly one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spyglass.inventory import Package
from spyglass.match.interface import Finding
from spyglass.vulndb.model import END_OF_LIFE, FIXED, SEVERITIES, UNFIXED, WILL_NOT_FIX, Advisory
from spyglass.vulndb.severity import label_for_score
from spyglass.vulndb.store import Candidate

_STATE_ORDER = (FIXED, WILL_NOT_FIX, END_OF_LIFE, UNFIXED)
_CVSS_ORDER = ("3.1", "3.0", "4.0", "2.0")


@dataclass(frozen=True)
class Hit:
    """One advisory record that holds for one package version."""

    candidate: Candidate
    fixed: tuple[str, ...]

    @property
    def advisory(self) -> Advisory:
        """The record's advisory."""
        return self.candidate.advisory


def _is_cve(identifier: str) -> bool:
    return identifier.startswith("CVE-")


def _links(advisory: Advisory) -> set[str]:
    ids = set(advisory.ids)
    if sum(map(_is_cve, ids)) > 1:
        return {i for i in ids if not _is_cve(i)}
    return ids


def group_hits(hits: Sequence[Hit]) -> list[list[Hit]]:
    """Hits of one package, grouped by shared ids (union-find), in first-seen order."""
    parent = list(range(len(hits)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, hit in enumerate(hits):
        for identifier in _links(hit.advisory):
            if identifier in owner:
                parent[root(index)] = root(owner[identifier])
            else:
                owner[identifier] = index
    groups: dict[int, list[Hit]] = {}
    for index, hit in enumerate(hits):
        groups.setdefault(root(index), []).append(hit)
    return list(groups.values())


def _main_id(group: Sequence[Hit]) -> str:
    ids = {i for hit in group for i in hit.advisory.ids}
    cves = sorted(i for i in ids if _is_cve(i))
    if len(cves) == 1:
        return cves[0]
    records = sorted({h.advisory.id for h in group}, key=lambda i: (not i.startswith("GHSA-"), i))
    return records[0]


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def choose_severity(group: Sequence[Hit]) -> tuple[str, str]:
    """(severity, where it came from): distro first, then the advisory's label, then CVSS."""
    distro = [h for h in group if h.candidate.affected.distro is not None]
    tiers: list[Iterable[tuple[str | None, str]]] = [
        ((h.candidate.affected.severity, h.advisory.feed) for h in distro),
        ((h.advisory.severity, h.advisory.feed) for h in distro),
        ((h.candidate.affected.severity, h.advisory.feed) for h in group),
        ((h.advisory.severity, h.advisory.feed) for h in group),
    ]
    for tier in tiers:
        found = [(s, feed) for s, feed in tier if s and s != "unknown" and s in SEVERITIES]
        if found:
            return min(found, key=lambda item: _rank(item[0]))  # the most severe claim wins
    score = max((h.advisory.cvss_score or 0.0 for h in group), default=0.0)
    return (label_for_score(score), "cvss") if score else ("unknown", "")


def _cvss(group: Sequence[Hit]) -> Advisory | None:
    scored = [h.advisory for h in group if h.advisory.cvss_vector]
    order = {v: i for i, v in enumerate(_CVSS_ORDER)}
    scored.sort(key=lambda a: (order.get(a.cvss_version or "", 9), -(a.cvss_score or 0.0)))
    return scored[0] if scored else None


def _state(group: Sequence[Hit], fixed: Sequence[str]) -> str:
    if fixed:
        return FIXED
    states = [h.candidate.affected.state for h in group if h.candidate.affected.state != FIXED]
    return min(states, key=_STATE_ORDER.index, default=UNFIXED)


def _title(group: Sequence[Hit], main: str) -> str:
    ordered = sorted(group, key=lambda h: h.advisory.id != main)
    for hit in ordered:
        if hit.advisory.summary:
            return hit.advisory.summary
    details = next((h.advisory.details for h in ordered if h.advisory.details), "")
    return details.strip().split("\n", 1)[0][:160]


def _url(group: Sequence[Hit], main: str) -> str:
    ordered = sorted(group, key=lambda h: h.advisory.id != main)
    return next((h.advisory.url for h in ordered if h.advisory.url), "")


def build_finding(
    package: Package, installed: str, matched_name: str, group: Sequence[Hit], fixed: Sequence[str]
) -> Finding:
    """The finding for one group of hits; ``fixed`` is already ordered by version."""
    main = _main_id(group)
    ids = {i for hit in group for i in hit.advisory.ids}
    severity, source = choose_severity(group)
    cvss = _cvss(group)
    return Finding(
        id=main,
        package=package,
        installed_version=installed,
        severity=severity,
        state=_state(group, fixed),
        fixed_versions=tuple(fixed),
        aliases=tuple(sorted(ids - {main})),
        records=tuple(dict.fromkeys(h.advisory.id for h in group)),
        feeds=tuple(dict.fromkeys(h.advisory.feed for h in group)),
        severity_source=source,
        cvss_score=cvss.cvss_score if cvss else None,
        cvss_vector=cvss.cvss_vector if cvss else None,
        cvss_version=cvss.cvss_version if cvss else None,
        known_exploited=any(h.candidate.known_exploited for h in group),
        title=_title(group, main),
        url=_url(group, main),
        matched_name=matched_name,
    )
