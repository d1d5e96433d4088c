"""The bureau's reports: monthly/YTD ranking, annual summary, drinking-water sources.

Every figure comes from the HJ 663 engine (:func:`envquality.stats.assessment.period_statistics`,
as :func:`envquality.stats.datasets.assess` applies it)
applied to the divisions' daily values — the store's ``daily_stat`` (as
``period_stat`` is computed) or a tidy file — so reports and stored figures
agree.  ``source`` is a :class:`sqlalchemy.Engine` or a wide daily frame
(:mod:`envquality.targets.daily`); water reports take an Engine or a
:class:`~envquality.targets.progress.WaterInput`.

Stable entry points (the site and the Airflow publish step call them):
``monthly_report(source, "2016-12")``, ``annual_report(source, 2016)``,
``water_report(source, 2020)``, each returning a
:class:`~envquality.reports.model.Report` whose ``write(out_dir)`` writes CSV,
Excel, HTML and JSON.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.reports.charts import ratio_bars_svg, trend_lines_svg
from envquality.reports.model import Report, Table
from envquality.standards.rounding import round_half_even
from envquality.standards.rulesets import get_ruleset
from envquality.stats.assessment import DAILY_INDICATORS, compare_periods, period_statistics, rank_divisions
from envquality.stats.datasets import PROVINCE, province_row
from envquality.stats.validity import month_minimum
from envquality.targets import GOOD_DAY_RATIO_TARGET
from envquality.targets.daily import PROGRESS_INDICATORS, daily_arrays, read_daily
from envquality.targets.progress import WaterInput, county_and_above, progress_from_daily, read_water_input

__all__ = ["monthly_report", "annual_report", "water_report", "period_figures", "ranking_table",
           "gb3095_compliance", "monthly_pm", "DailyArrays", "RANKED"]

#: Ranked indicators and the decimals of their changes (composite index 2, concentrations 0, ratio 1).
RANKED: dict[str, int] = {"composite_index": 2, "pm25_mean": 0, "pm10_mean": 0, "good_ratio": 1}


# ------------------------------------------------------------------ inputs
def _registry(registry=None):
    from envquality.registry import default_registry

    return registry or default_registry()


def _daily(source, start: dt.date, end: dt.date, indicators=None) -> pd.DataFrame:
    if isinstance(source, sa.Engine):
        return read_daily(source, start, end, indicators=indicators)
    frame = source
    d = pd.to_datetime(frame["date"])
    return frame.loc[((d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))).to_numpy()]


def _names(reg) -> pd.DataFrame:
    c = reg.cities
    out = pd.DataFrame({"entity_code": c["code"].astype(str), "entity_name_zh": c["name_zh"],
                        "entity_name_en": c["name_en"]})
    prov = pd.DataFrame({"entity_code": [PROVINCE], "entity_name_zh": ["甘肃省（14市州平均）"],
                         "entity_name_en": ["Gansu (mean of the 14 divisions)"]})
    return pd.concat([out, prov], ignore_index=True)


class DailyArrays:
    """The divisions' daily values as ``(division, day)`` arrays over [start, end], sliced per period."""

    def __init__(self, daily: pd.DataFrame, divisions: list[str], start, end):
        self.divisions = divisions
        self.arr = daily_arrays(daily, divisions, start, end)
        self.day0 = self.arr["days"][0]

    def period(self, start, end) -> dict[str, np.ndarray]:
        i = int((np.datetime64(pd.Timestamp(start).date(), "D") - self.day0).astype(int))
        j = int((np.datetime64(pd.Timestamp(end).date(), "D") - self.day0).astype(int)) + 1
        if i < 0 or j > self.arr["days"].size:
            raise ValueError(f"period {start}–{end} outside the loaded days")
        return {k: v[..., i:j] for k, v in self.arr.items()}


def period_figures(data: DailyArrays, start, end) -> pd.DataFrame:
    """HJ 663 statistics of [start, end] per division and province, dust included and excluded.

    The body of :func:`envquality.stats.datasets.assess` (which
    :func:`envquality.pipeline.period_figures` stores) on plain arrays:
    :func:`~envquality.stats.assessment.period_statistics`, ranks with ties
    shared, and the province row as the mean of the divisions.

    References
    ----------
    HJ 663-2013 §6 and Table 1; HJ 633 daily AQI classes; 环办监测〔2016〕120号;
    城市环境空气质量排名技术规定 (ranks).
    """
    a = data.period(start, end)
    stats = period_statistics({k: a[k] for k in DAILY_INDICATORS}, a["days"], data.divisions, dust=a["dust"])
    stats = rank_divisions(stats)
    stats = pd.concat([stats, province_row(stats)], ignore_index=True)
    return stats.drop(columns=[c for c in stats.columns if c.startswith("_raw_")])


