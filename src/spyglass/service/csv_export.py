"""CSV exports of the image list and of open findings, streamed.

The filters are the image list's own (:class:`~spyglass.store.catalog.ImageFilter`), and each
export is one query. On PostgreSQL the query formats every cell itself and runs under
``COPY (…) TO STDOUT (FORMAT csv)``, so the server writes the CSV and Python only passes the
bytes on; elsewhere (SQLite) rows come from a ``yield_per`` cursor a batch at a time and the
stdlib ``csv`` module writes them. Either way one batch is in memory, never the export.
Text cells that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) get
a leading ``'`` (OWASP "CSV injection"); both paths write the same cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from spyglass.service.schemas import FIX_COMMANDS
from spyglass.store import catalog
from spyglass.store.engine import Database
from spyglass.store.models import SEVERITIES, Finding, Image, Repository, Tag

BATCH = 2000
CHUNK = 1 << 16
"""Bytes handed on at a time on the COPY path (PostgreSQL sends one row per message)."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
"""``to_char`` pattern giving what ``datetime.isoformat(timespec="microseconds")`` gives."""

Kind = Literal["text", "ours", "int", "bool", "time"]
"""``ours``: text Spyglass writes itself (digests, ecosystems, severities), never a formula."""
FORMULA_CODES = [ord(c) for c in FORMULA_START]


@dataclass(frozen=True)
class Column:
    """One CSV column: its header, the value it reads and how that value is written."""

    name: str
    value: Any
    kind: Kind = "text"


def _tags() -> Any:
    """Each image's tags, sorted and space-separated, as a table to join (PostgreSQL; SQLite
    gets them per batch): one aggregation rather than a subquery per exported row."""
    joined = func.string_agg(Tag.name, aggregate_order_by(literal(" "), Tag.name))
    return select(Tag.image_id, joined.label("tags")).group_by(Tag.image_id).subquery("image_tags")


def _fix() -> Any:
    """The fix command in SQL: the same templates as the API's ``fix_command``."""
    whens = []
    for ecosystem, template in FIX_COMMANDS.items():
        head, rest = template.split("{name}")
        middle = rest.split("{version}")[0]
        command = literal(head) + Finding.package + literal(middle) + Finding.fixed_version
        whens.append((Finding.ecosystem == ecosystem, command))
    return case(*whens, else_=None)


IMAGE_COLUMNS: tuple[Column, ...] = (
    Column("image_id", Image.id, "int"), Column("registry", Repository.host),
    Column("repository", Repository.name), Column("tags", None),
    Column("digest", Image.digest, "ours"),
    Column("reference", Image.reference), Column("platform", Image.platform),
    Column("os_family", Image.os_family), Column("os_version", Image.os_version),
    Column("first_seen", Image.first_seen, "time"), Column("scanned_at", Image.scanned_at, "time"),
    Column("packages", Image.packages, "int"),
    *(Column(s, getattr(Image, s), "int") for s in SEVERITIES),
    Column("fixable", Image.fixable, "int"), Column("exploited", Image.exploited, "int"),
)
FINDING_COLUMNS: tuple[Column, ...] = (
    Column("image_id", Image.id, "int"), Column("registry", Repository.host),
    Column("repository", Repository.name), Column("tags", None),
    Column("digest", Image.digest, "ours"),
    Column("os_family", Image.os_family), Column("os_version", Image.os_version),
    Column("advisory_id", Finding.advisory_id), Column("package", Finding.package),
    Column("version", Finding.version), Column("ecosystem", Finding.ecosystem, "ours"),
    Column("severity", Finding.severity, "ours"), Column("fixed_version", Finding.fixed_version),
    Column("fix_command", None, "ours"), Column("known_exploited", Finding.known_exploited, "bool"),
    Column("layer", Finding.layer), Column("first_seen", Finding.first_seen, "time"),
)
"""``None`` values are derived: tags from the tag table, the fix command from the row."""


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
        return value.isoformat(timespec="microseconds")
    return value


def images_query(f: catalog.ImageFilter, sort: str) -> Select[Any]:
    """The image list's rows, unpaginated (raw values; derived columns left out)."""
    return catalog.ordered(catalog.filtered(f, *_raw(IMAGE_COLUMNS)), sort)


def findings_query(f: catalog.ImageFilter, sort: str) -> Select[Any]:
    """Open findings of the filtered images, images in the list's order; severity,
    ``fixable=true`` and ``exploited=true`` narrow the findings as well as the images."""
    return catalog.ordered(
        catalog.filtered(f, *_raw(FINDING_COLUMNS))
        .join(Finding, and_(Finding.image_id == Image.id, Finding.resolved_at.is_(None)))
        .where(*_finding_conditions(f)), sort,
    ).order_by(Finding.id)


