"""Daily city values for targets and reports: from the store or from a tidy file.

Both paths give one *wide daily frame*: one row per division and CST day,
columns ``entity`` (division code), ``date`` (datetime64, midnight),
the daily indicators ``so2_24h no2_24h pm10_24h pm25_24h co_24h o3_1h
o3_8h`` [µg/m³; CO mg/m³; NaN where invalid], ``aqi`` (the daily AQI by the
day's rule set; NaN where not defined) and ``dust`` (bool: a dust-affected
day).  :func:`daily_arrays` lays the frame out as ``(entity, day)`` arrays
and :func:`city_dataset` as the ``(city, date)`` Dataset the HJ 663 engine
(:func:`envquality.stats.datasets.assess`) takes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
import xarray as xr

from envquality.stats.assessment import DAILY_INDICATORS, daily_aqi_by_date

__all__ = ["read_daily", "daily_from_tidy", "daily_arrays", "city_dataset", "with_aqi", "DUST_INDICATOR",
           "PROGRESS_INDICATORS"]

#: ``daily_stat`` indicator of a dust-affected city-day (value 1); when no such
#: rows exist, dust days come from PM readings the gate flagged ``likely_dust``.
DUST_INDICATOR = "dust"


def _day(x) -> dt.date:
    return pd.Timestamp(x).date()


def _prefer_computed(long: pd.DataFrame) -> pd.DataFrame:
    """One row per (entity, date, indicator): a computed rule set's row before a source-reported one."""
    reported = long["ruleset"].astype(str).str.startswith("reported")
    long = long.assign(_rank=reported.astype(int)).sort_values(["entity", "date", "indicator", "_rank"],
                                                               kind="stable")
    return long.drop_duplicates(["entity", "date", "indicator"]).drop(columns="_rank")


#: What the progress of the air targets reads: AQI, particulates, dust (gases only on dust days).
PROGRESS_INDICATORS: tuple[str, ...] = ("aqi", "pm25_24h", "pm10_24h", DUST_INDICATOR)


def read_daily(engine: sa.Engine, start, end, *, entities=None, indicators=None) -> pd.DataFrame:
    """Wide daily frame of the divisions from ``daily_stat`` for [start, end].

    ``indicators`` limits what is read (default all daily indicators, AQI
    and dust); with :data:`PROGRESS_INDICATORS` the gases are read for the
    dust-flagged days only (to tell a dust-caused exceedance).

    Values a rule set computed win over source-reported values
    (``ruleset`` ``reported:*``).  Days without rows are absent (treated as
    missing days downstream).  Dust days: ``daily_stat`` indicator
    :data:`DUST_INDICATOR`, else the ``likely_dust`` flags of stored PM
    readings (:func:`envquality.pipeline.daily_figures` uses the same rule).
    """
    wanted = list(indicators) if indicators is not None else list(DAILY_INDICATORS) + ["aqi", DUST_INDICATOR]
    gases = [c for c in DAILY_INDICATORS if c not in wanted]
    with engine.connect() as conn:
        long = _fetch_daily(conn, _day(start), _day(end), wanted, entities)
        if gases and DUST_INDICATOR in wanted and (long["indicator"] == DUST_INDICATOR).any():
            long = pd.concat([long, _fetch_daily(conn, _day(start), _day(end), gases, entities, dust_days=True)],
                             ignore_index=True)
        dust_from_readings = None
        if not (long["indicator"] == DUST_INDICATOR).any():
            dust_from_readings = _dust_from_readings(conn, start, end)
    return _widen(long, dust_from_readings)


