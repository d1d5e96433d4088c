"""Provenance of readings: supersede a delivery, invalidate values on audit.

The store's contract (``docs/storage.md``): for every key (series, hour)
``reading`` shows what the **current** deliveries say — the value of the
latest delivery (highest ``ingest_log.id``) that reports a value, unless an
audit invalidation later than it masks it; a key that current deliveries
only report as missing is stored as missing; a key no current delivery
provides is not stored.  ``reading`` holds the shown delivery's row,
``reading_delivery`` every other current delivery's row of the same key.

Two operations change what is current and are logged row by row in
``reading_history`` (old value, old and new delivery, cause):

* :func:`supersede_delivery` — a delivery is replaced by another (an
  operator's ``--supersedes`` or a declared version of the same delivery);
  its readings fall back to what the remaining current deliveries say, or
  leave the store when none provides them.
* :func:`invalidate_readings` — an auditor declares stored values invalid:
  they become missing with the flag ``invalidated`` (the old values stay in
  ``reading_delivery`` and ``reading_history``).  Deliveries received later
  than the invalidation count again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.store import schema as S
from envquality.store.engine import is_postgres

__all__ = ["INVALIDATED_FLAG", "AUDIT_SOURCE", "SupersedeStats", "supersede_delivery", "invalidate_readings",
           "lock_store_writes", "delivery_series"]

#: ``reading.flag`` of a value invalidated on audit (the value itself is NULL).
INVALIDATED_FLAG = "invalidated"
#: ``ingest_log.source`` of audit operations.
AUDIT_SOURCE = "audit"

_TMP = "eq_resolve"


@dataclass
class SupersedeStats:
    """Readings of a superseded delivery: ``removed`` from the store, ``replaced`` by another delivery's value."""

    removed: int = 0
    replaced: int = 0


def lock_store_writes(conn: sa.Connection) -> None:
    """Serialise writers of readings (PostgreSQL advisory lock per schema; SQLite uses BEGIN IMMEDIATE)."""
    if is_postgres(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || :tag, 0))"),
                     {"tag": ":envquality-readings"})


def _cursor(conn: sa.Connection) -> Any:
    raw: Any = conn.connection.driver_connection
    return raw.cursor()


def _tsql(pg: bool) -> tuple[str, str]:
    """SQL of a time column as epoch seconds, and of an epoch-seconds parameter as a time."""
    return ("CAST(EXTRACT(EPOCH FROM {c}) AS BIGINT)", "to_timestamp(%s)") if pg else ("{c}", "?")


def _span(conn: sa.Connection, ingest_id: int) -> tuple[int, int] | None:
    L = S.ingest_log.c
    row = conn.execute(sa.select(L.period_start, L.period_end).where(L.id == ingest_id)).one_or_none()
    if row is None or row.period_start is None or row.period_end is None:
        return None
    return int(row.period_start.timestamp()), int(row.period_end.timestamp())


def delivery_series(conn: sa.Connection, ingest_id: int) -> set[int]:
    """Series ids a delivery provides (shown in ``reading`` or kept in ``reading_delivery``)."""
    span = _span(conn, ingest_id)
    if span is None:
        return set()
    pg = is_postgres(conn)
    ph = "to_timestamp(%s)" if pg else "?"
    p = "%s" if pg else "?"
    cur = _cursor(conn)
    try:
        out: set[int] = set()
        for table in ("reading", "reading_delivery"):
            cur.execute(f"SELECT DISTINCT series_id FROM {table} WHERE time BETWEEN {ph} AND {ph} "
                        f"AND ingest_id = {p}", (span[0], span[1], int(ingest_id)))
            out.update(int(r[0]) for r in cur.fetchall())
        return out
    finally:
        cur.close()


def _fetch(conn: sa.Connection, sql: str, params: Sequence, columns: list[str]) -> pd.DataFrame:
    cur = _cursor(conn)
    try:
        cur.execute(sql, list(params))
        rows = cur.fetchall()
    finally:
        cur.close()
    df = pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)
    if "value" in df:
        df["value"] = pd.to_numeric(df["value"]).astype("float64")
    return df


