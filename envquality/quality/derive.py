"""Derived columns of the gate: the rules Great Expectations cannot express directly, vectorised.

:func:`prepare` returns the batch as validated: a copy of the input (index
reset) plus the columns of its suite (see ``docs/quality.md``):

* ``hourly_readings``: ``time_ok``, ``in_window``, ``key_unique``,
  ``pm_ratio_ok``, ``likely_dust``, ``stuck_run_ok``, ``spike_ok`` and the
  completeness columns;
* ``daily_values`` (source-reported daily values, e.g. aqistudy):
  ``date_ok``, ``key_unique``, ``range_ok``;
* ``daily_city`` and ``site_data``: ``category_ok``, ``city_valid_day_share``;
* ``water_samples``: ``unit_ok``, ``dl_ok``, ``range_ok``.

References
----------
.. [1] HJ 633-2012, Table 1 (IAQI breakpoints: dust and spike thresholds) and
   §5 (AQI levels and categories: ``category_ok``).
.. [2] GB 3095-2012, Table 4 (data validity: 20 of 24 hours, completeness).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from envquality.model import HOURLY_POLLUTANTS, TIMEZONE
from envquality.quality.config import SUITES, load_thresholds

__all__ = ["prepare", "DERIVED", "FIELD_OF"]

#: Field reported in quarantine for a derived column.
FIELD_OF = {
    "time_ok": "time", "in_window": "time", "key_unique": "station,time,pollutant", "spike_ok": "value",
    "stuck_run_ok": "value", "pm_ratio_ok": "value", "category_ok": "category_zh", "unit_ok": "unit",
    "dl_ok": "qualifier", "range_ok": "value", "date_ok": "date",
}
#: Helper columns added by prepare() and removed from the gate's passed rows.
DERIVED = (
    "time_ok", "in_window", "key_unique", "spike_ok", "stuck_run_ok", "pm_ratio_ok", "station_completeness",
    "hour_completeness", "batch_completeness", "category_ok", "city_valid_day_share", "unit_ok", "dl_ok",
    "range_ok", "_city_derived", "date_ok",
)


def _registry_maps() -> tuple[dict[str, str], list[str]]:
    from envquality.registry import default_registry

    reg = default_registry()
    city_of = reg.station_city()  # current and historical stations
    cities = reg.cities["code"].astype(str).tolist()
    city_of.update({c: c for c in cities})
    return city_of, cities


def _series_order(station: np.ndarray, pol: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row order sorted by (station, pollutant, time) and a series id per sorted row."""
    s_code = pd.factorize(station)[0]
    p_code = pd.factorize(pol)[0]
    order = np.lexsort((t, p_code, s_code))
    sid = s_code[order].astype(np.int64) * (p_code.max(initial=0) + 1) + p_code[order]
    return order, sid


def _per_pol(values: dict, pol: np.ndarray, default: float) -> np.ndarray:
    return pd.Series(pol).map({k: float(v) for k, v in values.items()}).fillna(default).to_numpy(float)


def _hourly_city(out: pd.DataFrame, station: np.ndarray) -> pd.Series:
    """City code of each row: the given ``city`` (names mapped to codes), else the registry's."""
    city_of, _ = _registry_maps()
    derived_city = pd.Series(station).map(city_of).astype("string")
    if "city" not in out or not out["city"].notna().any():
        return derived_city
    from envquality.registry import default_registry

    reg = default_registry()

    def _code(name):
        try:
            return reg.city_code(name)
        except (KeyError, ValueError):
            return name  # unknown: left for hourly.city_known

    given = out["city"].astype("string").reset_index(drop=True)
    codes = {u: _code(u) for u in given.dropna().unique()}
    given = given.map(codes).astype("string")
    return given.where(given.notna(), derived_city)