def images_csv(db: Database, f: catalog.ImageFilter, sort: str) -> Iterator[bytes]:
    """The filtered image list as CSV, in the list's order, with each image's tags."""
    return _export(db, IMAGE_COLUMNS, images_query(f, sort))


def findings_csv(db: Database, f: catalog.ImageFilter, sort: str) -> Iterator[bytes]:
    """Open findings of the filtered images as CSV, image columns first (see
    :func:`findings_query`)."""
    return _export(db, FINDING_COLUMNS, findings_query(f, sort))


def _raw(columns: Sequence[Column]) -> list[Any]:
    return [c.value for c in columns if c.value is not None]


def _finding_conditions(f: catalog.ImageFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.severity in SEVERITIES:
        where.append(Finding.severity.in_(SEVERITIES[: SEVERITIES.index(f.severity) + 1]))
    if f.fixable:
        where.append(Finding.fixed_version.is_not(None))
    if f.exploited:
        where.append(Finding.known_exploited.is_(True))
    return where


def _export(db: Database, columns: Sequence[Column], query: Select[Any]) -> Iterator[bytes]:
    yield _chunk([[c.name for c in columns]])
    with db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            yield from _copy(session, _formatted(columns, query))
        else:
            yield from _written(session, columns, query)


# -- PostgreSQL: the server formats and writes the CSV ---------------------------------------

def _formatted(columns: Sequence[Column], query: Select[Any]) -> Select[Any]:
    tags = _tags()
    derived = {"tags": tags.c.tags, "fix_command": _fix()}
    cells = [_sql_cell(c, derived.get(c.name, c.value)) for c in columns]
    return query.with_only_columns(*cells, maintain_column_froms=True).outerjoin(
        tags, tags.c.image_id == Image.id)


def _sql_cell(column: Column, value: Any) -> Any:
    if column.kind in ("int", "ours"):
        return value
    if column.kind == "bool":
        return case((value.is_(True), "true"), else_="false")
    if column.kind == "time":
        return func.to_char(func.timezone("UTC", value), ISO_UTC)
    text = cast(value, String)
    # ascii() of the first character: one integer test per cell, cheaper than text compares
    return case((func.ascii(text).in_(FORMULA_CODES), literal("'") + text), else_=text)


def _copy(session: Session, query: Select[Any]) -> Iterator[bytes]:
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect,
                             compile_kwargs={"render_postcompile": True})
    raw: Any = connection.connection.driver_connection
    statement = f"COPY ({compiled}) TO STDOUT (FORMAT csv)"
    # Parameters go to the driver without SQLAlchemy's bind processing, so do what UTCDateTime
    # would: PostgreSQL refuses offsets past 15:59 (``-16:24``), UTC is always accepted.
    params = {k: v.astimezone(UTC) if isinstance(v, datetime) else v
              for k, v in compiled.params.items()}
    with raw.cursor() as cursor, cursor.copy(statement, params) as copy:
        pending, size = [], 0
        for block in copy:
            pending.append(bytes(block))
            size += len(block)
            if size >= CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)


# -- elsewhere: rows in batches, written by the csv module -----------------------------------

def _written(session: Session, columns: Sequence[Column], query: Select[Any]) -> Iterator[bytes]:
    names = [c.name for c in columns if c.value is not None]
    derive = _deriver(columns, names)
    result = session.execute(query, execution_options={"yield_per": BATCH})
    for batch in result.partitions():
        tags = catalog.tags_of(session, sorted({r[0] for r in batch}))
        yield _chunk(derive(row, tags) for row in batch)


def _deriver(columns: Sequence[Column], names: list[str]
             ) -> Callable[[Sequence[Any], dict[int, tuple[str, ...]]], list[object]]:
    index = {n: i for i, n in enumerate(names)}

    def derive(row: Sequence[Any], tags: dict[int, tuple[str, ...]]) -> list[object]:
        values = dict(zip(names, row, strict=True))
        values["tags"] = " ".join(tags.get(row[0], ()))
        if "fix_command" not in index and "ecosystem" in index:
            values["fix_command"] = fix_command(values["ecosystem"], values["package"],
                                                values["fixed_version"])
        return [cell(values[c.name]) for c in columns]

    return derive


def _chunk(rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    # CRLF, as RFC 4180 says: the csv module quotes a lone CR only when it is in the terminator
    # (PostgreSQL's COPY ends lines with LF and quotes CR itself).
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()
