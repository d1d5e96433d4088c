"""From tidy readings to the period figures: the assessment job without I/O.

Glue between the readers' tidy frames (:mod:`envquality.model`), the
registry (station → city, names) and the statistics of
:mod:`envquality.stats`.  Used by ``envquality assess`` and ``envquality
demo`` and, later, by the DAGs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from envquality.iotools.common import InputError
from envquality.model import DAILY_POLLUTANTS
from envquality.registry import Registry, default_registry
from envquality.stats.assessment import AssessmentOptions
from envquality.stats.datasets import PROVINCE, assess, city_daily, hourly_grid, station_daily
from envquality.targets import GOOD_DAY_RATIO_TARGET

__all__ = [
    "exclude_implausible", "assign_cities", "city_daily_from_daily_tidy", "assess_readings", "format_stats_table", "period_bounds",
]


def exclude_implausible(data: pd.DataFrame, thresholds: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop values outside the plausibility ranges the ingest gate applies.

    The ranges are those of the quality gate's ``hourly.ranges``
    (``envquality/quality/thresholds.yaml``, check ``hourly.range.<pollutant>``):
    ingest quarantines such values, so ``assess`` must not average them
    either (a PM10 of −5 would pull a mean of 80 down to 78).  Daily keys
    (``pm10_24h``, ``o3_8h`` …) use their pollutant's range.  NaN stays NaN.

    Returns
    -------
    kept : DataFrame
        ``data`` without the implausible rows.
    excluded : DataFrame
        The dropped rows, with a ``reason`` column.
    """
    from envquality.quality.config import load_thresholds

    ranges = (thresholds or load_thresholds())["hourly"]["ranges"]
    base = data["pollutant"].astype(str).str.replace(r"_(24h|1h|8h)$", "", regex=True)
    lo = base.map({k: float(r["min"]) for k, r in ranges.items()}).astype("float64")
    hi = base.map({k: float(r["max"]) for k, r in ranges.items()}).astype("float64")
    value = data["value"].astype("float64")
    bad = ((value < lo) | (value > hi)).fillna(False).astype(bool)
    excluded = data.loc[bad].copy()
    if not bad.any():
        return data, excluded.assign(reason=pd.Series(dtype=object))
    excluded["reason"] = (
        "value " + excluded["value"].map("{:g}".format) + " outside the plausible range "
        + lo[bad].map("{:g}".format) + "–" + hi[bad].map("{:g}".format) + " of " + base[bad]
        + " (gate check hourly.range." + base[bad] + ")"
    )
    return data.loc[~bad], excluded


def assign_cities(data: pd.DataFrame, registry: Registry | None = None, *, file: str = "") -> pd.DataFrame:
    """Give every row a ``city`` admin code (and ``assessment`` flag for stations).

    A non-empty ``city`` column is reconciled through the registry
    (``兰州`` → ``620100``); otherwise the station's city comes from the
    registry.  Unknown names raise :class:`InputError` naming the field.
    """
    reg = registry or default_registry()
    out = data.copy()
    city_text = out["city"].astype("string") if "city" in out else pd.Series(pd.NA, index=out.index, dtype="string")
    codes = {}
    for name in city_text.dropna().unique():
        if str(name).strip() in ("", "<NA>", "nan"):
            continue
        try:
            codes[name] = reg.city_code(name)
        except KeyError as exc:
            raise InputError(file or "input", None, "city", str(exc).strip('"')) from None
    city = city_text.map(codes).astype("string")
    st = reg.stations.set_index("code")
    by_station = out["station"].map(st["city_code"].astype(str)).astype("string")
    city = city.fillna(by_station)
    missing = city.isna()
    if missing.any():
        unknown = sorted(out.loc[missing, "station"].astype(str).unique())[:10]
        raise InputError(file or "input", None, "station",
                         f"no city for station(s) {', '.join(unknown)}: add a 'city' column or register them")
    out["city"] = city.astype(str)
    assessment = out["station"].map(st["assessment"]) if "assessment" in st else None
    # stations not in the registry (e.g. a bureau's own codes) count as assessment stations
    out["assessment"] = assessment.astype(object).fillna(True).astype(bool) if assessment is not None else True
    return out


def city_daily_from_daily_tidy(data: pd.DataFrame) -> xr.Dataset:
    """Daily tidy rows (station or city level) -> Dataset (city, date).

    Station-level daily values are averaged over the city's assessment
    stations (HJ 663 §5); city-level rows pass through.
    """
    df = data[data["pollutant"].isin(DAILY_POLLUTANTS)]
    if "assessment" in df:
        df = df[df["assessment"].astype(bool)]
    wide = df.pivot_table(index=["city", "date"], columns="pollutant", values="value", aggfunc="mean")
    cities = sorted(wide.index.get_level_values(0).unique())
    dates = pd.date_range(wide.index.get_level_values(1).min(), wide.index.get_level_values(1).max(), freq="D")
    wide = wide.reindex(pd.MultiIndex.from_product([cities, dates], names=["city", "date"]))
    return xr.Dataset(
        {p: (("city", "date"), wide[p].to_numpy().reshape(len(cities), len(dates)) if p in wide
             else np.full((len(cities), len(dates)), np.nan)) for p in DAILY_POLLUTANTS},
        coords={"city": cities, "date": dates.values},
    )