def _choose(shown: pd.DataFrame, others: pd.DataFrame) -> pd.DataFrame:
    """For each key of ``shown``: the other delivery's row to show instead (``ingest_id`` NaN: none).

    The latest delivery with a value that no later invalidation masks; else
    the latest invalidation; else the latest delivery reporting it missing.
    """
    keys = ["series_id", "t"]
    cand = others.merge(shown[keys], on=keys)
    if len(cand):
        inv = cand["flag"].eq(INVALIDATED_FLAG) & cand["value"].isna()
        last_inv = cand["ingest_id"].where(inv).groupby([cand["series_id"], cand["t"]]).transform("max")
        valued = cand["value"].notna() & ~(cand["ingest_id"] < last_inv)
        # rank: valued rows first, then invalidations, then missing; later delivery first within a rank
        cand = cand.assign(rank=np.where(valued, 2, np.where(inv, 1, 0)))
        cand = cand.sort_values(keys + ["rank", "ingest_id"]).drop_duplicates(keys, keep="last")
    return shown[keys].merge(cand.drop(columns=["rank"], errors="ignore"), on=keys, how="left")


def supersede_delivery(conn: sa.Connection, old: int, new: int, cause: str | None = None) -> SupersedeStats:
    """Make delivery ``old`` non-current, superseded by ingest ``new`` (inside the caller's transaction).

    Its readings shown in ``reading`` fall back to the best remaining current
    delivery (:func:`_choose`) or are deleted; each change is logged in
    ``reading_history`` with ``cause`` (default "superseded by ingest N").
    Its unresolved quarantine rows are resolved.
    """
    cause = cause or f"superseded by ingest {new}"
    L = S.ingest_log.c
    conn.execute(sa.update(S.ingest_log).where(L.id == old)
                 .values(status="superseded", superseded_by_id=new))
    conn.execute(sa.update(S.quarantine)
                 .where(S.quarantine.c.ingest_id == old, S.quarantine.c.resolved == sa.false())
                 .values(resolved=True, resolution=f"superseded by ingest {new}"))
    conn.execute(sa.delete(S.daily_stat).where(S.daily_stat.c.ingest_id == old))
    span = _span(conn, old)
    if span is None:
        return SupersedeStats()
    pg = is_postgres(conn)
    tcol, ph = _tsql(pg)
    p = "%s" if pg else "?"
    rng = f"time BETWEEN {ph} AND {ph}"
    cur = _cursor(conn)
    try:
        cur.execute(f"DELETE FROM reading_delivery WHERE {rng} AND ingest_id = {p}", (span[0], span[1], old))
    finally:
        cur.close()
    shown = _fetch(conn, f"SELECT series_id, {tcol.format(c='time')}, value, flag FROM reading "
                         f"WHERE {rng} AND ingest_id = {p}", (span[0], span[1], old),
                   ["series_id", "t", "value", "flag"])
    if not len(shown):
        return SupersedeStats()
    others = _fetch(conn, f"SELECT d.series_id, {tcol.format(c='d.time')}, d.ingest_id, d.value, d.flag "
                          f"FROM reading_delivery d JOIN ingest_log l ON l.id = d.ingest_id "
                          f"WHERE d.{rng} AND (l.status = 'ok' OR l.id = {p})", (*span, new),
                    ["series_id", "t", "ingest_id", "value", "flag"])
    chosen = _choose(shown, others)
    return _apply(conn, shown, chosen, old, new, cause)


