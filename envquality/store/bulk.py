"""Bulk, idempotent writes of readings and statistics; reading them back.

:func:`upsert_readings` is the one way readings enter the store.  It accepts
a tidy frame (see :mod:`envquality.model`) or an iterator of frames and
writes them in chunks, so memory stays bounded by ``chunk_rows`` whatever
the total (50 M rows stream through fine).

Keys
    ``reading`` is keyed by ``(series_id, time)``; ``series`` maps an id to
    its ``(station, pollutant)``.  Series are created on the fly for the new
    pairs of each chunk (one small insert of its distinct pairs).  Reads
    (:func:`read_readings`, :func:`readings_checksum`) join them back and
    return station codes and pollutant names.

Fast path (both backends)
    A chunk whose keys cannot collide with stored rows — no stored reading of
    any of its series between that series' first and last time in the chunk,
    one indexed ``EXISTS`` — is
    written straight into ``reading`` under a savepoint.  Should it hit a
    key anyway (a duplicate inside the chunk, or a concurrent writer that
    committed the same key), the savepoint is rolled back and the chunk
    takes the merge path.
PostgreSQL
    Each chunk is encoded by numpy in PostgreSQL's *binary* COPY format
    (no text parsing of numbers or timestamps on the server; floats exact)
    and ``COPY``-ed (psycopg 3 ``cursor.copy``) into ``reading`` (fast path)
    or into a temporary staging table merged with ``INSERT … SELECT … ON
    CONFLICT (series_id, time) DO UPDATE … WHERE value IS DISTINCT FROM
    excluded.value …``.  Unchanged rows are not touched, so re-running an
    upsert writes nothing.
SQLite
    ``executemany`` of a parameterized ``INSERT`` straight into ``reading``
    (fast path) or into a temporary staging table, then ``INSERT … SELECT …
    ON CONFLICT DO UPDATE … WHERE value IS NOT excluded.value …``.  The
    loading connection's page cache is raised to
    :data:`SQLITE_LOAD_CACHE_KIB` during the write.

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

import json
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Callable, Iterable, Iterator, Sequence, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.model import TIMEZONE
from envquality.store import schema as S
from envquality.store.engine import dialect_insert, driver_connection, is_postgres

__all__ = [
    "UpsertStats", "upsert_readings", "read_readings", "readings_checksum",
    "upsert_stats", "upsert_daily_values", "iter_chunks", "DEFAULT_CHUNK_ROWS",
]

#: Rows per COPY / executemany batch.
DEFAULT_CHUNK_ROWS = 500_000

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
    direct_chunks : int
        Batches copied straight into ``reading`` (no possible collision).
    """

    rows: int = 0
    written: int = 0
    chunks: int = 0
    direct_chunks: int = 0
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