def assess_readings(
    data: pd.DataFrame,
    resolution: str,
    *,
    start: str | None = None,
    end: str | None = None,
    dust: pd.DataFrame | None = None,
    standard: str | None = None,
    registry: Registry | None = None,
    options: AssessmentOptions = AssessmentOptions(),
    file: str = "",
) -> pd.DataFrame:
    """Per-city and province statistics of a period from tidy readings.

    Parameters
    ----------
    data : DataFrame
        Tidy readings (``station``/``city``, ``time`` or ``date``,
        ``pollutant``, ``value``).
    resolution : {"hourly", "daily"}
    start, end : str, optional
        Inclusive period (calendar days); default all days in the data.
    dust : DataFrame, optional
        Dust-affected days, columns ``city`` and ``date``.
    """
    data = assign_cities(data, registry, file=file)
    if resolution == "hourly":
        hourly = hourly_grid(data)
        city = city_daily(station_daily(hourly))
    else:
        city = city_daily_from_daily_tidy(data)
    dust_da = None
    if dust is not None and len(dust):
        reg = registry or default_registry()
        flags = pd.DataFrame({
            "city": [reg.city_code(c) for c in dust["city"]],
            "date": pd.to_datetime(dust["date"]).dt.normalize(),
            "flag": True,
        }).drop_duplicates(["city", "date"])
        dust_da = (flags.set_index(["city", "date"])["flag"].to_xarray()
                   .reindex(city=city["city"], date=city["date"]).fillna(False).astype(bool))
    return assess(city, start, end, dust=dust_da, standard=standard, options=options)


_COLUMNS = {
    "zh": ["城市", "有效天数", "优良天数", "优良率%", "目标82%", "PM2.5", "PM10", "O3-8h P90", "CO P95",
           "综合指数", "首要", "排名"],
    "en": ["City", "Valid days", "Good days", "Good %", "Target 82%", "PM2.5", "PM10", "O3-8h P90",
           "CO P95", "Composite", "Leading", "Rank"],
}


def _fmt(v: float | None, decimals: int = 0) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "—"
    return f"{float(v):.{decimals}f}" if decimals else f"{int(round(float(v)))}"


def format_stats_table(
    stats: pd.DataFrame,
    *,
    lang: str = "zh",
    registry: Registry | None = None,
    target: float = GOOD_DAY_RATIO_TARGET,
) -> str:
    """A readable fixed-width table of :func:`assess_readings` output."""
    reg = registry or default_registry()
    names = dict(zip(reg.cities["code"].astype(str), reg.cities["name_short" if lang == "zh" else "name_en"]))
    names[PROVINCE] = "甘肃省(14市州平均)" if lang == "zh" else "Gansu (mean of cities)"
    blocks = []
    for variant, g in stats.groupby("dust", sort=False):
        head = g.iloc[0]
        title = (f"{head['period_start']} – {head['period_end']}  ·  {head['rulesets']}"
                 + (f"  ·  dust {variant}" if (stats["dust"] != "included").any() else ""))
        rows = [_COLUMNS[lang]]
        for _, r in g.iterrows():
            ok = r["good_ratio"] >= target if pd.notna(r["good_ratio"]) else None
            mark = "—" if ok is None else ("✓" if ok else "✗")
            rows.append([
                names.get(str(r["entity"]), str(r["entity"])), _fmt(r["valid_days"]), _fmt(r["good_days"]),
                _fmt(r["good_ratio"], 1), mark, _fmt(r["pm25_mean"]), _fmt(r["pm10_mean"]),
                _fmt(r["o3_p90"]), _fmt(r["co_p95"], 1), _fmt(r["composite_index"], 2),
                str(r.get("composite_leading") or "—") if pd.notna(r.get("composite_leading")) else "—",
                _fmt(r.get("rank_composite")),
            ])
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [title]
        for j, row in enumerate(rows):
            lines.append("  ".join(_pad(cell, widths[i], left=(i == 0)) for i, cell in enumerate(row)))
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _width(text: str) -> int:
    # CJK characters take two terminal columns
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def _pad(text: str, width: int, *, left: bool) -> str:
    fill = " " * (width - _width(text))
    return text + fill if left else fill + text


def period_bounds(period: str) -> tuple[str, str]:
    """``2015`` / ``2015-03`` / ``2015Q2`` / ``2015-01-01:2015-06-30`` -> inclusive day bounds.

    >>> period_bounds("2024-02"), period_bounds("2015Q4"), period_bounds("2026")
    (('2024-02-01', '2024-02-29'), ('2015-10-01', '2015-12-31'), ('2026-01-01', '2026-12-31'))
    """
    p = period.strip()
    if ":" in p:
        a, b = p.split(":", 1)
        return str(pd.Timestamp(a).date()), str(pd.Timestamp(b).date())
    if "Q" in p.upper():
        per = pd.Period(p.upper(), freq="Q")
    elif len(p) == 4:
        per = pd.Period(p, freq="Y")
    elif len(p) == 7:
        per = pd.Period(p, freq="M")
    else:
        per = pd.Period(p, freq="D")
    return str(per.start_time.date()), str(per.end_time.date())


