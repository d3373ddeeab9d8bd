"""The service's tables as SQLAlchemy 2 ORM models.

A registry holds repositories; a repository has tags that point at images (one row per
repository and manifest digest); each scan of an image stores its inventory as JSON, and the
findings of the latest scan are rows with the time they appeared and were resolved. Per-severity
counts are kept on the image row so that the image list filters and sorts on one table.
Every timestamp is UTC and comes back timezone-aware from both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

QUEUED, SENT, SCANNED, INVALID = "queued", "sent", "scanned", "invalid"
ACTIVE_STATES = (QUEUED, SENT)
FINISHED_STATES = (SCANNED, INVALID)
SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")
"""Highest first; every finding has one of these."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: one metadata with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class Registry(Base):
    """A registry the service pulls from; credentials are encrypted and never returned."""

    __tablename__ = "registries"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    insecure: Mapped[bool] = mapped_column(Boolean, default=False)
    scan_interval: Mapped[int] = mapped_column(Integer, default=3600)
    """Seconds between polls of the registry's tags."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default="oci", server_default="oci")
    """``oci`` (any v2 registry), ``dockerhub``, ``ecr`` or ``acr``."""
    repositories: Mapped[list[str] | None] = mapped_column(JsonDocument)
    """Repositories to watch; ``None`` for every one the catalog lists."""
    last_polled_at: Mapped[datetime | None]


class Repository(Base):
    """A repository, keyed by host (``local`` for archives and layouts) and name."""

    __tablename__ = "repositories"
    __table_args__ = (UniqueConstraint("host", "name", name="uq_repositories_host_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries.id", ondelete="SET NULL"), index=True
    )
    host: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(1000))


class Image(Base):
    """One manifest digest in one repository, with counts from its latest scan."""

    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("repository_id", "digest", name="uq_images_repository_digest"),
        Index("ix_images_scanned_at_id", "scanned_at", "id"),  # the list's default order
        Index("ix_images_os", "os_family", "os_version"),
        Index("ix_images_critical", "critical"),
        Index("ix_images_digest", "digest"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(100), default="")
    os_family: Mapped[str | None] = mapped_column(String(64))
    os_version: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    scanned_at: Mapped[datetime | None]
    last_scan_id: Mapped[int | None] = mapped_column(Integer)
    packages: Mapped[int] = mapped_column(Integer, default=0)
    critical: Mapped[int] = mapped_column(Integer, default=0)
    high: Mapped[int] = mapped_column(Integer, default=0)
    medium: Mapped[int] = mapped_column(Integer, default=0)
    low: Mapped[int] = mapped_column(Integer, default=0)
    negligible: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    fixable: Mapped[int] = mapped_column(Integer, default=0)
    """Open findings with a fixed version."""
    exploited: Mapped[int] = mapped_column(Integer, default=0)
    """Open findings whose advisory is known to be exploited."""


class Tag(Base):
    """A tag of a repository and the image it points at now."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("repository_id", "name", name="uq_tags_repository_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Scan(Base):
    """One completed scan of an image."""

    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    queue_entry_id: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    packages: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    """False when no matcher or vulnerability data was available for this scan."""


class InventoryRecord(Base):
    """The inventory a scan produced, as ``Inventory.to_dict()`` JSON."""

    __tablename__ = "inventories"
    scan_id: Mapped[int] = mapped_column(
        ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class Finding(Base):
    """A vulnerable package in an image; open while ``resolved_at`` is empty."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_image_open", "image_id", "resolved_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    advisory_id: Mapped[str] = mapped_column(String(200))
    package: Mapped[str] = mapped_column(String(512))
    version: Mapped[str] = mapped_column(String(200))
    ecosystem: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    fixed_version: Mapped[str | None] = mapped_column(String(200))
    known_exploited: Mapped[bool] = mapped_column(Boolean, default=False)
    layer: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class FindingEvent(Base):
    """A finding appeared (``new``) or went away (``resolved``), and when."""

    __tablename__ = "finding_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    scan_id: Mapped[int | None] = mapped_column(Integer)
    """The scan that caused it; empty when a re-evaluation did (all of one run share ``at``)."""


class QueueEntry(Base):
    """A requested scan: ``queued`` -> ``sent`` -> ``scanned`` | ``invalid``.

    ``attempt`` grows each time a worker takes the entry; only the holder of the current attempt
    may heartbeat or finish it, so a worker presumed dead cannot record a second scan.
    """

    __tablename__ = "queue_entries"
    __table_args__ = (
        Index("ix_queue_entries_state", "state", "lease_until"),
        # One active entry per digest: a second submission finds the first.
        Index(
            "uq_queue_entries_active_digest", "digest", unique=True,
            postgresql_where=text("state IN ('queued', 'sent') AND digest IS NOT NULL"),
            sqlite_where=text("state IN ('queued', 'sent') AND digest IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(100), default="linux/amd64")
    registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries.id", ondelete="SET NULL")
    )
    digest: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    reason: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None] = mapped_column(index=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    scan_id: Mapped[int | None] = mapped_column(Integer)


class ApiToken(Base):
    """A bearer token, stored as its SHA-256 (tokens are random, so no slow hash is needed)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