# ------------------------------------------------------------------------ series
class _Series:
    """Per-call cache of ``series`` ids; creates missing (station, pollutant) pairs on the fly."""

    def __init__(self, conn: sa.Connection):
        self.conn = conn
        self.pg = is_postgres(conn)
        self.ids: dict[tuple[str, str], int] = {}

    def _create(self, pairs: list[tuple[str, str]]) -> None:
        pairs = sorted(pairs)  # same lock order in concurrent ingests
        st = [p[0] for p in pairs]
        po = [p[1] for p in pairs]
        cur = driver_connection(self.conn).cursor()
        try:
            if self.pg:
                cur.execute("INSERT INTO series (station, pollutant) SELECT * FROM unnest(%s::text[], %s::text[]) "
                            "ON CONFLICT (station, pollutant) DO NOTHING", (st, po))
                cur.execute("SELECT s.id, s.station, s.pollutant FROM series s "
                            "JOIN unnest(%s::text[], %s::text[]) AS u(station, pollutant) USING (station, pollutant)",
                            (st, po))
            else:
                cur.executemany("INSERT INTO series (station, pollutant) VALUES (?, ?) "
                                "ON CONFLICT (station, pollutant) DO NOTHING", pairs)
                cur.execute("SELECT s.id, s.station, s.pollutant FROM json_each(?) AS j "
                            "JOIN series s ON s.station = json_extract(j.value, '$[0]') "
                            "AND s.pollutant = json_extract(j.value, '$[1]')", (json.dumps(pairs),))
            for sid, station, pollutant in cur.fetchall():
                self.ids[(station, pollutant)] = int(sid)
        finally:
            cur.close()
        lost = [p for p in pairs if p not in self.ids]
        if lost:  # pragma: no cover - would be a database inconsistency
            raise RuntimeError(f"series rows not found after insert: {lost[:3]}")

    def of(self, chunk: _Chunk) -> tuple[np.ndarray, np.ndarray]:
        """Series id of every row (int32) and the distinct ids of the chunk."""
        st_codes, st_uni = pd.factorize(chunk.station, sort=False)
        po_codes, po_uni = pd.factorize(chunk.pollutant, sort=False)
        npo = max(len(po_uni), 1)
        comb = st_codes.astype(np.int64) * npo + po_codes
        codes, uniq = pd.factorize(comb, sort=False)
        st_arr, po_arr = np.asarray(st_uni, dtype=object), np.asarray(po_uni, dtype=object)
        pairs = list(zip(st_arr[uniq // npo].tolist(), po_arr[uniq % npo].tolist()))
        missing = [p for p in pairs if p not in self.ids]
        if missing:
            self._create(missing)
        ids = np.fromiter((self.ids[p] for p in pairs), dtype=np.int32, count=len(pairs))
        return ids[codes], ids


def _colliding_series(conn: sa.Connection, sid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Series of the chunk with any stored reading inside the chunk's time span.

    A range scan of the primary key ``(time, series_id)`` over the chunk's
    span: in a chronological load that span is new and the scan is empty;
    where a series was split between two chunks only that series is
    returned, so the rest of the chunk can still go straight in.
    """
    ids = np.unique(sid).astype(np.int64).tolist()
    lo, hi = int(np.min(t)), int(np.max(t))
    cur = driver_connection(conn).cursor()
    pg = is_postgres(conn)
    try:
        # usually nothing is stored in the span at all: one index probe answers
        if pg:
            cur.execute("SELECT EXISTS (SELECT 1 FROM reading WHERE time BETWEEN to_timestamp(%s) "
                        "AND to_timestamp(%s))", (lo, hi))
        else:
            cur.execute("SELECT EXISTS (SELECT 1 FROM reading WHERE time BETWEEN ? AND ?)", (lo, hi))
        if not cur.fetchone()[0]:
            return np.empty(0, dtype=np.int64)
        # else the distinct series stored in the span (an index-only range scan),
        # intersected with the chunk's here: a series filter in SQL made the planner
        # probe the range once per series
        if pg:
            cur.execute("SELECT DISTINCT series_id FROM reading WHERE time BETWEEN to_timestamp(%s) "
                        "AND to_timestamp(%s)", (lo, hi))
        else:
            cur.execute("SELECT DISTINCT series_id FROM reading WHERE time BETWEEN ? AND ?", (lo, hi))
        stored = np.fromiter((r[0] for r in cur.fetchall()), dtype=np.int64)
        return np.intersect1d(stored, np.asarray(ids, dtype=np.int64))
    finally:
        cur.close()


def _parts(conn: sa.Connection, whole: _Chunk, sid: np.ndarray, direct: bool) -> list[tuple[_Chunk, np.ndarray, bool]]:
    """Split a chunk into (part, series ids, may go straight in) by stored collisions."""
    if not direct:
        return [(whole, sid, False)]
    hit = np.isin(sid, _colliding_series(conn, sid, whole.t))
    if not hit.any():
        return [(whole, sid, True)]
    if hit.all():
        return [(whole, sid, False)]
    return [(_subset(whole, ~hit), sid[~hit], True), (_subset(whole, hit), sid[hit], False)]


def _subset(chunk: _Chunk, mask: np.ndarray) -> _Chunk:
    return _Chunk(chunk.station[mask], chunk.t[mask], chunk.pollutant[mask], chunk.value[mask],
                  None if chunk.flag is None else chunk.flag[mask])


def _flags(chunk: _Chunk) -> tuple[np.ndarray | None, list[str]]:
    """Flag codes (-1 = NULL) and the distinct flags, or (None, []) without flags."""
    if chunk.flag is None:
        return None, []
    f = chunk.flag.astype(object).where(chunk.flag.notna(), None)
    if f.isna().all():
        return None, []
    codes, uniq = pd.factorize(f, use_na_sentinel=True)
    return codes, [str(u) for u in uniq]


# --------------------------------------------------------------------- PostgreSQL
_PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00Z, origin of binary timestamptz (microseconds)
_PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_PG_COLS = "(series_id, time, value, flag, ingest_id)"
_PG_STAGE_DDL = (f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (series_id int4, time timestamptz, value float8, "
                 "flag text, ingest_id int4) ON COMMIT DROP")


def _merge_sql(stage_time: str, pg: bool, beside: bool = True) -> list[str]:
    """The three statements merging the staged rows into ``reading`` (see :func:`upsert_readings`).

    A staged row WINS over the shown one when it has a different value and
    is a later delivery (higher ``ingest_id``, with no still later delivery
    of a value kept in ``reading_delivery``), or when the shown value is
    missing and not an audit invalidation.  Missing never overwrites present;
    an equal value from another delivery is only recorded beside.
    """
    j = f"JOIN reading r ON r.series_id = s.series_id AND r.time = s.{stage_time}"
    same = "(COALESCE(s.value = r.value, FALSE) AND COALESCE(s.flag, '') = COALESCE(r.flag, ''))"
    later = ("EXISTS (SELECT 1 FROM reading_delivery d WHERE d.time = r.time AND d.series_id = r.series_id "
             "AND d.ingest_id > s.ingest_id AND d.value IS NOT NULL)")
    if not beside:  # no row of reading_delivery in the chunk's span: the probe is always false
        later = "FALSE"
    win = (f"(s.value IS NOT NULL AND NOT {same} AND ((s.ingest_id > r.ingest_id AND NOT {later}) OR "
           "(r.value IS NULL AND COALESCE(r.flag, '') <> 'invalidated')))")
    shadow = ("INSERT INTO reading_delivery (time, series_id, ingest_id, value, flag) {sel} "
              "ON CONFLICT (time, series_id, ingest_id) DO UPDATE SET value = excluded.value, flag = excluded.flag")
    where_true = "" if pg else " AND true"  # SQLite: INSERT … SELECT … ON CONFLICT needs a WHERE
    displaced = shadow.format(sel=f"SELECT r.time, r.series_id, r.ingest_id, r.value, r.flag FROM {_STAGE} s {j} "
                                  f"WHERE r.ingest_id <> s.ingest_id AND {win}{where_true}")
    losing = shadow.format(sel=f"SELECT s.{stage_time}, s.series_id, s.ingest_id, s.value, s.flag FROM {_STAGE} s {j} "
                               f"WHERE r.ingest_id <> s.ingest_id AND NOT {win}{where_true}")
    distinct = "IS DISTINCT FROM" if pg else "IS NOT"
    xwin = win.replace("s.", "excluded.").replace("r.", "reading.")
    upsert = (f"INSERT INTO reading (series_id, time, value, flag, ingest_id) "
              f"SELECT series_id, {stage_time}, value, flag, ingest_id FROM {_STAGE} WHERE true "
              "ON CONFLICT (time, series_id) DO UPDATE "
              "SET value = excluded.value, flag = excluded.flag, ingest_id = excluded.ingest_id "
              f"WHERE (reading.ingest_id = excluded.ingest_id AND (reading.value {distinct} excluded.value "
              f"OR reading.flag {distinct} excluded.flag)) "
              f"OR (reading.ingest_id <> excluded.ingest_id AND {xwin})")
    return [displaced, losing, upsert]


_PG_MERGE = {b: _merge_sql("time", pg=True, beside=b) for b in (True, False)}


def _beside_in_span(cur, t: np.ndarray, pg: bool) -> bool:
    """Whether ``reading_delivery`` holds any row within the chunk's time span (one index probe)."""
    lo, hi = int(np.min(t)), int(np.max(t))
    if pg:
        cur.execute("SELECT EXISTS (SELECT 1 FROM reading_delivery WHERE time BETWEEN to_timestamp(%s) "
                    "AND to_timestamp(%s))", (lo, hi))
    else:
        cur.execute("SELECT EXISTS (SELECT 1 FROM reading_delivery WHERE time BETWEEN ? AND ?)", (lo, hi))
    return bool(cur.fetchone()[0])



def _pg_binary(sid: np.ndarray, chunk: _Chunk, ingest_id: int) -> bytes:
    """The chunk in PostgreSQL's binary COPY format, built with numpy (no per-row Python).

    Rows are grouped by (value NULL or not, flag) so that every group has a
    fixed record layout: one structured array per group.
    """
    n = len(chunk)
    # rows in primary-key order (time, series_id): the index then grows at its
    # right edge with cheap rightmost page splits instead of random 50/50 splits
    order = np.lexsort((sid, chunk.t))
    sid = sid[order]
    t_us = (chunk.t[order] - _PG_EPOCH_S) * 1_000_000
    value = chunk.value[order]
    null = np.isnan(value)
    fcodes, funiq = _flags(chunk)
    if fcodes is not None:
        fcodes = fcodes[order]
    parts = [_PG_COPY_HEADER]
    any_null = bool(null.any())
    for fcode in ([-1] if fcodes is None else range(-1, len(funiq))):
        fmask = None if fcodes is None else (fcodes == fcode)
        if fmask is not None and not fmask.any():
            continue
        fb = None if fcode < 0 else funiq[fcode].encode("utf-8")
        for isnull in ((False, True) if any_null else (False,)):
            if fmask is None and not any_null:
                m = None
                k = n
            else:
                m = (null if isnull else ~null) if any_null else np.ones(n, dtype=bool)
                if fmask is not None:
                    m = m & fmask
                k = int(m.sum())
                if not k:
                    continue
            fields = [("nf", ">i2"), ("l1", ">i4"), ("sid", ">i4"), ("l2", ">i4"), ("t", ">i8"), ("l3", ">i4")]
            if not isnull:
                fields.append(("v", ">f8"))
            fields.append(("l4", ">i4"))
            if fb:
                fields.append(("f", f"S{len(fb)}"))
            fields += [("l5", ">i4"), ("iid", ">i4")]
            a = np.empty(k, dtype=np.dtype(fields))
            a["nf"], a["l1"], a["l2"], a["l5"], a["iid"] = 5, 4, 8, 4, ingest_id
            a["sid"] = sid if m is None else sid[m]
            a["t"] = t_us if m is None else t_us[m]
            a["l3"] = -1 if isnull else 8
            if not isnull:
                a["v"] = value if m is None else value[m]
            a["l4"] = -1 if fb is None else len(fb)
            if fb:
                a["f"] = fb
            parts.append(a.tobytes())
    parts.append(b"\xff\xff")
    return b"".join(parts)


def _pg_copy(cur, table: str, data: bytes) -> None:
    with cur.copy(f"COPY {table} {_PG_COLS} FROM STDIN (FORMAT binary)") as cp:
        view = memoryview(data)
        for off in range(0, len(view), 1 << 22):
            cp.write(view[off:off + (1 << 22)])


def _pg_upsert(conn: sa.Connection, chunks: Iterator[_Chunk], params: dict, stats: UpsertStats,
               on_chunk: Callable[[UpsertStats], None] | None, direct: bool) -> None:
    series = _Series(conn)
    raw = driver_connection(conn)
    with raw.cursor() as cur:
        for whole in chunks:
            sid_all, _ = series.of(whole)
            parts = _parts(conn, whole, sid_all, direct)
            for chunk, sid, try_direct in parts:
                _pg_write(cur, chunk, sid, params, stats, try_direct)
            _account(stats, whole, on_chunk)


def _pg_write(cur, chunk: _Chunk, sid: np.ndarray, params: dict, stats: UpsertStats, try_direct: bool) -> None:
    """Copy one part of a chunk straight into ``reading``, or stage and merge it."""
    import psycopg

    data = _pg_binary(sid, chunk, params["ingest_id"])
    if try_direct:
        cur.execute("SAVEPOINT eq_direct")
        try:
            _pg_copy(cur, "reading", data)
        except psycopg.errors.UniqueViolation:
            # a duplicate within the chunk, or a concurrent writer got there first
            cur.execute("ROLLBACK TO SAVEPOINT eq_direct")
        else:
            cur.execute("RELEASE SAVEPOINT eq_direct")
            stats.written += len(chunk)
            stats.direct_chunks += 1
            return
    cur.execute(_PG_STAGE_DDL)  # IF NOT EXISTS: once per session
    cur.execute(f"TRUNCATE {_STAGE}")
    _pg_copy(cur, _STAGE, data)
    try:
        for sql in _PG_MERGE[_beside_in_span(cur, chunk.t, True)]:
            cur.execute(sql)
    except psycopg.errors.CardinalityViolation as exc:
        raise ValueError("duplicate (station, time, pollutant) keys within one chunk of readings") from exc
    stats.written += max(cur.rowcount, 0)


# ------------------------------------------------------------------------ SQLite
_SQLITE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGE}
(series_id INTEGER NOT NULL, t INTEGER NOT NULL, value REAL, flag TEXT, ingest_id INTEGER NOT NULL)
"""
_SQLITE_INSERT = "INSERT INTO reading (series_id, time, value, flag, ingest_id) VALUES (?, ?, ?, ?, ?)"
_SQLITE_MERGE = {b: _merge_sql("t", pg=False, beside=b) for b in (True, False)}
#: Page cache of the loading connection while a bulk write runs [KiB] (restored afterwards).
SQLITE_LOAD_CACHE_KIB = 512 * 1024


def _sqlite_rows(sid: np.ndarray, chunk: _Chunk, ingest_id: int):
    flags = (chunk.flag.astype(object).where(chunk.flag.notna(), None).tolist()
             if chunk.flag is not None else repeat(None))
    # NaN binds as NULL in SQLite
    return zip(sid.tolist(), chunk.t.tolist(), chunk.value.tolist(), flags, repeat(ingest_id))


def _sqlite_upsert(conn: sa.Connection, chunks: Iterator[_Chunk], params: dict, stats: UpsertStats,
                   on_chunk: Callable[[UpsertStats], None] | None, direct: bool) -> None:
    series = _Series(conn)
    raw = driver_connection(conn)
    cur = raw.cursor()
    old_cache = cur.execute("PRAGMA cache_size").fetchone()[0]
    staged = False
    try:
        cur.execute(f"PRAGMA cache_size=-{SQLITE_LOAD_CACHE_KIB:d}")
        for whole in chunks:
            sid_all, _ = series.of(whole)
            for chunk, sid, try_direct in _parts(conn, whole, sid_all, direct):
                staged = _sqlite_write(cur, chunk, sid, params, stats, try_direct, staged)
            _account(stats, whole, on_chunk)
        if staged:
            cur.execute(f"DELETE FROM {_STAGE}")
    finally:
        try:
            cur.execute(f"PRAGMA cache_size={int(old_cache):d}")
        finally:
            cur.close()


def _sqlite_write(cur, chunk: _Chunk, sid: np.ndarray, params: dict, stats: UpsertStats, try_direct: bool,
                  staged: bool) -> bool:
    """Insert one part of a chunk directly, or stage and merge it; returns whether a stage exists."""
    import sqlite3

    if try_direct:
        cur.execute("SAVEPOINT eq_direct")
        try:
            cur.executemany(_SQLITE_INSERT, _sqlite_rows(sid, chunk, params["ingest_id"]))
        except sqlite3.IntegrityError:  # a duplicate key within the chunk
            cur.execute("ROLLBACK TO eq_direct")
            cur.execute("RELEASE eq_direct")
        else:
            cur.execute("RELEASE eq_direct")
            stats.written += len(chunk)
            stats.direct_chunks += 1
            return staged
    keys = pd.DataFrame({"s": sid, "t": chunk.t})
    if keys.duplicated().any():
        raise ValueError("duplicate (station, time, pollutant) keys within one chunk of readings")
    if not staged:
        cur.execute(_SQLITE_STAGE)
    cur.execute(f"DELETE FROM {_STAGE}")
    cur.executemany(f"INSERT INTO {_STAGE} VALUES (?, ?, ?, ?, ?)", _sqlite_rows(sid, chunk, params["ingest_id"]))
    for sql in _SQLITE_MERGE[_beside_in_span(cur, chunk.t, False)]:
        cur.execute(sql)
    stats.written += max(cur.rowcount, 0)
    return True


def _account(stats: UpsertStats, chunk: _Chunk, on_chunk) -> None:
    stats.rows += len(chunk)
    stats.chunks += 1
    if len(chunk):
        lo, hi = _to_times(np.array([chunk.t.min(), chunk.t.max()]))
        stats.time_min = lo if stats.time_min is None else min(stats.time_min, lo)
        stats.time_max = hi if stats.time_max is None else max(stats.time_max, hi)
    if on_chunk is not None:
        on_chunk(stats)


def upsert_readings(
    conn: sa.Connection,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
    ingest_id: int,
    source: str | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_chunk: Callable[[UpsertStats], None] | None = None,
    direct: bool = True,
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
        ``ingest_log.id`` recorded on every inserted or changed row (the
        reading's source is that log row's ``source``).
    source : str, optional
        Ignored; kept for call compatibility (``reading`` has no ``source``
        column any more: it is ``ingest_log.source`` of ``ingest_id``).
    chunk_rows : int
        Rows per batch; bounds memory.
    on_chunk : callable, optional
        Called with the running :class:`UpsertStats` after each batch.
    direct : bool
        Allow the fast path: a batch whose keys cannot collide with stored
        rows (no stored reading of its series within its time range) is
        copied straight into ``reading``.  False always stages and merges.

    Returns
    -------
    UpsertStats

    Notes
    -----
    ``reading`` shows, for each key, the value of one delivery (its
    ``ingest_id``); every other delivery's reading of that key is kept in
    ``reading_delivery``, so nothing a current delivery says is lost.  A
    staged row replaces the shown one when it has a different value and
    either comes from a later delivery (higher ``ingest_id``: delivery order,
    not commit order) or the shown value is missing (and not invalidated on
    audit): **missing never overwrites present**.  The displaced or losing
    row (also an equal value from another delivery) goes to
    ``reading_delivery``.  Rows of the same ``ingest_id`` are updated only
    when value or flag differ, so repeating an upsert changes nothing and
    ``UpsertStats.written`` is 0.  ``written`` counts rows of ``reading``
    inserted or changed.
    """
    _require_transaction(conn)
    if chunk_rows <= 0:
        raise ValueError("chunk_rows must be positive")
    params = {"ingest_id": int(ingest_id)}
    stats = UpsertStats()
    chunks = (_prepare(f) for f in iter_chunks(frames, chunk_rows) if len(f))
    if is_postgres(conn):
        _pg_upsert(conn, chunks, params, stats, on_chunk, direct)
    else:
        _sqlite_upsert(conn, chunks, params, stats, on_chunk, direct)
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
        Add ``flag``, ``source`` (``ingest_log.source`` of the ingest that
        last wrote the value; None if that log row does not exist) and
        ``ingest_id`` columns.

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
    tcol = "CAST(EXTRACT(EPOCH FROM r.time) AS BIGINT)" if pg else "r.time"
    cols = ["s.station", f"{tcol} AS t", "s.pollutant", "r.value"]
    if with_provenance:
        cols += ["r.flag", "l.source", "r.ingest_id"]
    where: list[str] = []
    params: list[str | int] = []
    for col, vals in (("s.station", stations), ("s.pollutant", pollutants)):
        if vals is not None:
            vals = [str(v) for v in vals]
            if not vals:
                where.append("1 = 0")
                continue
            where.append(f"{col} IN ({', '.join([ph] * len(vals))})")
            params += vals
    for op, bound in ((">=", start), ("<=", end)):
        if bound is not None:
            where.append(f"r.time {op} {'to_timestamp(%s)' if pg else '?'}")
            params.append(_bind_time(bound))
    sql = f"SELECT {', '.join(cols)} FROM reading r JOIN series s ON s.id = r.series_id"
    if with_provenance:
        sql += " LEFT JOIN ingest_log l ON l.id = r.ingest_id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY s.station, r.time, s.pollutant"
    cur = driver_connection(conn).cursor()
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
        for name in ("flag", "source", "ingest_id"):
            out[name] = df[name].to_numpy()
    return out


def readings_checksum(conn: sa.Connection | sa.Engine) -> dict[str, tuple[int, int, float]]:
    """Per pollutant: ``(row count, rows with a value, sum of values)``.

    Cheap whole-table fingerprint used to compare two stores (e.g. a rerun
    after a crash against a clean run).  Sums are rounded to 6 decimals.
    """
    r, se = S.reading.c, S.series.c
    q = (sa.select(se.pollutant, sa.func.count(), sa.func.count(r.value), sa.func.sum(r.value))
         .select_from(S.reading.join(S.series, se.id == r.series_id))
         .group_by(se.pollutant).order_by(se.pollutant))

    def run(c):
        return {p: (int(n), int(nv), round(float(s or 0.0), 6)) for p, n, nv, s in c.execute(q)}

    if isinstance(conn, sa.Engine):
        with conn.connect() as c:
            return run(c)
    return run(conn)


# ---------------------------------------------------------------- daily values
def upsert_daily_values(conn: sa.Connection, frame: pd.DataFrame, ingest_id: int, ruleset: str, *,
                        takeover_ingest_ids: Sequence[int] = (), chunk_rows: int = 50_000) -> int:
    """Store source-reported daily values (e.g. aqistudy city days) in ``daily_stat``, idempotently.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Inside a transaction.
    frame : pandas.DataFrame
        ``date`` (CST calendar day), ``pollutant`` (the indicator, e.g.
        ``pm25_24h``, ``o3_8h``, ``aqi``), ``value`` and ``city`` and/or
        ``station``: a row with a station is ``entity_kind='station'``, else
        ``'city'``.  An optional boolean ``suspect`` column becomes
        ``reason='suspect'``.
    ingest_id : int
        Recorded in ``daily_stat.ingest_id``.
    ruleset : str
        ``ruleset`` key column, e.g. ``reported:aqistudy``: source values never
        overwrite values computed by a rule set (their own ``ruleset``).
    takeover_ingest_ids : sequence of int
        Rows of these ingests (earlier versions of the same delivery) are
        re-labelled even when unchanged, and may be set missing (supersede).
        Otherwise a missing value never overwrites a stored value.

    Returns
    -------
    int
        Rows inserted, changed or taken over (unchanged rows are not touched).
    """
    _require_transaction(conn)
    for c in ("date", "pollutant", "value"):
        if c not in frame.columns:
            raise ValueError(f"daily frame lacks column {c!r}")
    station = frame["station"] if "station" in frame.columns else pd.Series(pd.NA, index=frame.index)
    city = frame["city"] if "city" in frame.columns else pd.Series(pd.NA, index=frame.index)
    is_station = station.notna().to_numpy()
    entity = np.where(is_station, station.astype(object), city.astype(object))
    if pd.isna(pd.Series(entity)).any():
        raise ValueError("daily frame rows without a station or a city")
    dates = pd.to_datetime(frame["date"])
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    value = pd.to_numeric(frame["value"]).to_numpy(dtype="float64", na_value=np.nan)
    suspect = (frame["suspect"].fillna(False).astype(bool).to_numpy() if "suspect" in frame.columns
               else np.zeros(len(frame), dtype=bool))
    now = S.utcnow()
    df = pd.DataFrame({
        "entity_kind": np.where(is_station, "station", "city"),
        "entity": pd.Series(entity).astype(str).to_numpy(),
        "date": dates.dt.date.to_numpy(),
        "indicator": frame["pollutant"].astype(str).to_numpy(),
        "ruleset": str(ruleset),
        "value": value,
        "valid": True,
        "reason": np.where(suspect, np.array("suspect", dtype=object), np.array(None, dtype=object)),
    })
    key = ["entity_kind", "entity", "date", "indicator", "ruleset"]
    if df.duplicated(key).any():
        raise ValueError("duplicate (entity, date, indicator) keys in daily values")
    t = S.daily_stat
    stmt = dialect_insert(conn, t)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=key,
        set_={"value": ex.value, "valid": ex.valid, "reason": ex.reason, "computed_at": ex.computed_at,
              "ingest_id": ex.ingest_id, "n": ex.n},
        where=sa.or_(
            sa.and_(sa.or_(ex.value.is_not(None), t.c.value.is_(None)),
                    sa.or_(t.c.value.is_distinct_from(ex.value), t.c.reason.is_distinct_from(ex.reason))),
            *(t.c.ingest_id == sa.literal(int(i)) for i in takeover_ingest_ids)),
    )
    for part in iter_chunks(df, chunk_rows):
        # column names are str, as the statement needs (the stubs say Hashable)
        records = cast(list[dict[str, Any]], part.astype(object).where(part.notna(), None).to_dict("records"))
        for rec in records:
            rec["computed_at"] = now
            rec["ingest_id"] = int(ingest_id)
            rec["n"] = None
        conn.execute(stmt, records)
    return int(conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.ingest_id == int(ingest_id)))
               .scalar_one())


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
    total = 0
    for part in iter_chunks(df[cols], chunk_rows):
        # column names are str, as the statement needs (the stubs say Hashable)
        records = cast(list[dict[str, Any]], part.astype(object).where(part.notna(), None).to_dict("records"))
        stmt = dialect_insert(conn, tbl)
        stmt = stmt.on_conflict_do_update(
            index_elements=pk, set_={c: stmt.excluded[c] for c in cols if c not in pk}
        )
        conn.execute(stmt, records)
        total += len(records)
    return total
