"""The assessment on labelled data: xarray Datasets in, Datasets/DataFrames out.

Thin wrappers that lay the pure functions of :mod:`envquality.stats.validity`
and :mod:`envquality.stats.assessment` over xarray.  Every step is written
with :func:`xarray.apply_ufunc` (``dask="parallelized"``), so the same code
runs on numpy arrays in memory and on dask arrays chunked by station for
multi-year periods.

Hourly input: a Dataset with dims ``("station", "time")``, ``time`` the
hour-ending CST stamps of whole days (first 01:00, last 00:00 of the day
after the last), one variable per pollutant ``so2 no2 pm10 pm25 co o3``
[µg/m³; CO mg/m³], and a ``city`` coordinate along ``station`` (optionally an
``assessment`` boolean coordinate).
"""

from __future__ import annotations

from typing import Sequence, TypeVar

import numpy as np
import pandas as pd
import xarray as xr

from envquality.model import HOURLY_POLLUTANTS
from envquality.standards.aqi import PRIMARY_LABELS, hourly_aqi
from envquality.standards.rounding import round_half_even
from envquality.standards.rulesets import RULESET_BY_CODE, ruleset_codes_for_days
from envquality.stats import validity as V
from envquality.stats.assessment import (
    AssessmentOptions,
    city_mean,
    daily_aqi_by_date,
    period_statistics,
    rank_divisions,
)

__all__ = [
    "hourly_grid", "station_daily", "city_daily", "daily_city_aqi", "assess",
    "hourly_aqi_dataset", "province_row", "PROVINCE",
]

_XR = TypeVar("_XR", xr.DataArray, xr.Dataset)

#: Values per slab when whole national arrays are processed in memory (see _slabbed).
SLAB_VALUES = 1 << 20

#: Entity label of the province-wide row (Gansu's admin code).
PROVINCE = "620000"

_MEAN_INDICATORS = {"so2": "so2_24h", "no2": "no2_24h", "pm10": "pm10_24h", "pm25": "pm25_24h", "co": "co_24h"}


def _to_days(da: _XR) -> _XR:
    """(…, time) hour-ending -> (…, date, hour): day D holds hours ending D 01:00…D+1 00:00."""
    t = pd.DatetimeIndex(da["time"].values)
    if len(t) % 24 or (len(t) and t[0].hour != 1):
        raise ValueError(
            "hourly data must cover whole days: first time stamp 01:00 (hour ending), "
            f"length a multiple of 24; got {t[0] if len(t) else None} and {len(t)} hours (use hourly_grid)"
        )
    days = (t[::24] - pd.Timedelta(hours=1)).normalize()
    out = da.coarsen(time=24).construct(time=("date", "hour"))
    return out.assign_coords(date=("date", days.values)).drop_vars("time", errors="ignore")


def hourly_grid(tidy: pd.DataFrame, *, stations: Sequence[str] | None = None) -> xr.Dataset:
    """Tidy hourly readings -> Dataset (station, time) on a complete hourly grid.

    Missing hours become NaN.  ``time`` is converted to naive CST hour-ending
    stamps spanning whole days.  Extra columns ``city`` and ``assessment``
    (one value per station) become coordinates.
    """
    df = tidy[tidy["pollutant"].isin(HOURLY_POLLUTANTS)]
    t = pd.to_datetime(df["time"])
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    df = df.assign(time=t)
    if df.empty:
        raise ValueError("no hourly readings of so2 no2 pm10 pm25 co o3 to assess")
    first_day = (t.min() - pd.Timedelta(hours=1)).normalize()
    last_day = (t.max() - pd.Timedelta(hours=1)).normalize()
    grid = pd.date_range(first_day + pd.Timedelta(hours=1), last_day + pd.Timedelta(days=1), freq="h")
    st = list(stations) if stations is not None else sorted(df["station"].astype(str).unique())
    wide = df.pivot_table(index=["station", "time"], columns="pollutant", values="value", aggfunc="first")
    full = pd.MultiIndex.from_product([st, grid], names=["station", "time"])
    wide = wide.reindex(full)
    ds = xr.Dataset(
        {p: (("station", "time"), wide[p].to_numpy().reshape(len(st), len(grid)) if p in wide else
             np.full((len(st), len(grid)), np.nan)) for p in HOURLY_POLLUTANTS},
        coords={"station": st, "time": grid},
    )
    for coord in ("city", "assessment"):
        if coord in tidy:
            m = tidy.drop_duplicates("station").set_index("station")[coord]
            ds = ds.assign_coords({coord: ("station", m.reindex(st).to_numpy())})
    ds.attrs.update(timezone="Asia/Shanghai", time_label="end")
    return ds


