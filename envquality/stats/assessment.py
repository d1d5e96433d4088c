"""Ambient air-quality assessment statistics (HJ 663-2013 / HJ 663-2026).

Pure computations over arrays of daily values laid out as
``(entity, day)`` — an entity being a city (or a station) — with consecutive
calendar days on the last axis.  The rule set of each day is chosen by its
date (:func:`envquality.standards.ruleset_for`): a period that straddles
2026-03-01 is computed day by day and the results say which rule sets
applied.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from envquality.standards.aqi import PRIMARY_LABELS, AQIResult, daily_aqi
from envquality.standards.rounding import round_half_even
from envquality.standards.rulesets import RULESET_BY_CODE, RuleSet, get_ruleset, ruleset_codes_for_days
from envquality.stats.validity import (
    OK,
    REASONS,
    PeriodRule,
    period_capture,
)

__all__ = [
    "percentile", "city_mean", "daily_aqi_by_date", "period_statistics",
    "composite_index", "rank", "compare_periods", "AssessmentOptions", "PERCENTILE_ITEMS",
    "DAILY_INDICATORS",
]

#: Daily indicators (envquality.model.DAILY_POLLUTANTS) in assessment order.
DAILY_INDICATORS: tuple[str, ...] = (
    "so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_1h", "o3_8h",
)

#: Period items of HJ 663 Table 1: (output name, daily indicator, statistic).
#: ``"mean"`` or a percentile (Annex A).
PERCENTILE_ITEMS: tuple[tuple[str, str, str | float], ...] = (
    ("so2_mean", "so2_24h", "mean"),
    ("so2_p98", "so2_24h", 98.0),
    ("no2_mean", "no2_24h", "mean"),
    ("no2_p98", "no2_24h", 98.0),
    ("pm10_mean", "pm10_24h", "mean"),
    ("pm10_p95", "pm10_24h", 95.0),
    ("pm25_mean", "pm25_24h", "mean"),
    ("pm25_p95", "pm25_24h", 95.0),
    ("co_p95", "co_24h", 95.0),
    ("o3_p90", "o3_8h", 90.0),
)

#: Composite-index terms: (pollutant, period item, limit key in GB 3095 Table 1).
COMPOSITE_TERMS: tuple[tuple[str, str, tuple[str, str]], ...] = (
    ("so2", "so2_mean", ("so2", "annual")),
    ("no2", "no2_mean", ("no2", "annual")),
    ("pm10", "pm10_mean", ("pm10", "annual")),
    ("pm25", "pm25_mean", ("pm25", "annual")),
    ("co", "co_p95", ("co", "24h")),
    ("o3", "o3_p90", ("o3", "8h")),
)

#: Display labels of the composite-index pollutants.
_DISPLAY = {"so2": "SO2", "no2": "NO2", "pm10": "PM10", "pm25": "PM2.5", "co": "CO", "o3": "O3"}



def percentile(values: npt.ArrayLike, p: float, axis: int = -1) -> np.ndarray:
    """p-th percentile of the valid values (HJ 663-2013 Annex A).

    Sort the n valid values, k = 1 + (n − 1)·p/100, s = ⌊k⌋,
    X_p = X(s) + (X(s+1) − X(s))·(k − s); identical to numpy's default
    ``linear`` method.  NaN values are ignored; all-NaN gives NaN.

    >>> float(percentile([3, 4, 8, 2, 5, 4], 90))
    6.5

    References
    ----------
    .. [1] HJ 663-2013 Annex A (percentile: ordered valid values, k = 1 + (n-1)·p/100, linear interpolation); HJ 663-2026 Annex A.
    """
    x = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slice -> NaN, as wanted
        return np.asarray(np.nanpercentile(x, p, axis=axis, method="linear"))


def city_mean(
    station_values: npt.ArrayLike,
    city_index: npt.ArrayLike,
    n_cities: int,
    *,
    min_stations: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """City values as the mean of the city's valid assessment-station values.

    HJ 663-2013 §5 (city concentration = arithmetic mean of the valid values
    of the city's assessment stations).  Vectorized as one matrix product.

    Parameters
    ----------
    station_values : array_like, shape (n_stations, ...)
        NaN where a station's value is invalid.
    city_index : array_like of int, shape (n_stations,)
        City row of each station; -1 for stations not used in the assessment
        (control points, retired stations).
    n_cities : int
    min_stations : int
        Valid stations needed for a valid city value (HJ 663 sets no number;
        1 by default, configurable).

    Returns
    -------
    mean : ndarray, shape (n_cities, ...)
    n_stations : ndarray of int, shape (n_cities, ...)

    >>> m, n = city_mean([[10.0], [20.0], [np.nan], [99.0]], [0, 0, 0, -1], 1)
    >>> m.tolist(), n.tolist()
    ([[15.0]], [[2]])

    References
    ----------
    .. [1] HJ 663-2013 §5 (city concentration: arithmetic mean of the city's valid assessment stations); HJ 663-2026 §5.
    """
    x = np.asarray(station_values)
    idx = np.asarray(city_index)
    flat = x.reshape(x.shape[0], -1)
    used = np.nonzero(idx >= 0)[0]
    order = used[np.argsort(idx[used], kind="stable")]
    cities_sorted = idx[order]
    total = np.zeros((n_cities, flat.shape[1]))
    count = np.zeros((n_cities, flat.shape[1]), dtype=np.int64)
    if order.size:
        # contiguous runs of each city's stations, summed with reduceat (no BLAS, no Python loop)
        starts = np.flatnonzero(np.r_[True, cities_sorted[1:] != cities_sorted[:-1]])
        block = flat[order]
        valid = ~np.isnan(block)
        total[cities_sorted[starts]] = np.add.reduceat(np.where(valid, block, 0.0), starts, axis=0)
        count[cities_sorted[starts]] = np.add.reduceat(valid.astype(np.int64), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count >= max(min_stations, 1), total / count, np.nan)
    shape = (n_cities,) + x.shape[1:]
    return mean.reshape(shape), count.reshape(shape)


def daily_aqi_by_date(
    daily: Mapping[str, npt.ArrayLike],
    days: npt.ArrayLike,
    *,
    standard: str | RuleSet | None = None,
) -> tuple[AQIResult, np.ndarray]:
    """Daily AQI with the rule set of each day's date.

    HJ 633-2012 §5.2 before 2026-03-01, HJ 633-2026 §4.1.1 from then on
    (or ``standard`` for all days).  Days are on the last axis.

    Returns
    -------
    result : AQIResult
        ``standard`` is an array naming the standard of every element.
    codes : ndarray of int8, shape (n_days,)
        0 for the 2012 generation, 1 for 2026.

    References
    ----------
    .. [1] HJ 633-2012 §5.2 and HJ 633-2026 §4.1.1 (daily AQI); the rule set of each date (2026-03-01 switch, shared/reference/standards.md §0).
    """
    d = np.asarray(days, dtype="datetime64[D]")
    if standard is not None:
        rs = get_ruleset(standard)
        codes = np.full(d.shape, RULESET_BY_CODE.index(rs), dtype=np.int8)
    else:
        codes = ruleset_codes_for_days(d)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in daily.items()}
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    present = np.unique(codes)
    if len(present) == 1:
        rs = RULESET_BY_CODE[int(present[0])]
        res = daily_aqi(arrays, standard=rs.aqi_standard)
        res.standard = np.full(shape, rs.aqi_standard, dtype=object)
        return res, codes
    parts = []
    for c in present:
        sel = codes == c
        rs = RULESET_BY_CODE[int(c)]
        parts.append((sel, daily_aqi({k: np.broadcast_to(a, shape)[..., sel] for k, a in arrays.items()},
                                     standard=rs.aqi_standard), rs))
    aqi = np.full(shape, np.nan)
    primary = np.zeros(shape, np.uint8)
    exceeding = np.zeros(shape, np.uint8)
    complete = np.zeros(shape, bool)
    std = np.empty(shape, dtype=object)
    # a fixed order (first seen, rule set by rule set), never a set's: output columns must not move
    labels = list(dict.fromkeys(lab for _, r, _ in parts for lab in r.iaqi))
    iaqis = {lab: np.full(shape, np.nan) for lab in labels}
    for sel, r, rs in parts:
        aqi[..., sel] = r.aqi
        primary[..., sel] = r.primary_mask
        exceeding[..., sel] = r.exceeding_mask
        complete[..., sel] = r.complete
        std[..., sel] = rs.aqi_standard
        for lab, v in r.iaqi.items():
            iaqis[lab][..., sel] = v
    return AQIResult(aqi, iaqis, primary, exceeding, complete, std), codes


def composite_index(
    items: Mapping[str, npt.ArrayLike],
    ruleset: RuleSet,
    *,
    limits: Mapping[tuple[str, str], float] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Composite air-quality index and its leading pollutant (HJ 663 §6.2.3).

    I_i = C_i / S_i; I_sum = Σ w_i·I_i over SO2, NO2, PM10, PM2.5 (period
    means / annual Class-2 limits), CO (P95 / 24-h limit 4 mg/m³) and O3
    (P90 of MDA8 / 160 µg/m³).  Weights are the rule set's (all 1 unless
    configured).  Missing terms make the index NaN.

    Returns
    -------
    total, leading, single : ndarray, ndarray of object, dict
        ``leading`` is the pollutant with the largest single index.

    References
    ----------
    .. [1] HJ 663-2013 §6.2.3 (composite index: sum of concentration/limit ratios of the six pollutants); HJ 663-2026 §6.2.3.
    """
    lim = dict(limits or ruleset.class2_limits)
    single = {}
    for pol, item, key in COMPOSITE_TERMS:
        single[pol] = np.asarray(items[item], dtype=np.float64) / lim[key]
    stack = np.stack(list(single.values()))
    weights = np.array([ruleset.composite_weights[p] for p in single]).reshape((-1,) + (1,) * (stack.ndim - 1))
    total = (stack * weights).sum(axis=0)
    # every pollutant sharing the largest single index leads (ties, like primary pollutants)
    top = np.max(np.where(np.isnan(stack), -np.inf, stack), axis=0)
    leading = np.full(total.shape, "", dtype=object)
    for name, s_i in single.items():
        hit = (s_i == top) & ~np.isnan(total)
        leading = np.where(hit, np.where(leading == "", _DISPLAY[name], leading + "," + _DISPLAY[name]), leading)
    return total, leading, single


@dataclass(frozen=True)
class AssessmentOptions:
    """Configurable choices of the period assessment (documented defaults).

    Attributes
    ----------
    period_rule : PeriodRule
        Capture rule for period statistics (GB 3095 Table 4 and extension).
    composite_from_rounded : bool
        Composite index from the reported (rounded) period figures, as
        bulletins do (unverified rule; True by default).
    limits_ruleset : {"last_day", "2012", "2026"}
        Whose GB 3095 limits the composite index uses for a period: the rule
        set in force on the period's last day by default.
    dust_removes_concentrations : bool
        With dust excluded, PM10 and PM2.5 of flagged days leave the
        concentration statistics (环办监测〔2016〕120号; default True).
    """

    period_rule: PeriodRule = PeriodRule()
    composite_from_rounded: bool = True
    limits_ruleset: str = "last_day"
    dust_removes_concentrations: bool = True


def _report_decimals(item: str) -> int:
    return 1 if item.startswith("co") else 0


def period_statistics(
    daily: Mapping[str, npt.ArrayLike],
    days: npt.ArrayLike,
    entities: Sequence[str],
    *,
    dust: npt.ArrayLike | None = None,
    standard: str | RuleSet | None = None,
    options: AssessmentOptions = AssessmentOptions(),
) -> pd.DataFrame:
    """Period assessment of each entity (HJ 663 §6, Table 1; HJ 633 day classes).

    Parameters
    ----------
    daily : mapping of str to array, each shape (n_entities, n_days)
        Daily indicators ``so2_24h no2_24h pm10_24h pm25_24h co_24h o3_1h
        o3_8h`` [µg/m³; CO mg/m³], NaN where invalid.
    days : array of datetime64[D], shape (n_days,)
        Consecutive calendar days of the period.
    entities : sequence of str
        Row labels (city codes).
    dust : array of bool, shape (n_entities, n_days), optional
        Dust-affected days (from CNEMC review).  When given, the result has
        a ``dust="included"`` and a ``dust="excluded"`` row per entity
        (环办监测〔2016〕120号 attachment): with dust excluded, PM10/PM2.5 of
        those days leave the concentration statistics and days whose
        exceedance was caused by particulates are removed from the valid
        days.
    standard : str, optional
        Force one rule set for every day instead of choosing by date.

    Returns
    -------
    pandas.DataFrame
        One row per entity (and dust variant) with day counts, good-day
        ratio [%], period means and percentiles (rounded per GB/T 8170 as
        reported: integers, CO 1 decimal), their data capture ``*_n`` and
        validity reason ``*_reason``, the composite index (2 decimals) and
        its leading pollutant(s), and ``rulesets`` applied.  Columns
        ``_raw_*`` hold the unrounded figures, so that aggregates over
        entities round only once (GB/T 8170: no cascaded rounding).

    References
    ----------
    .. [1] HJ 663-2013 §6 and Table 1 (period statistics and their validity); HJ 633-2012 Table 2 (day classes: good = AQI ≤ 100).
    .. [2] GB 3095-2012 Table 4 (data capture).
    """
    d = np.asarray(days, dtype="datetime64[D]")
    n_ent = len(entities)
    arrays: dict[str, np.ndarray] = {}
    for k in DAILY_INDICATORS:
        a = np.asarray(daily[k], dtype=np.float64) if k in daily else np.full((n_ent, d.size), np.nan)
        if a.shape != (n_ent, d.size):
            raise ValueError(f"daily[{k!r}] has shape {a.shape}, expected {(n_ent, d.size)}")
        arrays[k] = a
    res, codes = daily_aqi_by_date(arrays, d, standard=standard)
    used = sorted({RULESET_BY_CODE[int(c)] for c in np.unique(codes)}, key=lambda r: r.name)
    if options.limits_ruleset == "last_day":
        limit_rs = RULESET_BY_CODE[int(codes[-1])] if d.size else used[0]
    else:
        limit_rs = get_ruleset(options.limits_ruleset)
    variants: list[tuple[str, np.ndarray | None]] = [("included", None)]
    if dust is not None:
        dust_arr = np.asarray(dust, dtype=bool)
        variants.append(("excluded", dust_arr))
    frames = []
    for name, dust_mask in variants:
        frames.append(_one_variant(arrays, res, d, entities, dust_mask, name, used, limit_rs, options))
    out = pd.concat(frames, ignore_index=True)
    return out


def _dust_removed(
    arrays: dict[str, np.ndarray], res: AQIResult, dust: np.ndarray | None, options: AssessmentOptions,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Days removed as dust-caused exceedances, and the concentrations left for the statistics."""
    aqi = res.aqi
    removed = np.zeros(aqi.shape, dtype=bool)
    values = dict(arrays)
    if dust is not None:
        # a dust-caused exceedance: AQI > 100, but not without PM10 and PM2.5
        gas = np.full(aqi.shape, np.nan)
        for label, v in res.iaqi.items():
            if label not in ("PM10", "PM2.5"):
                np.fmax(gas, v, out=gas)
        with np.errstate(invalid="ignore"):
            removed = dust & (aqi > 100) & ~(gas > 100)
        if options.dust_removes_concentrations:
            for k in ("pm10_24h", "pm25_24h"):
                values[k] = np.where(dust, np.nan, values[k])
    return removed, values


def _day_counts(
    res: AQIResult, removed: np.ndarray, days: np.ndarray, entities: Sequence[str], variant: str,
    used: list[RuleSet],
) -> dict[str, object]:
    """Identity columns, day-class counts, good-day ratio and primary-pollutant day counts."""
    aqi = res.aqi
    with np.errstate(invalid="ignore"):
        valid_day = ~np.isnan(aqi) & ~removed
        good = valid_day & (aqi <= 100)
        exceed = valid_day & (aqi > 100)
        heavy = valid_day & (aqi > 200)
        severe = valid_day & (aqi > 300)
    n_valid = valid_day.sum(axis=-1)
    n_good = good.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(n_valid > 0, n_good / n_valid * 100.0, np.nan)
    cols: dict[str, object] = {
        "entity": list(entities),
        "dust": variant,
        "period_start": str(days[0]) if days.size else "",
        "period_end": str(days[-1]) if days.size else "",
        "rulesets": ",".join(r.label for r in used),
        "calendar_days": days.size,
        "valid_days": n_valid,
        "good_days": n_good,
        "good_ratio": round_half_even(ratio, 1),
        "_raw_good_ratio": ratio,
        "exceed_days": exceed.sum(axis=-1),
        "heavy_days": heavy.sum(axis=-1),
        "severe_days": severe.sum(axis=-1),
        "dust_removed_days": removed.sum(axis=-1),
    }
    for lab in ("PM2.5", "PM10", "O3_8h", "O3_1h", "NO2", "SO2", "CO"):
        bit = np.uint8(1 << PRIMARY_LABELS.index(lab))
        cols[f"primary_days_{lab.lower().replace('.', '')}"] = (valid_day & ((res.primary_mask & bit) != 0)).sum(axis=-1)
    return cols


def _period_items(
    values: dict[str, np.ndarray], arrays: dict[str, np.ndarray], days: np.ndarray,
    options: AssessmentOptions, cols: dict[str, object],
) -> dict[str, np.ndarray]:
    """Period means/percentiles into ``cols`` (reported, raw, n, reason); return those for the composite."""
    items: dict[str, np.ndarray] = {}
    for item, indicator, stat in PERCENTILE_ITEMS:
        x = values[indicator]
        ok = ~np.isnan(x)
        # capture is judged on the data as measured: days removed as dust-affected
        # are not missing data, so they must not invalidate the period
        _, reason = period_capture(~np.isnan(arrays[indicator]), days, options.period_rule)
        n = ok.sum(axis=-1)
        if stat == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                raw = np.where(n > 0, np.where(ok, x, 0.0).sum(axis=-1) / n, np.nan)
        else:
            raw = percentile(x, float(stat), axis=-1)
        raw = np.where(reason == OK, raw, np.nan)
        reported = round_half_even(raw, _report_decimals(item))
        items[item] = reported if options.composite_from_rounded else raw
        cols[item] = reported
        cols[f"_raw_{item}"] = raw
        cols[f"{item}_n"] = n
        cols[f"{item}_reason"] = [REASONS[int(r)] for r in np.atleast_1d(reason)]
    return items


def _one_variant(
    arrays: dict[str, np.ndarray],
    res: AQIResult,
    days: np.ndarray,
    entities: Sequence[str],
    dust: np.ndarray | None,
    variant: str,
    used: list[RuleSet],
    limit_rs: RuleSet,
    options: AssessmentOptions,
) -> pd.DataFrame:
    removed, values = _dust_removed(arrays, res, dust, options)
    cols = _day_counts(res, removed, days, entities, variant, used)
    items = _period_items(values, arrays, days, options, cols)
    # the limits in force on the period's last day (GB 3095-2026 Table 1 has a later stage)
    limits = limit_rs.class2_limits_on(days[-1]) if days.size else None
    total, leading, _ = composite_index(items, limit_rs, limits=limits)
    cols["composite_index"] = round_half_even(total, 2)
    cols["_raw_composite_index"] = total
    cols["composite_leading"] = leading
    cols["composite_limits"] = limit_rs.ambient_standard
    return pd.DataFrame(cols)


def rank(values: npt.ArrayLike, *, ascending: bool = True) -> np.ndarray:
    """Rank with ties sharing the best rank (城市环境空气质量排名技术规定).

    Composite index and PM2.5 rank ascending (smaller is better); the
    good-day ratio ranks descending.  NaN ranks last (rank NaN).

    >>> rank([3.1, 2.5, 3.1, float("nan")]).tolist()
    [2.0, 1.0, 2.0, nan]

    References
    ----------
    .. [1] 城市环境空气质量排名技术规定 (MEE ranking regulation): ties share the best rank.
    """
    s = pd.Series(np.asarray(values, dtype=np.float64))
    return s.rank(method="min", ascending=ascending, na_option="keep").to_numpy()


def rank_divisions(stats: pd.DataFrame) -> pd.DataFrame:
    """``stats`` with ``rank_composite``, ``rank_pm25`` and ``rank_good_ratio``, ranked within each ``dust`` variant.

    References
    ----------
    .. [1] 城市环境空气质量排名技术规定 (MEE ranking regulation): composite index
       and PM2.5 ascending, good-day ratio descending; ties share the best rank.
    """
    parts = []
    for _, g in stats.groupby("dust", sort=False):
        g = g.copy()
        g["rank_composite"] = rank(g["composite_index"])
        g["rank_pm25"] = rank(g["pm25_mean"])
        g["rank_good_ratio"] = rank(g["good_ratio"], ascending=False)
        parts.append(g)
    return pd.concat(parts, ignore_index=True)


def _change_decimals(indicator: str) -> int:
    """Decimals of a reported period figure: ratio and CO 1, composite index 2, others 0."""
    if indicator == "composite_index":
        return 2
    return 1 if indicator == "good_ratio" or indicator.startswith("co") else 0


def compare_periods(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    indicators: Sequence[str] = ("good_ratio", "pm25_mean", "pm10_mean", "composite_index"),
    *,
    on: Sequence[str] = ("entity", "dust"),
) -> pd.DataFrame:
    """Change of period statistics against the same period of another year.

    Absolute change (current − previous, in the indicator's unit; for the
    good-day ratio in percentage points) and relative change [%] =
    (current − previous) / previous × 100, rounded to 1 decimal.  A falling
    PM mean has a negative change.

    References
    ----------
    .. [1] HJ 663-2013 §6 (period statistics compared year on year, same period).
    """
    keys = list(on)
    merged = current[keys + list(indicators)].merge(
        previous[keys + list(indicators)], on=keys, suffixes=("", "_previous"), how="left"
    )
    for ind in indicators:
        cur = merged[ind].astype("float64")
        prev = merged[f"{ind}_previous"].astype("float64")
        # the change is reported to the decimals of the figures it compares (GB/T 8170)
        merged[f"{ind}_change"] = round_half_even((cur - prev).to_numpy(), _change_decimals(ind))
        with np.errstate(invalid="ignore", divide="ignore"):
            merged[f"{ind}_change_pct"] = round_half_even(
                np.where(prev != 0, (cur - prev) / prev * 100.0, np.nan), 1
            )
    return merged

