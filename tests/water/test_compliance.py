"""Compliance ratios: three methods, periods, city and province, target comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from envquality.targets import DRINKING_WATER_TARGET
from envquality.water import classify_samples, compliance_ratios, select_period, source_compliance
from envquality.water.compliance import parse_period


@pytest.fixture
def reg():
    return pd.DataFrame({
        "id": ["a", "b", "c", "d"], "city_code": ["620100", "620100", "620200", "620200"],
        "city": ["兰州市", "兰州市", "嘉峪关市", "嘉峪关市"], "level": ["prefecture", "county", "prefecture", "county"],
        "source_type": ["river", "lake", "groundwater", "groundwater"],
        "supply_m3_per_day": [100_000.0, 10_000.0, 50_000.0, 5_000.0]})


def _samples(months, nh3n_by_source, nitrate_by_source):
    rows = []
    for m in months:
        t = pd.Timestamp(f"{m}-10 10:00", tz="Asia/Shanghai")
        for s, v in nh3n_by_source.items():
            rows.append({"source": s, "sampled_at": t, "parameter": "nh3n", "value": v(m)})
        for s, v in nitrate_by_source.items():
            rows.append({"source": s, "sampled_at": t, "parameter": "nitrate", "value": v(m)})
    return pd.DataFrame(rows)


def test_three_ways_annual_and_monthly(reg):
    months = [f"2020-{i:02d}" for i in range(1, 13)]
    s = _samples(months, {"a": lambda m: 0.3, "b": lambda m: 1.2 if m == "2020-07" else 0.3},
                 {"c": lambda m: 3.0, "d": lambda m: 25.0 if m in ("2020-07", "2020-08") else 3.0})
    cls = classify_samples(s, registry=reg)
    assert len(cls) == 48
    cls["sufficient"] = True  # the ratio arithmetic; coverage is tested in test_too_few_parameters_*
    r = compliance_ratios(cls, reg, "2020")
    prov = r[r.scope == "province"].set_index("method")
    # sources: a, c compliant all year; b fails July; d fails July+August
    assert prov.loc["sources", ["numerator", "denominator"]].tolist() == [2, 4]
    assert prov.loc["samplings", ["numerator", "denominator"]].tolist() == [45, 48]
    assert prov.loc["volume", "ratio_pct"] == pytest.approx(100 * 150_000 / 165_000)
    assert (prov["target_pct"] == DRINKING_WATER_TARGET).all()
    assert prov["meets_target"].tolist() == [False, False, False]
    city = r[(r.scope == "city") & (r.city_code == "620100")].set_index("method")
    assert city.loc["sources", "ratio_pct"] == 50.0 and city.loc["samplings", "ratio_pct"] == pytest.approx(2300 / 24)
    assert city.loc["volume", "ratio_pct"] == pytest.approx(100 * 100_000 / 110_000)
    june = compliance_ratios(cls, reg, "2020-06")
    assert june[june.scope == "province"]["ratio_pct"].tolist() == [100.0, 100.0, 100.0]
    assert june["meets_target"][june.scope == "province"].all()
    july = compliance_ratios(cls, reg, "2020-07").query("scope == 'province'").set_index("method")
    assert july.loc["sources", "ratio_pct"] == 50.0
    assert set(r["label_en"]) == {"by count of sources (compliant in every sampling)", "by count of samplings",
                                  "by designed supply volume"}


def test_table2_failure_breaks_compliance_and_target_edge(reg):
    # 1937 of 2000 = 96.85 % exactly: meets the target (≥)
    n = 2000
    big = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "city_code": "620100", "city": "兰州市",
                        "source_type": "river", "supply_m3_per_day": 1.0, "level": "county"})
    fe = pd.DataFrame({"source": big["id"], "sampled_at": pd.Timestamp("2020-05-10", tz="Asia/Shanghai"),
                       "parameter": "fe", "value": np.where(np.arange(n) < 1937, 0.3, 0.31)})
    s = pd.concat([fe, fe.assign(parameter="nh3n", value=0.1)], ignore_index=True)
    cls = classify_samples(s, registry=big).assign(sufficient=True)  # ratio arithmetic, not coverage
    assert cls["compliant"].sum() == 1937 and (cls["water_class"] == 1).all()
    r = compliance_ratios(cls, big, "2020").query("scope == 'province'").set_index("method")
    assert r.loc["sources", "ratio_pct"] == pytest.approx(96.85) and r.loc["sources", "meets_target"]
    s2 = pd.concat([fe.assign(value=np.where(np.arange(n) < 1936, 0.3, 0.31)), fe.assign(parameter="nh3n", value=0.1)])
    r2 = compliance_ratios(classify_samples(s2, registry=big), big, "2020").query("scope == 'province'")
    assert not r2["meets_target"].any()


def test_unassessed_sources_and_period_selection(reg):
    s = _samples(["2020-01", "2021-01"], {"a": lambda m: 0.3}, {})
    cls = classify_samples(s, registry=reg).assign(sufficient=True)  # period selection, not coverage
    assert len(select_period(cls, 2020)) == 1 and len(select_period(cls, "2021-01")) == 1
    sc = source_compliance(cls, reg, "2020")
    assert sc.set_index("id")["assessed"].to_dict() == {"a": True, "b": False, "c": False, "d": False}
    r = compliance_ratios(cls, reg, "2020")
    prov = r[r.scope == "province"].set_index("method")
    assert prov.loc["sources", "n_unassessed"] == 3 and prov.loc["sources", "ratio_pct"] == 100.0
    jia = r[(r.city_code == "620200")]
    assert jia["ratio_pct"].isna().all() and not jia["meets_target"].any()
    with pytest.raises(ValueError):
        parse_period("20-1")


def test_unknown_source_rejected(reg):
    s = _samples(["2020-01"], {"zzz": lambda m: 0.3}, {})
    cls = classify_samples(s, source_type="river")
    with pytest.raises(ValueError, match="zzz"):
        compliance_ratios(cls, reg, "2020")


def test_too_few_parameters_never_give_100_percent(reg):
    """Only pH and DO measured: no sampling can be called compliant, no ratio is 100 %."""
    t = pd.Timestamp("2020-06-10 10:00", tz="Asia/Shanghai")
    s = pd.DataFrame({"source": ["a", "a", "b", "b"], "sampled_at": [t] * 4, "parameter": ["ph", "do"] * 2,
                      "value": [7.5, 8.0, 7.2, 7.9]})
    cls = classify_samples(s, registry=reg)
    # surface: 20 items of GB 3838 Table 1 under the 2011 method without COD + 5 Table 2 items
    assert cls["n_required"].tolist() == [25, 25] and cls["n_measured"].tolist() == [2, 2]
    assert cls["verdict"].tolist() == ["insufficient", "insufficient"]
    r = compliance_ratios(cls, reg, "2020-06")
    prov = r[r.scope == "province"].set_index("method")
    assert np.isnan(prov["ratio_pct"]).all() and (prov["n_insufficient_samplings"] == 2).all()
    # an exceedance among the few measured items is still a proven non-compliance
    s.loc[1, "value"] = 1.0  # DO 1 mg/L: worse than Class V
    r = compliance_ratios(classify_samples(s, registry=reg), reg, "2020-06")
    assert r[r.scope == "province"].set_index("method").loc["samplings", "ratio_pct"] == 0.0
