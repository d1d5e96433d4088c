"""Progress towards each target on any day D: so far, still needed, reachable, projected.

For a day D of year Y (data through D count; L = days from D+1 to 31 Dec):

Good-day ratio (HJ 663 §6, HJ 633 daily classes): with V valid and G good
days so far, the year's ratio is at least T when ``100·(G + g) ≥ T·(V + L)``
— assuming every remaining day valid, which is the largest denominator and
so the largest requirement; invalid days are neither good nor valid.  The
good days still needed are the smallest such g (exact rational
arithmetic); the target is reachable when g ≤ L and already met when g = 0
(even L bad days cannot pull the ratio under T).  The province figure is
the mean of the division ratios (the plan: "14个市州……平均"); its
requirement is the fewest good division-days, taken first where a day
moves the mean most.

Annual means (PM2.5, PM10): with sum S over n valid days so far, the mean
over the rest of the year may be at most ``m = (thr·(n + L) − S) / L``;
reachable while m > 0.  Before 31 Dec a mean can never be "met" (the
remaining days are unbounded).  A change target's threshold is the
baseline year's mean less the required decline ("clearly falling" with no
number: strictly below the baseline).

Projection: the entity's own history — the same remaining calendar days
(the last L days) of each earlier year, cut into whole weeks from D+1, and
resampled week by week (for week k a random earlier year, and week k−1, k
or k+1 of it, so that seasonality stays and pollution spells stay whole: a
local block bootstrap).  The same draws serve every division, so the
province band keeps the divisions' correlation.  p10/p50/p90 of the
projected year value form the 80 % band; with fewer than three usable
earlier years (≥ half the remaining days valid) the note says so and there
is no band.  Dust-excluded figures follow 环办监测〔2016〕120号 as
:func:`envquality.stats.assessment.period_statistics` does.

Comparisons with thresholds use unrounded figures (as
:mod:`envquality.water.compliance` does); shown values are rounded per
HJ 663 practice (ratios 1 decimal, concentrations integers).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.standards.rounding import round_half_even
from envquality.stats.assessment import daily_aqi_by_date
from envquality.targets.daily import PROGRESS_INDICATORS, daily_arrays, read_daily, with_aqi
from envquality.targets.schema import Target, load_targets

__all__ = ["progress_table", "progress_from_daily", "PROGRESS_COLUMNS", "STATUSES", "good_days_needed",
           "province_good_days_needed", "mean_needed", "WaterInput", "read_water_input"]

PROVINCE = "620000"
PROVINCE_NAMES = ("甘肃省", "Gansu Province")

#: Columns of the progress table (the cross-team contract), then extras.
PROGRESS_COLUMNS: tuple[str, ...] = (
    "target_id", "title_zh", "title_en", "entity_code", "entity_name", "metric", "value_so_far",
    "value_so_far_dust_excluded", "threshold", "needed_rest_of_year", "good_days_needed", "days_left",
    "reachable", "projection_p10", "projection_p50", "projection_p90", "projection_note", "status",
)
EXTRA_COLUMNS: tuple[str, ...] = (
    "entity_name_en", "date", "year", "unit", "comparator", "deadline", "dust_excluded", "day_unit",
    "valid_days", "good_days", "baseline_year", "baseline_value", "note",
)
STATUSES: tuple[str, ...] = ("met", "on_track", "at_risk", "out_of_reach", "no_data")

#: Bootstrap draws of the projection.
N_DRAWS = 2000
#: Earlier years looked at for the projection.
HISTORY_YEARS = 10


# ------------------------------------------------------------------ exact arithmetic
def good_days_needed(good: int, valid: int, days_left: int, threshold: float, comparator: str = ">=") -> int:
    """Fewest good days among the remaining ones for a year ratio ``comparator threshold`` [%].

    HJ 663 good-day ratio = good days / valid days × 100, every remaining
    day counted valid.  Exact (rational) arithmetic.  The result may exceed
    ``days_left`` (then the target is out of reach).

    >>> good_days_needed(250, 300, 65, 82.0)   # 0.82 × 365 = 299.3 -> 300 good days
    50
    >>> good_days_needed(300, 300, 65, 82.0)   # already met
    0
    """
    need = Fraction(str(threshold)) * (valid + days_left) / 100 - good
    if comparator == ">":
        g = math.floor(need) + 1
    else:
        g = math.ceil(need)
    return max(0, int(g))


def province_good_days_needed(good: Sequence[int], valid: Sequence[int], days_left: int, threshold: float,
                              comparator: str = ">=") -> tuple[int, bool]:
    """Fewest good division-days for the mean of division ratios to reach the threshold.

    A good day in division i raises the mean by 1/(n·(V_i + L)): days go
    first where V_i + L is smallest, at most L per division (exact greedy).

    Returns
    -------
    needed : int
    reachable : bool

    >>> province_good_days_needed([300, 300], [300, 300], 65, 82.0)   # 300/365 = 82.2 % each
    (0, True)
    >>> province_good_days_needed([300, 250], [300, 300], 65, 82.0)   # 2 × 299.3 - 550 = 48.6
    (49, True)
    """
    t = Fraction(str(threshold)) / 100
    w = [v + days_left for v in valid]
    deficit = t * len(w) - sum(Fraction(g, wi) for g, wi in zip(good, w))
    strict = comparator == ">"
    if deficit < 0 or (deficit == 0 and not strict):
        return 0, True
    total = 0
    for wi in sorted(w):
        k = math.floor(deficit * wi) + 1 if strict else math.ceil(deficit * wi)
        take = min(days_left, max(0, k))
        total += take
        deficit -= Fraction(take, wi)
        if deficit < 0 or (deficit == 0 and not strict):
            return total, True
    return total, False


def mean_needed(sums: Sequence[float], counts: Sequence[int], days_left: int, threshold: float) -> float:
    """Largest mean over the remaining days for the (mean of the entities') annual mean to stay at ``threshold``.

    One entity: ``(thr·(n + L) − S) / L``.  Several (province = mean of the
    division means): ``(k·thr − Σ S_i/(n_i + L)) / Σ L/(n_i + L)``.  NaN
    with no remaining days.

    >>> round(mean_needed([40 * 300], [300], 65, 38.0), 4)   # (38·365 − 12000) / 65
    28.7692
    """
    if days_left <= 0 or not len(sums):
        return float("nan")
    s = np.asarray(sums, dtype=float)
    w = np.asarray(counts, dtype=float) + days_left
    return float((len(s) * threshold - np.sum(s / w)) / np.sum(days_left / w))


# ------------------------------------------------------------------ daily classes
@dataclass
class _Days:
    """Per (entity, day) classes of the two dust variants."""

    days: np.ndarray
    valid: dict[str, np.ndarray]
    good: dict[str, np.ndarray]
    pm: dict[tuple[str, str], np.ndarray]   # (pm25|pm10, variant) -> values, NaN where not counted


def _classify(arr: dict[str, np.ndarray]) -> _Days:
    """Valid, good and PM values per day, dust included and excluded (环办监测〔2016〕120号)."""
    aqi, dust = arr["aqi"], arr["dust"]
    valid = ~np.isnan(aqi)
    with np.errstate(invalid="ignore"):
        good = valid & (aqi <= 100)
        removed = np.zeros(aqi.shape, bool)
        if dust.any():
            gases = {k: arr[k] for k in ("so2_24h", "no2_24h", "co_24h", "o3_1h", "o3_8h")}
            res, _ = daily_aqi_by_date(gases, arr["days"])
            gas = np.full(aqi.shape, np.nan)
            for label, v in res.iaqi.items():
                if label not in ("PM10", "PM2.5"):
                    np.fmax(gas, v, out=gas)
            # a dust-caused exceedance: AQI > 100, but not without the particulates
            removed = dust & (aqi > 100) & ~(gas > 100)
    pm = {}
    for p in ("pm25", "pm10"):
        pm[(p, "included")] = arr[f"{p}_24h"]
        pm[(p, "excluded")] = np.where(dust, np.nan, arr[f"{p}_24h"])
    return _Days(arr["days"], {"included": valid, "excluded": valid & ~removed},
                 {"included": good, "excluded": good & ~removed}, pm)


# ------------------------------------------------------------------ projection
@dataclass
class _History:
    """Week-block sums of the last L days of earlier years: quantity -> (entity, year, block)."""

    years: list[int]
    blocks: dict[str, np.ndarray]
    usable: np.ndarray          # (entity, year) bool
    n_blocks: int
    days_left: int


def _history(days: _Days, year: int, days_left: int, first_year: int) -> _History | None:
    L = days_left
    if L <= 0:
        return None
    years = [y for y in range(max(first_year, year - HISTORY_YEARS), year)]
    if not years:
        return None
    day0 = days.days[0]
    K = -(-L // 7)
    idx = []
    for y in years:
        end = (np.datetime64(f"{y}-12-31") - day0).astype(int)
        idx.append(np.arange(end - L + 1, end + 1))
    ix = np.stack(idx)                                   # (year, L)
    ok = ix >= 0
    ixc = np.where(ok, ix, 0)
    qty: dict[str, np.ndarray] = {}
    for var in ("included", "excluded"):
        qty[f"valid@{var}"] = days.valid[var][:, ixc] & ok
        qty[f"good@{var}"] = days.good[var][:, ixc] & ok
        for p in ("pm25", "pm10"):
            x = np.where(ok, days.pm[(p, var)][:, ixc], np.nan)
            qty[f"{p}_sum@{var}"] = np.nan_to_num(x)
            qty[f"{p}_n@{var}"] = ~np.isnan(x)
    pad = K * 7 - L
    blocks = {}
    for k, v in qty.items():
        v = v.astype(float)
        if pad:
            v = np.concatenate([v, np.zeros(v.shape[:-1] + (pad,))], axis=-1)
        blocks[k] = v.reshape(v.shape[0], v.shape[1], K, 7).sum(-1)
    usable = qty["valid@included"].sum(-1) >= 0.5 * L
    return _History(years, blocks, usable, K, L)


def _draws(h: _History, year_idx: np.ndarray, seed: Sequence[int]) -> np.ndarray:
    """Flat (year·K + block) indices, shape (draws, K): week k from a random year, week k−1…k+1."""
    rng = np.random.default_rng(list(seed))
    K, L = h.n_blocks, h.days_left
    full = L // 7
    yrs = year_idx[rng.integers(0, len(year_idx), size=(N_DRAWS, K))]
    pos = np.arange(K)[None, :] + rng.integers(-1, 2, size=(N_DRAWS, K))
    if full:
        pos = np.clip(pos, 0, full - 1)
    if L % 7:  # the short last block is only ever replaced by a short block
        pos[:, K - 1] = K - 1
    return yrs * K + pos


def _resampled(h: _History, flat: np.ndarray, key: str, rows: np.ndarray) -> np.ndarray:
    """Sum over the resampled rest of the year: (entity, draw)."""
    b = h.blocks[key][rows].reshape(len(rows), -1)
    return b[:, flat].sum(-1)


# ------------------------------------------------------------------ entities
def _names(registry) -> dict[str, tuple[str, str]]:
    c = registry.cities
    out = {str(k): (zh, en) for k, zh, en in zip(c["code"], c["name_zh"], c["name_en"])}
    out[PROVINCE] = PROVINCE_NAMES
    return out


def _entities(target: Target, divisions: list[str]) -> list[str]:
    own = [d for d in divisions if not target.divisions or d in target.divisions]
    return {"province": [PROVINCE], "divisions": own, "province_and_divisions": [PROVINCE] + own,
            "drinking_water_sources": [PROVINCE] + own}[target.scope]


def _row(target: Target, code: str, names: dict, day: dt.date, **kw) -> dict:
    zh, en = names.get(code, (code, code))
    row: dict[str, object] = {c: np.nan for c in PROGRESS_COLUMNS + EXTRA_COLUMNS}
    row.update(target_id=target.id, title_zh=target.title_zh, title_en=target.title_en, entity_code=code,
               entity_name=zh, entity_name_en=en, metric=target.metric, date=day.isoformat(), year=day.year,
               unit=target.unit, comparator=target.comparator, deadline=target.deadline,
               dust_excluded=target.dust_excluded, baseline_year=target.baseline_year, projection_note="",
               note="", reachable=None, day_unit="days")
    row.update(kw)
    return row


def _status(target: Target, threshold: float, *, final: bool, met: bool, reachable: bool, p50: float,
            so_far: float) -> str:
    """met / out_of_reach when decided; else on_track when the projection median (or, without a
    projection, the value so far) meets the threshold, at_risk otherwise."""
    if met:
        return "met"
    if final or not reachable:
        return "out_of_reach"
    ref = p50 if not np.isnan(p50) else so_far
    return "on_track" if not np.isnan(ref) and target.meets(ref, threshold) else "at_risk"


def _band(x: np.ndarray, decimals: int) -> tuple[float, float, float]:
    with np.errstate(invalid="ignore"):
        q = np.nanpercentile(x, [10, 50, 90]) if np.isfinite(x).any() else np.full(3, np.nan)
    r = round_half_even(q, decimals)
    return float(r[0]), float(r[1]), float(r[2])


def _note(h: _History | None, years: np.ndarray, days_left: int) -> str:
    if days_left <= 0:
        return "year complete: the value is final"
    n = len(years)
    if h is None or n < 3:
        return (f"{n} earlier year(s) with data for the remaining {days_left} days: fewer than three, "
                "no projection band")
    ys = [h.years[i] for i in years]
    return (f"80 % band from {n} earlier years ({ys[0]}–{ys[-1]}): the remaining {days_left} days "
            f"resampled by whole weeks ({N_DRAWS} draws)")


class _Context:
    """Everything one day's progress needs: classes per day, so-far slice, history, draws."""

    def __init__(self, frame: pd.DataFrame, day: dt.date, divisions: list[str], first_year: int, seed: int):
        self.day, self.year = day, day.year
        self.days_left = (dt.date(day.year, 12, 31) - day).days
        data_first = pd.Timestamp(frame["date"].min()).year if len(frame) else day.year
        self.start_year = min(day.year, max(first_year, data_first))
        arr = daily_arrays(frame, divisions, f"{self.start_year}-01-01", f"{day.year}-12-31")
        self.d = _classify(arr)
        i0 = (np.datetime64(f"{day.year}-01-01") - arr["days"][0]).astype(int)
        iD = (np.datetime64(day.isoformat()) - arr["days"][0]).astype(int)
        self.so_far = slice(int(i0), int(iD) + 1)
        self.divisions = divisions
        self.h = _history(self.d, day.year, self.days_left, self.start_year)
        self.seed = seed
        self._draws: dict[tuple, np.ndarray] = {}

    def years_for(self, rows: np.ndarray) -> np.ndarray:
        if self.h is None or not len(rows):
            return np.zeros(0, int)
        return np.flatnonzero(self.h.usable[rows].all(axis=0))

    def draws(self, years: np.ndarray) -> np.ndarray:
        key = tuple(int(y) for y in years)
        if key not in self._draws:
            assert self.h is not None
            self._draws[key] = _draws(self.h, years, (self.seed, self.year, self.days_left, len(key)))
        return self._draws[key]

    def year_values(self, key: str, var: str, year: int) -> tuple[np.ndarray, np.ndarray]:
        """(sum, count) of a PM indicator over a whole earlier year, per division."""
        first = np.datetime64(f"{year}-01-01")
        i0 = (first - self.d.days[0]).astype(int)
        if i0 < 0:
            return np.full(len(self.divisions), np.nan), np.zeros(len(self.divisions))
        n = 366 if calendar.isleap(year) else 365
        x = self.d.pm[(key, var)][:, i0:i0 + n]
        return np.nansum(x, axis=1), (~np.isnan(x)).sum(axis=1)


def _ratio_rows(t: Target, ctx: _Context, names: dict) -> list[dict]:
    var = "excluded" if t.dust_excluded else "included"
    so, L, thr = ctx.so_far, ctx.days_left, float(t.threshold or 0.0)
    V = {v: ctx.d.valid[v][:, so].sum(1) for v in ("included", "excluded")}
    G = {v: ctx.d.good[v][:, so].sum(1) for v in ("included", "excluded")}
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = {v: np.where(V[v] > 0, 100.0 * G[v] / V[v], np.nan) for v in V}
    rows = []
    for code in _entities(t, ctx.divisions):
        if code == PROVINCE:
            idx = np.flatnonzero(V[var] > 0)
            k = len(idx)
            g, reachable = province_good_days_needed(G[var][idx].tolist(), V[var][idx].tolist(), L, thr,
                                                     t.comparator)
            so_far = float(np.mean(ratio[var][idx])) if k else np.nan
            shown = {v: float(np.nanmean(ratio[v][idx])) if k else np.nan for v in V}
            left, unit = L * k, "division-days"
            valid, good = int(V[var][idx].sum()), int(G[var][idx].sum())
        else:
            i = ctx.divisions.index(code)
            idx, k = np.array([i]), int(V[var][i] > 0)
            g = good_days_needed(int(G[var][i]), int(V[var][i]), L, thr, t.comparator)
            reachable, so_far = g <= L, float(ratio[var][i])
            shown = {v: float(ratio[v][i]) for v in V}
            left, unit, valid, good = L, "days", int(V[var][i]), int(G[var][i])
        years = ctx.years_for(idx)
        p = (np.nan, np.nan, np.nan)
        if k and len(years) >= 3:
            flat = ctx.draws(years)
            gs = _resampled(ctx.h, flat, f"good@{var}", idx)  # type: ignore[arg-type]
            vs = _resampled(ctx.h, flat, f"valid@{var}", idx)  # type: ignore[arg-type]
            with np.errstate(invalid="ignore", divide="ignore"):
                final = 100.0 * (G[var][idx, None] + gs) / (V[var][idx, None] + vs)
            p = _band(final.mean(axis=0), 1)
        elif k and L == 0:
            p = _band(np.array([so_far]), 1)
        status = "no_data" if not k else _status(t, thr, final=L == 0, met=g == 0 and reachable,
                                                 reachable=reachable, p50=p[1], so_far=so_far)
        rows.append(_row(t, code, names, ctx.day, value_so_far=_r(shown["included"], 1),
                         value_so_far_dust_excluded=_r(shown["excluded"], 1), threshold=thr,
                         needed_rest_of_year=_r(100.0 * g / left, 1) if left else np.nan,
                         good_days_needed=g, days_left=left, reachable=bool(reachable),
                         projection_p10=p[0], projection_p50=p[1], projection_p90=p[2],
                         projection_note=_note(ctx.h, years, L) if k else "no valid day so far this year",
                         status=status, day_unit=unit, valid_days=valid, good_days=good))
    return rows


def _r(x: float, decimals: int) -> float:
    return float(round_half_even(x, decimals)) if x == x else np.nan


def _mean_rows(t: Target, ctx: _Context, names: dict) -> list[dict]:
    var = "excluded" if t.dust_excluded else "included"
    pol = t.metric.split("_")[0]
    so, L = ctx.so_far, ctx.days_left
    x = {v: ctx.d.pm[(pol, v)][:, so] for v in ("included", "excluded")}
    S = {v: np.nansum(x[v], axis=1) for v in x}
    n = {v: (~np.isnan(x[v])).sum(axis=1) for v in x}
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = {v: np.where(n[v] > 0, S[v] / n[v], np.nan) for v in x}
    base_mean = None
    if t.is_change and t.baseline_value is None:
        bs, bn = ctx.year_values(pol, var, int(t.baseline_year))  # type: ignore[arg-type]
        with np.errstate(invalid="ignore", divide="ignore"):
            base_mean = np.where(bn > 0, bs / bn, np.nan)
    rows = []
    for code in _entities(t, ctx.divisions):
        idx = np.flatnonzero(n[var] > 0) if code == PROVINCE else np.array([ctx.divisions.index(code)])
        idx = idx[n[var][idx] > 0]
        k = len(idx)
        shown = {v: float(np.mean(mean[v][idx])) if k and np.isfinite(mean[v][idx]).all() else np.nan for v in x}
        so_far = shown[var]
        note, baseline = "", np.nan
        if t.is_change:
            if t.baseline_year >= ctx.year:  # type: ignore[operator]
                note = f"the baseline year {t.baseline_year} is not before {ctx.year}"
            elif t.baseline_value is not None:
                baseline = float(t.baseline_value)
            elif base_mean is not None and k:
                b = base_mean[idx] if code != PROVINCE else base_mean[np.isfinite(base_mean)]
                baseline = float(np.mean(b)) if len(b) and np.isfinite(b).all() else np.nan
            if np.isnan(baseline) and not note:
                note = f"no data for the baseline year {t.baseline_year}"
            thr = t.threshold_from_baseline(baseline) if baseline == baseline else np.nan
        else:
            thr = float(t.threshold)  # type: ignore[arg-type]
        m = mean_needed(S[var][idx], n[var][idx], L, thr) if k and thr == thr else np.nan
        reachable = bool(m > 0) if L else bool(k and thr == thr and t.meets(so_far, thr))
        years = ctx.years_for(idx)
        p = (np.nan, np.nan, np.nan)
        if k and len(years) >= 3:
            flat = ctx.draws(years)
            ss = _resampled(ctx.h, flat, f"{pol}_sum@{var}", idx)  # type: ignore[arg-type]
            ns = _resampled(ctx.h, flat, f"{pol}_n@{var}", idx)  # type: ignore[arg-type]
            p = _band(((S[var][idx, None] + ss) / (n[var][idx, None] + ns)).mean(axis=0), 0)
        elif k and L == 0:
            p = _band(np.array([so_far]), 0)
        if not k or thr != thr:
            status = "no_data"
        else:
            met = L == 0 and t.meets(so_far, thr)
            status = _status(t, thr, final=L == 0, met=met, reachable=reachable, p50=p[1], so_far=so_far)
        rows.append(_row(t, code, names, ctx.day, value_so_far=_r(shown["included"], 0),
                         value_so_far_dust_excluded=_r(shown["excluded"], 0), threshold=_r(thr, 1),
                         needed_rest_of_year=_r(m, 1), good_days_needed=np.nan,
                         days_left=L, reachable=reachable if k else None, projection_p10=p[0],
                         projection_p50=p[1], projection_p90=p[2],
                         projection_note=_note(ctx.h, years, L) if k else "no valid day so far this year",
                         status=status, valid_days=int(n[var][idx].sum()), good_days=np.nan,
                         baseline_value=_r(baseline, 1), note=note))
    return rows


# ------------------------------------------------------------------ water
@dataclass
class WaterInput:
    """Classified samplings and the source registry for the water targets.

    ``classified``: ``source``, ``sampled_at`` (tz-aware), ``compliant``,
    optionally ``water_class`` and ``deciding`` (as
    :func:`envquality.water.classify_samples` or
    :func:`envquality.store.water.read_classes` give them).  ``registry``:
    ``id``, ``name``, ``city_code``, ``city``, ``level``, ``source_type``,
    ``supply_m3_per_day`` (:func:`envquality.water.load_water_sources`).
    """

    classified: pd.DataFrame
    registry: pd.DataFrame


def read_water_input(engine: sa.Engine, method: str = "2011") -> WaterInput | None:
    """Stored classes and sources (``water_class``, ``water_source``); None when none are stored."""
    from envquality.registry import load_cities
    from envquality.store import schema as S
    from envquality.store.water import read_classes

    insp = sa.inspect(engine)
    if not (insp.has_table("water_class") and insp.has_table("water_source")):
        return None
    with engine.connect() as conn:
        src = pd.DataFrame(conn.execute(sa.select(
            S.water_source.c.id, S.water_source.c.name, S.water_source.c.city_code, S.water_source.c.level,
            S.water_source.c.type, S.water_source.c.supply_volume)).all(),
            columns=["id", "name", "city_code", "level", "source_type", "supply_m3_per_day"])
    if src.empty:
        return None
    names = dict(zip(load_cities()["code"].astype(str), load_cities()["name_zh"]))
    src["city_code"] = src["city_code"].astype(str)
    src["city"] = src["city_code"].map(names).fillna(src["city_code"])
    return WaterInput(read_classes(engine, method), src)


def county_and_above(registry: pd.DataFrame) -> pd.DataFrame:
    """Sources of county-level and higher cities (registry ``level`` prefecture or county; all without a level)."""
    if "level" not in registry:
        return registry
    lv = registry["level"].astype(str).str.lower()
    return registry[lv.isin(["prefecture", "county", "province", "city"]) | registry["level"].isna()]


def _water_rows(t: Target, water: WaterInput | None, day: dt.date, divisions: list[str], names: dict) -> list[dict]:
    """Water-source compliance so far (GB 3838 / GB/T 14848 classes, Class I–III; standards.md §5.5)."""
    from envquality.water.compliance import compliance_ratios, source_compliance

    L, thr = (dt.date(day.year, 12, 31) - day).days, float(t.threshold or 0.0)
    rows = []
    if water is None:
        for code in _entities(t, divisions):
            rows.append(_row(t, code, names, day, threshold=thr, days_left=L, status="no_data",
                             projection_note="no water data", note="no water-source samplings available"))
        return rows
    reg = county_and_above(water.registry)
    cls = water.classified
    local = pd.to_datetime(cls["sampled_at"])
    if getattr(local.dt, "tz", None) is not None:
        local = local.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    keep = ((local.dt.year == day.year) & (local.dt.normalize() <= pd.Timestamp(day))).to_numpy()
    cls = cls.loc[keep & cls["source"].astype(str).isin(set(reg["id"].astype(str))).to_numpy()]
    ratios = compliance_ratios(cls, reg, str(day.year), target=thr)
    ratios = ratios[ratios["method"] == t.method].set_index("city_code")
    per = source_compliance(cls, reg, str(day.year))
    for code in _entities(t, divisions):
        sub = per if code == PROVINCE else per[per["city_code"].astype(str) == code]
        n_all = len(sub)
        failed = int((sub["assessed"] & ~sub["compliant"]).sum())
        assessed = int(sub["assessed"].sum())
        value = float(ratios["ratio_pct"].get(code, np.nan))
        if t.method == "volume":
            vol = sub["supply_m3_per_day"].astype(float)
            best = 100.0 * vol[~(sub["assessed"] & ~sub["compliant"])].sum() / vol.sum() if vol.sum() else np.nan
        else:  # a source that failed once cannot comply this year; the rest still may
            best = 100.0 * (n_all - failed) / n_all if n_all else np.nan
        reachable = bool(best == best and t.meets(best, thr)) if t.method != "samplings" else True
        allowed = math.floor(n_all * (1 - Fraction(str(thr)) / 100)) if n_all else 0
        if not assessed:
            status = "no_data"
        else:
            status = _status(t, thr, final=L == 0, met=L == 0 and t.meets(value, thr), reachable=reachable,
                             p50=np.nan, so_far=value)
        rows.append(_row(t, code, names, day, value_so_far=_r(value, 2), threshold=thr, days_left=L,
                         reachable=reachable, status=status, valid_days=assessed,
                         projection_note="no projection for water sources (monthly samplings)",
                         note=f"{n_all} sources, {assessed} assessed so far, {failed} failed; "
                              f"at most {allowed} may fail in the year"))
    return rows


# ------------------------------------------------------------------ entry points
def _as_date(day) -> dt.date:
    return day if isinstance(day, dt.date) and not isinstance(day, dt.datetime) else pd.Timestamp(day).date()


def _finish(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(PROGRESS_COLUMNS + EXTRA_COLUMNS))
    for c in ("good_days_needed", "days_left", "valid_days", "good_days", "baseline_year", "deadline", "year"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
    out["reachable"] = out["reachable"].astype("boolean")
    return out


def progress_from_daily(daily: pd.DataFrame, day, targets: Sequence[Target] | None = None, *,
                        water: WaterInput | None = None, registry=None, seed: int = 0) -> pd.DataFrame:
    """Progress table for ``day`` from a wide daily frame (no store needed).

    Parameters
    ----------
    daily : pandas.DataFrame
        Wide daily frame (:mod:`envquality.targets.daily`): ``entity``,
        ``date``, daily indicators, ``aqi`` (filled from the indicators by
        each day's rule set where absent), ``dust``.  Earlier years serve
        the projection and change baselines.
    day : date-like
        Data through this CST day count.
    targets : sequence of Target, optional
        Default :func:`~envquality.targets.schema.load_targets`.
    water : WaterInput, optional
        For water targets (rows say ``no_data`` without it).
    seed : int
        Seed of the projection's resampling (results are reproducible).

    Returns
    -------
    pandas.DataFrame
        :data:`PROGRESS_COLUMNS` then extra columns; one row per target and
        entity (``620000`` the province).

    References
    ----------
    HJ 663-2013 §6 and HJ 633 (good days: daily AQI ≤ 100; ratio over valid
    days); GB 3095 Table 1 (annual means); 环办监测〔2016〕120号 (dust);
    standards.md §5.5 (water sources, Class I–III); the plan's §一(三).
    """
    from envquality.registry import default_registry

    day = _as_date(day)
    reg = registry or default_registry()
    divisions = [str(c) for c in reg.cities["code"]]
    names = _names(reg)
    targets = load_targets() if targets is None else list(targets)
    rows: list[dict] = []
    air = [t for t in targets if t.metric != "water_source_compliance"]
    if air:
        # a stored AQI (NaN: not defined that day) is taken as it is; only a frame without one gets it computed
        frame = with_aqi(daily) if "aqi" not in daily or daily["aqi"].isna().all() else daily
        first = min([day.year - HISTORY_YEARS] + [int(t.baseline_year) for t in air if t.baseline_year])
        ctx = _Context(frame, day, divisions, first, seed)
    for t in targets:
        if t.metric == "water_source_compliance":
            rows += _water_rows(t, water, day, divisions, names)
        elif t.metric == "good_day_ratio":
            rows += _ratio_rows(t, ctx, names)
        else:
            rows += _mean_rows(t, ctx, names)
    return _finish(rows)


def progress_table(engine: sa.Engine, day: dt.date, *, targets: Sequence[Target] | None = None,
                   registry=None, seed: int = 0) -> pd.DataFrame:
    """Progress towards every target on ``day``, from the store (the cross-team contract).

    Reads the divisions' daily values (``daily_stat``) from the earliest
    year needed (the projection's history, at most :data:`HISTORY_YEARS`
    back, and change baselines) through 31 Dec of ``day``'s year — only
    days up to ``day`` count — and the stored water classes.  See
    :func:`progress_from_daily` for the columns and methods.
    """
    day = _as_date(day)
    targets = load_targets() if targets is None else list(targets)
    first = min([day.year - HISTORY_YEARS] + [int(t.baseline_year) for t in targets if t.baseline_year])
    daily = read_daily(engine, dt.date(first, 1, 1), day, indicators=PROGRESS_INDICATORS)
    water = None
    if any(t.metric == "water_source_compliance" for t in targets):
        water = read_water_input(engine)
    return progress_from_daily(daily, day, targets, water=water, registry=registry, seed=seed)
