"""The day as the unit of work: day, range and dirty-day jobs over the store.

Three entry points, used by the CLI (``envquality compute``), the demo and
the DAGs:

:func:`run_day`
    Reads one day's hourly readings (columnar, :func:`~envquality.store.
    columnar.read_hourly`), writes that day's station and division daily
    values to ``daily_stat`` and recomputes the periods containing the day
    (month, calendar year to date, rolling 365 days) from the STORED daily
    values, so its cost does not grow with the hourly history.
:func:`run_range`
    The same for any span of days in one vectorised pass per calendar month
    (memory stays flat whatever the span), then every period the span
    touches.
:func:`run_dirty`
    Recomputes the days that ingests marked dirty (``dirty_day``: late or
    corrected readings) and the periods containing them, nothing else.

Writes are differential: a computed row is inserted or updated only when its
value, count, validity or reason differs from the stored one, and stored
computed rows of the recomputed days (or periods) that the computation no
longer produces are deleted.  Re-running on unchanged readings writes
nothing (``rows_written == 0``).  Source-reported daily values
(``ingest_id`` not NULL) are never touched.

Periods (``period_stat.period``): ``YYYY-MM`` (a month), ``YYYY`` (a
calendar year, to date: it ends on the last computed day when that lies in
the year) and ``rolling365`` (the 365 days ending on the last computed day).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
import xarray as xr

from envquality.registry import Registry, default_registry
from envquality.standards.rulesets import ruleset_for
from envquality.stats.datasets import PROVINCE, assess, city_daily, daily_city_aqi, station_daily
from envquality.stats.validity import REASONS
from envquality.store import schema as S
from envquality.store.columnar import read_flagged_days, read_hourly
from envquality.store.dirty import clear_dirty_days, dirty_days
from envquality.store.engine import is_postgres

__all__ = ["run_day", "run_range", "run_dirty", "ComputeResult", "read_city_daily", "period_table",
           "DAILY_INDICATORS", "PERIOD_ITEMS", "ROLLING"]

#: Daily indicators written per station and city (the city also gets ``aqi`` and ``dust``).
DAILY_INDICATORS = ("so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_1h", "o3_8h")

#: Period statistics stored in ``period_stat`` (suffix ``@dust_excluded`` for that variant).
PERIOD_ITEMS = ("good_ratio", "valid_days", "good_days", "exceed_days", "heavy_days", "severe_days",
                "dust_removed_days", "so2_mean", "no2_mean", "pm10_mean", "pm10_p95", "pm25_mean", "pm25_p95",
                "so2_p98", "no2_p98", "co_p95", "o3_p90", "composite_index", "rank_composite", "rank_pm25",
                "rank_good_ratio")

#: Label of the rolling 365-day period.
ROLLING = "rolling365"

_DAILY_COLS = ["entity_kind", "entity", "date", "indicator", "ruleset", "value", "n", "valid", "reason"]
_PERIOD_COLS = ["entity_kind", "entity", "period", "indicator", "ruleset", "period_start", "period_end",
                "value", "n", "valid", "reason"]
_PG_TYPES = {"entity_kind": "text", "entity": "text", "date": "date", "indicator": "text", "ruleset": "text",
             "value": "float8", "n": "int4", "valid": "boolean", "reason": "text", "period": "text",
             "period_start": "date", "period_end": "date"}


@dataclass
class ComputeResult:
    """What a compute job recomputed.

    Attributes
    ----------
    days : list of date
        Days whose daily values were recomputed.
    periods : list of str
        Period labels recomputed (``2024``, ``2024-03``, ``rolling365``).
    rows_written : int
        ``daily_stat`` and ``period_stat`` rows inserted, changed or deleted
        (unchanged rows are not written).
    read_seconds, compute_seconds, write_seconds : float
        Time spent reading the store, computing and writing.
    """

    days: list[dt.date] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    rows_written: int = 0
    read_seconds: float = 0.0
    compute_seconds: float = 0.0
    write_seconds: float = 0.0

    def __str__(self) -> str:
        if not self.days and not self.periods:
            return "nothing to recompute"
        if not self.days:
            span = "no days"
        elif len(self.days) == 1:
            span = f"1 day ({self.days[0]})"
        else:
            span = f"{len(self.days)} days ({self.days[0]} – {self.days[-1]})"
        shown = ", ".join(self.periods[:8]) + (f", … ({len(self.periods)} in all)" if len(self.periods) > 8 else "")
        return (f"recomputed {span}; periods: {shown or 'none'}; {self.rows_written} rows written "
                f"(read {self.read_seconds:.1f} s, compute {self.compute_seconds:.1f} s, "
                f"write {self.write_seconds:.1f} s)")


Progress = Callable[[str], None] | None


# ------------------------------------------------------------------ entry points
def run_day(engine: sa.Engine, day: dt.date | str, *, registry: Registry | None = None,
            progress: Progress = None) -> ComputeResult:
    """Daily values of ``day`` and the periods containing it (see the module docstring).

    References
    ----------
    GB 3095 Table 4 and HJ 663 §5, §6 (daily values, capture, city means,
    period statistics); HJ 633 (daily AQI), each by the rule set of the day.
    """
    d = pd.Timestamp(day).date()
    return run_range(engine, d, d, registry=registry, progress=progress)


def run_range(engine: sa.Engine, start: dt.date | str, end: dt.date | str, *,
              registry: Registry | None = None, progress: Progress = None) -> ComputeResult:
    """Daily values of the days [start, end], a month at a time, then every period they touch.

    Dirty marks of these days that existed when the job started are cleared.

    References
    ----------
    As :func:`run_day`.
    """
    first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    with engine.connect() as conn:
        seen = dirty_days(conn, first, last)
    result = _recompute(engine, [(first, last)], registry or default_registry(), progress)
    with engine.begin() as conn:
        clear_dirty_days(conn, seen)
    return result


def run_dirty(engine: sa.Engine, *, registry: Registry | None = None, progress: Progress = None) -> ComputeResult:
    """Recompute the days marked dirty by ingests and the periods containing them.

    References
    ----------
    As :func:`run_day`.
    """
    with engine.connect() as conn:
        seen = dirty_days(conn)
    if not seen:
        return ComputeResult()
    result = _recompute(engine, _runs(sorted(seen)), registry or default_registry(), progress)
    with engine.begin() as conn:
        clear_dirty_days(conn, seen)
    return result


# ------------------------------------------------------------------ orchestration
def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days grouped into (first, last) runs."""
    runs: list[tuple[dt.date, dt.date]] = []
    for d in days:
        if runs and (d - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _month_chunks(first: dt.date, last: dt.date) -> Iterable[tuple[dt.date, dt.date]]:
    lo = first
    while lo <= last:
        month_end = (pd.Timestamp(lo) + pd.offsets.MonthEnd(0)).date()
        hi = min(month_end, last)
        yield lo, hi
        lo = hi + dt.timedelta(days=1)


def _recompute(engine: sa.Engine, runs: list[tuple[dt.date, dt.date]], reg: Registry,
               progress: Progress) -> ComputeResult:
    result = ComputeResult()
    for first, last in runs:
        for lo, hi in _month_chunks(first, last):
            if progress:
                progress(f"daily values {lo} – {hi}")
            _daily_chunk(engine, lo, hi, reg, result)
    if progress:
        progress("period figures from the stored daily values")
    _periods(engine, result.days, reg, result)
    return result


# ------------------------------------------------------------------ daily values
def _registry_arrays(reg: Registry) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    st = reg.stations
    codes = st["code"].astype(str).tolist()
    city = st["city_code"].astype(str).to_numpy()
    assessment = (st["assessment"].astype(object).fillna(True).astype(bool).to_numpy() if "assessment" in st
                  else np.ones(len(st), bool))
    return codes, city, assessment, reg.cities["code"].astype(str).tolist()


def _daily_chunk(engine: sa.Engine, lo: dt.date, hi: dt.date, reg: Registry, result: ComputeResult) -> None:
    stations, city_of, assessment, cities = _registry_arrays(reg)
    t0 = time.perf_counter()
    with engine.connect() as conn:
        hourly = read_hourly(conn, lo, hi, stations)
        flagged = read_flagged_days(conn, lo, hi)
    t1 = time.perf_counter()
    hourly = hourly.assign_coords(city=("station", city_of), assessment=("station", assessment))
    sd = station_daily(hourly)
    cd = city_daily(sd, cities=cities)
    aqi = daily_city_aqi(cd)
    dust = _dust(flagged, dict(zip(stations, city_of)), cities, pd.DatetimeIndex(cd["date"].values))
    rows = pd.concat([_station_rows(sd), _city_rows(cd, aqi, dust)], ignore_index=True)
    t2 = time.perf_counter()
    with engine.begin() as conn:
        where = "date BETWEEN {p} AND {p} AND ingest_id IS NULL AND entity_kind IN ('station', 'city')"
        result.rows_written += _sync(conn, S.daily_stat, rows, where, (lo, hi))
    t3 = time.perf_counter()
    result.days += [d.date() for d in pd.date_range(lo, hi, freq="D")]
    result.read_seconds += t1 - t0
    result.compute_seconds += t2 - t1
    result.write_seconds += t3 - t2


def _dust(flagged: pd.DataFrame, city_of: dict[str, str], cities: list[str], dates: pd.DatetimeIndex) -> np.ndarray:
    """(city, date) True where a station of the city had a reading flagged ``likely_dust``."""
    out = np.zeros((len(cities), len(dates)), dtype=bool)
    if len(flagged):
        ci = pd.Index(cities).get_indexer(pd.Index(flagged["station"].map(city_of)))
        di = dates.get_indexer(pd.DatetimeIndex(flagged["date"]))
        ok = (ci >= 0) & (di >= 0)
        out[ci[ok], di[ok]] = True
    return out


def _reason_text(codes: np.ndarray) -> np.ndarray:
    table = np.array([REASONS.get(i) or None for i in range(max(REASONS) + 1)], dtype=object)
    return table[np.asarray(codes, dtype=np.int64)]


def _standards(dates: pd.DatetimeIndex) -> np.ndarray:
    return np.array([ruleset_for(d).aqi_standard for d in dates.date], dtype=object)


def _station_rows(sd: xr.Dataset) -> pd.DataFrame:
    """Station daily rows of the indicators, for station-days with any data (n > 0)."""
    dates = pd.DatetimeIndex(sd["date"].values)
    stations = np.asarray(sd["station"].values).astype(str)
    standard = _standards(dates)
    parts = []
    for ind in DAILY_INDICATORS:
        if ind not in sd:
            continue
        v = sd[ind].transpose("station", "date").values.reshape(-1)
        n = sd[f"{ind}_n"].transpose("station", "date").values.reshape(-1)
        r = sd[f"{ind}_reason"].transpose("station", "date").values.reshape(-1)
        keep = n > 0
        parts.append(pd.DataFrame({
            "entity_kind": "station",
            "entity": np.repeat(stations, len(dates))[keep],
            "date": np.tile(dates.date, len(stations))[keep],
            "indicator": ind,
            "ruleset": np.tile(standard, len(stations))[keep],
            "value": v[keep].astype(float),
            "n": n[keep].astype(np.int64),
            "valid": ~np.isnan(v[keep].astype(float)),
            "reason": _reason_text(r[keep]),
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_DAILY_COLS)


def _city_rows(cd: xr.Dataset, aqi: xr.Dataset, dust: np.ndarray) -> pd.DataFrame:
    """City daily rows: indicators (n = stations averaged), ``aqi`` and ``dust`` (1/0)."""
    dates = pd.DatetimeIndex(cd["date"].values)
    cities = np.asarray(cd["city"].values).astype(str)
    standard = _standards(dates)
    parts = []
    for ind in DAILY_INDICATORS + ("aqi", "dust"):
        if ind == "dust":
            v = dust.astype(float)
            n = dust.astype(np.int64)
        elif ind == "aqi":
            v = aqi["aqi"].transpose("city", "date").values.astype(float)
            n = (~np.isnan(v)).astype(np.int64)
        elif ind in cd:
            v = cd[ind].transpose("city", "date").values.astype(float)
            n = cd[f"{ind}_stations"].transpose("city", "date").values.astype(np.int64)
        else:
            continue
        nan = np.isnan(v)
        reason = np.full(v.shape, None, dtype=object)
        reason[nan] = "AQI not defined" if ind == "aqi" else REASONS[6]
        parts.append(pd.DataFrame({
            "entity_kind": "city",
            "entity": np.repeat(cities, len(dates)),
            "date": np.tile(dates.date, len(cities)),
            "indicator": ind,
            "ruleset": np.tile(standard, len(cities)),
            "value": v.reshape(-1),
            "n": n.reshape(-1),
            "valid": ~nan.reshape(-1),
            "reason": reason.reshape(-1),
        }))
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------ periods
def _last_day(conn: sa.Connection) -> dt.date | None:
    c = S.daily_stat.c
    return conn.execute(sa.select(sa.func.max(c.date)).where(
        c.entity_kind == "city", c.indicator == "aqi", c.ingest_id.is_(None))).scalar()


def _periods_of(days: Iterable[dt.date], last: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(label, start, end) of the months, years and rolling window containing ``days``."""
    out: dict[str, tuple[dt.date, dt.date]] = {}
    rolling_from = last - dt.timedelta(days=364)
    for d in sorted(set(days)):
        if d > last:
            continue
        m0 = d.replace(day=1)
        m1 = (pd.Timestamp(m0) + pd.offsets.MonthEnd(0)).date()
        out.setdefault(f"{d:%Y-%m}", (m0, min(m1, last)))
        out.setdefault(f"{d.year}", (dt.date(d.year, 1, 1), min(dt.date(d.year, 12, 31), last)))
        if d >= rolling_from:
            out.setdefault(ROLLING, (rolling_from, last))
    return [(k, *v) for k, v in sorted(out.items())]


def read_city_daily(conn: sa.Connection, start: dt.date, end: dt.date,
                    cities: list[str]) -> tuple[xr.Dataset, xr.DataArray]:
    """Stored computed city daily values of [start, end] as (city, date) arrays, and the dust flags.

    Days without stored values are NaN (dust False).  Source-reported rows
    (``ingest_id`` not NULL) are not read.
    """
    c = S.daily_stat.c
    q = (sa.select(c.entity, c.date, c.indicator, c.value)
         .where(c.entity_kind == "city", c.ingest_id.is_(None), c.date.between(start, end),
                c.indicator.in_(DAILY_INDICATORS + ("dust",))))
    rows = conn.execute(q).all()
    dates = pd.date_range(start, end, freq="D")
    names = list(DAILY_INDICATORS) + ["dust"]
    cube = np.full((len(names), len(cities), len(dates)), np.nan)
    if rows:
        ent, day, ind, val = zip(*rows)
        ii = pd.Index(names).get_indexer(pd.Index(list(ind)))
        ci = pd.Index(cities).get_indexer(pd.Index(list(ent)))
        di = dates.get_indexer(pd.to_datetime(list(day)))
        v = np.array([np.nan if x is None else x for x in val], dtype=float)
        ok = (ii >= 0) & (ci >= 0) & (di >= 0)
        cube[ii[ok], ci[ok], di[ok]] = v[ok]
    coords = {"city": cities, "date": dates.values}
    city = xr.Dataset({k: (("city", "date"), cube[i]) for i, k in enumerate(DAILY_INDICATORS)}, coords=coords)
    dust = xr.DataArray(cube[-1] == 1.0, coords=coords, dims=("city", "date"))
    return city, dust


def _ruleset_label(rulesets: str) -> str:
    """``"HJ633-2012/GB3095-2012/HJ663-2013,HJ633-2026/…"`` -> ``"2012+2026"``."""
    gens = [g for g in ("2012", "2026") if f"HJ633-{g}" in rulesets]
    return "+".join(gens) or rulesets[:32]


def period_table(stats: pd.DataFrame, label: str) -> pd.DataFrame:
    """HJ 663 period statistics (:func:`~envquality.stats.datasets.assess`) as ``period_stat`` rows.

    An invalid item is stored too (value NULL with its reason) when the item
    has a reason column.
    """
    entity = stats["entity"].astype(str).to_numpy()
    kind = np.where(entity == PROVINCE, "province", "city")
    suffix = np.where(stats["dust"].to_numpy() == "included", "", "@dust_excluded").astype(object)
    ruleset = np.array([_ruleset_label(str(r)) for r in stats["rulesets"]], dtype=object)
    p_start = np.array([dt.date.fromisoformat(str(d)[:10]) for d in stats["period_start"]], dtype=object)
    p_end = np.array([dt.date.fromisoformat(str(d)[:10]) for d in stats["period_end"]], dtype=object)
    cols: dict[str, list] = {k: [] for k in _PERIOD_COLS}
    for item in PERIOD_ITEMS:
        if item not in stats:
            continue
        v = pd.to_numeric(stats[item], errors="coerce").to_numpy(dtype=float)
        has_reason = f"{item}_reason" in stats
        keep = ~np.isnan(v) | has_reason
        n = pd.to_numeric(stats[f"{item}_n"] if f"{item}_n" in stats else stats["valid_days"]).to_numpy(dtype=float)
        reason = (np.array([r if r else None for r in stats[f"{item}_reason"]], dtype=object) if has_reason
                  else np.full(len(stats), None, dtype=object))
        for name, values in (("entity_kind", kind), ("entity", entity), ("indicator", item + suffix),
                             ("ruleset", ruleset), ("period_start", p_start), ("period_end", p_end),
                             ("value", v), ("n", n), ("valid", ~np.isnan(v)), ("reason", reason)):
            cols[name].append(values[keep])
    out = pd.DataFrame({k: np.concatenate(v) for k, v in cols.items() if k != "period"})
    out.insert(2, "period", label)
    out["n"] = out["n"].astype("Int64")
    return out[_PERIOD_COLS]


def _periods(engine: sa.Engine, days: list[dt.date], reg: Registry, result: ComputeResult) -> None:
    t0 = time.perf_counter()
    cities = reg.cities["code"].astype(str).tolist()
    with engine.connect() as conn:
        last = _last_day(conn)
        periods = _periods_of(days, last) if last is not None else []
        if not periods:
            return
        city, dust = read_city_daily(conn, min(p[1] for p in periods), max(p[2] for p in periods), cities)
    t1 = time.perf_counter()
    frames = [period_table(assess(city, np.datetime64(s), np.datetime64(e), dust=dust), label)
              for label, s, e in periods]
    rows = pd.concat(frames, ignore_index=True)
    t2 = time.perf_counter()
    labels = [p[0] for p in periods]
    with engine.begin() as conn:
        where = ("period IN (" + ", ".join(["{p}"] * len(labels)) + ") AND entity_kind IN ('city', 'province')")
        result.rows_written += _sync(conn, S.period_stat, rows, where, tuple(labels))
    result.periods = sorted(set(result.periods) | set(labels))
    result.read_seconds += t1 - t0
    result.compute_seconds += t2 - t1
    result.write_seconds += time.perf_counter() - t2


# ------------------------------------------------------------------ differential writes
def _raw(conn: sa.Connection) -> Any:
    """The DBAPI connection under ``conn`` (sqlite3 or psycopg)."""
    return conn.connection.driver_connection


def _stage(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, cols: list[str]) -> str:
    """Fill a temporary table named after ``table`` with ``frame``; returns its name."""
    stage = f"eq_stage_{table.name}"
    key = ", ".join(c.name for c in table.primary_key.columns)
    cur = _raw(conn).cursor()
    try:
        if is_postgres(conn):
            ddl = ", ".join(f"{c} {_PG_TYPES[c]}" for c in cols)
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({ddl}, PRIMARY KEY ({key})) ON COMMIT DROP")
            cur.execute(f"TRUNCATE {stage}")
            data = frame[cols].assign(n=frame["n"].astype("Int64")).to_csv(index=False, header=False,
                                                                          lineterminator="\n")
            with cur.copy(f"COPY {stage} ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as cp:
                cp.write(data.encode("utf-8"))
        else:
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({', '.join(cols)}, PRIMARY KEY ({key}))")
            cur.execute(f"DELETE FROM {stage}")
            columns = []
            for c in cols:
                s = frame[c]
                if c in ("date", "period_start", "period_end"):
                    columns.append([d.isoformat() for d in s])
                elif c == "value":
                    columns.append([None if x != x else x for x in s.to_numpy(dtype=float).tolist()])
                elif c == "n":
                    columns.append(s.astype("Int64").astype(object).where(s.notna(), None).tolist())
                elif c == "valid":
                    columns.append(s.astype(bool).astype(int).tolist())
                else:
                    columns.append(s.tolist())
            cur.executemany(f"INSERT INTO {stage} VALUES ({', '.join(['?'] * len(cols))})", zip(*columns))
    finally:
        cur.close()
    return stage


def _sync(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, where: str, params: tuple) -> int:
    """Make the stored rows within ``where`` equal to ``frame``; returns rows inserted, changed or deleted.

    ``where`` uses ``{p}`` for its parameters.
    """
    pg = is_postgres(conn)
    cols = _DAILY_COLS if table is S.daily_stat else _PERIOD_COLS
    pk = [c.name for c in table.primary_key.columns]
    stage = _stage(conn, table, frame, cols)
    ph = "%s" if pg else "?"
    bind = [p if pg or not isinstance(p, dt.date) else p.isoformat() for p in params]
    t = table.name
    same_key = " AND ".join(f"s.{k} = {t}.{k}" for k in pk)
    distinct = "IS DISTINCT FROM" if pg else "IS NOT"
    changed = " OR ".join(f"{t}.{c} {distinct} excluded.{c}" for c in cols if c not in pk)
    now = S.UtcTime().process_bind_param(S.utcnow(), conn.dialect)
    cur = _raw(conn).cursor()
    try:
        cur.execute(f"DELETE FROM {t} WHERE {where.format(p=ph)} "
                    f"AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE {same_key})", bind)
        written = max(cur.rowcount, 0)
        cur.execute(f"INSERT INTO {t} ({', '.join(cols)}, computed_at) SELECT {', '.join(cols)}, {ph} "
                    f"FROM {stage} WHERE true ON CONFLICT ({', '.join(pk)}) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in cols + ["computed_at"] if c not in pk)
                    + f" WHERE {changed}", (now,))
        written += max(cur.rowcount, 0)
    finally:
        cur.close()
    return written
