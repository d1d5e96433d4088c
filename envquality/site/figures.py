"""The stored figures behind the public pages, read from the store in a few queries.

Nothing here computes an assessment figure that the store already holds:
daily AQI and concentrations come from ``daily_stat``, year-to-date and
monthly statistics from ``period_stat`` (HJ 663).  Two things are derived
for display only, each named where it is done: the primary pollutant(s) of
the latest day (HJ 633 §4.4, from the stored daily concentrations) and —
only when the store holds no monthly ``period_stat`` rows — monthly
good-day ratios and PM means from the stored daily values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.registry import Registry, default_registry
from envquality.site.levels import aqi_categories

__all__ = ["SiteFigures", "read_figures", "latest_day", "DAILY_INDICATORS", "PROVINCE_CODE"]

#: Daily concentrations shown in popups (µg/m³; CO mg/m³).
DAILY_INDICATORS: tuple[str, ...] = ("so2_24h", "no2_24h", "pm10_24h", "co_24h", "pm25_24h", "o3_8h", "o3_1h")
PROVINCE_CODE = "620000"
_PERIOD_ITEMS = ("good_ratio", "valid_days", "good_days", "pm25_mean", "pm10_mean")


@dataclass
class SiteFigures:
    """Every frame the pages draw (one row per division, day, month, station or source)."""

    day: dt.date
    cities: pd.DataFrame
    latest: pd.DataFrame
    daily: pd.DataFrame
    ytd: pd.DataFrame
    monthly: pd.DataFrame
    stations: pd.DataFrame
    water_sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    water_compliance: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


def latest_day(engine: sa.Engine) -> dt.date | None:
    """The last day with a stored city AQI."""
    from envquality.store import schema as S

    t = S.daily_stat.c
    with engine.connect() as conn:
        d = conn.execute(sa.select(sa.func.max(t.date)).where(t.entity_kind == "city", t.indicator == "aqi",
                                                               t.valid.is_(True))).scalar()
    return pd.Timestamp(d).date() if d is not None else None


def _read_daily(engine: sa.Engine, start: dt.date, end: dt.date) -> pd.DataFrame:
    """City daily rows of [start, end], wide: one row per (city, date), last computation kept."""
    # one plain query, rows fetched by the driver (no per-row type processing); latest computation last
    q = sa.text("SELECT entity, date, indicator, ruleset, value, n FROM daily_stat "
                "WHERE entity_kind = 'city' AND date >= :start AND date <= :end AND indicator IN :inds "
                "ORDER BY computed_at").bindparams(sa.bindparam("inds", expanding=True))
    with engine.connect() as conn:
        df = pd.read_sql_query(q, conn, params={"start": start, "end": end, "inds": [*DAILY_INDICATORS, "aqi"]})
    if df.empty:
        return pd.DataFrame(columns=["city_code", "date", "ruleset", "aqi", *DAILY_INDICATORS])
    df["date"] = pd.to_datetime(df["date"])
    df["entity"] = df["entity"].astype(str)
    df = df.drop_duplicates(["entity", "date", "indicator"], keep="last")
    vals = df.pivot(index=["entity", "date"], columns="indicator", values="value")
    caps = df.pivot(index=["entity", "date"], columns="indicator", values="n").add_prefix("n_")
    rs = df[df["indicator"] == "aqi"].set_index(["entity", "date"])["ruleset"].rename("ruleset")
    wide = vals.join(caps).join(rs).reset_index().rename(columns={"entity": "city_code"})
    for c in ("aqi", *DAILY_INDICATORS):
        if c not in wide:
            wide[c] = np.nan
        wide[c] = pd.to_numeric(wide[c], errors="coerce").astype(float)
    wide["city_code"] = wide["city_code"].astype(str)
    return wide.sort_values(["city_code", "date"]).reset_index(drop=True)


def _primary(latest: pd.DataFrame) -> pd.Series:
    """Primary pollutant(s) of each row (HJ 633 §4.4: largest IAQI when AQI > 50; ties all count).

    References
    ----------
    HJ 633-2012 §4.4 and §5.2; HJ 633-2026 §3 and §4.1.1 — by each day's rule set.
    """
    from envquality.standards.aqi import daily_aqi
    from envquality.standards.rulesets import ruleset_for

    out = pd.Series("", index=latest.index, dtype=object)
    if latest.empty:
        return out
    std = [ruleset_for(d).aqi_standard for d in latest["date"].dt.date]
    latest = latest.assign(_std=std)
    for standard, part in latest.groupby("_std"):
        conc = {c: part[c].to_numpy(float) for c in DAILY_INDICATORS if c in part}
        res = daily_aqi(conc, standard=str(standard))
        labels = np.asarray(res.primary_pollutants(), dtype=object).reshape(-1)
        out.loc[part.index] = np.where(np.isnan(part["aqi"].to_numpy(float)), "", labels)
    return out


def _latest(daily: pd.DataFrame, cities: pd.DataFrame, stations: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """One row per division for ``day`` (NaN where nothing is stored) with category and capture."""
    d = pd.Timestamp(day)
    base = cities[["code", "name_zh", "name_en", "lat", "lon"]].rename(columns={"code": "city_code"})
    today = daily[daily["date"] == d].drop(columns="date", errors="ignore")
    out = base.merge(today, on="city_code", how="left")
    out["date"] = d
    for c in ("aqi", *DAILY_INDICATORS):
        if c not in out:
            out[c] = np.nan
    cats = aqi_categories(out["aqi"].to_numpy(float))
    out = pd.concat([out.reset_index(drop=True), cats.reset_index(drop=True)], axis=1)
    out["primary_pollutants"] = _primary(out)
    active = stations[stations["assessment"] & stations["active_on_day"]]
    n_st = active.groupby("city_code").size()
    out["assessment_stations"] = out["city_code"].map(n_st).fillna(0).astype(int)
    ncols = [f"n_{c}" for c in DAILY_INDICATORS if f"n_{c}" in out]
    for c in ncols:
        out[c] = pd.to_numeric(out[c], errors="coerce")
    # data capture of the day: the fewest stations that gave a valid value of any indicator, over the
    # city's assessment stations (GB 3095 Table 4 validity is per station and indicator)
    out["capture_stations"] = out[ncols].min(axis=1) if ncols else np.nan
    return out


def _period_rows(engine: sa.Engine, since: dt.date) -> pd.DataFrame:
    from envquality.store import schema as S

    t = S.period_stat.c
    q = (sa.select(t.entity_kind, t.entity, t.period, t.indicator, t.period_start, t.period_end, t.value, t.n,
                   t.computed_at)
         .where(t.period_start >= since, t.indicator.in_(_PERIOD_ITEMS)))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["entity_kind", "entity", "period", "indicator",
                                                          "period_start", "period_end", "value", "n",
                                                          "computed_at"])
    df["period_start"] = pd.to_datetime(df["period_start"])
    df["period_end"] = pd.to_datetime(df["period_end"])
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    return df.sort_values("computed_at").drop_duplicates(["entity", "period_start", "period_end", "indicator"],
                                                         keep="last")


def _to_date(day: dt.date, years_back: int) -> pd.Timestamp:
    d = pd.Timestamp(day)
    try:
        return d.replace(year=d.year - years_back)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years_back, day=28)


def _cumulative(rows: pd.DataFrame, jan1: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    """Per entity the stored period starting ``jan1`` with the latest end ≤ ``until`` (the year to date)."""
    sel = rows[(rows["period_start"] == jan1) & (rows["period_end"] <= until)]
    if sel.empty:
        return pd.DataFrame(columns=["entity", "period", "period_start", "period_end", *_PERIOD_ITEMS])
    last = sel.groupby("entity")["period_end"].transform("max")
    sel = sel[sel["period_end"] == last]
    wide = sel.pivot_table(index=["entity", "period", "period_start", "period_end"], columns="indicator",
                           values="value", aggfunc="last").reset_index()
    for c in _PERIOD_ITEMS:
        if c not in wide:
            wide[c] = np.nan
    return wide


def _ytd(rows: pd.DataFrame, cities: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Year-to-date figures per division and province with the same period of last year and the change."""
    d = pd.Timestamp(day)
    this = _cumulative(rows, pd.Timestamp(d.year, 1, 1), d)
    prev = _cumulative(rows, pd.Timestamp(d.year - 1, 1, 1), _to_date(day, 1))
    keys = pd.DataFrame({"entity": [*cities["code"].astype(str), PROVINCE_CODE]})
    out = keys.merge(this, on="entity", how="left").merge(prev, on="entity", how="left", suffixes=("", "_prev"))
    for c in ("pm25_mean", "pm10_mean", "good_ratio"):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{c}_change_pct"] = 100.0 * (out[c] - out[f"{c}_prev"]) / out[f"{c}_prev"]
    out["good_ratio_change_pt"] = out["good_ratio"] - out["good_ratio_prev"]
    return out.rename(columns={"entity": "city_code"})