def _apply(conn: sa.Connection, shown: pd.DataFrame, chosen: pd.DataFrame, old: int, by: int,
           cause: str) -> SupersedeStats:
    """Write the choice: promote chosen rows into ``reading``, delete the rest, log the history."""
    pg = is_postgres(conn)
    keep = chosen["ingest_id"].notna().to_numpy()
    promote, drop = chosen[keep], chosen[~keep]
    _stage(conn, promote.assign(ingest_id=promote["ingest_id"].astype("int64")))
    cur = _cursor(conn)
    t = "to_timestamp(x.t)" if pg else "x.t"
    try:
        cur.execute(f"UPDATE reading SET value = x.value, flag = x.flag, ingest_id = x.ingest_id FROM {_TMP} x "
                    f"WHERE reading.series_id = x.series_id AND reading.time = {t}")
        cur.execute(f"DELETE FROM reading_delivery WHERE EXISTS (SELECT 1 FROM {_TMP} x WHERE "
                    f"reading_delivery.series_id = x.series_id AND reading_delivery.time = {t} "
                    "AND reading_delivery.ingest_id = x.ingest_id)")
    finally:
        cur.close()
    _stage(conn, drop.assign(ingest_id=-1))
    cur = _cursor(conn)
    try:
        cur.execute(f"DELETE FROM reading WHERE EXISTS (SELECT 1 FROM {_TMP} x WHERE "
                    f"reading.series_id = x.series_id AND reading.time = {t})")
    finally:
        cur.close()
    before = shown.set_index(["series_id", "t"])
    after = chosen.set_index(["series_id", "t"])
    changed = ~(keep & ((before["value"].to_numpy() == after["value"].to_numpy())
                        | (before["value"].isna().to_numpy() & after["value"].isna().to_numpy()))
                & (before["flag"].fillna("").to_numpy() == after["flag"].fillna("").to_numpy()))
    _history(conn, shown[changed], old, after["ingest_id"].to_numpy()[changed], by, cause)
    return SupersedeStats(removed=int((~keep).sum()), replaced=int((keep & changed).sum()))


def _stage(conn: sa.Connection, rows: pd.DataFrame) -> None:
    """Fill the temporary table ``eq_resolve (series_id, t, value, flag, ingest_id)``."""
    pg = is_postgres(conn)
    cur = _cursor(conn)
    try:
        if pg:
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TMP} (series_id int4, t int8, value float8, flag text, "
                        "ingest_id int4) ON COMMIT DROP")
        else:
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TMP} (series_id INTEGER, t INTEGER, value REAL, "
                        "flag TEXT, ingest_id INTEGER)")
        cur.execute(f"DELETE FROM {_TMP}")
        if len(rows):
            ph = ", ".join(["%s" if pg else "?"] * 5)
            data = zip(rows["series_id"].astype("int64").tolist(), rows["t"].astype("int64").tolist(),
                       rows["value"].astype(object).where(rows["value"].notna(), None).tolist(),
                       rows["flag"].astype(object).where(rows["flag"].notna(), None).tolist(),
                       rows["ingest_id"].astype("int64").tolist())
            cur.executemany(f"INSERT INTO {_TMP} VALUES ({ph})", list(data))
    finally:
        cur.close()


def _history(conn: sa.Connection, old_rows: pd.DataFrame, old_ingest: int | np.ndarray, new_ingest: np.ndarray,
             by: int, cause: str) -> None:
    if not len(old_rows):
        return
    now = S.utcnow()
    n = len(old_rows)
    olds = np.broadcast_to(np.asarray(old_ingest), (n,))
    times = pd.to_datetime(old_rows["t"].to_numpy(dtype="int64"), unit="s", utc=True)
    recs = pd.DataFrame({
        "series_id": old_rows["series_id"].astype("int64").to_numpy(),
        "time": list(times.to_pydatetime()),
        "value": old_rows["value"].to_numpy(),
        "flag": old_rows["flag"].to_numpy(),
        "ingest_id": olds,
        "new_ingest_id": new_ingest,
    })
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()}
                                     for r in recs.astype(object).where(recs.notna(), None).to_dict("records")]
    for r in records:
        r.update(cause=cause, by_ingest_id=by, changed_at=now)
        for k in ("series_id", "ingest_id", "new_ingest_id"):
            if r[k] is not None:
                r[k] = int(r[k])
    conn.execute(sa.insert(S.reading_history), records)