def monthly_pm(data: DailyArrays, year: int, last_month: int, *, dust_excluded: bool) -> dict[str, list[float]]:
    """Province monthly PM2.5 and PM10 means of ``year`` (months 1..last_month), in one vectorised pass.

    As the engine computes a whole month: the mean of the valid daily
    values when the month has its GB 3095 Table 4 capture (≥ 27 valid days,
    25 in February), dust days' PM left out when excluded; the province is
    the mean of the divisions' unrounded means, rounded once (GB/T 8170).
    """
    a = data.period(f"{year}-01-01", pd.Period(f"{year}-{last_month:02d}", "M").end_time.normalize())
    months = pd.DatetimeIndex(a["days"]).month.to_numpy()
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    need = np.array([month_minimum(year, int(m)) for m in months[starts]])
    out = {}
    for pol in ("pm25", "pm10"):
        x = a[f"{pol}_24h"]
        if dust_excluded:
            x = np.where(a["dust"], np.nan, x)
        ok = ~np.isnan(x)
        n = np.add.reduceat(ok.astype(np.int64), starts, axis=1)
        s = np.add.reduceat(np.where(ok, x, 0.0), starts, axis=1)
        # capture is judged on the data as measured (dust days are not missing days)
        measured = np.add.reduceat((~np.isnan(a[f"{pol}_24h"])).astype(np.int64), starts, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where((measured >= need) & (n > 0), s / np.maximum(n, 1), np.nan)
            prov = np.where(np.isfinite(mean).any(axis=0), np.nanmean(np.where(np.isfinite(mean), mean, np.nan),
                                                                      axis=0), np.nan)
        out[pol] = [float(v) for v in round_half_even(prov, 0)]
    return out


def _labelled(stats: pd.DataFrame, reg) -> pd.DataFrame:
    out = stats.rename(columns={"entity": "entity_code"})
    out["entity_code"] = out["entity_code"].astype(str)
    return _names(reg).merge(out, on="entity_code", how="right")


def _order(frame: pd.DataFrame, rank_col: str = "rank") -> pd.DataFrame:
    """Variants excluded first (the official figures), divisions by rank then code, province last."""
    f = frame.assign(_v=(frame["dust"] != "excluded").astype(int), _p=(frame["entity_code"] == PROVINCE).astype(int),
                     _r=frame[rank_col].astype("float64").fillna(np.inf) if rank_col in frame else 0)
    return f.sort_values(["_v", "_p", "_r", "entity_code"], kind="stable").drop(columns=["_v", "_p", "_r"]) \
        .reset_index(drop=True)


# ------------------------------------------------------------------ ranking
def ranking_table(current: pd.DataFrame, previous: pd.DataFrame, reg=None) -> pd.DataFrame:
    """Ranking of the divisions by composite index (ties share the best rank) with changes on last year.

    Composite index with its leading pollutant, PM2.5, PM10 and good-day
    ratio, each with the same period of last year, the change (ratio in
    percentage points) and the relative change [%].  Changes are taken
    between the reported (rounded) figures and rounded again to their
    decimals (城市环境空气质量排名技术规定, 环办〔2014〕64号; HJ 663 §6.2.3).
    """
    reg = _registry(reg)
    cmp = compare_periods(current, previous, tuple(RANKED))
    for ind, dec in RANKED.items():
        cmp[f"{ind}_change"] = round_half_even(cmp[f"{ind}_change"].to_numpy(dtype=float), dec)
    extra = current[["entity", "dust", "composite_leading", "rank_composite", "valid_days", "good_days"]]
    cmp = cmp.merge(extra, on=["entity", "dust"], how="left").rename(columns={"rank_composite": "rank"})
    cols = ["dust", "rank", "entity_code", "entity_name_zh", "entity_name_en", "composite_index",
            "composite_leading"]
    for ind in RANKED:
        if ind != "composite_index":
            cols.append(ind)
        cols += [f"{ind}_previous", f"{ind}_change", f"{ind}_change_pct"]
    cols += ["valid_days", "good_days"]
    return _order(_labelled(cmp, reg)[cols])


def _trend(data: DailyArrays, year: int, last_month: int, dust: bool) -> dict[str, list[float]]:
    out = {}
    for y in (year, year - 1):
        m = monthly_pm(data, y, last_month, dust_excluded=dust)
        out[f"pm25_mean@{y}"], out[f"pm10_mean@{y}"] = m["pm25"], m["pm10"]
    return out


def _charts(rank: pd.DataFrame, trend: dict[str, list[float]], year: int, months: list[str], what: str,
            dust: bool) -> list[str]:
    variant = "excluded" if dust else "included"
    div = rank[(rank["dust"] == variant) & (rank["entity_code"] != PROVINCE)]
    charts = [ratio_bars_svg(div["entity_name_zh"].tolist(), div["good_ratio"].astype(float).tolist(),
                             target=GOOD_DAY_RATIO_TARGET, title=f"优良天数比例 Good-day ratio, {what}")]
    for pol, label, colour in (("pm25_mean", "PM2.5", "#1565c0"), ("pm10_mean", "PM10", "#6d4c41")):
        charts.append(trend_lines_svg(months, [
            (f"{label} {year}", trend[f"{pol}@{year}"], colour, False),
            (f"{label} {year - 1}", trend[f"{pol}@{year - 1}"], colour, True)],
            title=f"{label} 月均浓度 monthly mean, {year} vs {year - 1} (全省 province)"))
    return charts


def monthly_report(source, month: str, *, registry=None) -> Report:
    """Monthly and year-to-date ranking of the divisions (``month`` like ``"2016-12"``).

    Tables ``month`` and ``ytd``: :func:`ranking_table` of the month and of
    1 January through the month's end, each against the same period of the
    previous year, dust excluded and included.  Charts: good-day ratio bars
    of the month against 82 %, monthly PM2.5/PM10 of the province this year
    and last.
    """
    reg = _registry(registry)
    divisions = [str(c) for c in reg.cities["code"]]
    p = pd.Period(month, "M")
    y, m = p.year, p.month
    end = p.end_time.normalize()
    daily = _daily(source, dt.date(y - 1, 1, 1), end.date())
    data = DailyArrays(daily, divisions, dt.date(y - 1, 1, 1), end.date())
    prev = pd.Period(f"{y - 1}-{m:02d}", "M")
    cur_m = period_figures(data, p.start_time, end)
    prev_m = period_figures(data, prev.start_time, prev.end_time.normalize())
    cur_y = period_figures(data, pd.Timestamp(f"{y}-01-01"), end)
    prev_y = period_figures(data, pd.Timestamp(f"{y - 1}-01-01"), prev.end_time.normalize())
    t_month = ranking_table(cur_m, prev_m, reg)
    t_ytd = ranking_table(cur_y, prev_y, reg)
    dust = bool("dust" in daily and daily["dust"].any())
    trend = _trend(data, y, m, dust)
    charts = _charts(t_month, trend, y, [f"{i}月" for i in range(1, m + 1)], f"{month}", dust)
    return Report(
        kind="monthly", period=str(p), title_zh=f"甘肃省14个市州环境空气质量排名 {y}年{m}月及1–{m}月",
        title_en=f"Air-quality ranking of Gansu's 14 divisions, {p} and year to date",
        tables=[Table("month", f"{y}年{m}月排名", f"Ranking, {p}", t_month),
                Table("ytd", f"{y}年1–{m}月排名", f"Ranking, {y}-01 to {p}", t_ytd)],
        charts=charts, notes=_notes(cur_y, dust), meta=_meta(cur_y, source))


def _notes(stats: pd.DataFrame, dust: bool) -> list[str]:
    notes = ["排名按综合指数由小到大，并列者名次相同 / ranked by composite index ascending, ties share a rank "
             "(环办〔2014〕64号).",
             "综合指数 = Σ Ci/Si（SO2、NO2、PM10、PM2.5 平均浓度，CO 第95、O3-8h 第90百分位数；GB 3095 二级限值）"
             " / composite index per HJ 663 §6.2.3.",
             "数值按 GB/T 8170 修约：浓度取整（CO 一位小数），比例一位小数，综合指数两位小数 / rounded per GB/T 8170.",
             "全省 = 14个市州的平均 / province = mean of the 14 divisions."]
    if not dust:
        notes.append("本时段未标记沙尘天：扣沙与不扣沙结果相同 / no dust days flagged: dust-excluded figures equal "
                     "the included ones.")
    return notes


def _meta(stats: pd.DataFrame, source) -> dict:
    first = stats.iloc[0] if len(stats) else pd.Series(dtype=object)
    return {"rule sets": first.get("rulesets", ""), "limits": first.get("composite_limits", ""),
            "data": "store daily_stat" if isinstance(source, sa.Engine) else "daily values from a file"}


# ------------------------------------------------------------------ annual
#: Annual items of HJ 663 Table 1 and the GB 3095 Class 2 limit each is compared with.
_LIMIT_KEYS: dict[str, tuple[str, str]] = {
    "so2_mean": ("so2", "annual"), "so2_p98": ("so2", "24h"), "no2_mean": ("no2", "annual"),
    "no2_p98": ("no2", "24h"), "pm10_mean": ("pm10", "annual"), "pm10_p95": ("pm10", "24h"),
    "pm25_mean": ("pm25", "annual"), "pm25_p95": ("pm25", "24h"), "co_p95": ("co", "24h"), "o3_p90": ("o3", "8h"),
}


def gb3095_compliance(stats: pd.DataFrame) -> pd.DataFrame:
    """Each annual item against its GB 3095 Class 2 limit (annual means vs annual limits, percentiles vs 24-h/MDA8).

    Uses the reported (rounded) figure and the limits of the rule set the
    period's composite index used (``composite_limits``).  ``meets_gb3095``
    is True when every item is valid and within its limit, None when an
    item is missing (standards.md §3.2, unverified wording).
    """
    out = stats[["entity", "dust"]].copy()
    limits_name = stats["composite_limits"].iloc[0] if len(stats) else "GB3095-2012"
    lim = get_ruleset(limits_name).class2_limits
    for item, key in _LIMIT_KEYS.items():
        v = stats[item].to_numpy(dtype="float64")
        out[f"{item}_limit"] = float(lim[key])
        out[f"{item}_ok"] = pd.array([None if np.isnan(x) else bool(x <= lim[key]) for x in v], dtype="boolean")
    oks = out[[f"{item}_ok" for item in _LIMIT_KEYS]]
    missing = oks.isna().any(axis=1).to_numpy()
    meets = oks.fillna(False).all(axis=1).to_numpy()
    out["meets_gb3095"] = pd.array([None if m else bool(x) for m, x in zip(missing, meets)], dtype="boolean")
    out["limits"] = limits_name
    return out


_ANNUAL_ITEMS = ["valid_days", "good_days", "good_ratio", "exceed_days", "heavy_days", "severe_days",
                 "dust_removed_days", "so2_mean", "so2_p98", "no2_mean", "no2_p98", "pm10_mean", "pm10_p95",
                 "pm25_mean", "pm25_p95", "co_p95", "o3_p90", "composite_index", "composite_leading",
                 "rank_composite", "rank_pm25", "rank_good_ratio"]


def annual_report(source, year: int, *, registry=None, targets=None, water: WaterInput | None = None) -> Report:
    """Annual summary: every HJ 663 annual statistic, GB 3095 compliance, target status; dust excluded and included.

    Tables ``statistics`` (per division and province), ``gb3095`` (each
    item within its Class 2 limit), ``targets`` (progress on 31 December,
    :func:`envquality.targets.progress_from_daily`).  Charts: the year's
    good-day ratios against 82 %, monthly PM2.5/PM10 against last year.
    """
    reg = _registry(registry)
    divisions = [str(c) for c in reg.cities["code"]]
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    from envquality.targets import load_targets

    tg = load_targets() if targets is None else list(targets)
    # on 31 December nothing is projected: the history needed is last year and change baselines
    daily = _daily(source, dt.date(year - 1, 1, 1), end)
    for base in sorted({int(t.baseline_year) for t in tg if t.baseline_year and t.baseline_year < year - 1}):
        daily = pd.concat([_daily(source, dt.date(base, 1, 1), dt.date(base, 12, 31), PROGRESS_INDICATORS),
                           daily], ignore_index=True)
    if water is None and isinstance(source, sa.Engine):
        water = read_water_input(source)
    data = DailyArrays(daily, divisions, dt.date(year - 1, 1, 1), end)
    stats = period_figures(data, start, end)
    prev = period_figures(data, dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31))
    table = _order(_labelled(stats, reg)[["dust", "entity_code", "entity_name_zh", "entity_name_en",
                                          *_ANNUAL_ITEMS]], "rank_composite")
    comp = _order(_labelled(gb3095_compliance(stats), reg))
    progress = progress_from_daily(daily, end, tg, water=water, registry=reg)
    prog = progress[["target_id", "title_zh", "title_en", "entity_code", "entity_name", "metric",
                     "value_so_far", "value_so_far_dust_excluded", "threshold", "unit", "status"]]
    prog = prog.rename(columns={"entity_name": "entity_name_zh"})
    rank = ranking_table(stats, prev, reg)
    dust = bool("dust" in daily and daily["dust"].any())
    trend = _trend(data, year, 12, dust)
    charts = _charts(rank, trend, year, [f"{i}月" for i in range(1, 13)], str(year), dust)
    return Report(
        kind="annual", period=str(year), title_zh=f"甘肃省环境空气质量年度统计 {year}年",
        title_en=f"Gansu ambient air quality, annual summary {year}",
        tables=[Table("statistics", f"{year}年 HJ 663 年度统计", f"HJ 663 annual statistics, {year}", table),
                Table("gb3095", "GB 3095 二级限值达标情况", "Compliance with GB 3095 Class 2", comp),
                Table("ranking", f"{year}年排名及同比", f"Ranking and change on {year - 1}", rank),
                Table("targets", "规划目标完成情况（12月31日）", "Plan targets, status on 31 December", prog)],
        charts=charts, notes=_notes(stats, dust), meta=_meta(stats, source))


