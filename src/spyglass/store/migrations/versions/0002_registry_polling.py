"""Registry polling: a kind, the repositories to watch, and when the registry was last polled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("registries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="oci")
        )
        batch_op.add_column(sa.Column("repositories", JSON, nullable=True))
        batch_op.add_column(
            sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("registries", schema=None) as batch_op:
        batch_op.drop_column("last_polled_at")
        batch_op.drop_column("repositories")
        batch_op.drop_column("kind")
