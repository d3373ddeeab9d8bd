"""Model objects to store rows and back, and the matcher's candidate query.

Kept apart from ``store.py`` so that the store reads as transactions and queries, and this
module as the (fast, executemany-friendly) mapping between dataclasses and row tuples. Parse
workers run the forward mapping too (:func:`feed_part`), so that only plain tuples of text
cross back to the process that writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, and_, select

from spyglass.vulndb import tables
from spyglass.vulndb.feeds.interface import Validator
from spyglass.vulndb.model import (
    Advisory,
    AdvisoryId,
    Affected,
    Exploited,
    FeedData,
    Range,
    Skipped,
)

# One encoder for every row: json.dumps with options builds a new encoder on each call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

ADVISORY_COLUMNS = (
    "feed", "id", "aliases", "summary", "details", "published", "modified", "withdrawn",
    "severity", "cvss_score", "cvss_vector", "cvss_version", "url", "refs", "fixes",
)  # fmt: skip
AFFECTED_COLUMNS = (
    "feed", "advisory_id", "ecosystem", "distro", "name", "ranges", "versions", "state",
    "severity",
)  # fmt: skip
EXPLOITED_COLUMNS = (
    "feed", "vuln_id", "date_added", "due_date", "vendor", "product", "name", "ransomware",
)  # fmt: skip

_RANGE_JSON: dict[int, tuple[Range, str]] = {}
_RANGE_JSON_LIMIT = 100_000

RowBatch = tuple[str, tuple[str, ...], list[tuple[Any, ...]]]
"""A table name, its columns, and rows as tuples in that order: what one executemany takes.

Advisory rows come without ``seq``: the store numbers them once it has every part of a feed.
"""


@dataclass(frozen=True)
class FeedPart:
    """Part of a parsed feed as store rows, and what its parse counted: a parse worker's answer.

    Plain tuples of strings cross a process boundary several times faster than the model
    objects they are made from.
    """

    batches: tuple[RowBatch, ...]
    records: int
    skipped: tuple[Skipped, ...] = ()


def feed_part(name: str, data: FeedData) -> FeedPart:
    """``data`` of the feed ``name`` as one :class:`FeedPart`."""
    return FeedPart(tuple(feed_rows(name, data)), data.records, data.skipped)


def dumps(value: Any) -> str:
    """Compact JSON for the store's list-valued text columns (``json.dumps``' very text).

    orjson writes the same compact UTF-8 text several times faster; what it refuses (a lone
    surrogate) goes to ``json``.
    """
    if not value:
        return "[]"
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return _ENCODE(value)


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; a few upstream descriptions contain one.
    return text.replace("\x00", "") if "\x00" in text else text


def validators_json(validators: Mapping[str, Validator]) -> str:
    """Per-URL validators as JSON text."""
    return _ENCODE({url: v.to_dict() for url, v in validators.items()})


def validators_from_json(text: str | None) -> dict[str, Validator]:
    """Inverse of :func:`validators_json`."""
    return {url: Validator(**v) for url, v in json.loads(text or "{}").items()}


def feed_parts(name: str, data: FeedData) -> Iterator[FeedPart]:
    """``data`` as parts of one batch each, built as they are consumed (in a transaction)."""
    yield FeedPart((), data.records, data.skipped)
    for batch in feed_rows(name, data):
        yield FeedPart((batch,), 0)


def feed_rows(name: str, data: FeedData) -> Iterator[RowBatch]:
    """Row batches for everything in ``data`` (advisories without ``seq``, see RowBatch)."""
    yield (
        tables.advisory.name,
        ADVISORY_COLUMNS,
        [_advisory_tuple(name, a) for a in data.advisories],
    )
    yield tables.affected.name, AFFECTED_COLUMNS, [_affected_tuple(name, a) for a in data.affected]
    yield (
        tables.exploited.name,
        EXPLOITED_COLUMNS,
        [(name, *(getattr(e, c) for c in EXPLOITED_COLUMNS[1:])) for e in data.exploited],
    )


def _advisory_tuple(feed: str, a: Advisory) -> tuple[Any, ...]:
    return (
        feed, a.id, dumps(a.aliases), _clean(a.summary), _clean(a.details), a.published,
        a.modified, a.withdrawn, a.severity, a.cvss_score, a.cvss_vector, a.cvss_version, a.url,
        dumps(a.references), dumps(a.fixes),
    )  # fmt: skip


def _affected_tuple(feed: str, a: Affected) -> tuple[Any, ...]:
    return (
        feed, a.advisory_id, a.ecosystem, a.distro or "", a.name, _ranges(a.ranges),
        dumps(a.versions), a.state, a.severity,
    )  # fmt: skip


def _ranges(ranges: tuple[Range, ...]) -> str:
    # Parsers share one Range object between the packages of an advisory (AlmaLinux gives all
    # binaries of a source the same fix), so its JSON is kept by identity: the cache holds the
    # object, which therefore cannot die and pass its id to another. Same text as dumps(list).
    parts = []
    for item in ranges:
        known = _RANGE_JSON.get(id(item))
        if known is None or known[0] is not item:
            if len(_RANGE_JSON) > _RANGE_JSON_LIMIT:
                _RANGE_JSON.clear()
            known = _RANGE_JSON[id(item)] = (item, dumps(item.to_dict()))
        parts.append(known[1])
    return "[" + ",".join(parts) + "]"


def advisory_row(feed: str, a: Advisory) -> dict[str, Any]:
    """One ``vuln_advisory`` row (the stored feed name wins over ``a.feed``), without ``seq``."""
    return dict(zip(ADVISORY_COLUMNS, _advisory_tuple(feed, a), strict=True))


def affected_row(feed: str, a: Affected) -> dict[str, Any]:
    """One ``vuln_affected`` row."""
    return dict(zip(AFFECTED_COLUMNS, _affected_tuple(feed, a), strict=True))


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
        fixes=tuple(json.loads(get("fixes") or "[]")),
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