# ------------------------------------------------------------------ water
def _water_input(source) -> WaterInput | None:
    if isinstance(source, WaterInput) or source is None:
        return source
    return read_water_input(source)


def water_report(source, year: int, *, registry=None) -> Report:
    """Drinking-water sources: monthly and annual compliance per division against 96.85 %, failing sources.

    Compliance as :func:`envquality.water.compliance.compliance_ratios`
    (a source complies in a period when every sampling is Class I–III and
    meets the Table 2 limits; ratio by count of sources), for the sources
    of county-level and higher cities.  ``failing``: every source with a
    non-compliant sampling in the year, its worst class and the deciding
    parameters (GB 3838-2002 single-factor method, 环办〔2011〕22号;
    GB/T 14848-2017 §6 for groundwater).
    """
    from envquality.targets import DRINKING_WATER_TARGET
    from envquality.water.compliance import compliance_ratios

    reg = _registry(registry)
    w = _water_input(source)
    if w is None:
        raise ValueError("no drinking-water classes stored: run `envquality water load` first, or give --input")
    sources = county_and_above(w.registry)
    cls = w.classified[w.classified["source"].astype(str).isin(set(sources["id"].astype(str)))]
    months = []
    for m in range(1, 13):
        r = compliance_ratios(cls, sources, f"{year}-{m:02d}")
        months.append(_water_rows(r, f"{year}-{m:02d}"))
    annual = _water_rows(compliance_ratios(cls, sources, str(year)), str(year))
    monthly = pd.concat(months, ignore_index=True)
    names = _names(reg)
    monthly = names.merge(monthly, on="entity_code", how="right")
    annual = names.merge(annual, on="entity_code", how="right")
    failing = _failing(cls, sources, year, names)
    div = annual[annual["entity_code"] != PROVINCE]
    charts = [ratio_bars_svg(div["entity_name_zh"].tolist(), div["ratio_pct"].astype(float).tolist(),
                             target=DRINKING_WATER_TARGET, title=f"水源地达标率 Source compliance {year}")]
    return Report(
        kind="water", period=str(year), title_zh=f"甘肃省县级及以上城市集中式饮用水水源地水质达标情况 {year}年",
        title_en=f"Gansu centralized drinking-water sources (county level and above), compliance {year}",
        tables=[Table("annual", f"{year}年达标率", f"Compliance {year}", annual),
                Table("monthly", f"{year}年逐月达标率", f"Monthly compliance {year}", monthly),
                Table("failing", "不达标水源地", "Failing sources", failing)],
        charts=charts,
        notes=["达标：Ⅰ~Ⅲ类且表2项目达标；年度按全年每次均达标计 / compliant: Class I–III and Table 2 limits met; "
               "annual: compliant in every sampling.", f"目标 {DRINKING_WATER_TARGET}% / target "
               f"{DRINKING_WATER_TARGET} %.", *(["注意：水源地名录为模拟数据 / NOTE: the source registry is SIMULATED."]
                                              if "simulated" in w.registry and w.registry["simulated"].astype(str)
                                              .str.lower().isin(["true", "1"]).all() else [])],
        meta={"sources": int(len(sources)), "samplings": int(len(cls))})