def _monthly(rows: pd.DataFrame, daily: pd.DataFrame, day: dt.date) -> tuple[pd.DataFrame, str]:
    """Monthly good-day ratio and PM means of this and last year per division.

    Stored ``period_stat`` months where present; otherwise from the stored
    daily values: good-day ratio = days with AQI ≤ 100 / days with a valid
    AQI × 100 (HJ 663-2013 §3 / HJ 633 Table 2), PM means = mean of the valid
    daily means of the month.

    References
    ----------
    HJ 663-2013 §4 (period statistics from valid daily values); HJ 633-2012 Table 2 (good = AQI ≤ 100).
    """
    d = pd.Timestamp(day)
    start = pd.Timestamp(d.year - 1, 1, 1)
    m = rows[(rows["period_start"] >= start) & (rows["period_start"].dt.day == 1)
             & (rows["period_start"].dt.to_period("M") == rows["period_end"].dt.to_period("M"))
             & (rows["entity_kind"] == "city")]
    if not m.empty:
        wide = m.pivot_table(index=["entity", "period_start"], columns="indicator", values="value",
                             aggfunc="last").reset_index()
        wide = wide.rename(columns={"entity": "city_code", "period_start": "month"})
        source = "period_stat"
    else:
        x = daily[(daily["date"] >= start) & (daily["date"] <= d)].copy()
        x["month"] = x["date"].dt.to_period("M").dt.to_timestamp()
        x["valid_aqi"] = x["aqi"].notna()
        x["good"] = x["aqi"] <= 100
        g = x.groupby(["city_code", "month"])
        wide = pd.DataFrame({
            "valid_days": g["valid_aqi"].sum(), "good_days": g["good"].sum(),
            "pm25_mean": g["pm25_24h"].mean(), "pm10_mean": g["pm10_24h"].mean(),
        }).reset_index()
        with np.errstate(invalid="ignore", divide="ignore"):
            wide["good_ratio"] = np.where(wide["valid_days"] > 0, 100.0 * wide["good_days"] / wide["valid_days"],
                                          np.nan)
        source = "daily_stat"
    for c in _PERIOD_ITEMS:
        if c not in wide:
            wide[c] = np.nan
    wide["year"] = wide["month"].dt.year
    wide["month_no"] = wide["month"].dt.month
    return wide.sort_values(["city_code", "month"]).reset_index(drop=True), source