def _hourly_times(col: pd.Series) -> tuple[np.ndarray, np.ndarray, bool]:
    """Hour-ending times as int64 ns (CST), a NaT mask and whether the input carried the CST zone."""
    tz_ok = isinstance(col.dtype, pd.DatetimeTZDtype) and str(col.dt.tz) in (TIMEZONE, "UTC+08:00", "+08:00")
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        tt = col.dt.tz_convert(TIMEZONE)
    else:
        tt = pd.to_datetime(col, errors="coerce")
        tt = tt.dt.tz_localize(TIMEZONE) if getattr(tt.dt, "tz", None) is None else tt.dt.tz_convert(TIMEZONE)
    t_ns = tt.astype("datetime64[ns, Asia/Shanghai]").to_numpy(dtype="datetime64[ns]").view("int64")
    return t_ns, tt.isna().to_numpy(), tz_ok


def _window_bounds(window) -> tuple[pd.Timestamp, pd.Timestamp]:
    w0, w1 = (pd.Timestamp(x) for x in window)
    w0 = w0.tz_localize(TIMEZONE) if w0.tzinfo is None else w0
    w1 = w1.tz_localize(TIMEZONE) if w1.tzinfo is None else w1
    return w0, w1


def _key_unique(station: np.ndarray, t_ns: np.ndarray, pol: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Duplicate keys: identical copies after the first fail, conflicting copies all fail."""
    n = len(v)
    kid = pd.DataFrame({"s": station, "t": t_ns, "p": pol}).groupby(["s", "t", "p"], sort=False).ngroup().to_numpy()
    vkey = np.where(np.isnan(v), -1.2345e308, v)
    first_kv = ~pd.DataFrame({"k": kid, "v": vkey}).duplicated().to_numpy()
    distinct = np.bincount(kid, weights=first_kv.astype(float))[kid] if n else np.zeros(0)
    return first_kv & (distinct <= 1)


def _pm_pairs(h: dict, station, t_ns, pol, v) -> tuple[np.ndarray, np.ndarray]:
    """Per (station, hour) PM pair: ``pm_ratio_ok`` and ``likely_dust`` of each row."""
    n = len(v)
    if not n:
        return np.ones(0, bool), np.zeros(0, bool)
    st_id = pd.DataFrame({"s": station, "t": t_ns}).groupby(["s", "t"], sort=False).ngroup().to_numpy()
    nst = int(st_id.max()) + 1
    pm10, pm25 = np.full(nst, np.nan), np.full(nst, np.nan)
    m10, m25 = pol == "pm10", pol == "pm25"
    pm10[st_id[m10]] = v[m10]
    pm25[st_id[m25]] = v[m25]
    r, d = h["pm_ratio"], h["dust"]
    with np.errstate(invalid="ignore", divide="ignore"):
        bad_pair = pm25 > pm10 * (1 + float(r["relative"])) + float(r["absolute"])
        dust = (pm10 >= float(d["pm10_min"])) & (np.isnan(pm25) | (pm25 / pm10 <= float(d["ratio_max"])))
    is_pm = m10 | m25
    return ~(bad_pair[st_id] & is_pm), dust[st_id] & is_pm


def _stuck_and_spikes(h: dict, station, pol, t_ns, v, likely_dust) -> tuple[np.ndarray, np.ndarray]:
    """``stuck_run_ok`` and ``spike_ok``, computed on rows sorted by series and time."""
    n = len(v)
    order, sid = _series_order(station, pol, t_ns)
    vs, ps = v[order], pol[order]
    same = np.zeros(n, bool)
    if n > 1:
        same[1:] = (vs[1:] == vs[:-1]) & (sid[1:] == sid[:-1])
    run_id = np.cumsum(~same)
    run_len = np.bincount(run_id)[run_id] if n else np.zeros(0, int)
    st = h["stuck"]
    stuck = np.zeros(n, bool)
    stuck[order] = (run_len >= _per_pol(st["hours"], ps, np.inf)) & (vs > _per_pol(st["floor"], ps, np.inf))

    sp = h["spike"]
    half = int(sp["window_hours"]) // 2
    win = np.full((n, 2 * half + 1), np.nan)
    for k in range(-half, half + 1):  # 2·half+1 shifted copies, not a loop over rows
        col = np.full(n, np.nan)
        if k < 0:
            col[-k:] = np.where(sid[-k:] == sid[:k], vs[:k], np.nan)
        elif k > 0:
            col[:-k] = np.where(sid[:-k] == sid[k:], vs[k:], np.nan)
        else:
            col = vs
        win[:, k + half] = col
    with np.errstate(invalid="ignore"), _quiet():
        med = np.nanmedian(win, axis=1) if n else np.zeros(0)
        spike_sorted = (vs > float(sp["factor"]) * med) & (vs > _per_pol(sp["min_value"], ps, np.inf))
    spike = np.zeros(n, bool)
    spike[order] = spike_sorted
    return ~stuck, ~(spike & ~likely_dust)


def _completeness(out: pd.DataFrame, station, pol, t_ns, v, whole, inw, window, expected_stations) -> None:
    """Completeness over the expected stations and hours (the six 1-h pollutants), in place."""
    basic = pd.Series(pol).isin(HOURLY_POLLUTANTS).to_numpy() & whole & inw
    valid = basic & ~np.isnan(v)
    if window is not None:
        w0, w1 = _window_bounds(window)
        n_hours = max(int((w1 - w0) / pd.Timedelta(hours=1)) + 1, 1)
    elif whole.any():
        n_hours = int((t_ns[whole].max() - t_ns[whole].min()) // 3_600_000_000_000) + 1
    else:
        n_hours = 1
    exp_st = list(expected_stations) if expected_stations is not None else sorted(set(station[basic]))
    n_exp = max(len(exp_st), 1)
    npol = len(HOURLY_POLLUTANTS)
    per_station = pd.Series(valid).groupby(station).sum()
    per_hour = pd.Series(valid).groupby(t_ns).sum()
    sc = pd.Series(station).map(per_station).fillna(0).to_numpy(float) / (n_hours * npol)
    out["station_completeness"] = np.where(pd.Series(station).isin(exp_st).to_numpy(), sc, np.nan)
    hc = pd.Series(t_ns).map(per_hour).fillna(0).to_numpy(float) / (n_exp * npol)
    out["hour_completeness"] = np.where(whole & inw, hc, np.nan)  # others: time_ok / in_window
    out["batch_completeness"] = float(valid.sum()) / (n_exp * n_hours * npol)
    out.attrs["absent_stations"] = sorted(set(exp_st) - set(station[valid]))


def _prepare_hourly(df: pd.DataFrame, cfg: dict, window, expected_stations) -> pd.DataFrame:
    """Derived columns of ``hourly_readings`` (see the module docstring)."""
    h = cfg["hourly"]
    out = df.reset_index(drop=True).copy(deep=False)
    n = len(out)

    def col(c):  # a missing column stays missing (hourly.schema fails); computations see NA
        return out[c] if c in out else pd.Series([pd.NA] * n, dtype="object")

    station = col("station").astype("string").fillna("").to_numpy(dtype=object)
    pol = col("pollutant").astype("string").fillna("").to_numpy(dtype=object)
    v = pd.to_numeric(col("value"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out["city"] = _hourly_city(out, station).to_numpy()

    t_ns, nat, tz_ok = _hourly_times(col("time"))
    whole = ~nat & (t_ns % 3_600_000_000_000 == 0)
    out["time_ok"] = whole & tz_ok
    now = pd.Timestamp.now(tz=TIMEZONE) + pd.Timedelta(hours=float(h["window"]["future_hours"]))
    inw = ~nat & (t_ns <= now.value)
    if window is not None:
        w0, w1 = _window_bounds(window)
        inw &= (t_ns >= w0.value) & (t_ns <= w1.value)
    out["in_window"] = inw
    out["key_unique"] = _key_unique(station, t_ns, pol, v)
    out["pm_ratio_ok"], likely_dust = _pm_pairs(h, station, t_ns, pol, v)
    out["likely_dust"] = likely_dust
    out["stuck_run_ok"], out["spike_ok"] = _stuck_and_spikes(h, station, pol, t_ns, v, likely_dust)
    _completeness(out, station, pol, t_ns, v, whole, inw, window, expected_stations)
    return out


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _aqi_levels(aqi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level 1-6, Chinese category and colour of each AQI (standards.md §1.5); NaN AQI → level 0."""
    edges = np.array([50, 100, 150, 200, 300])
    lvl = np.where(np.isnan(aqi), 0, np.searchsorted(edges, np.nan_to_num(aqi), side="left") + 1)
    cats = np.array(["", "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"], dtype=object)
    cols = np.array(["", "#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023"], dtype=object)
    return lvl, cats[lvl], cols[lvl]


def _level_number(level: pd.Series) -> np.ndarray:
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "一级": 1, "二级": 2, "三级": 3, "四级": 4,
             "五级": 5, "六级": 6}
    num = pd.to_numeric(level, errors="coerce")
    txt = level.astype("string").str.strip().map(roman)
    return num.fillna(pd.to_numeric(txt, errors="coerce")).to_numpy(float, na_value=np.nan)


