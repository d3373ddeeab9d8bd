"""Normalised vulnerability data: advisories, what they affect, and known exploitation.

Every feed (OSV, Alpine secdb, Debian tracker, CISA KEV) is parsed into these frozen
dataclasses; the store, the offline bundle and the matcher read nothing else. Each type has a
JSON form (``to_dict`` / ``from_dict``) used by the store's JSON columns and by bundles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NewType

AdvisoryId = NewType("AdvisoryId", str)
"""An advisory identifier as its source spells it: ``PYSEC-2021-335``, ``CVE-2024-3094``."""

# Range types the matcher can evaluate; OSV ``GIT`` ranges (commit hashes) are dropped.
ECOSYSTEM = "ECOSYSTEM"
SEMVER = "SEMVER"
RANGE_TYPES = (ECOSYSTEM, SEMVER)

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
"""OSV range events; in a range they are kept in the order the source gave them."""

# Affected.state values: whether (and how) the package can be fixed.
FIXED = "fixed"
UNFIXED = "unfixed"
WILL_NOT_FIX = "will-not-fix"
END_OF_LIFE = "end-of-life"
NOT_AFFECTED = "not-affected"
STATES = (FIXED, UNFIXED, WILL_NOT_FIX, END_OF_LIFE, NOT_AFFECTED)

SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")
"""The one severity scale of Spyglass; every feed's labels are mapped onto it."""


@dataclass(frozen=True)
class Event:
    """One OSV range event: ``introduced``, ``fixed``, ``last_affected`` or ``limit``."""

    kind: str
    version: str


@dataclass(frozen=True)
class Range:
    """Affected versions as ordered events, compared with the ecosystem's (or semver) rules."""

    type: str
    events: tuple[Event, ...]

    def to_dict(self) -> dict[str, Any]:
        """OSV form: ``{"type": ..., "events": [{"introduced": "0"}, ...]}``."""
        return {"type": self.type, "events": [{e.kind: e.version} for e in self.events]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Range:
        """Inverse of :meth:`to_dict`."""
        events = tuple(Event(k, str(v)) for ev in data["events"] for k, v in ev.items())
        return cls(type=data["type"], events=events)


@dataclass(frozen=True)
class Advisory:
    """One advisory from one feed; the same id may come from several feeds."""

    id: AdvisoryId
    feed: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: str | None = None
    """ISO 8601 timestamp as the source wrote it (``None`` when absent)."""
    modified: str | None = None
    withdrawn: str | None = None
    """When set, the advisory was retracted: kept for the record, ignored by matching."""
    severity: str = "unknown"
    """One of :data:`SEVERITIES`: the source's own label when it has one, else from CVSS."""
    cvss_score: float | None = None
    cvss_vector: str | None = None
    cvss_version: str | None = None
    """``2.0``, ``3.0``, ``3.1`` or ``4.0``."""
    url: str = ""
    """The page a person should read first."""
    references: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    """CVEs a distro advisory (ALSA, RLSA, RHSA) fixes: OSV ``related`` ids, which are not
    aliases (two errata fixing one CVE stay two findings) but are flagged and reported."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The id and every alias: what de-duplication looks for."""
        return (self.id, *self.aliases)

    @property
    def all_ids(self) -> tuple[str, ...]:
        """The id, every alias and every CVE fixed: what KEV flagging looks for."""
        return (self.id, *self.aliases, *self.fixes) if self.fixes else self.ids

    def to_dict(self) -> dict[str, Any]:
        """JSON form (tuples become lists)."""
        data = dict(self.__dict__)
        data["aliases"] = list(self.aliases)
        data["references"] = list(self.references)
        data["fixes"] = list(self.fixes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Advisory:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["aliases"] = tuple(values.get("aliases") or ())
        values["references"] = tuple(values.get("references") or ())
        values["fixes"] = tuple(values.get("fixes") or ())
        return cls(**values)


@dataclass(frozen=True)
class Affected:
    """One package (in one ecosystem and distro release) that an advisory affects."""

    advisory_id: AdvisoryId
    ecosystem: str
    """The purl type: ``deb``, ``apk``, ``rpm``, ``pypi``, ``npm``, ``golang``, ``cargo``…"""
    distro: str | None
    """``debian:12``, ``alpine:3.19``, ``alma:9``, ``ubuntu:22.04``; ``None`` for libraries."""
    name: str
    """Normalised with :func:`spyglass.vulndb.ecosystems.normalise_name`."""
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    """Explicitly listed affected versions (OSV ``versions``); a match on either counts."""
    state: str = FIXED
    """One of :data:`STATES`."""
    severity: str | None = None
    """A per-package severity that overrides the advisory's (Debian urgency, for example)."""

    @property
    def fixed(self) -> tuple[str, ...]:
        """Every version named as a fix, in range order."""
        return tuple(e.version for r in self.ranges for e in r.events if e.kind == "fixed")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "advisory_id": self.advisory_id,
            "ecosystem": self.ecosystem,
            "distro": self.distro,
            "name": self.name,
            "ranges": [r.to_dict() for r in self.ranges],
            "versions": list(self.versions),
            "state": self.state,
            "severity": self.severity,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Affected:
        """Inverse of :meth:`to_dict`."""
        return cls(
            advisory_id=AdvisoryId(data["advisory_id"]),
            ecosystem=data["ecosystem"],
            distro=data.get("distro"),
            name=data["name"],
            ranges=tuple(Range.from_dict(r) for r in data.get("ranges") or ()),
            versions=tuple(data.get("versions") or ()),
            state=data.get("state", FIXED),
            severity=data.get("severity"),
        )


@dataclass(frozen=True)
class Exploited:
    """A vulnerability known to be exploited in the wild (a CISA KEV entry)."""

    vuln_id: str
    date_added: str = ""
    due_date: str = ""
    vendor: str = ""
    product: str = ""
    name: str = ""
    ransomware: str = ""
    """KEV's ``knownRansomwareCampaignUse``: ``Known`` or ``Unknown``."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exploited:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class Skipped:
    """A record a feed could not read, with the reason: data, not an abort."""

    path: str
    reason: str


@dataclass(frozen=True)
class FeedData:
    """Everything one parse of one feed produced."""

    advisories: tuple[Advisory, ...] = ()
    affected: tuple[Affected, ...] = ()
    exploited: tuple[Exploited, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())

    @property
    def records(self) -> int:
        """What ``db status`` counts: advisories, or catalogue entries for KEV-like feeds."""
        return len(self.advisories) + len(self.exploited)