def _stations(engine: sa.Engine, reg: Registry, day: dt.date) -> pd.DataFrame:
    """Registry stations with their latest hourly values of ``day`` (last non-missing hour, CST)."""
    from envquality.store.bulk import read_readings

    st = reg.stations.copy()
    d = pd.Timestamp(day)
    st["active_on_day"] = (st["active_from"].isna() | (st["active_from"] <= d)) & \
        (st["retired_on"].isna() | (st["retired_on"] > d))
    st["code"] = st["code"].astype(str)
    st["city_code"] = st["city_code"].astype(str)
    tz = "Asia/Shanghai"
    lo, hi = (d + pd.Timedelta(hours=1)).tz_localize(tz), (d + pd.Timedelta(days=1)).tz_localize(tz)
    try:
        r = read_readings(engine, start=lo, end=hi, stations=list(st["code"]))
    except Exception:  # noqa: BLE001 - a store without readings still gets a site
        r = pd.DataFrame(columns=["station", "time", "pollutant", "value"])
    r = r.dropna(subset=["value"])
    if len(r):
        r = r.sort_values("time")
        last = r.groupby(["station", "pollutant"]).tail(1)
        vals = last.pivot(index="station", columns="pollutant", values="value").add_prefix("last_")
        when = r.groupby("station")["time"].max().rename("last_time")
        st = st.join(vals, on="code").join(when, on="code")
    return st


