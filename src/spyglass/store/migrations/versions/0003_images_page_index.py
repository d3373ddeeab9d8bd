"""The image list's default order as one index: (scanned_at, id).

A page deep in the list (``sort=-scanned_at&offset=50000``) then walks this index alone, ids and
all, instead of visiting 50,000 table rows and sorting the ties by id; it replaces the index on
``scanned_at`` alone, which it covers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index("ix_images_scanned_at_id", ["scanned_at", "id"], unique=False)
        batch_op.drop_index("ix_images_scanned_at")


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index("ix_images_scanned_at", ["scanned_at"], unique=False)
        batch_op.drop_index("ix_images_scanned_at_id")