def _slabbed(func, x: np.ndarray, **kwargs) -> tuple[np.ndarray, ...]:
    """Apply ``func`` to slabs of ~1 M values along the first axis.

    Big temporaries cost more in page faults than in arithmetic; slabs keep
    them small.  Results are identical to one call on the whole array.
    """
    rows = max(1, SLAB_VALUES // max(1, int(np.prod(x.shape[1:]))))
    if x.ndim < 2 or x.shape[0] <= rows:
        return tuple(func(x, **kwargs))
    parts = [tuple(func(x[i : i + rows], **kwargs)) for i in range(0, x.shape[0], rows)]
    return tuple(np.concatenate(p, axis=0) for p in zip(*parts))


def _apply(func, da: xr.DataArray, n_out: int, core: str = "hour", **kwargs):
    return xr.apply_ufunc(
        lambda x: _slabbed(func, x, **kwargs),
        da,
        input_core_dims=[[core]],
        output_core_dims=[[] for _ in range(n_out)],
        dask="parallelized",
        output_dtypes=[np.float64, np.int64, np.int8][:n_out],
    )


def _capture_params(ruleset) -> tuple[int, int, int, float]:
    """(hours per day, hours per 8-h window, MDA8 windows, O3 8-h limit) of a rule set."""
    return (ruleset.capture.min_hours_per_day, ruleset.capture.min_hours_per_8h, ruleset.mda8_min_windows,
            float(ruleset.class2_limits[("o3", "8h")]))


def station_daily(
    hourly: xr.Dataset,
    *,
    min_hours: int | None = None,
    min_hours_8h: int | None = None,
    min_windows: int | None = None,
    o3_limit: float | None = None,
) -> xr.Dataset:
    """Daily indicators per station with data capture (GB 3095 Table 4, HJ 663 §6.1).

    24-h means of SO2, NO2, PM10, PM2.5, CO, the O3 daily maximum 1-h value
    (envquality applies the 24-h hour rule to it) and MDA8 (the window rule
    with its exceedance exception).  For each indicator X the result holds
    ``X`` (NaN where invalid), ``X_n`` (valid hours, or valid 8-h windows for
    ``o3_8h``) and ``X_reason`` (:data:`validity.REASONS`).

    The capture numbers and the O3 limit are those of the rule set in force
    on each day (:func:`~envquality.standards.rulesets.ruleset_for`); an
    argument given overrides them for every day.

    References
    ----------
    GB 3095-2012 / GB 3095-2026 Table 4 (data validity); HJ 663-2013 /
    HJ 663-2026 §6.1.2 (MDA8 windows and the exceedance exception).
    """
    days = _to_days(hourly[[p for p in HOURLY_POLLUTANTS if p in hourly]])
    codes = ruleset_codes_for_days(days["date"].values)
    override = (min_hours, min_hours_8h, min_windows, o3_limit)
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(codes):
        params = tuple(o if o is not None else d for o, d in zip(override, _capture_params(RULESET_BY_CODE[int(c)])))
        groups.setdefault(params, []).append(i)
    parts = [_station_daily_part(days if len(groups) == 1 else days.isel(date=idx), *params)
             for params, idx in groups.items()]
    ds = parts[0] if len(parts) == 1 else xr.concat(parts, dim="date").sortby("date")
    for coord in ("city", "assessment"):
        if coord in hourly.coords:
            ds = ds.assign_coords({coord: hourly[coord]})
    return ds


def _station_daily_part(days: xr.Dataset, min_hours: int, min_hours_8h: int, min_windows: int,
                        o3_limit: float) -> xr.Dataset:
    out = {}
    for pol, ind in _MEAN_INDICATORS.items():
        if pol in days:
            v, n, r = _apply(V.daily_mean, days[pol], 3, min_hours=min_hours)
            out.update({ind: v, f"{ind}_n": n, f"{ind}_reason": r})
    if "o3" in days:
        v, n, r = _apply(V.daily_max, days["o3"], 3, min_hours=min_hours)
        out.update({"o3_1h": v, "o3_1h_n": n, "o3_1h_reason": r})
        v, n, r = _apply(V.mda8, days["o3"], 3, min_hours=min_hours_8h, min_windows=min_windows, limit=o3_limit)
        out.update({"o3_8h": v, "o3_8h_n": n, "o3_8h_reason": r})
    return xr.Dataset(out).drop_vars([c for c in ("city", "assessment") if c in days.coords])


def city_daily(
    daily: xr.Dataset,
    *,
    cities: Sequence[str] | None = None,
    min_stations: int = 1,
) -> xr.Dataset:
    """City daily values = mean of the valid assessment-station values (HJ 663-2013 §5).

    Uses the ``city`` coordinate of the stations, and the ``assessment``
    coordinate where present (False: control point, retired, or an area
    published apart).  City O3 values are the mean of the stations' O3
    daily values (the alternative, MDA8 of the city-mean hourly series, is
    :func:`station_daily` applied to city-mean hourly data; see
    ``docs/standards.md``).  ``X_stations`` counts the stations averaged.
    """
    city = np.asarray(daily["city"].values).astype(str)
    names = list(cities) if cities is not None else sorted(set(city))
    pos = {c: i for i, c in enumerate(names)}
    idx = np.array([pos.get(c, -1) for c in city])
    if "assessment" in daily.coords:
        idx = np.where(np.asarray(daily["assessment"].values, dtype=bool), idx, -1)
    out = {}
    for key, var in daily.data_vars.items():
        name = str(key)
        if name.endswith(("_n", "_reason")):
            continue
        values = np.asarray(var.transpose("station", "date").values, dtype=np.float64)
        mean, count = city_mean(values, idx, len(names), min_stations=min_stations)
        out[name] = (("city", "date"), mean)
        out[f"{name}_stations"] = (("city", "date"), count)
    return xr.Dataset(out, coords={"city": names, "date": daily["date"].values})


def daily_city_aqi(city: xr.Dataset, *, standard: str | None = None) -> xr.Dataset:
    """Daily AQI, level, category, colour and primary pollutants per city and day.

    HJ 633-2012 §5.2 / HJ 633-2026 §4.1.1, chosen by each day's date unless
    ``standard`` is given.  The AQI is computed from the city mean
    concentrations (HJ 663 §5), not averaged from station AQIs.
    """
    days = city["date"].values
    res, codes = daily_aqi_by_date({str(k): city[k].values for k in city.data_vars
                                    if not str(k).endswith("_stations")},
                                   days, standard=standard)
    dims = ("city", "date")
    ds = xr.Dataset(
        {
            "aqi": (dims, res.aqi),
            "level": (dims, res.level),
            "category_zh": (dims, res.category("zh")),
            "category_en": (dims, res.category("en")),
            "colour": (dims, res.colour()),
            "primary_pollutants": (dims, res.primary_pollutants()),
            "exceeding_pollutants": (dims, res.exceeding_pollutants()),
            "complete": (dims, res.complete),
            "standard": ("date", [RULESET_BY_CODE[int(c)].aqi_standard for c in codes]),
        },
        coords={"city": city["city"].values, "date": days},
    )
    for lab, v in res.iaqi.items():
        ds[f"iaqi_{lab.lower().replace('.', '')}"] = (dims, v)
    return ds


def province_row(stats: pd.DataFrame, entity: str = PROVINCE) -> pd.DataFrame:
    """Province figures from city rows: the mean over cities, per dust variant.

    The plan's target is "the 14 cities' average share of good days", so the
    province good-day ratio is the mean of the city ratios; concentrations
    and the composite index are likewise city means; day counts are summed
    (city-days).  Means are taken of the unrounded city figures (``_raw_*``
    columns) and rounded once (GB/T 8170 forbids cascaded rounding).
    """
    rows = []
    mean_cols = [c for c in stats.columns if c == "good_ratio" or c.endswith(("_mean", "_p98", "_p95", "_p90"))
                 or c == "composite_index"]
    sum_cols = [c for c in stats.columns if c.endswith("_days") and c != "calendar_days"]
    for variant, g in stats.groupby("dust", sort=False):
        row = {"entity": entity, "dust": variant}
        for c in ("period_start", "period_end", "rulesets", "calendar_days", "composite_limits"):
            row[c] = g[c].iloc[0]
        for c in mean_cols:
            source = g[f"_raw_{c}"] if f"_raw_{c}" in g else g[c]
            x = source.to_numpy(dtype=float)
            dec = 2 if c == "composite_index" else (1 if c == "good_ratio" or c.startswith("co") else 0)
            row[c] = float(round_half_even(np.nanmean(x) if np.isfinite(x).any() else np.nan, dec))
        for c in sum_cols:
            row[c] = int(g[c].sum())
        row["cities"] = int(len(g))
        rows.append(row)
    return pd.DataFrame(rows)


def assess(
    city: xr.Dataset,
    start: str | np.datetime64 | None = None,
    end: str | np.datetime64 | None = None,
    *,
    dust: xr.DataArray | None = None,
    standard: str | None = None,
    options: AssessmentOptions = AssessmentOptions(),
    with_province: bool = True,
) -> pd.DataFrame:
    """Per-city (and province) statistics of a period (HJ 663 §6; target figures).

    Parameters
    ----------
    city : Dataset (city, date)
        From :func:`city_daily` or a reader of daily city values.
    start, end : date-like, optional
        Inclusive period; the whole dataset by default.
    dust : DataArray of bool (city, date), optional
        Dust-affected days; adds ``dust="excluded"`` rows.

    Returns
    -------
    pandas.DataFrame
        :func:`~envquality.stats.assessment.period_statistics` rows plus
        ranks (``rank_composite``, ``rank_pm25``, ``rank_good_ratio``) and a
        province row.
    """
    sel = city.sel(date=slice(start, end))
    if start is not None or end is not None:
        # the period is what was asked for, not the part of it the data cover: days
        # without data are missing days (capture rules, calendar days), and a period
        # outside the data gives all-missing figures rather than an empty selection
        lo = pd.Timestamp(start) if start is not None else pd.Timestamp(city["date"].values.min())
        hi = pd.Timestamp(end) if end is not None else pd.Timestamp(city["date"].values.max())
        sel = sel.reindex(date=pd.date_range(lo.normalize(), hi.normalize(), freq="D").values)
    days = sel["date"].values.astype("datetime64[D]")
    daily = {str(k): sel[k].transpose("city", "date").values for k in sel.data_vars
             if not str(k).endswith("_stations")}
    dust_arr = None
    if dust is not None:
        dust_arr = dust.sel(date=slice(start, end)).reindex(city=sel["city"], date=sel["date"],
                                                            fill_value=False).values.astype(bool)
    stats = period_statistics(daily, days, [str(c) for c in sel["city"].values], dust=dust_arr,
                              standard=standard, options=options)
    stats = rank_divisions(stats)
    if with_province:
        stats = pd.concat([stats, province_row(stats)], ignore_index=True)
    return stats.drop(columns=[c for c in stats.columns if c.startswith("_raw_")])


def hourly_aqi_dataset(hourly: xr.Dataset) -> xr.Dataset:
    """Real-time (hourly) AQI per station and hour (HJ 633-2012 §5.1; HJ 633-2026 §4.1.2).

    The rule set is chosen by the calendar day each hour belongs to.  Under
    HJ 633-2012, an SO2 1-h value above 800 µg/m³ takes the IAQI of the SO2
    24-h moving mean (≥ 20 valid hours), computed here from the series.
    Returns ``aqi`` (float32, NaN where undefined) and ``primary`` (uint8 bit
    mask over :data:`~envquality.standards.aqi.PRIMARY_LABELS`).
    """
    t = pd.DatetimeIndex(hourly["time"].values)
    codes = ruleset_codes_for_days((t - pd.Timedelta(hours=1)).normalize().values)
    code_da = xr.DataArray(codes, dims="time")
    so2_24h = None
    if "so2" in hourly and bool((hourly["so2"] > 800).any()):
        so2_24h = hourly["so2"].rolling(time=24, min_periods=20).mean()
    pols = [p for p in HOURLY_POLLUTANTS if p in hourly]

    def block(*arrays):
        # the rule-set code comes last, so the blocks are laid out like the data
        # (station, time) and the code broadcasts as (1, time)
        code, arrays = arrays[-1], arrays[:-1]
        # slabs of ~1 M values keep the temporaries in cache-friendly, page-fault-free sizes
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        rows = max(1, SLAB_VALUES // max(1, shape[-1]))
        if len(shape) == 2 and shape[0] > rows:
            aqi = np.empty(shape, np.float32)
            prim = np.empty(shape, np.uint8)
            for i in range(0, shape[0], rows):
                part = [a[i : i + rows] if a.shape[0] == shape[0] else a for a in arrays]
                c = code[i : i + rows] if code.shape[0] == shape[0] and code.ndim == 2 else code
                aqi[i : i + rows], prim[i : i + rows] = slab(c, *part)
            return aqi, prim
        return slab(code, *arrays)

    def slab(code, *arrays):
        conc = dict(zip(pols, arrays[: len(pols)]))
        s24 = arrays[len(pols)] if so2_24h is not None else None
        aqi = np.full(arrays[0].shape, np.nan, dtype=np.float32)
        prim = np.zeros(arrays[0].shape, dtype=np.uint8)
        present = np.unique(code)
        if len(present) == 1:  # the usual case: no selection copies
            r = hourly_aqi(conc, standard=RULESET_BY_CODE[int(present[0])].aqi_standard, so2_24h=s24)
            return r.aqi.astype(np.float32), r.primary_mask
        for c in present:
            sel = np.broadcast_to(code == c, arrays[0].shape)
            rs = RULESET_BY_CODE[int(c)]
            r = hourly_aqi({k: v[sel] for k, v in conc.items()}, standard=rs.aqi_standard,
                           so2_24h=None if s24 is None else s24[sel])
            aqi[sel] = r.aqi
            prim[sel] = r.primary_mask
        return aqi, prim

    args = [hourly[p] for p in pols] + ([so2_24h] if so2_24h is not None else []) + [code_da]
    aqi, prim = xr.apply_ufunc(
        block, *args,
        output_core_dims=[[], []],
        dask="parallelized",
        output_dtypes=[np.float32, np.uint8],
    )
    dims = hourly[pols[0]].dims
    ds = xr.Dataset({"aqi": aqi.transpose(*dims), "primary": prim.transpose(*dims)})
    ds["primary"].attrs["flag_meanings"] = " ".join(PRIMARY_LABELS)
    return ds
