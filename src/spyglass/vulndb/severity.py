"""Severity: CVSS vectors to base scores (the ``cvss`` package), and every feed's labels
mapped onto the one scale in :data:`spyglass.vulndb.model.SEVERITIES`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

# Labels seen in feeds (GHSA, Red Hat/Alma, Debian urgency, Ubuntu priority, Alpine) -> ours.
_LABELS = {
    "critical": "critical",
    "important": "high",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "negligible",
    "unimportant": "negligible",
    "none": "negligible",
}

# When a record has several vectors, the one the rules are most likely written against wins.
_PREFERENCE = ("3.1", "3.0", "4.0", "2.0")


@dataclass(frozen=True)
class Cvss:
    """A parsed CVSS vector with its base score."""

    version: str
    vector: str
    score: float

    @property
    def label(self) -> str:
        """The qualitative rating of the base score (CVSS v3 bands, which v4 shares)."""
        return label_for_score(self.score)


def label_for_score(score: float) -> str:
    """CVSS v3 qualitative rating: 9.0 critical, 7.0 high, 4.0 medium, 0.1 low."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "negligible"


def normalise_label(label: str | None) -> str | None:
    """A feed's severity word on our scale, or ``None`` when it is not one we know."""
    if not label:
        return None
    return _LABELS.get(label.strip().rstrip("*").strip().lower())


@lru_cache(maxsize=4096)
def parse_vector(vector: str) -> Cvss | None:
    """Score a CVSS v2, v3.x or v4.0 vector; ``None`` for a vector the library rejects.

    Cached: scoring takes the ``cvss`` package tens of microseconds, and a feed repeats a few
    hundred distinct vectors across its records (167 distinct in the 629 of the test sets).
    """
    vector = vector.strip()
    try:
        if vector.startswith("CVSS:4.0/"):
            return Cvss("4.0", vector, float(CVSS4(vector).base_score))
        if vector.startswith("CVSS:3."):
            return Cvss(vector[5:8], vector, float(CVSS3(vector).base_score))
        return Cvss("2.0", vector, float(CVSS2(vector).base_score))
    except (CVSSError, ValueError, KeyError, IndexError):
        return None


def best(vectors: list[str]) -> Cvss | None:
    """The preferred scored vector among several (v3 first, then v4, then v2)."""
    scored = [c for c in (parse_vector(v) for v in vectors) if c is not None]
    scored.sort(key=lambda c: _PREFERENCE.index(c.version) if c.version in _PREFERENCE else 9)
    return scored[0] if scored else None