def _fetch_daily(conn: sa.Connection, start: dt.date, end: dt.date, indicators: list[str],
                 entities=None, *, dust_days: bool = False) -> pd.DataFrame:
    """City rows of ``daily_stat`` as columns, through the DBAPI cursor (parameterised SQL, plain tuples)."""
    from envquality.store.engine import is_postgres

    pg = is_postgres(conn)
    ph = "%s" if pg else "?"
    sql = ("SELECT entity, date, indicator, ruleset, value FROM daily_stat s WHERE entity_kind = " + ph
           + f" AND date >= {ph} AND date <= {ph} AND indicator IN ({', '.join([ph] * len(indicators))})")
    if dust_days:  # primary-key lookups of the dust row of the same division and day
        sql += (" AND EXISTS (SELECT 1 FROM daily_stat d WHERE d.entity_kind = s.entity_kind AND d.entity = s.entity"
                f" AND d.date = s.date AND d.indicator = '{DUST_INDICATOR}' AND d.value = 1)")
    params: list = ["city", start if pg else start.isoformat(), end if pg else end.isoformat(), *indicators]
    if entities is not None:
        ents = [str(e) for e in entities]
        sql += f" AND entity IN ({', '.join([ph] * len(ents))})" if ents else " AND 1 = 0"
        params += ents
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql, params)
        rows = cur.fetchall()
    finally:
        cur.close()
    return pd.DataFrame.from_records(rows, columns=["entity", "date", "indicator", "ruleset", "value"],
                                     coerce_float=True)


def _widen(long: pd.DataFrame, dust_pairs: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["entity", "date", *DAILY_INDICATORS, "aqi", "dust"]
    if long.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols}).astype(
            {"entity": str, "date": "datetime64[ns]", "dust": bool})
    long["date"] = pd.to_datetime(long["date"])
    long["entity"] = long["entity"].astype(str)
    long["value"] = pd.to_numeric(long["value"]).astype("float64")
    long = _prefer_computed(long)
    wide = long.pivot(index=["entity", "date"], columns="indicator", values="value")
    for c in (*DAILY_INDICATORS, "aqi", DUST_INDICATOR):
        if c not in wide:
            wide[c] = np.nan
    wide = wide.reset_index()
    wide["dust"] = wide.pop(DUST_INDICATOR).fillna(0).astype(bool)
    if dust_pairs is not None and len(dust_pairs):
        key = pd.MultiIndex.from_frame(wide[["entity", "date"]])
        hit = key.isin(pd.MultiIndex.from_frame(dust_pairs[["entity", "date"]]))
        wide.loc[hit, "dust"] = True
    return wide.loc[:, cols].sort_values(["entity", "date"]).reset_index(drop=True)


