"""Provenance per reading and delivery, history of removals, declared delivery identity.

* ``reading_delivery``: the readings of every delivery other than the one
  ``reading`` shows (so a supersede can fall back to what another current
  delivery says);
* ``reading_history``: every value the store stopped showing because of a
  supersede or an audit invalidation, with its cause;
* ``ingest_log.delivery_id`` (declared identity of a delivery),
  ``superseded_by_id`` and ``note``; one documented unit per count column.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from envquality.store.schema import ROWS_COMMENTS, UtcTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD_WRITTEN_COMMENT = "readings inserted, changed or taken over (unchanged upserts not counted)"


def upgrade() -> None:
    op.create_table(
        "reading_delivery",
        sa.Column("time", UtcTime(), nullable=False, comment="END of the averaging hour"),
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("ingest_id", sa.Integer, nullable=False, comment="the delivery (ingest_log.id) that provides it"),
        sa.Column("value", sa.Float, comment="NULL = the delivery reports it missing"),
        sa.Column("flag", sa.Text),
        sa.PrimaryKeyConstraint("time", "series_id", "ingest_id", name="pk_reading_delivery"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "reading_history",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("time", UtcTime(), nullable=False),
        sa.Column("value", sa.Float, comment="the value the store showed before"),
        sa.Column("flag", sa.Text),
        sa.Column("ingest_id", sa.Integer, comment="delivery of the value shown before"),
        sa.Column("new_ingest_id", sa.Integer,
                  comment="delivery shown afterwards; NULL: the reading was removed"),
        sa.Column("cause", sa.Text, nullable=False,
                  comment="why: superseded by ingest N, invalidated on audit: ..."),
        sa.Column("by_ingest_id", sa.Integer, nullable=False,
                  comment="ingest_log.id of the operation (superseding ingest or audit entry)"),
        sa.Column("changed_at", UtcTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reading_history"),
    )
    op.create_index("ix_reading_history_series_id_time", "reading_history", ["series_id", "time"])
    op.create_index("ix_reading_history_by_ingest_id", "reading_history", ["by_ingest_id"])
    with op.batch_alter_table("ingest_log") as batch:
        batch.add_column(sa.Column(
            "delivery_id", sa.Text,
            comment="declared identity of the delivery (versions of one delivery share it); NULL: none"))
        batch.add_column(sa.Column("superseded_by_id", sa.Integer,
                                   comment="ingest_log.id of the delivery that superseded this one"))
        batch.add_column(sa.Column("note", sa.Text, comment="operator's reason (supersede, invalidation)"))
        batch.create_index("ix_ingest_log_source_delivery_id", ["source", "delivery_id"])
    if op.get_bind().dialect.name != "sqlite":  # SQLite keeps no column comments
        for col, text in ROWS_COMMENTS.items():
            op.alter_column("ingest_log", col, existing_type=sa.BigInteger, existing_nullable=False,
                            existing_server_default=sa.text("0"), comment=text)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for col in ROWS_COMMENTS:
            op.alter_column("ingest_log", col, existing_type=sa.BigInteger, existing_nullable=False,
                            existing_server_default=sa.text("0"),
                            comment=_OLD_WRITTEN_COMMENT if col == "rows_written" else None)
    with op.batch_alter_table("ingest_log") as batch:
        batch.drop_index("ix_ingest_log_source_delivery_id")
        batch.drop_column("note")
        batch.drop_column("superseded_by_id")
        batch.drop_column("delivery_id")
    op.drop_index("ix_reading_history_by_ingest_id", "reading_history")
    op.drop_index("ix_reading_history_series_id_time", "reading_history")
    op.drop_table("reading_history")
    op.drop_table("reading_delivery")
