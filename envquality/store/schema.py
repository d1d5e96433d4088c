"""Tables of the durable store (SQLAlchemy 2 Core metadata).

The single source of truth for the schema is the Alembic migration chain in
:mod:`envquality.store.migrations`; this module mirrors it (a test compares
the two) so code can build queries against :data:`metadata`.

Times
-----
Every instant is stored through :class:`UtcTime`:

* PostgreSQL: ``TIMESTAMP WITH TIME ZONE`` (an absolute instant; the session
  time zone only affects display).
* SQLite: ``INTEGER`` seconds since 1970-01-01T00:00:00Z.  SQLite has no
  date/time type, and an integer cannot be misread as local time.

Python values going in must be tz-aware; values coming out are tz-aware in
``Asia/Shanghai``.  Hourly reading times follow :mod:`envquality.model`: the
END of the averaging hour.

Calendar days (``daily_stat.date``) are plain ``DATE`` values: a CST
calendar day, no time zone involved.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "UtcTime", "metadata", "city", "station", "series", "reading", "daily_stat", "period_stat",
    "quarantine", "ingest_log", "raw_archive", "reading_delivery", "reading_history", "INGEST_STATUSES",
    "TABLE_NAMES",
]

TZ = ZoneInfo("Asia/Shanghai")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

#: Values of ``ingest_log.status``.
INGEST_STATUSES: tuple[str, ...] = ("running", "ok", "failed", "noop", "superseded")


class UtcTime(sa.types.TypeDecorator):
    """An absolute instant: ``timestamptz`` on PostgreSQL, epoch seconds on SQLite.

    Binding a naive ``datetime`` raises :class:`ValueError` (no silent
    assumption of a zone).  Results are tz-aware ``Asia/Shanghai``.
    Sub-second parts are dropped on SQLite (whole seconds are stored); the
    store only holds hour or second resolution instants.
    """

    impl = sa.BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(sa.BigInteger())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if hasattr(value, "to_pydatetime"):  # pandas Timestamp
            value = value.to_pydatetime()
        if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"UtcTime needs a tz-aware datetime, got {value!r}")
        if dialect.name == "postgresql":
            return value.astimezone(dt.timezone.utc)
        return (value - _EPOCH) // dt.timedelta(seconds=1)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:  # pragma: no cover - timestamptz always carries a zone
                value = value.replace(tzinfo=dt.timezone.utc)
            return value.astimezone(TZ)
        return (_EPOCH + dt.timedelta(seconds=int(value))).astimezone(TZ)


def utcnow() -> dt.datetime:
    """Now, tz-aware UTC, whole seconds."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

