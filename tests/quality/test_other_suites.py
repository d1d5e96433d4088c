"""Daily city statistics, water samples and the site data file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from envquality.quality import run_gate
from envquality.registry import load_cities


def _aqi_frame():
    cities = load_cities()
    days = pd.date_range("2024-04-01", periods=3)
    rng = np.random.default_rng(1)
    rows = []
    levels = [(50, 1, "优", "#00E400"), (100, 2, "良", "#FFFF00"), (150, 3, "轻度污染", "#FF7E00"),
              (200, 4, "中度污染", "#FF0000"), (300, 5, "重度污染", "#99004C"), (500, 6, "严重污染", "#7E0023")]
    for c in cities.itertuples():
        for d in days:
            aqi = int(rng.integers(20, 400))
            lvl, cat, col = next((lv, ca, co) for top, lv, ca, co in levels if aqi <= top)
            rows.append(dict(city_code=c.code, name_zh=c.name_zh, name_en=c.name_en, lat=c.lat, lon=c.lon,
                             date=d, aqi=aqi, level=lvl, category_zh=cat, colour=col))
    return pd.DataFrame(rows)


def test_site_data_contract():
    site = _aqi_frame()
    res = run_gate(site, "site_data", build_docs=False)
    assert res.publish_allowed and len(res.quarantined) == 0, res.summary[~res.summary.success]
    bad = site.copy()
    bad.loc[0, "category_zh"] = "优" if bad.loc[0, "aqi"] > 50 else "良"
    bad.loc[1, "lat"] = 60.0
    bad.loc[2, "colour"] = "green"
    res = run_gate(bad, "site_data", build_docs=False)
    assert sorted(res.quarantined["row"]) == [0, 1, 2]
    assert not res.publish_allowed
    res = run_gate(site[site["city_code"] != "620100"], "site_data", build_docs=False)
    assert "site.no_city_missing" in {f.name for f in res.critical}
    res = run_gate(site.drop(columns=["colour"]), "site_data", build_docs=False)
    assert "site.schema" in {f.name for f in res.critical}


def test_daily_city_from_the_engine():
    from envquality.simulate import simulate_daily_city
    from envquality.stats.datasets import daily_city_aqi

    codes = load_cities()["code"].tolist()
    d = simulate_daily_city(codes, "2024-04-01", "2024-04-05")
    ds = d.drop(columns=["dust"]).set_index(["city", "date"]).to_xarray()
    aqi = daily_city_aqi(ds).to_dataframe().reset_index()
    res = run_gate(aqi, "daily_city", build_docs=False)
    assert res.publish_allowed and len(res.quarantined) == 0, res.summary[~res.summary.success]
    bad = aqi.copy()
    bad.loc[0, "aqi"] = 612
    bad.loc[1, "category_zh"] = "严重污染"
    res = run_gate(bad, "daily_city", build_docs=False)
    assert set(res.quarantined["row"]) == {0, 1}
    assert {"daily.aqi_range", "daily.category_consistent"} <= {f.name for f in res.critical}
    res = run_gate(aqi[aqi["city"] != "623000"], "daily_city", build_docs=False)
    assert "daily.no_city_missing" in {f.name for f in res.critical}
    part = aqi.copy()
    part.loc[part["city"] == "620100", "complete"] = False
    res = run_gate(part, "daily_city", build_docs=False)
    assert "daily.valid_days" in {f.name for f in res.warnings}


def _water():
    t = pd.Timestamp("2024-05-06 09:00", tz="Asia/Shanghai")
    return pd.DataFrame({
        "source": ["刘家峡水库"] * 6,
        "sampled_at": [t] * 6,
        "parameter": ["ph", "do", "nh3n", "cd", "hg", "fecal_coliform"],
        "value": [7.8, 8.1, 0.21, np.nan, 0.00002, 120.0],
        "unit": ["1", "mg/L", "mg/L", "mg/L", "mg/L", "个/L"],
        "qualifier": ["", "", "", "ND", "<", ""],
        "detection_limit": [np.nan, np.nan, 0.025, 0.0001, 0.00004, np.nan],
    })


def test_water_samples():
    w = _water()
    res = run_gate(w, "water_samples", build_docs=False)
    assert res.publish_allowed and len(res.quarantined) == 0, res.summary[~res.summary.success]
    bad = w.copy()
    bad.loc[0, "value"] = 15.2          # pH out of 0-14
    bad.loc[1, "unit"] = "µg/L"          # DO in the wrong unit
    bad.loc[2, "parameter"] = "benzene?"  # unknown parameter
    bad.loc[3, "detection_limit"] = np.nan  # ND without a detection limit
    bad.loc[4, "qualifier"] = "n.d."     # unknown qualifier
    res = run_gate(bad, "water_samples", build_docs=False)
    q = dict(zip(res.quarantined["row"], res.quarantined["expectations"]))
    assert set(q) == {0, 1, 2, 3, 4}
    assert "water.range" in q[0] and "water.unit_ok" in q[1] and "water.parameter_known" in q[2]
    assert "water.detection_limit_ok" in q[3] and "water.qualifier_known" in q[4]
