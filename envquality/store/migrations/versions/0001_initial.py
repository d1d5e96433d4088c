"""Initial store schema: cities, stations, series and readings, statistics, quarantine, ingest log, raw archive.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from envquality.store.schema import UtcTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "city",
        sa.Column("code", sa.String(12), nullable=False, comment="admin code, e.g. 620100"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text),
        sa.Column("province", sa.Text),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.PrimaryKeyConstraint("code", name="pk_city"),
    )
    op.create_table(
        "station",
        sa.Column("code", sa.String(16), nullable=False, comment="CNEMC code, e.g. 1476A"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("raw_name", sa.Text, comment="name exactly as the source spells it"),
        sa.Column("city_code", sa.String(12)),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("control_point", sa.Boolean, comment="national control point (国控点)"),
        sa.Column("status", sa.Text, comment="active / retired / relocated ..."),
        sa.Column("active_from", sa.Date),
        sa.Column("retired_on", sa.Date),
        sa.Column("assessment", sa.Boolean, comment="counts in the city assessment"),
        sa.PrimaryKeyConstraint("code", name="pk_station"),
        sa.ForeignKeyConstraint(["city_code"], ["city.code"], name="fk_station_city_code_city"),
    )
    op.create_index("ix_station_city_code", "station", ["city_code"])
    op.create_table(
        "ingest_log",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("file_or_url", sa.Text, nullable=False, comment="logical name: base name or URL"),
        sa.Column("sha256", sa.String(64)),
        sa.Column("period_start", UtcTime()),
        sa.Column("period_end", UtcTime()),
        sa.Column("rows_in", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_ok", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_rejected", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_duplicate", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_superseded", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_written", sa.BigInteger, nullable=False, server_default="0",
                  comment="readings inserted, changed or taken over (unchanged upserts not counted)"),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", UtcTime(), nullable=False),
        sa.Column("finished_at", UtcTime()),
        sa.Column("error", sa.Text),
        sa.Column("supersedes_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_log"),
        sa.ForeignKeyConstraint(["supersedes_id"], ["ingest_log.id"], name="fk_ingest_log_supersedes_id_ingest_log"),
        sa.CheckConstraint("status IN ('running', 'ok', 'failed', 'noop', 'superseded')",
                           name=op.f("ck_ingest_log_status")),
    )
    op.create_index("ix_ingest_log_source_sha256", "ingest_log", ["source", "sha256"])
    op.create_index("ix_ingest_log_source_file_or_url", "ingest_log", ["source", "file_or_url"])
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("station", sa.Text, nullable=False,
                  comment="station code, city admin code or source-qualified id (openaq:123)"),
        sa.Column("pollutant", sa.String(24), nullable=False, comment="pollutant key (envquality.model)"),
        sa.PrimaryKeyConstraint("id", name="pk_series"),
        sa.UniqueConstraint("station", "pollutant", name="uq_series_station_pollutant"),
    )
    op.create_table(
        "reading",
        sa.Column("series_id", sa.Integer, nullable=False, comment="series.id: (station, pollutant)"),
        sa.Column("time", UtcTime(), nullable=False, comment="END of the averaging hour"),
        sa.Column("value", sa.Float, comment="NULL = missing"),
        sa.Column("flag", sa.Text),
        sa.Column("ingest_id", sa.Integer, nullable=False,
                  comment="ingest that last wrote the value (its source: ingest_log.source)"),
        sa.PrimaryKeyConstraint("time", "series_id", name="pk_reading"),
        sqlite_with_rowid=False,
    )
    for name, key in (("daily_stat", ("date", sa.Date, "CST calendar day")),
                      ("period_stat", ("period", sa.String(16), "2024, 2024-Q1, 2024-03, ...")) ):
        cols = [
            sa.Column("entity_kind", sa.String(8), nullable=False, comment="station or city"),
            sa.Column("entity", sa.String(16), nullable=False),
            sa.Column(key[0], key[1], nullable=False, comment=key[2]),
            sa.Column("indicator", sa.String(24 if name == "daily_stat" else 32), nullable=False),
            sa.Column("ruleset", sa.String(32), nullable=False),
        ]
        if name == "period_stat":
            cols += [sa.Column("period_start", sa.Date), sa.Column("period_end", sa.Date)]
        cols += [
            sa.Column("value", sa.Float),
            sa.Column("n", sa.Integer,
                      comment="data capture count" if name == "daily_stat" else "data capture count (valid days)"),
            sa.Column("valid", sa.Boolean, nullable=False),
            sa.Column("reason", sa.Text),
            sa.Column("computed_at", UtcTime(), nullable=False),
        ]
        if name == "daily_stat":
            cols.append(sa.Column("ingest_id", sa.Integer,
                                  comment="ingest that wrote a source-reported value (NULL: computed)"))
        op.create_table(
            name, *cols,
            sa.PrimaryKeyConstraint("entity_kind", "entity", key[0], "indicator", "ruleset", name=f"pk_{name}"),
            sqlite_with_rowid=False,
        )
    op.create_index("ix_daily_stat_ingest_id", "daily_stat", ["ingest_id"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("ingest_id", sa.Integer),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("file", sa.Text),
        sa.Column("line", sa.BigInteger),
        sa.Column("field", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, comment="the input text exactly as read"),
        sa.Column("created_at", UtcTime(), nullable=False),
        sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("resolution", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.ForeignKeyConstraint(["ingest_id"], ["ingest_log.id"], name="fk_quarantine_ingest_id_ingest_log"),
    )
    op.create_index("ix_quarantine_ingest_id", "quarantine", ["ingest_id"])
    op.create_table(
        "raw_archive",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("original_name", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("path", sa.Text, nullable=False, comment="relative to the archive root"),
        sa.Column("received_at", UtcTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_raw_archive"),
    )


def downgrade() -> None:
    for name in ("raw_archive", "quarantine", "period_stat", "daily_stat", "reading", "series", "ingest_log",
                 "station", "city"):
        op.drop_table(name)