city = sa.Table(
    "city", metadata,
    sa.Column("code", sa.String(12), primary_key=True, comment="admin code, e.g. 620100"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("name_en", sa.Text),
    sa.Column("province", sa.Text),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
)

station = sa.Table(
    "station", metadata,
    sa.Column("code", sa.String(16), primary_key=True, comment="CNEMC code, e.g. 1476A"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("raw_name", sa.Text, comment="name exactly as the source spells it"),
    sa.Column("city_code", sa.String(12), sa.ForeignKey("city.code"), index=True),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("control_point", sa.Boolean, comment="national control point (国控点)"),
    sa.Column("status", sa.Text, comment="active / retired / relocated ..."),
    sa.Column("active_from", sa.Date),
    sa.Column("retired_on", sa.Date),
    sa.Column("assessment", sa.Boolean, comment="counts in the city assessment"),
)

#: Unit of each count column of ``ingest_log`` (one unit per column; migration 0004 sets them as comments).
ROWS_COMMENTS: dict[str, str] = {
    "rows_in": "input records read (data lines or records of the file, as the reader counts them)",
    "rows_ok": "readings (samples) accepted and offered to the store, after the quality gate",
    "rows_rejected": "quarantine rows written (one per rejected record or reading)",
    "rows_duplicate": "duplicate readings the reader collapsed",
    "rows_superseded": "readings removed from the store by this ingest's supersede",
    "rows_written": "readings (samples) inserted or updated in the store; never more than rows_ok",
}

ingest_log = sa.Table(
    "ingest_log", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("file_or_url", sa.Text, nullable=False, comment="logical name: base name or URL"),
    sa.Column("sha256", sa.String(64)),
    sa.Column("period_start", UtcTime()),
    sa.Column("period_end", UtcTime()),
    sa.Column("rows_in", sa.BigInteger, nullable=False, server_default="0", comment=ROWS_COMMENTS["rows_in"]),
    sa.Column("rows_ok", sa.BigInteger, nullable=False, server_default="0", comment=ROWS_COMMENTS["rows_ok"]),
    sa.Column("rows_rejected", sa.BigInteger, nullable=False, server_default="0",
              comment=ROWS_COMMENTS["rows_rejected"]),
    sa.Column("rows_duplicate", sa.BigInteger, nullable=False, server_default="0",
              comment=ROWS_COMMENTS["rows_duplicate"]),
    sa.Column("rows_superseded", sa.BigInteger, nullable=False, server_default="0",
              comment=ROWS_COMMENTS["rows_superseded"]),
    sa.Column("rows_written", sa.BigInteger, nullable=False, server_default="0",
              comment=ROWS_COMMENTS["rows_written"]),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("started_at", UtcTime(), nullable=False),
    sa.Column("finished_at", UtcTime()),
    sa.Column("error", sa.Text),
    sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("ingest_log.id")),
    sa.Column("gate_status", sa.String(10),
              comment="quality gate outcome: pass, warning or critical (NULL: no gate ran)"),
    sa.Column("gate_findings", sa.Text, comment="failed expectations of the gate, JSON"),
    sa.Column("delivery_id", sa.Text,
              comment="declared identity of the delivery (versions of one delivery share it); NULL: none"),
    sa.Column("superseded_by_id", sa.Integer, comment="ingest_log.id of the delivery that superseded this one"),
    sa.Column("note", sa.Text, comment="operator's reason (supersede, invalidation)"),
    sa.CheckConstraint(
        "status IN ('running', 'ok', 'failed', 'noop', 'superseded')", name="status"
    ),
    sa.Index("ix_ingest_log_source_sha256", "source", "sha256"),
    sa.Index("ix_ingest_log_source_file_or_url", "source", "file_or_url"),
    sa.Index("ix_ingest_log_source_delivery_id", "source", "delivery_id"),
)

series = sa.Table(
    "series", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("station", sa.Text, nullable=False,
              comment="station code, city admin code or source-qualified id (openaq:123)"),
    sa.Column("pollutant", sa.String(24), nullable=False, comment="pollutant key (envquality.model)"),
    sa.UniqueConstraint("station", "pollutant"),
)

reading = sa.Table(
    "reading", metadata,
    sa.Column("series_id", sa.Integer, nullable=False, comment="series.id: (station, pollutant)"),
    sa.Column("time", UtcTime(), nullable=False, comment="END of the averaging hour"),
    sa.Column("value", sa.Float, comment="NULL = missing"),
    sa.Column("flag", sa.Text),
    sa.Column("ingest_id", sa.Integer, nullable=False,
              comment="ingest that last wrote the value (its source: ingest_log.source)"),
    # time first: data arrive hour by hour for all series, so new keys land at the
    # right edge of the index and stay in cache (series-first scattered every batch
    # over ~12k leaf pages; see docs/storage.md)
    # no index on ingest_id: it costs ~20 % of load speed, and the one query by
    # ingest (supersede) is bounded by the old ingest's period instead
    sa.PrimaryKeyConstraint("time", "series_id", name="pk_reading"),
    sqlite_with_rowid=False,
)

reading_delivery = sa.Table(
    "reading_delivery", metadata,
    sa.Column("time", UtcTime(), nullable=False, comment="END of the averaging hour"),
    sa.Column("series_id", sa.Integer, nullable=False),
    sa.Column("ingest_id", sa.Integer, nullable=False, comment="the delivery (ingest_log.id) that provides it"),
    sa.Column("value", sa.Float, comment="NULL = the delivery reports it missing"),
    sa.Column("flag", sa.Text),
    # every delivery's reading EXCEPT the one shown in `reading` (reading.ingest_id): a first
    # delivery of new hours (the bulk COPY path) writes nothing here
    sa.PrimaryKeyConstraint("time", "series_id", "ingest_id", name="pk_reading_delivery"),
    sqlite_with_rowid=False,
)

reading_history = sa.Table(
    "reading_history", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("series_id", sa.Integer, nullable=False),
    sa.Column("time", UtcTime(), nullable=False),
    sa.Column("value", sa.Float, comment="the value the store showed before"),
    sa.Column("flag", sa.Text),
    sa.Column("ingest_id", sa.Integer, comment="delivery of the value shown before"),
    sa.Column("new_ingest_id", sa.Integer, comment="delivery shown afterwards; NULL: the reading was removed"),
    sa.Column("cause", sa.Text, nullable=False, comment="why: superseded by ingest N, invalidated on audit: ..."),
    sa.Column("by_ingest_id", sa.Integer, nullable=False,
              comment="ingest_log.id of the operation (superseding ingest or audit entry)"),
    sa.Column("changed_at", UtcTime(), nullable=False),
    sa.Index("ix_reading_history_series_id_time", "series_id", "time"),
    sa.Index("ix_reading_history_by_ingest_id", "by_ingest_id"),
)

daily_stat = sa.Table(
    "daily_stat", metadata,
    sa.Column("entity_kind", sa.String(8), primary_key=True, comment="station or city"),
    sa.Column("entity", sa.String(16), primary_key=True),
    sa.Column("date", sa.Date, primary_key=True, comment="CST calendar day"),
    sa.Column("indicator", sa.String(24), primary_key=True),
    sa.Column("ruleset", sa.String(32), primary_key=True),
    sa.Column("value", sa.Float),
    sa.Column("n", sa.Integer, comment="data capture count"),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("computed_at", UtcTime(), nullable=False),
    sa.Column("ingest_id", sa.Integer, comment="ingest that wrote a source-reported value (NULL: computed)"),
    sa.Index("ix_daily_stat_ingest_id", "ingest_id"),
    sqlite_with_rowid=False,
)

period_stat = sa.Table(
    "period_stat", metadata,
    sa.Column("entity_kind", sa.String(8), primary_key=True, comment="station or city"),
    sa.Column("entity", sa.String(16), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True, comment="2024, 2024-Q1, 2024-03, ..."),
    sa.Column("indicator", sa.String(32), primary_key=True),
    sa.Column("ruleset", sa.String(32), primary_key=True),
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("value", sa.Float),
    sa.Column("n", sa.Integer, comment="data capture count (valid days)"),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("computed_at", UtcTime(), nullable=False),
    sqlite_with_rowid=False,
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingest_log.id"), index=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("file", sa.Text),
    sa.Column("line", sa.BigInteger),
    sa.Column("field", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, comment="the input text exactly as read"),
    sa.Column("created_at", UtcTime(), nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("resolution", sa.Text),
)

raw_archive = sa.Table(
    "raw_archive", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("original_name", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("path", sa.Text, nullable=False, comment="relative to the archive root"),
    sa.Column("received_at", UtcTime(), nullable=False),
)

#: Names of all tables, in creation order.
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in metadata.sorted_tables)

# ------------------------------------------------------------ drinking water (0003)
water_source = sa.Table(
    "water_source", metadata,
    sa.Column("id", sa.Text, primary_key=True, comment="source id of the water registry, e.g. GS620100P01"),
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
)

water_sample = sa.Table(
    "water_sample", metadata,
    sa.Column("source_id", sa.Text, nullable=False, comment="water_source.id (not enforced)"),
    sa.Column("sampled_at", UtcTime(), nullable=False),
    sa.Column("parameter", sa.String(32), nullable=False, comment="parameter key (envquality.water)"),
    sa.Column("value", sa.Float, comment="canonical unit; NULL: bare ND without a limit"),
    sa.Column("unit", sa.Text),
    sa.Column("qualifier", sa.String(8), comment="'' or '<DL'"),
    sa.Column("detection_limit", sa.Float, comment="canonical unit"),
    sa.Column("ingest_id", sa.Integer, comment="ingest_log.id of the load that last wrote the row"),
    sa.PrimaryKeyConstraint("source_id", "sampled_at", "parameter", name="pk_water_sample"),
    sa.Index("ix_water_sample_sampled_at", "sampled_at"),
    sqlite_with_rowid=False,
)

water_class = sa.Table(
    "water_class", metadata,
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

__all__ += ["water_source", "water_sample", "water_class"]
TABLE_NAMES = tuple(t.name for t in metadata.sorted_tables)

# ------------------------------------------------------------ incremental computation (0005)
dirty_day = sa.Table(
    "dirty_day", metadata,
    sa.Column("day", sa.Date, nullable=False, comment="CST calendar day whose readings changed"),
    sa.Column("ingest_id", sa.Integer, nullable=False, comment="ingest that last marked the day"),
    sa.Column("marked_at", UtcTime(), nullable=False),
    sa.PrimaryKeyConstraint("day", name="pk_dirty_day"),
    sqlite_with_rowid=False,
)

# the day job replaces the computed rows of a span of days: find them by date
sa.Index("ix_daily_stat_date", daily_stat.c.date)

__all__ += ["dirty_day"]
TABLE_NAMES = tuple(t.name for t in metadata.sorted_tables)
