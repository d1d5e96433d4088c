"""Columnar reads of hourly readings: the store gives the computation arrays, not rows.

:func:`read_hourly` returns the readings of a period as an
:class:`xarray.Dataset` ``(station, time)`` on a complete hourly grid, one
float64 variable per pollutant, NaN where a reading is missing.  No Python
object is made per reading:

PostgreSQL
    ``COPY (SELECT series_id, time, value …) TO STDOUT (FORMAT binary)``
    received through libpq's copy interface of the psycopg driver
    (``PGconn.get_copy_data``) and decoded by numpy as fixed-size big-endian
    records (every record is 34 bytes: NULL values are filtered out on the
    server, they are missing anyway).
SQLite
    The raw ``sqlite3`` cursor of a ``SELECT series_id, time, value`` over
    the ``(time, series_id)`` primary key streamed into one structured numpy
    array with :func:`numpy.fromiter` (typed, no intermediate list of rows).

Both scan the primary key of ``reading``, which starts with ``time``, so a
read costs what its time span holds, not the size of the store.  Peak memory
is the arrays themselves plus the raw records of the span (12 bytes a reading
on SQLite, 34 on PostgreSQL).

Times: day ``D`` holds the hour-ending stamps ``D 01:00 … D+1 00:00`` CST
(``docs/conventions.md``); the Dataset's ``time`` coordinate is naive CST.
"""

from __future__ import annotations

import datetime as dt
import select
from typing import Any, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
import xarray as xr

from envquality.model import HOURLY_POLLUTANTS
from envquality.store.engine import is_postgres

__all__ = ["read_hourly", "read_flagged_days", "day_bounds"]

_PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00Z: origin of binary timestamptz (microseconds)
_PG_RECORD = np.dtype([("nf", ">i2"), ("l1", ">i4"), ("sid", ">i4"), ("l2", ">i4"), ("t", ">i8"),
                       ("l3", ">i4"), ("v", ">f8")])
_PG_HEADER = 19  # signature (11) + flags (4) + header extension length (4)
_CST_OFFSET_S = 8 * 3600


def _dbapi(conn: sa.Connection) -> Any:
    """The DBAPI connection under ``conn`` (sqlite3 or psycopg)."""
    return conn.connection.driver_connection


def day_bounds(start: dt.date | str, end: dt.date | str) -> tuple[int, int, pd.DatetimeIndex]:
    """Epoch-second bounds and the naive CST hour-ending grid of the days [start, end]."""
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if last < first:
        raise ValueError(f"end {last.date()} is before start {first.date()}")
    grid = pd.date_range(first + pd.Timedelta(hours=1), last + pd.Timedelta(days=1), freq="h")
    lo = int((grid[0] - pd.Timestamp("1970-01-01")).total_seconds()) - _CST_OFFSET_S
    return lo, lo + 3600 * (len(grid) - 1), grid


def _cursor(conn: sa.Connection):
    return _dbapi(conn).cursor()