def invalidate_readings(
    engine: sa.Engine,
    *,
    reason: str,
    stations: Sequence[str] | None = None,
    pollutants: Sequence[str] | None = None,
    start: dt.datetime | pd.Timestamp,
    end: dt.datetime | pd.Timestamp,
    operator: str | None = None,
) -> tuple[int, int]:
    """Invalidate stored values on audit: an explicit, logged operation.

    Every stored reading with a value in ``[start, end]`` (hour-ending,
    tz-aware) of the given stations and pollutants (all when None) becomes
    missing with flag ``invalidated``.  The old value stays in
    ``reading_delivery`` (its delivery is still current) and is logged in
    ``reading_history`` with the reason.  A delivery received after the
    invalidation may show a value again.

    Returns
    -------
    (int, int)
        The audit entry's ``ingest_log.id`` and the number of readings invalidated.
    """
    if not reason or not reason.strip():
        raise ValueError("an invalidation needs a reason")
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if lo.tzinfo is None or hi.tzinfo is None:
        raise ValueError("start and end must be tz-aware")
    note = reason.strip() if operator is None else f"{reason.strip()} (by {operator})"
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            lock_store_writes(conn)
            now = S.utcnow()
            what = f"invalidate {','.join(stations or ['*'])} {','.join(pollutants or ['*'])} {lo} – {hi}"
            iid = conn.execute(sa.insert(S.ingest_log).values(
                source=AUDIT_SOURCE, file_or_url=what[:500], status="ok", started_at=now, finished_at=now,
                period_start=lo.to_pydatetime(), period_end=hi.to_pydatetime(), note=note,
            ).returning(S.ingest_log.c.id)).scalar_one()
            shown = _select_shown(conn, stations, pollutants, int(lo.timestamp()), int(hi.timestamp()))
            _invalidate(conn, shown, iid)
            _history(conn, shown, shown["ingest_id"].to_numpy(), np.full(len(shown), iid), iid,
                     f"invalidated on audit: {note}")
            conn.execute(sa.update(S.ingest_log).where(S.ingest_log.c.id == iid)
                         .values(rows_ok=len(shown), rows_written=len(shown)))
    return int(iid), int(len(shown))


def _select_shown(conn: sa.Connection, stations, pollutants, lo: int, hi: int) -> pd.DataFrame:
    pg = is_postgres(conn)
    tcol, ph = _tsql(pg)
    p = "%s" if pg else "?"
    where, params = [f"r.time BETWEEN {ph} AND {ph}", "r.value IS NOT NULL"], [lo, hi]
    for col, vals in (("s.station", stations), ("s.pollutant", pollutants)):
        if vals is not None:
            vals = [str(v) for v in vals] or ["\x00"]
            where.append(f"{col} IN ({', '.join([p] * len(vals))})")
            params += vals
    return _fetch(conn, f"SELECT r.series_id, {tcol.format(c='r.time')}, r.value, r.flag, r.ingest_id "
                        f"FROM reading r JOIN series s ON s.id = r.series_id WHERE {' AND '.join(where)}",
                  params, ["series_id", "t", "value", "flag", "ingest_id"])


def _invalidate(conn: sa.Connection, shown: pd.DataFrame, iid: int) -> None:
    if not len(shown):
        return
    pg = is_postgres(conn)
    _stage(conn, shown)
    t = "to_timestamp(x.t)" if pg else "x.t"
    cur = _cursor(conn)
    try:
        cur.execute(f"INSERT INTO reading_delivery (time, series_id, ingest_id, value, flag) "
                    f"SELECT {t}, x.series_id, x.ingest_id, x.value, x.flag FROM {_TMP} x WHERE true "
                    "ON CONFLICT (time, series_id, ingest_id) DO UPDATE SET value = excluded.value, "
                    "flag = excluded.flag")
        p = "%s" if pg else "?"
        cur.execute(f"UPDATE reading SET value = NULL, flag = {p}, ingest_id = {p} FROM {_TMP} x "
                    f"WHERE reading.series_id = x.series_id AND reading.time = {t}", (INVALIDATED_FLAG, iid))
    finally:
        cur.close()
