"""CSV exports of the image list and of open findings, streamed in batches.

Rows come from one server-side cursor (``yield_per``: a named cursor on PostgreSQL), are written
a batch at a time and handed on as bytes, so an export of any size holds one batch in memory.
The filters are the image list's own (:class:`~spyglass.store.catalog.ImageFilter`). Text cells
that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) get a leading
``'`` (OWASP "CSV injection"). The stdlib ``csv`` module does the quoting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_
from sqlalchemy.orm import Session

from spyglass.service.schemas import FIX_COMMANDS
from spyglass.store import catalog
from spyglass.store.engine import Database
from spyglass.store.models import SEVERITIES, Finding, Image, Repository

BATCH = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

IMAGE_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("image_id", Image.id), ("registry", Repository.host), ("repository", Repository.name),
    ("digest", Image.digest), ("reference", Image.reference), ("platform", Image.platform),
    ("os_family", Image.os_family), ("os_version", Image.os_version),
    ("first_seen", Image.first_seen), ("scanned_at", Image.scanned_at),
    ("packages", Image.packages), *((s, getattr(Image, s)) for s in SEVERITIES),
    ("fixable", Image.fixable), ("exploited", Image.exploited),
)
FINDING_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("image_id", Image.id), ("registry", Repository.host), ("repository", Repository.name),
    ("digest", Image.digest), ("os_family", Image.os_family), ("os_version", Image.os_version),
    ("advisory_id", Finding.advisory_id), ("package", Finding.package),
    ("version", Finding.version), ("ecosystem", Finding.ecosystem),
    ("severity", Finding.severity), ("fixed_version", Finding.fixed_version),
    ("known_exploited", Finding.known_exploited), ("layer", Finding.layer),
    ("first_seen", Finding.first_seen),
)


def fix_command(ecosystem: str, package: str, fixed_version: str | None) -> str | None:
    """The command that installs ``fixed_version`` of an OS package; ``None`` otherwise."""
    template = FIX_COMMANDS.get(ecosystem)
    if template is None or not fixed_version:
        return None
    return template.format(name=package, version=fixed_version)


def cell(value: object) -> object:
    """One value as a CSV cell: text that could start a formula is prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _chunk(rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue().encode()


def images_csv(db: Database, f: catalog.ImageFilter, sort: str) -> Iterator[bytes]:
    """The filtered image list as CSV, in the list's order, with each image's tags."""
    query = catalog.ordered(catalog.filtered(f, *(c for _, c in IMAGE_COLUMNS)), sort)
    yield _chunk([[*(n for n, _ in IMAGE_COLUMNS), "tags"]])
    with db.transaction() as session:
        for batch in _batches(session, query):
            tags = catalog.tags_of(session, [r[0] for r in batch])
            yield _chunk([*r, " ".join(tags.get(r[0], ()))] for r in batch)


def findings_csv(db: Database, f: catalog.ImageFilter, sort: str) -> Iterator[bytes]:
    """Open findings of the filtered images as CSV (image columns first), images in the
    list's order; severity, fixable and exploited filters narrow the findings too."""
    names = [n for n, _ in FINDING_COLUMNS]
    query = catalog.ordered(
        catalog.filtered(f, *(c for _, c in FINDING_COLUMNS))
        .join(Finding, and_(Finding.image_id == Image.id, Finding.resolved_at.is_(None)))
        .where(*_finding_conditions(f)), sort,
    ).order_by(Finding.id)
    eco, pkg, fix = (names.index(n) for n in ("ecosystem", "package", "fixed_version"))
    yield _chunk([[*names[:3], "tags", *names[3:], "fix_command"]])
    with db.transaction() as session:
        for batch in _batches(session, query):
            tags = catalog.tags_of(session, sorted({r[0] for r in batch}))
            yield _chunk([*r[:3], " ".join(tags.get(r[0], ())), *r[3:],
                          fix_command(r[eco], r[pkg], r[fix])] for r in batch)


def _finding_conditions(f: catalog.ImageFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.severity in SEVERITIES:
        where.append(Finding.severity.in_(SEVERITIES[: SEVERITIES.index(f.severity) + 1]))
    if f.fixable:
        where.append(Finding.fixed_version.is_not(None))
    if f.exploited:
        where.append(Finding.known_exploited.is_(True))
    return where


def _batches(session: Session, query: Select[Any]) -> Iterator[Sequence[Row[Any]]]:
    result = session.execute(query, execution_options={"yield_per": BATCH})
    yield from result.partitions()
