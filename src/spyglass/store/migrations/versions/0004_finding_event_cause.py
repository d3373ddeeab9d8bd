"""What caused a finding event: ``finding_events.scan_id``, empty for a re-evaluation.

Existing events are attributed to the scan of their image that finished at the same instant
(``record_scan`` stamps the scan and its events with one time); the rest came from
re-evaluations and stay empty.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("finding_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scan_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE finding_events SET scan_id = (SELECT max(scans.id) FROM scans"
        " WHERE scans.image_id = finding_events.image_id"
        " AND scans.finished_at = finding_events.at)"
    )


def downgrade() -> None:
    with op.batch_alter_table("finding_events", schema=None) as batch_op:
        batch_op.drop_column("scan_id")