def _category_ok(out: pd.DataFrame, aqi_col: str) -> np.ndarray:
    aqi = pd.to_numeric(out[aqi_col], errors="coerce").to_numpy(float, na_value=np.nan)
    lvl, cat, col = _aqi_levels(aqi)
    ok = np.ones(len(out), bool)
    if "level" in out:
        ok &= (_level_number(out["level"]) == lvl) | np.isnan(aqi)
    if "category_zh" in out:
        ok &= (out["category_zh"].astype("string").fillna("").to_numpy(object) == cat) | np.isnan(aqi)
    if "colour" in out:
        ok &= (out["colour"].astype("string").fillna("").str.upper().to_numpy(object) == col) | np.isnan(aqi)
    return ok


def _prepare_daily(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy(deep=False)
    if "aqi" in out:
        out["category_ok"] = _category_ok(out, "aqi")
    if "city" in out:
        aqi = out["aqi"] if "aqi" in out else pd.Series(np.nan, index=out.index)
        comp = out["complete"].astype(bool) if "complete" in out else pd.to_numeric(aqi, errors="coerce").notna()
        share = comp.groupby(out["city"].astype(str)).mean()
        out["city_valid_day_share"] = out["city"].astype(str).map(share).to_numpy(float)
    return out


def _prepare_site(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy(deep=False)
    if "aqi" in out:
        out["category_ok"] = _category_ok(out, "aqi")
    return out


def _norm_unit(u: pd.Series, aliases: dict) -> pd.Series:
    s = u.astype("string").fillna("").str.strip()
    low = s.str.lower().str.replace("μ", "µ", regex=False)
    al = {str(k).lower(): str(v) for k, v in aliases.items()}
    return low.map(al).fillna(s)


def _prepare_water(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    w = cfg["water"]
    out = df.reset_index(drop=True).copy(deep=False)
    n = len(out)
    par = out["parameter"].astype("string").fillna("") if "parameter" in out else pd.Series([""] * n)
    spec = w["parameters"]
    want = par.map({k: str(s["unit"]) for k, s in spec.items()})
    unit = _norm_unit(out["unit"], w.get("unit_aliases", {})) if "unit" in out else pd.Series([""] * n)
    want_n = _norm_unit(want.fillna(""), w.get("unit_aliases", {}))
    out["unit_ok"] = (want.isna() | (unit == want_n)).fillna(False).to_numpy(bool)
    v = pd.to_numeric(out["value"], errors="coerce").to_numpy(float, na_value=np.nan) if "value" in out \
        else np.full(n, np.nan)
    lo = par.map({k: float(s["min"]) for k, s in spec.items()}).to_numpy(float, na_value=-np.inf)
    hi = par.map({k: float(s["max"]) for k, s in spec.items()}).to_numpy(float, na_value=np.inf)
    out["range_ok"] = np.isnan(v) | ((v >= lo) & (v <= hi))
    if "qualifier" in out:
        out["qualifier"] = out["qualifier"].astype("string").fillna("").str.strip().to_numpy(object)
        q = out["qualifier"].to_numpy(object)
    else:
        q = np.array([""] * n, dtype=object)
    dl = pd.to_numeric(out["detection_limit"], errors="coerce").to_numpy(float, na_value=np.nan) \
        if "detection_limit" in out else np.full(n, np.nan)
    below = (q == "<") | (q == "ND") | (q == "<DL")  # "<DL": the water reader's canonical spelling
    with np.errstate(invalid="ignore"):
        ok_below = ~np.isnan(dl) & (dl > 0) & (np.isnan(v) | (v <= dl))
    ok_quant = ~np.isnan(v)
    out["dl_ok"] = np.where(below, ok_below, ok_quant)
    return out


def _prepare_daily_values(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Source-reported daily values (long: ``city``, ``date``, ``pollutant``, ``value``).

    ``date_ok``: a calendar day from ``daily_values.date_min`` to today (CST) —
    a daily value cannot describe a day that has not ended;
    ``key_unique``: one value per city, day and pollutant (conflicting copies
    all fail); ``range_ok``: within the plausible range of the pollutant's
    hourly key (``hourly.ranges``; ``aqi`` 0-500).
    """
    dv = cfg["daily_values"]
    out = df.reset_index(drop=True).copy(deep=False)
    n = len(out)
    date = pd.to_datetime(out["date"], errors="coerce") if "date" in out else pd.Series(pd.NaT, index=out.index)
    if getattr(date.dt, "tz", None) is not None:
        date = date.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    today = pd.Timestamp.now(tz=TIMEZONE).tz_localize(None).normalize()
    out["date_ok"] = (date.notna() & (date >= pd.Timestamp(str(dv["date_min"]))) & (date <= today)
                      & (date == date.dt.normalize())).to_numpy(bool)
    city = out["city"].astype("string").fillna("").to_numpy(object) if "city" in out else np.full(n, "", object)
    pol = out["pollutant"].astype("string").fillna("").to_numpy(object) if "pollutant" in out \
        else np.full(n, "", object)
    v = pd.to_numeric(out["value"], errors="coerce").to_numpy(float, na_value=np.nan) if "value" in out \
        else np.full(n, np.nan)
    d_ns = date.to_numpy(dtype="datetime64[ns]").view("int64")
    out["key_unique"] = _key_unique(city, d_ns, pol, v)
    ranges = cfg["hourly"]["ranges"]
    base = pd.Series(pol).str.replace(r"_(24h|8h|1h)$", "", regex=True)
    lo = base.map({k: float(r["min"]) for k, r in ranges.items()}).to_numpy(float, na_value=-np.inf)
    hi = base.map({k: float(r["max"]) for k, r in ranges.items()}).to_numpy(float, na_value=np.inf)
    with np.errstate(invalid="ignore"):
        out["range_ok"] = np.isnan(v) | ((v >= lo) & (v <= hi))
    return out


def prepare(suite: str, df: pd.DataFrame, *, config: dict | None = None, window=None,
            expected_stations: Sequence[str] | None = None) -> pd.DataFrame:
    """The batch as validated: a copy of ``df`` (index reset) plus the derived columns of ``suite``.

    For ``hourly_readings``: ``window`` = (first, last) hour-ending time of
    the ingest window (inclusive; naive times are CST); ``expected_stations``
    = the stations that should report (default: those present).
    """
    cfg = config or load_thresholds()
    if suite == "hourly_readings":
        return _prepare_hourly(df, cfg, window, expected_stations)
    if suite == "daily_city":
        return _prepare_daily(df, cfg)
    if suite == "daily_values":
        return _prepare_daily_values(df, cfg)
    if suite == "water_samples":
        return _prepare_water(df, cfg)
    if suite == "site_data":
        return _prepare_site(df, cfg)
    raise KeyError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")


