"""Drinking-water sources, samples and per-sampling classes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from envquality.store.schema import UtcTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "water_source",
        sa.Column("id", sa.Text, nullable=False, comment="source id of the water registry, e.g. GS620100P01"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("city_code", sa.String(12)),
        sa.Column("county_code", sa.String(12)),
        sa.Column("type", sa.String(16), comment="river, lake (lakes and reservoirs) or groundwater"),
        sa.Column("level", sa.String(16), comment="prefecture or county"),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("protection_zone", sa.Float, comment="first-level protection zone area, km2"),
        sa.Column("protection_zone2", sa.Float, comment="second-level protection zone area, km2"),
        sa.Column("supply_volume", sa.Float, comment="designed supply, m3/d"),
        sa.Column("simulated", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_water_source"),
    )
    op.create_table(
        "water_sample",
        sa.Column("source_id", sa.Text, nullable=False, comment="water_source.id (not enforced)"),
        sa.Column("sampled_at", UtcTime(), nullable=False),
        sa.Column("parameter", sa.String(32), nullable=False, comment="parameter key (envquality.water)"),
        sa.Column("value", sa.Float, comment="canonical unit; NULL: bare ND without a limit"),
        sa.Column("unit", sa.Text),
        sa.Column("qualifier", sa.String(8), comment="'' or '<DL'"),
        sa.Column("detection_limit", sa.Float, comment="canonical unit"),
        sa.Column("ingest_id", sa.Integer, comment="ingest_log.id of the load that last wrote the row"),
        sa.PrimaryKeyConstraint("source_id", "sampled_at", "parameter", name="pk_water_sample"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_water_sample_sampled_at", "water_sample", ["sampled_at"])
    op.create_table(
        "water_class",
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("sampled_at", UtcTime(), nullable=False),
        sa.Column("water_class", sa.Integer, comment="1..6 (6 = worse than V); NULL: nothing class-forming"),
        sa.Column("compliant", sa.Boolean, nullable=False),
        sa.Column("deciding", sa.Text, comment="deciding parameters, '|'-separated"),
        sa.Column("max_multiple", sa.Float, comment="largest exceedance multiple over Class III"),
        sa.Column("method", sa.String(16), nullable=False, comment="classification method, e.g. 2011"),
        sa.Column("computed_at", UtcTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "sampled_at", "method", name="pk_water_class"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("water_class")
    op.drop_index("ix_water_sample_sampled_at", table_name="water_sample")
    op.drop_table("water_sample")
    op.drop_table("water_source")
