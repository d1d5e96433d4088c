"""Bulk, idempotent writes of readings and statistics; reading them back.

:func:`upsert_readings` is the one way readings enter the store.  It accepts
a tidy frame (see :mod:`envquality.model`) or an iterator of frames and
writes them in chunks, so memory stays bounded by ``chunk_rows`` whatever
the total (50 M rows stream through fine).

PostgreSQL
    Each chunk is serialized to CSV by Arrow and ``COPY``-ed (psycopg 3
    ``cursor.copy``) into a temporary staging table, then merged with one
    ``INSERT … SELECT … ON CONFLICT (station, time, pollutant) DO UPDATE …
    WHERE value IS DISTINCT FROM excluded.value …``.  Unchanged rows are not
    touched, so re-running an upsert writes nothing.
SQLite
    Per chunk, ``executemany`` of a parameterized ``INSERT`` into a
    temporary staging table, then the same ``INSERT … SELECT … ON CONFLICT
    DO UPDATE … WHERE value IS NOT excluded.value …`` merge (measured ~2x
    faster than an ``executemany`` of the upsert itself).

Both run inside the caller's transaction (they refuse to run outside one):
the caller decides what is atomic.

Keys (station, time, pollutant) must be unique within a chunk; a duplicate
raises :class:`ValueError` on both backends (readers already collapse or
quarantine duplicates, see :func:`envquality.iotools.common.split_duplicates`).
Across chunks of a stream the later value wins.

Times are written as UTC instants (``timestamptz`` on PostgreSQL, integer
epoch seconds on SQLite; see :mod:`envquality.store.schema`).  Frames must
carry tz-aware times; naive times, NaT and sub-second times raise
:class:`ValueError`.  NaN values are stored as NULL (missing).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import repeat
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.model import TIMEZONE
from envquality.store import schema as S
from envquality.store.engine import is_postgres

__all__ = [
    "UpsertStats", "upsert_readings", "read_readings", "readings_checksum",
    "upsert_stats", "iter_chunks", "DEFAULT_CHUNK_ROWS",
]

#: Rows per COPY / executemany batch.
DEFAULT_CHUNK_ROWS = 500_000

_KEY = ("station", "time", "pollutant")
_STAGE = "eq_stage_reading"


@dataclass
class UpsertStats:
    """Result of :func:`upsert_readings`.

    Attributes
    ----------
    rows : int
        Rows offered.
    written : int
        Rows inserted or changed; unchanged rows are not counted.
    chunks : int
        Batches sent.
    time_min, time_max : pandas.Timestamp or None
        Range of the times offered (Asia/Shanghai).
    """

    rows: int = 0
    written: int = 0
    chunks: int = 0
    time_min: pd.Timestamp | None = None
    time_max: pd.Timestamp | None = None


def iter_chunks(frames: pd.DataFrame | Iterable[pd.DataFrame], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Yield slices of at most ``chunk_rows`` rows from a frame or an iterable of frames."""
    if isinstance(frames, pd.DataFrame):
        frames = (frames,)
    for frame in frames:
        n = len(frame)
        for start in range(0, n, chunk_rows):
            yield frame.iloc[start:start + chunk_rows]


def _epoch_seconds(times: pd.Series) -> np.ndarray:
    """Tz-aware times → int64 seconds since the Unix epoch (UTC); strict."""
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"reading times must be tz-aware (Asia/Shanghai, hour-ending), got dtype {times.dtype}"
        )
    if times.isna().any():
        raise ValueError("reading times contain NaT")
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    secs = naive.astype("datetime64[s]")
    if (secs != naive).any():
        raise ValueError("reading times have sub-second parts; the store keeps whole seconds")
    return secs.astype("int64")


@dataclass
class _Chunk:
    station: pd.Series
    t: np.ndarray
    pollutant: pd.Series
    value: np.ndarray
    flag: pd.Series | None

    def __len__(self) -> int:
        return len(self.t)


def _prepare(frame: pd.DataFrame) -> _Chunk:
    missing = [c for c in ("station", "time", "pollutant", "value") if c not in frame.columns]
    if missing:
        raise ValueError(f"readings frame lacks columns {missing}")
    station = frame["station"]
    pollutant = frame["pollutant"]
    if station.isna().any() or pollutant.isna().any():
        raise ValueError("readings frame has missing station or pollutant keys")
    value = pd.to_numeric(frame["value"]).to_numpy(dtype="float64", na_value=np.nan)
    if np.isinf(value).any():
        raise ValueError("readings frame has infinite values")
    flag = frame["flag"] if "flag" in frame.columns else None
    return _Chunk(station.astype(str), _epoch_seconds(frame["time"]), pollutant.astype(str), value, flag)


