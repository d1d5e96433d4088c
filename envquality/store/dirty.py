"""Days whose hourly readings changed after their figures were computed (``dirty_day``).

An ingest marks the CST days of the readings it wrote (inside its own
transaction, so a day is marked exactly when its readings changed);
:func:`envquality.compute.run_dirty` recomputes those days and clears the
marks it has seen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from envquality.store import schema as S
from envquality.store.engine import is_postgres

__all__ = ["mark_dirty_days", "dirty_days", "clear_dirty_days"]


def _dbapi(conn: sa.Connection) -> Any:
    """The DBAPI connection under ``conn`` (sqlite3 or psycopg)."""
    return conn.connection.driver_connection


def _epoch(ts) -> int:
    return int(pd.Timestamp(ts).timestamp())


def mark_dirty_days(conn: sa.Connection, ingest_id: int, start, end, *, old_span: Sequence | None = None) -> int:
    """Mark the days of the readings ingest ``ingest_id`` wrote between ``start`` and ``end``.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        The ingest's connection, inside its transaction.
    ingest_id : int
        Rows inserted or changed by the ingest carry this id
        (:func:`envquality.store.bulk.upsert_readings`).
    start, end : tz-aware datetime or None
        Span of the times the ingest offered; nothing is marked without it.
    old_span : (start, end), optional
        Span of a superseded ingest whose left-over rows were deleted: all its
        days are marked (the deleted rows leave no trace to find them by).

    Returns
    -------
    int
        Days marked.
    """
    if start is None or end is None:
        return 0
    pg = is_postgres(conn)
    day = ("((time - interval '1 hour') AT TIME ZONE 'Asia/Shanghai')::date" if pg
           else "date(time - 3600 + 28800, 'unixepoch')")
    tb = "to_timestamp(%s) AND to_timestamp(%s)" if pg else "? AND ?"
    ph = "%s" if pg else "?"
    now = S.utcnow()
    cur = _dbapi(conn).cursor()
    try:
        cur.execute(f"SELECT DISTINCT {day} FROM reading WHERE time BETWEEN {tb} AND ingest_id = {ph}",
                    (_epoch(start), _epoch(end), int(ingest_id)))
        days = {pd.Timestamp(str(r[0])).date() for r in cur.fetchall()}
    finally:
        cur.close()
    if old_span is not None and old_span[0] is not None and old_span[1] is not None:
        lo = (pd.Timestamp(old_span[0]).tz_convert("Asia/Shanghai") - pd.Timedelta(hours=1)).normalize()
        hi = (pd.Timestamp(old_span[1]).tz_convert("Asia/Shanghai") - pd.Timedelta(hours=1)).normalize()
        days |= {d.date() for d in pd.date_range(lo.tz_localize(None), hi.tz_localize(None), freq="D")}
    if not days:
        return 0
    rows = [{"day": d, "ingest_id": int(ingest_id), "marked_at": now} for d in sorted(days)]
    ins = (postgresql.insert if pg else sqlite.insert)(S.dirty_day)
    conn.execute(ins.on_conflict_do_update(index_elements=["day"],
                                           set_={"ingest_id": ins.excluded.ingest_id,
                                                 "marked_at": ins.excluded.marked_at}), rows)
    return len(rows)


def dirty_days(conn: sa.Connection, start: dt.date | None = None, end: dt.date | None = None) -> dict[dt.date, int]:
    """Marked days (in [start, end] when given) and the ingest that last marked each."""
    c = S.dirty_day.c
    q = sa.select(c.day, c.ingest_id)
    if start is not None:
        q = q.where(c.day >= start)
    if end is not None:
        q = q.where(c.day <= end)
    return {r.day: int(r.ingest_id) for r in conn.execute(q)}


def clear_dirty_days(conn: sa.Connection, seen: dict[dt.date, int]) -> int:
    """Remove the marks in ``seen`` unless a later ingest re-marked the day meanwhile."""
    if not seen:
        return 0
    c = S.dirty_day.c
    n = 0
    for ingest_id in sorted(set(seen.values())):
        days = [d for d, i in seen.items() if i == ingest_id]
        n += conn.execute(sa.delete(S.dirty_day).where(c.ingest_id == ingest_id, c.day.in_(days))).rowcount
    return n
