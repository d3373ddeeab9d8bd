"""Model objects to store rows and back, and the matcher's candidate query.

Kept apart from ``store.py`` so that the store reads as transactions and queries, and this
module as the (fast, executemany-friendly) mapping between dataclasses and plain dicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Select, Table, and_, select

from spyglass.vulndb import tables
from spyglass.vulndb.feeds.interface import Validator
from spyglass.vulndb.model import Advisory, AdvisoryId, Affected, Exploited, FeedData, Range

# One encoder for every row: json.dumps with options builds a new encoder on each call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """Compact JSON for the store's list-valued text columns."""
    return _ENCODE(value) if value else "[]"


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; a few upstream descriptions contain one.
    return text.replace("\x00", "") if "\x00" in text else text


def validators_json(validators: Mapping[str, Validator]) -> str:
    """Per-URL validators as JSON text."""
    return _ENCODE({url: v.to_dict() for url, v in validators.items()})


def validators_from_json(text: str | None) -> dict[str, Validator]:
    """Inverse of :func:`validators_json`."""
    return {url: Validator(**v) for url, v in json.loads(text or "{}").items()}


def feed_rows(name: str, data: FeedData) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
    """(table, rows) for everything in ``data``; duplicate advisory ids keep the last record."""
    advisories = {a.id: a for a in data.advisories}
    yield (
        tables.advisory,
        [{**advisory_row(name, a), "seq": seq} for seq, a in enumerate(advisories.values())],
    )
    yield tables.affected, [affected_row(name, a) for a in data.affected]
    yield tables.exploited, [{"feed": name, **e.to_dict()} for e in data.exploited]


def advisory_row(feed: str, a: Advisory) -> dict[str, Any]:
    """One ``vuln_advisory`` row (the stored feed name wins over ``a.feed``)."""
    return {
        "feed": feed,
        "id": a.id,
        "aliases": dumps(a.aliases),
        "summary": _clean(a.summary),
        "details": _clean(a.details),
        "published": a.published,
        "modified": a.modified,
        "withdrawn": a.withdrawn,
        "severity": a.severity,
        "cvss_score": a.cvss_score,
        "cvss_vector": a.cvss_vector,
        "cvss_version": a.cvss_version,
        "url": a.url,
        "refs": dumps(a.references),
    }


def affected_row(feed: str, a: Affected) -> dict[str, Any]:
    """One ``vuln_affected`` row."""
    return {
        "feed": feed,
        "advisory_id": a.advisory_id,
        "ecosystem": a.ecosystem,
        "distro": a.distro or "",
        "name": a.name,
        "ranges": dumps([r.to_dict() for r in a.ranges]),
        "versions": dumps(a.versions),
        "state": a.state,
        "severity": a.severity,
    }


def advisory(row: Mapping[Any, Any], prefix: str = "") -> Advisory:
    """An :class:`Advisory` from a row (columns optionally prefixed, as in joins)."""

    def get(key: str) -> Any:
        return row[prefix + key]

    return Advisory(
        id=AdvisoryId(get("id")),
        feed=get("feed"),
        aliases=tuple(json.loads(get("aliases"))),
        summary=get("summary"),
        details=get("details"),
        published=get("published"),
        modified=get("modified"),
        withdrawn=get("withdrawn"),
        severity=get("severity"),
        cvss_score=get("cvss_score"),
        cvss_vector=get("cvss_vector"),
        cvss_version=get("cvss_version"),
        url=get("url"),
        references=tuple(json.loads(get("refs"))),
    )


def affected(row: Mapping[Any, Any]) -> Affected:
    """An :class:`Affected` from a ``vuln_affected`` row."""
    return Affected(
        advisory_id=AdvisoryId(row["advisory_id"]),
        ecosystem=row["ecosystem"],
        distro=row["distro"] or None,
        name=row["name"],
        ranges=tuple(Range.from_dict(r) for r in json.loads(row["ranges"])),
        versions=tuple(json.loads(row["versions"])),
        state=row["state"],
        severity=row["severity"],
    )


def exploited(row: Mapping[Any, Any]) -> Exploited:
    """An :class:`Exploited` from a ``vuln_exploited`` row."""
    return Exploited(
        vuln_id=row["vuln_id"],
        date_added=row["date_added"],
        due_date=row["due_date"],
        vendor=row["vendor"],
        product=row["product"],
        name=row["name"],
        ransomware=row["ransomware"],
    )


def candidate_query(ecosystem: str, distro: str, names: list[str]) -> Select[Any]:
    """Affected rows joined with their advisory (advisory columns prefixed ``adv_``)."""
    aff, adv = tables.affected, tables.advisory
    adv_columns = [c.label(f"adv_{c.name}") for c in adv.c]
    join = and_(adv.c.feed == aff.c.feed, adv.c.id == aff.c.advisory_id)
    return (
        select(aff, *adv_columns)
        .join(adv, join)
        .where(aff.c.ecosystem == ecosystem, aff.c.distro == distro, aff.c.name.in_(names))
        .order_by(aff.c.name, aff.c.pk)
    )


def candidate(row: Mapping[Any, Any]) -> tuple[Affected, Advisory]:
    """(affected, advisory) from a row of :func:`candidate_query`."""
    return affected(row), advisory(row, prefix="adv_")