def _dust_from_readings(conn: sa.Connection, start, end) -> pd.DataFrame:
    """(division, day) pairs with a reading flagged ``likely_dust`` by the gate.

    Only the flagged rows come back (the filter runs in the database on the
    time range of the primary key).
    """
    from envquality.store import schema as S

    lo = pd.Timestamp(_day(start)).tz_localize("Asia/Shanghai") + pd.Timedelta(hours=1)
    hi = pd.Timestamp(_day(end)).tz_localize("Asia/Shanghai") + pd.Timedelta(days=1)
    r, s, st = S.reading.c, S.series.c, S.station.c
    q = (sa.select(st.city_code, r.time)
         .select_from(S.reading.join(S.series, s.id == r.series_id).join(S.station, st.code == s.station))
         .where(r.flag == "likely_dust", r.time >= lo.to_pydatetime(), r.time <= hi.to_pydatetime()))
    rows = conn.execute(q).all()
    if not rows:
        return pd.DataFrame({"entity": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[ns]")})
    got = pd.DataFrame(rows, columns=["entity", "time"])
    t = pd.to_datetime(got["time"], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    out = pd.DataFrame({"entity": got["entity"].astype(str), "date": (t - pd.Timedelta(hours=1)).dt.normalize()})
    return out.drop_duplicates().reset_index(drop=True)


def daily_from_tidy(data: pd.DataFrame, resolution: str, *, dust: pd.DataFrame | None = None,
                    registry=None, file: str = "") -> pd.DataFrame:
    """Wide daily frame from tidy readings (hourly station data or daily values), as ``envquality assess`` reads.

    Station daily values follow GB 3095 Table 4 and HJ 663 §6.1; city values
    are the mean of the assessment stations (HJ 663 §5).  ``dust``: rows
    ``city, date`` of dust-affected days.
    """
    from envquality.assess import assign_cities, city_daily_from_daily_tidy
    from envquality.registry import default_registry
    from envquality.stats.datasets import city_daily, hourly_grid, station_daily

    reg = registry or default_registry()
    data = assign_cities(data, reg, file=file)
    if resolution == "hourly":
        city = city_daily(station_daily(hourly_grid(data)))
    else:
        city = city_daily_from_daily_tidy(data)
    frame = city.to_dataframe().reset_index().rename(columns={"city": "entity"})
    frame = frame.loc[:, ["entity", "date", *[c for c in DAILY_INDICATORS if c in frame]]]
    frame["dust"] = False
    if dust is not None and len(dust):
        pairs = pd.DataFrame({"entity": [reg.city_code(c) for c in dust["city"]],
                              "date": pd.to_datetime(dust["date"]).dt.normalize()})
        key = pd.MultiIndex.from_frame(frame[["entity", "date"]])
        frame.loc[key.isin(pd.MultiIndex.from_frame(pairs)), "dust"] = True
    return with_aqi(frame)


def daily_arrays(frame: pd.DataFrame, entities, start, end) -> dict[str, np.ndarray]:
    """``(entity, day)`` arrays of every column over the calendar days [start, end]; absent days NaN (dust False)."""
    days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
    ents = [str(e) for e in entities]
    ei = pd.Index(ents).get_indexer(pd.Index(frame["entity"].astype(str)))
    di = ((pd.to_datetime(frame["date"]).dt.normalize() - days[0]).dt.days).to_numpy()
    ok = (ei >= 0) & (di >= 0) & (di < len(days))
    out: dict[str, np.ndarray] = {}
    for c in (*DAILY_INDICATORS, "aqi"):
        a = np.full((len(ents), len(days)), np.nan)
        if c in frame:
            a[ei[ok], di[ok]] = pd.to_numeric(frame[c]).to_numpy(dtype="float64")[ok]
        out[c] = a
    d = np.zeros((len(ents), len(days)), dtype=bool)
    if "dust" in frame:
        d[ei[ok], di[ok]] = frame["dust"].fillna(False).to_numpy(dtype=bool)[ok]
    out["dust"] = d
    out["days"] = days.values.astype("datetime64[D]")
    return out


def with_aqi(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill ``aqi`` where it is missing from the daily indicators, by each day's rule set (HJ 633)."""
    frame = frame.copy()
    if "aqi" not in frame:
        frame["aqi"] = np.nan
    need = frame["aqi"].isna().to_numpy()
    if need.any():
        sub = frame.loc[need]
        daily = {c: sub[c].to_numpy(dtype="float64")[None, :] for c in DAILY_INDICATORS if c in sub}
        if daily:
            res, _ = daily_aqi_by_date(daily, sub["date"].to_numpy().astype("datetime64[D]"))
            frame.loc[need, "aqi"] = res.aqi[0]
    return frame


def city_dataset(frame: pd.DataFrame, entities, start, end) -> tuple[xr.Dataset, xr.DataArray]:
    """``(city, date)`` Dataset of the daily indicators and the dust flags, for the HJ 663 engine."""
    arr = daily_arrays(frame, entities, start, end)
    coords = {"city": [str(e) for e in entities], "date": arr["days"].astype("datetime64[ns]")}
    ds = xr.Dataset({c: (("city", "date"), arr[c]) for c in DAILY_INDICATORS}, coords=coords)
    dust = xr.DataArray(arr["dust"], coords=coords, dims=("city", "date"))
    return ds, dust