def _water_rows(r: pd.DataFrame, period: str) -> pd.DataFrame:
    by = {m: g.set_index("city_code") for m, g in r.groupby("method")}
    src = by["sources"]
    out = pd.DataFrame({"entity_code": src.index.astype(str), "period": period,
                        "ratio_pct": src["ratio_pct"].to_numpy(), "n_compliant": src["numerator"].to_numpy(),
                        "n_sources": src["n_sources"].to_numpy(), "n_unassessed": src["n_unassessed"].to_numpy(),
                        "ratio_samplings_pct": by["samplings"]["ratio_pct"].reindex(src.index).to_numpy(),
                        "ratio_volume_pct": by["volume"]["ratio_pct"].reindex(src.index).to_numpy(),
                        "target_pct": src["target_pct"].to_numpy(),
                        "meets_target": pd.array([None if np.isnan(r) else bool(ok) for r, ok in
                                                  zip(src["ratio_pct"].to_numpy(float), src["meets_target"])],
                                                 dtype="boolean")})
    return out


_CLASS = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}


def _failing(cls: pd.DataFrame, sources: pd.DataFrame, year: int, names: pd.DataFrame) -> pd.DataFrame:
    from envquality.water.compliance import select_period

    sel = select_period(cls, str(year))
    t = pd.to_datetime(sel["sampled_at"])
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("Asia/Shanghai")
    sel = sel.assign(_month=t.dt.month.to_numpy())
    counts = sel.groupby("source").size()
    bad = sel[~sel["compliant"].astype(bool)]
    cols = ["source_id", "source_name", "entity_code", "entity_name_zh", "entity_name_en", "source_type", "level",
            "n_samplings", "n_failing", "months_failing", "worst_class", "deciding", "exceeding", "max_multiple"]
    if bad.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    wc = pd.to_numeric(bad["water_class"], errors="coerce") if "water_class" in bad else \
        pd.Series(np.nan, index=bad.index)
    mm = pd.to_numeric(bad["max_multiple"], errors="coerce") if "max_multiple" in bad else \
        pd.Series(np.nan, index=bad.index)
    dec = bad["deciding"].fillna("").astype(str) if "deciding" in bad else pd.Series("", index=bad.index)
    exc = bad["exceeding"].fillna("").astype(str) if "exceeding" in bad else pd.Series("", index=bad.index)
    g = pd.DataFrame({"source": bad["source"].astype(str), "month": bad["_month"], "cls": wc, "mm": mm, "dec": dec,
                      "exc": exc}).groupby("source")
    agg = pd.DataFrame({
        "n_failing": g.size(),
        "months_failing": g["month"].agg(lambda s: ",".join(str(m) for m in sorted(set(s)))),
        "worst_class": g["cls"].max().map(lambda c: _CLASS.get(int(c), "") if c == c else ""),
        "deciding": g["dec"].agg(lambda s: "|".join(sorted({x for v in s for x in v.split("|") if x}))),
        "exceeding": g["exc"].agg(lambda s: "|".join(sorted({x for v in s for x in v.split("|") if x}))),
        "max_multiple": g["mm"].max(),
    })
    src = sources.set_index(sources["id"].astype(str))
    agg["source_id"] = agg.index
    agg["source_name"] = src["name"].reindex(agg.index).to_numpy()
    agg["entity_code"] = src["city_code"].astype(str).reindex(agg.index).to_numpy()
    agg["source_type"] = src["source_type"].reindex(agg.index).to_numpy() if "source_type" in src else ""
    agg["level"] = src["level"].reindex(agg.index).to_numpy() if "level" in src else ""
    agg["n_samplings"] = counts.reindex(agg.index).to_numpy()
    out = names.merge(agg.reset_index(drop=True), on="entity_code", how="right")
    return out[cols].sort_values(["entity_code", "source_id"]).reset_index(drop=True)
