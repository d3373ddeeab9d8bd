"""The vulnerability store's tables (SQLAlchemy Core), all prefixed ``vuln_``.

The prefix lets the service store (``store/``, with Alembic migrations) share the same database.
For now these tables are created with ``metadata.create_all``; they move under Alembic when the
service store lands. List-valued fields (aliases, ranges…) are JSON text: they are only ever
read whole, never queried into.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

feed = Table(
    "vuln_feed",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("records", Integer, nullable=False, default=0),
    Column("refreshed_at", String(40)),  # ISO 8601, UTC: when the rows were last replaced
    Column("checked_at", String(40)),
    Column("source", Text, nullable=False, default=""),
    Column("validators", Text, nullable=False, default="{}"),
    Column("content_hash", String(100), nullable=False, default=""),
)

advisory = Table(
    "vuln_advisory",
    metadata,
    Column("feed", String(200), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("seq", Integer, nullable=False),  # the feed's own order, kept for bundles
    Column("aliases", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("published", String(40)),
    Column("modified", String(40)),
    Column("withdrawn", String(40)),
    Column("severity", String(16), nullable=False),
    Column("cvss_score", Float),
    Column("cvss_vector", Text),
    Column("cvss_version", String(8)),
    Column("url", Text, nullable=False),
    Column("refs", Text, nullable=False),
    # Added after the first release: stores made before it gain the column on open.
    Column("fixes", Text, nullable=False, server_default="[]"),
)

affected = Table(
    "vuln_affected",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(200), nullable=False),
    Column("advisory_id", String(200), nullable=False),
    Column("ecosystem", String(32), nullable=False),
    # "" rather than NULL for libraries, so one equality works in the composite index.
    Column("distro", String(64), nullable=False),
    Column("name", String(512), nullable=False),
    Column("ranges", Text, nullable=False),
    Column("versions", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("severity", String(16)),
    Index("ix_vuln_affected_key", "ecosystem", "distro", "name"),
    Index("ix_vuln_affected_feed", "feed"),
)

exploited = Table(
    "vuln_exploited",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(200), nullable=False),
    Column("vuln_id", String(200), nullable=False, index=True),
    Column("date_added", String(40), nullable=False),
    Column("due_date", String(40), nullable=False),
    Column("vendor", Text, nullable=False),
    Column("product", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("ransomware", String(20), nullable=False),
    Index("ix_vuln_exploited_feed", "feed"),
)
