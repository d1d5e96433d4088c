"""Drinking-water-source compliance ratios (达标率) per city and for the province.

A sampling complies when its class is I–III and every measured GB 3838
Table 2 item meets its limit (``compliant`` of
:func:`envquality.water.classify.classify_samples`; standards.md §5.5) **and**
it measured enough of the required parameters (``sufficient``); a sampling
without exceedance that measured too few is not assessed (counted in
``n_insufficient_samplings``): a file with only pH and dissolved oxygen
gives no ratio, never 100 %.
Three ratios, each compared with
:data:`envquality.targets.DRINKING_WATER_TARGET` (96.85 %):

``sources``
    compliant sources / assessed sources × 100.  A source complies in the
    period when it complies **in every sampling** of the period (the annual
    "全年均达标" rule of the national bulletins; for a month, normally one
    sampling).  Sources without a sampling in the period are not assessed
    (counted in ``n_unassessed``).
``samplings``
    compliant samplings / all samplings × 100 (used by some provinces; unverified).
``volume``
    designed supply volume of compliant sources / designed supply volume of
    assessed sources × 100 (达标水量占比; standards.md marks the formula
    unverified; designed volume stands in for the abstraction volume).

The comparison with the target uses the unrounded ratio; ``ratio_pct`` is
shown rounded half-to-even (GB/T 8170) to 2 decimals by the CLI only.

Examples
--------
>>> import pandas as pd
>>> reg = pd.DataFrame({"id": ["a", "b"], "city_code": ["620100", "620100"], "city": ["兰州市"] * 2,
...                     "supply_m3_per_day": [9000.0, 1000.0], "level": ["prefecture", "county"],
...                     "source_type": ["river", "groundwater"]})
>>> cls = pd.DataFrame({"source": ["a", "a", "b", "b"],
...                     "sampled_at": pd.to_datetime(["2020-01-10", "2020-02-10"] * 2).tz_localize("Asia/Shanghai"),
...                     "compliant": [True, True, True, False]})
>>> r = compliance_ratios(cls, reg, "2020")
>>> r[r.scope == "province"][["method", "numerator", "denominator", "ratio_pct", "meets_target"]].to_dict("records")[0]
{'method': 'sources', 'numerator': 1.0, 'denominator': 2.0, 'ratio_pct': 50.0, 'meets_target': False}
>>> r[r.scope == "province"].set_index("method")["ratio_pct"].to_dict()
{'sources': 50.0, 'samplings': 75.0, 'volume': 90.0}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from envquality.targets import DRINKING_WATER_TARGET

__all__ = ["select_period", "source_compliance", "compliance_ratios", "METHODS", "PROVINCE_CODE", "parse_period"]

#: Method key → (Chinese label, English label).
METHODS: dict[str, tuple[str, str]] = {
    "sources": ("按水源地个数（期内每次均达标）", "by count of sources (compliant in every sampling)"),
    "samplings": ("按监测频次", "by count of samplings"),
    "volume": ("按设计供水量", "by designed supply volume"),
}
#: Code and names of the province row.
PROVINCE_CODE, PROVINCE_ZH, PROVINCE_EN = "620000", "甘肃省", "Gansu"


def parse_period(period: str | int | pd.Period) -> pd.Period:
    """``2020`` / ``"2020"`` → annual period; ``"2020-06"`` → month.

    >>> parse_period("2020-06"), parse_period(2020)
    (Period('2020-06', 'M'), Period('2020', 'Y-DEC'))
    """
    if isinstance(period, pd.Period):
        return period
    s = str(period).strip()
    if len(s) == 4 and s.isdigit():
        return pd.Period(s, "Y")
    try:
        return pd.Period(s, "M")
    except (ValueError, TypeError):
        raise ValueError(f"period {period!r}: use a year (2020) or a month (2020-06)") from None


def _local_months(t: pd.Series) -> pd.Series:
    if isinstance(t.dtype, pd.DatetimeTZDtype):
        t = t.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    else:
        t = pd.to_datetime(t)
    return t.dt.to_period("M")


def select_period(classified: pd.DataFrame, period: str | int | pd.Period) -> pd.DataFrame:
    """Samplings whose ``sampled_at`` (China Standard Time) falls in the year or month.

    >>> df = pd.DataFrame({"sampled_at": pd.to_datetime(["2019-12-31 23:00", "2020-01-01 00:30"]).tz_localize("Asia/Shanghai")})
    >>> len(select_period(df, "2020")), len(select_period(df, "2020-01"))
    (1, 1)
    """
    p = parse_period(period)
    m = _local_months(classified["sampled_at"])
    if p.freqstr.startswith("Y"):
        mask = m.dt.year == p.year
    else:
        mask = m == p
    return classified.loc[mask.to_numpy()]


def source_compliance(classified: pd.DataFrame, registry: pd.DataFrame, period: str | int | pd.Period) -> pd.DataFrame:
    """Per-source results for a period.

    Returns
    -------
    pandas.DataFrame
        One row per registry source: ``id``, ``city_code``, ``city``,
        ``level``, ``source_type``, ``supply_m3_per_day``, ``n_samplings``,
        ``n_compliant``, ``n_insufficient`` (samplings not assessed because
        they measured too few of the required parameters; see
        :func:`envquality.water.classify.required_parameters`), ``assessed``
        (≥ 1 sufficient sampling), ``compliant`` (assessed and compliant in
        every sufficient sampling), ``worst_class`` (Int8).
    """
    sel = select_period(classified, period)
    ids = registry["id"].astype(str)
    src = sel["source"].astype(str)
    unknown = ~src.isin(set(ids))
    if unknown.any():
        raise ValueError(f"samplings of sources missing from the registry: {sorted(set(src[unknown]))[:10]}")
    if "sufficient" in sel:
        # a sampling that measured too few required parameters cannot be called compliant: not assessed
        # (an exceedance it did measure still counts: non-compliance is proven)
        unsure = (sel["compliant"].to_numpy(bool) & ~sel["sufficient"].to_numpy(bool))
        insufficient = sel.loc[unsure, "source"].astype(str).value_counts()
        sel, src = sel.loc[~unsure], src[~unsure]
    else:
        insufficient = pd.Series(dtype="int64")
    g = pd.DataFrame({"source": src.to_numpy(), "ok": sel["compliant"].to_numpy(bool)})
    if "water_class" in sel:
        g["cls"] = pd.to_numeric(sel["water_class"], errors="coerce").to_numpy()
    agg = g.groupby("source", sort=False).agg(n_samplings=("ok", "size"), n_compliant=("ok", "sum"),
                                              **({"worst_class": ("cls", "max")} if "cls" in g else {}))
    cols = [c for c in ("id", "name", "city_code", "city", "level", "source_type", "supply_m3_per_day") if c in registry]
    out = registry.loc[:, cols].copy()
    out["id"] = ids.to_numpy()
    out = out.join(agg, on="id")
    out["n_samplings"] = out["n_samplings"].fillna(0).astype(np.int64)
    out["n_compliant"] = out["n_compliant"].fillna(0).astype(np.int64)
    out["n_insufficient"] = out["id"].map(insufficient).fillna(0).astype(np.int64)
    out["assessed"] = out["n_samplings"] > 0
    out["compliant"] = out["assessed"] & (out["n_compliant"] == out["n_samplings"])
    wc = pd.to_numeric(out["worst_class"], errors="coerce") if "worst_class" in out else pd.Series(np.nan, index=out.index)
    out["worst_class"] = pd.array(wc.to_numpy(dtype="float64", na_value=np.nan), dtype="Float64").astype("Int8")
    return out.reset_index(drop=True)


def compliance_ratios(
    classified: pd.DataFrame,
    registry: pd.DataFrame,
    period: str | int | pd.Period,
    *,
    target: float = DRINKING_WATER_TARGET,
) -> pd.DataFrame:
    """达标率 three ways, per city and for the province, against the target.

    Parameters
    ----------
    classified : pandas.DataFrame
        Output of :func:`~envquality.water.classify.classify_samples`
        (``source``, ``sampled_at`` tz-aware, ``compliant``).
    registry : pandas.DataFrame
        Sources: ``id``, ``city_code``, ``city``, ``supply_m3_per_day`` [m³/d].
    period : str, int or pandas.Period
        A year (``2020``) or a month (``"2020-06"``).
    target : float
        Target [%], default 96.85 (:data:`envquality.targets.DRINKING_WATER_TARGET`).

    Returns
    -------
    pandas.DataFrame
        Long: ``scope`` (``city``/``province``), ``city_code``, ``city``,
        ``period``, ``method`` (:data:`METHODS`), ``label_zh``, ``label_en``,
        ``numerator``, ``denominator`` (counts, or m³/d for ``volume``),
        ``ratio_pct`` (NaN when nothing was assessed), ``target_pct``,
        ``meets_target``, ``n_sources`` (assessed), ``n_unassessed``,
        ``n_insufficient_samplings`` (not assessed: too few required
        parameters measured).
        Cities in registry order, then the province.
    """
    p = parse_period(period)
    sc = source_compliance(classified, registry, p)
    vol = sc["supply_m3_per_day"].astype("float64") if "supply_m3_per_day" in sc else pd.Series(np.nan, index=sc.index)
    base = pd.DataFrame({
        "city_code": sc["city_code"].astype(str), "city": sc.get("city", sc["city_code"]).astype(str),
        "src_ok": (sc["compliant"]).astype(np.int64), "src_n": sc["assessed"].astype(np.int64),
        "smp_ok": sc["n_compliant"], "smp_n": sc["n_samplings"],
        "vol_ok": np.where(sc["compliant"], vol, 0.0), "vol_n": np.where(sc["assessed"], vol, 0.0),
        "unassessed": (~sc["assessed"]).astype(np.int64),
        "insufficient": sc["n_insufficient"].astype(np.int64),
    })
    by_city = base.groupby(["city_code", "city"], sort=False).sum(numeric_only=True).reset_index()
    by_city["scope"] = "city"
    prov = base.drop(columns=["city_code", "city"]).sum().to_frame().T
    prov["city_code"], prov["city"], prov["scope"] = PROVINCE_CODE, PROVINCE_ZH, "province"
    tab = pd.concat([by_city, prov], ignore_index=True)
    rows = []
    for method, (num, den) in {"sources": ("src_ok", "src_n"), "samplings": ("smp_ok", "smp_n"),
                               "volume": ("vol_ok", "vol_n")}.items():
        part = tab[["scope", "city_code", "city"]].copy()
        part["method"] = method
        part["label_zh"], part["label_en"] = METHODS[method]
        part["numerator"] = tab[num].astype("float64").to_numpy()
        part["denominator"] = tab[den].astype("float64").to_numpy()
        part["n_sources"] = tab["src_n"].astype(np.int64).to_numpy()
        part["n_unassessed"] = tab["unassessed"].astype(np.int64).to_numpy()
        part["n_insufficient_samplings"] = tab["insufficient"].astype(np.int64).to_numpy()
        part["_order"] = np.arange(len(tab))
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(out["denominator"] > 0, 100.0 * out["numerator"] / out["denominator"], np.nan)
    out["ratio_pct"] = ratio
    out["target_pct"] = float(target)
    out["meets_target"] = np.where(np.isnan(ratio), False, ratio >= float(target) * (1 - 1e-12))
    out["period"] = str(p)
    out = out.sort_values(["_order", "method"], key=lambda s: s if s.name == "_order" else s.map(
        {m: i for i, m in enumerate(METHODS)}), kind="stable").drop(columns="_order")
    cols = ["scope", "city_code", "city", "period", "method", "label_zh", "label_en", "numerator", "denominator",
            "ratio_pct", "target_pct", "meets_target", "n_sources", "n_unassessed", "n_insufficient_samplings"]
    return out.loc[:, cols].reset_index(drop=True)