def _require_transaction(conn: sa.Connection) -> None:
    if not isinstance(conn, sa.Connection):
        raise TypeError("pass a Connection inside a transaction (with engine.begin() as conn: ...)")
    if not conn.in_transaction():
        raise RuntimeError("bulk writes must run inside a transaction (with engine.begin() as conn: ...)")


def _to_times(epoch: np.ndarray | pd.Series) -> pd.Series:
    return pd.Series(pd.to_datetime(np.asarray(epoch, dtype="int64"), unit="s", utc=True)).dt.tz_convert(TIMEZONE)


# --------------------------------------------------------------------- PostgreSQL
_PG_MERGE = f"""
INSERT INTO reading AS r (station, time, pollutant, value, flag, source, ingest_id)
SELECT station, to_timestamp(t), pollutant, value, flag, %(source)s, %(ingest_id)s FROM {_STAGE}
ON CONFLICT (station, time, pollutant) DO UPDATE
SET value = excluded.value, flag = excluded.flag, source = excluded.source, ingest_id = excluded.ingest_id
WHERE r.value IS DISTINCT FROM excluded.value
   OR r.flag IS DISTINCT FROM excluded.flag
   OR r.ingest_id = %(takeover)s
"""


def _csv_bytes(chunk: _Chunk) -> bytes:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = {
        "station": pa.Array.from_pandas(chunk.station, type=pa.string()),
        "t": pa.array(chunk.t, type=pa.int64()),
        "pollutant": pa.Array.from_pandas(chunk.pollutant, type=pa.string()),
        "value": pa.array(chunk.value, type=pa.float64(), from_pandas=True),  # NaN -> null -> NULL
        "flag": (pa.Array.from_pandas(chunk.flag.astype(object).where(chunk.flag.notna(), None), type=pa.string())
                 if chunk.flag is not None else pa.nulls(len(chunk), pa.string())),
    }
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(cols), buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def _pg_upsert(conn: sa.Connection, chunks: Iterator[_Chunk], params: dict, stats: UpsertStats,
               on_chunk: Callable[[UpsertStats], None] | None) -> None:
    import psycopg

    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} "
        "(station text, t bigint, pollutant text, value float8, flag text) ON COMMIT DROP"
    )
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        for chunk in chunks:
            data = _csv_bytes(chunk)
            cur.execute(f"TRUNCATE {_STAGE}")
            with cur.copy(f"COPY {_STAGE} (station, t, pollutant, value, flag) FROM STDIN (FORMAT csv)") as cp:
                view = memoryview(data)
                for off in range(0, len(view), 1 << 22):
                    cp.write(view[off:off + (1 << 22)])
            del data
            try:
                cur.execute(_PG_MERGE, params)
            except psycopg.errors.CardinalityViolation as exc:
                raise ValueError(
                    "duplicate (station, time, pollutant) keys within one chunk of readings"
                ) from exc
            stats.written += max(cur.rowcount, 0)
            _account(stats, chunk, on_chunk)


# ------------------------------------------------------------------------ SQLite
_SQLITE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGE}
(station TEXT NOT NULL, t INTEGER NOT NULL, pollutant TEXT NOT NULL, value REAL, flag TEXT)
"""
_SQLITE_MERGE = f"""
INSERT INTO reading (station, time, pollutant, value, flag, source, ingest_id)
SELECT station, t, pollutant, value, flag, :source, :ingest_id FROM {_STAGE} WHERE true
ON CONFLICT (station, time, pollutant) DO UPDATE
SET value = excluded.value, flag = excluded.flag, source = excluded.source, ingest_id = excluded.ingest_id
WHERE reading.value IS NOT excluded.value
   OR reading.flag IS NOT excluded.flag
   OR reading.ingest_id = :takeover