def _series(conn: sa.Connection, pollutants: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ids, station codes and pollutants of the stored series of ``pollutants`` (a small table)."""
    ph = "%s" if is_postgres(conn) else "?"
    cur = _cursor(conn)
    try:
        cur.execute(f"SELECT id, station, pollutant FROM series WHERE pollutant IN ({', '.join([ph] * len(pollutants))})",
                    list(pollutants))
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return np.empty(0, np.int64), np.empty(0, object), np.empty(0, object)
    ids, st, po = zip(*rows)
    return np.asarray(ids, np.int64), np.asarray(st, object), np.asarray(po, object)


def _records_sqlite(conn: sa.Connection, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cur = _cursor(conn)
    try:
        cur.execute("SELECT series_id, time, value FROM reading WHERE time BETWEEN ? AND ? AND value IS NOT NULL",
                    (lo, hi))
        rec = np.fromiter(cur, dtype=[("sid", "<i8"), ("t", "<i8"), ("v", "<f8")])
    finally:
        cur.close()
    return rec["sid"], rec["t"], rec["v"]


def _records_postgres(conn: sa.Connection, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # bounds are ints (checked by int()), so they are safe to inline: COPY takes no parameters
    sql = (f"COPY (SELECT series_id, time, value FROM reading WHERE time BETWEEN to_timestamp({int(lo)}) "
           f"AND to_timestamp({int(hi)}) AND value IS NOT NULL) TO STDOUT (FORMAT binary)")
    from psycopg.pq import ExecStatus

    pgconn = _dbapi(conn).pgconn
    pgconn.send_query(sql.encode())
    res = pgconn.get_result()
    if res is None or res.status != ExecStatus.COPY_OUT:
        msg = res.error_message.decode(errors="replace") if res is not None else "no result"
        while pgconn.get_result() is not None:
            pass
        raise RuntimeError(f"COPY out of reading failed: {msg}")
    parts = []
    get = pgconn.get_copy_data
    while True:
        n, data = get(0)
        if n > 0:
            parts.append(bytes(data))
        elif n == 0:  # the driver's connection is non-blocking: wait for the socket
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        else:  # -1: done; -2: error (reported by the final result)
            break
    error = None
    while (res := pgconn.get_result()) is not None:
        if res.status not in (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK) and error is None:
            error = res.error_message.decode(errors="replace") or f"status {res.status}"
        if res.status == ExecStatus.COPY_OUT:  # cannot happen after -1; never loop on it
            break
    if error:
        raise RuntimeError(f"COPY out of reading failed: {error}")
    buf = b"".join(parts)
    body = buf[_PG_HEADER:-2] if len(buf) >= _PG_HEADER + 2 else b""
    rec = np.frombuffer(body, dtype=_PG_RECORD)
    t = rec["t"] // 1_000_000 + _PG_EPOCH_S
    return rec["sid"].astype(np.int64), t.astype(np.int64), rec["v"].astype(np.float64)


def read_hourly(
    engine: sa.Engine | sa.Connection,
    start: dt.date | str,
    end: dt.date | str,
    stations: Sequence[str] | None = None,
    *,
    pollutants: Sequence[str] = HOURLY_POLLUTANTS,
) -> xr.Dataset:
    """Hourly readings of the days [start, end] as arrays (station, time).

    Parameters
    ----------
    engine : sqlalchemy.Engine or Connection
    start, end : date-like
        First and last CST calendar day (inclusive): hours ending
        ``start 01:00`` … ``end + 1 day 00:00``.
    stations : sequence of str, optional
        Station codes, in the order wanted; all stations with a stored series
        of ``pollutants`` (sorted) by default.  A station without readings
        gets all-NaN rows.
    pollutants : sequence of str
        Variables of the result.

    Returns
    -------
    xarray.Dataset
        One float64 variable per pollutant [µg/m³; CO mg/m³], NaN where
        missing; ``time`` naive CST hour-ending; ``attrs`` timezone and
        time label as :func:`envquality.stats.datasets.hourly_grid`.
    """
    if isinstance(engine, sa.Engine):
        with engine.connect() as conn:
            return read_hourly(conn, start, end, stations, pollutants=pollutants)
    conn = engine
    lo, hi, grid = day_bounds(start, end)
    pols = list(pollutants)
    ids, st, po = _series(conn, pols)
    codes = [str(s) for s in stations] if stations is not None else sorted(set(st.tolist()))
    st_idx = pd.Index(codes).get_indexer(pd.Index(st))
    po_idx = pd.Index(pols).get_indexer(pd.Index(po))
    # series id -> flat (pollutant, station) cell, -1 when not wanted
    lookup = np.full(int(ids.max()) + 1 if ids.size else 1, -1, dtype=np.int64)
    keep = (st_idx >= 0) & (po_idx >= 0)
    lookup[ids[keep]] = po_idx[keep] * len(codes) + st_idx[keep]
    sid, t, v = (_records_postgres if is_postgres(conn) else _records_sqlite)(conn, lo, hi)
    cell = np.where(sid < lookup.size, lookup[np.minimum(sid, lookup.size - 1)], -1)
    off = t - lo
    ok = (cell >= 0) & (off % 3600 == 0)
    cube = np.full((len(pols), len(codes), len(grid)), np.nan)
    cube.reshape(-1)[cell[ok] * len(grid) + off[ok] // 3600] = v[ok]
    ds = xr.Dataset({p: (("station", "time"), cube[i]) for i, p in enumerate(pols)},
                    coords={"station": codes, "time": grid})
    ds.attrs.update(timezone="Asia/Shanghai", time_label="end")
    return ds


def read_flagged_days(
    conn: sa.Connection, start: dt.date | str, end: dt.date | str, flag: str = "likely_dust",
) -> pd.DataFrame:
    """Distinct (station, CST day) pairs of [start, end] with a reading flagged ``flag``.

    Flags are rare, so this is a small result; the day of a reading is the
    day its hour belongs to (hour ending ``D+1 00:00`` belongs to ``D``).
    """
    lo, hi, _ = day_bounds(start, end)
    pg = is_postgres(conn)
    day = ("((r.time - interval '1 hour') AT TIME ZONE 'Asia/Shanghai')::date" if pg
           else f"date(r.time - 3600 + {_CST_OFFSET_S}, 'unixepoch')")
    tb = "to_timestamp(%s) AND to_timestamp(%s)" if pg else "? AND ?"
    ph = "%s" if pg else "?"
    cur = _cursor(conn)
    try:
        cur.execute(f"SELECT DISTINCT s.station, {day} FROM reading r JOIN series s ON s.id = r.series_id "
                    f"WHERE r.time BETWEEN {tb} AND r.flag = {ph}", (lo, hi, flag))
        rows = cur.fetchall()
    finally:
        cur.close()
    return pd.DataFrame({"station": [str(r[0]) for r in rows],
                         "date": pd.to_datetime([str(r[1]) for r in rows]).normalize()})
