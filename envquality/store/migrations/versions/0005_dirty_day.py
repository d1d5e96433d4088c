"""Days whose hourly readings changed since their figures were computed; daily_stat by date.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from envquality.store.schema import UtcTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dirty_day",
        sa.Column("day", sa.Date, nullable=False, comment="CST calendar day whose readings changed"),
        sa.Column("ingest_id", sa.Integer, nullable=False, comment="ingest that last marked the day"),
        sa.Column("marked_at", UtcTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_dirty_day"),
        sqlite_with_rowid=False,
    )
    # the day job replaces the computed rows of a span of days: find them by date
    op.create_index("ix_daily_stat_date", "daily_stat", ["date"])


def downgrade() -> None:
    op.drop_index("ix_daily_stat_date", table_name="daily_stat")
    op.drop_table("dirty_day")