"""


def _sqlite_upsert(conn: sa.Connection, chunks: Iterator[_Chunk], params: dict, stats: UpsertStats,
                   on_chunk: Callable[[UpsertStats], None] | None) -> None:
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        cur.execute(_SQLITE_STAGE)
        for chunk in chunks:
            keys = pd.DataFrame({"s": chunk.station.to_numpy(), "t": chunk.t, "p": chunk.pollutant.to_numpy()})
            if keys.duplicated().any():
                raise ValueError("duplicate (station, time, pollutant) keys within one chunk of readings")
            flags = (chunk.flag.astype(object).where(chunk.flag.notna(), None).tolist()
                     if chunk.flag is not None else repeat(None))
            cur.execute(f"DELETE FROM {_STAGE}")
            cur.executemany(  # NaN binds as NULL in SQLite
                f"INSERT INTO {_STAGE} VALUES (?, ?, ?, ?, ?)",
                zip(chunk.station.tolist(), chunk.t.tolist(), chunk.pollutant.tolist(), chunk.value.tolist(), flags),
            )
            cur.execute(_SQLITE_MERGE, params)
            stats.written += max(cur.rowcount, 0)
            _account(stats, chunk, on_chunk)
        cur.execute(f"DELETE FROM {_STAGE}")
    finally:
        cur.close()


def _account(stats: UpsertStats, chunk: _Chunk, on_chunk) -> None:
    stats.rows += len(chunk)
    stats.chunks += 1
    if len(chunk):
        lo, hi = _to_times([chunk.t.min(), chunk.t.max()])
        stats.time_min = lo if stats.time_min is None else min(stats.time_min, lo)
        stats.time_max = hi if stats.time_max is None else max(stats.time_max, hi)
    if on_chunk is not None:
        on_chunk(stats)


def upsert_readings(
    conn: sa.Connection,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
    ingest_id: int,
    source: str,
    *,
    takeover_ingest_id: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_chunk: Callable[[UpsertStats], None] | None = None,
) -> UpsertStats:
    """Insert or update readings idempotently, streaming in chunks.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection inside a transaction (``with engine.begin() as conn``).
    frames : pandas.DataFrame or iterable of DataFrame
        Tidy readings: ``station``, ``time`` (tz-aware), ``pollutant``,
        ``value`` and optionally ``flag``.  Other columns are ignored.
    ingest_id : int
        ``ingest_log.id`` recorded on every inserted or changed row.
    source : str
        Source name recorded on every inserted or changed row.
    takeover_ingest_id : int, optional
        Rows currently owned by this ingest are re-labelled with
        ``ingest_id`` even when their value is unchanged (used when a
        corrected file supersedes an earlier ingest; afterwards the rows still
        owned by the old ingest are exactly those absent from the new file).
    chunk_rows : int
        Rows per batch; bounds memory.
    on_chunk : callable, optional
        Called with the running :class:`UpsertStats` after each batch.

    Returns
    -------
    UpsertStats

    Notes
    -----
    An existing row is updated only when its value or flag differs (or it is
    taken over), so repeating an upsert changes nothing and
    ``UpsertStats.written`` is 0.  An updated row gets the new ``source`` and
    ``ingest_id``: the ingest that last changed the value.
    """
    _require_transaction(conn)
    if chunk_rows <= 0:
        raise ValueError("chunk_rows must be positive")
    params = {"source": str(source), "ingest_id": int(ingest_id),
              "takeover": None if takeover_ingest_id is None else int(takeover_ingest_id)}
    stats = UpsertStats()
    chunks = (_prepare(f) for f in iter_chunks(frames, chunk_rows) if len(f))
    if is_postgres(conn):
        _pg_upsert(conn, chunks, params, stats, on_chunk)
    else:
        _sqlite_upsert(conn, chunks, params, stats, on_chunk)
    return stats


# ------------------------------------------------------------------------ reading
def _bind_time(ts) -> int:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        raise ValueError(f"time bounds must be tz-aware, got {ts}")
    return int(ts.timestamp())


def read_readings(
    conn: sa.Connection | sa.Engine,
    *,
    stations: Sequence[str] | None = None,
    pollutants: Sequence[str] | None = None,
    start=None,
    end=None,
    with_provenance: bool = False,
) -> pd.DataFrame:
    """Readings as a tidy frame, ``time`` tz-aware Asia/Shanghai (hour-ending).

    Parameters
    ----------
    conn : sqlalchemy.Connection or Engine
    stations, pollutants : sequence of str, optional
        Filters.
    start, end : datetime-like, tz-aware, optional
        Inclusive bounds on the (hour-ending) time.
    with_provenance : bool
        Add ``flag``, ``source`` and ``ingest_id`` columns.

    Returns
    -------
    pandas.DataFrame
        Sorted by station, time, pollutant; missing values are NaN.

    Notes
    -----
    Fetches through the DBAPI cursor (parameterized SQL) to avoid per-row
    ORM overhead; times travel as integer epoch seconds on both backends.
    """
    if isinstance(conn, sa.Engine):
        with conn.connect() as c:
            return read_readings(c, stations=stations, pollutants=pollutants, start=start, end=end,
                                 with_provenance=with_provenance)
    pg = is_postgres(conn)
    ph = "%s" if pg else "?"
    tcol = "CAST(EXTRACT(EPOCH FROM time) AS BIGINT)" if pg else "time"
    cols = ["station", f"{tcol} AS t", "pollutant", "value"]
    if with_provenance:
        cols += ["flag", "source", "ingest_id"]
    where, params = [], []
    for col, vals in (("station", stations), ("pollutant", pollutants)):
        if vals is not None:
            vals = [str(v) for v in vals]
            if not vals:
                where.append("1 = 0")
                continue
            where.append(f"{col} IN ({', '.join([ph] * len(vals))})")
            params += vals
    for op, bound in ((">=", start), ("<=", end)):
        if bound is not None:
            where.append(f"time {op} {'to_timestamp(%s)' if pg else '?'}")
            params.append(_bind_time(bound))
    sql = f"SELECT {', '.join(cols)} FROM reading"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY station, time, pollutant"
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(sql, params)
        rows = cur.fetchall()
    finally:
        cur.close()
    names = ["station", "t", "pollutant", "value"] + (["flag", "source", "ingest_id"] if with_provenance else [])
    df = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
    out = pd.DataFrame({
        "station": df["station"].astype(str),
        "time": _to_times(df["t"].to_numpy(dtype="int64")),
        "pollutant": df["pollutant"].astype(str),
        "value": pd.to_numeric(df["value"]).astype("float64"),
    })
    if with_provenance:
        for c in ("flag", "source", "ingest_id"):
            out[c] = df[c].to_numpy()
    return out


def readings_checksum(conn: sa.Connection | sa.Engine) -> dict[str, tuple[int, int, float]]:
    """Per pollutant: ``(row count, rows with a value, sum of values)``.

    Cheap whole-table fingerprint used to compare two stores (e.g. a rerun
    after a crash against a clean run).  Sums are rounded to 6 decimals.
    """
    r = S.reading.c
    q = (sa.select(r.pollutant, sa.func.count(), sa.func.count(r.value), sa.func.sum(r.value))
         .group_by(r.pollutant).order_by(r.pollutant))

    def run(c):
        return {p: (int(n), int(nv), round(float(s or 0.0), 6)) for p, n, nv, s in c.execute(q)}

    if isinstance(conn, sa.Engine):
        with conn.connect() as c:
            return run(c)
    return run(conn)


# --------------------------------------------------------------------- statistics
def upsert_stats(conn: sa.Connection, table: sa.Table | str, frame: pd.DataFrame, *,
                 chunk_rows: int = 50_000) -> int:
    """Insert or replace rows of ``daily_stat`` or ``period_stat`` by primary key.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Inside a transaction.
    table : sqlalchemy.Table or {"daily_stat", "period_stat"}
    frame : pandas.DataFrame
        Columns named as the table's; ``computed_at`` defaults to now.
        NaN becomes NULL.

    Returns
    -------
    int
        Rows offered.
    """
    _require_transaction(conn)
    tbl = S.metadata.tables[table] if isinstance(table, str) else table
    if tbl.name not in ("daily_stat", "period_stat"):
        raise ValueError(f"upsert_stats writes daily_stat or period_stat, not {tbl.name}")
    df = frame.copy()
    if "computed_at" not in df:
        df["computed_at"] = S.utcnow()
    for c in ("date", "period_start", "period_end"):
        if c in df:
            df[c] = pd.to_datetime(df[c]).dt.date
    cols = [c.name for c in tbl.columns if c.name in df.columns]
    pk = [c.name for c in tbl.primary_key.columns]
    if is_postgres(conn):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    total = 0
    for part in iter_chunks(df[cols], chunk_rows):
        records = part.astype(object).where(part.notna(), None).to_dict("records")
        stmt = insert(tbl)
        stmt = stmt.on_conflict_do_update(
            index_elements=pk, set_={c: stmt.excluded[c] for c in cols if c not in pk}
        )
        conn.execute(stmt, records)
        total += len(records)
    return total