def read_figures(engine: sa.Engine, day: dt.date, *, registry: Registry | None = None) -> SiteFigures:
    """Everything the pages of ``day`` show, from the store."""
    reg = registry or default_registry()
    cities = reg.cities.copy()
    cities["code"] = cities["code"].astype(str)
    d = pd.Timestamp(day)
    daily = _read_daily(engine, dt.date(d.year - 1, 1, 1), day)
    stations = _stations(engine, reg, day)
    latest = _latest(daily, cities, stations, day)
    rows = _period_rows(engine, dt.date(d.year - 1, 1, 1))
    ytd = _ytd(rows, cities, day)
    monthly, msource = _monthly(rows, daily, day)
    cats = aqi_categories(daily["aqi"].to_numpy(float)) if len(daily) else pd.DataFrame()
    if len(daily):
        daily = pd.concat([daily.reset_index(drop=True), cats[["level", "category_zh", "category_en", "colour"]]],
                          axis=1)
    figs = SiteFigures(day=day, cities=cities, latest=latest, daily=daily, ytd=ytd, monthly=monthly,
                       stations=stations)
    if msource == "daily_stat":
        figs.notes.append("monthly figures computed from the stored daily values (no monthly period_stat rows)")
    _water(engine, figs)
    return figs


def _water(engine: sa.Engine, figs: SiteFigures) -> None:
    """Latest class per drinking-water source and compliance of the year (GB 3838 / GB/T 14848, Class III)."""
    from envquality.store import schema as S
    from envquality.store.water import read_classes
    from envquality.water.compliance import compliance_ratios

    with engine.connect() as conn:
        src = pd.DataFrame(conn.execute(sa.select(S.water_source)).mappings().all())
    if src.empty:
        return
    cls = read_classes(engine)
    end = pd.Timestamp(figs.day).tz_localize("Asia/Shanghai") + pd.Timedelta(days=1)
    cls = cls[cls["sampled_at"] < end]
    last = cls.sort_values("sampled_at").groupby("source").tail(1).set_index("source")
    names = figs.cities.set_index("code")["name_zh"]
    src["id"] = src["id"].astype(str)
    src["city"] = src["city_code"].astype(str).map(names).fillna(src["city_code"].astype(str))
    out = src.rename(columns={"type": "source_type"}).join(last, on="id")
    figs.water_sources = out.reset_index(drop=True)
    if len(cls):
        reg = src.rename(columns={"supply_volume": "supply_m3_per_day", "type": "source_type"})
        year = cls[cls["sampled_at"].dt.year == figs.day.year]
        if len(year):
            figs.water_compliance = compliance_ratios(year, reg, figs.day.year)
