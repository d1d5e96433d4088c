"""Ranking order, shared ranks and changes on last year on a small hand-made case.

January 2016, constant daily values (so every mean and percentile equals the value):
  C: SO2 12, NO2 8, PM10 35, PM2.5 14, CO 0.8, O3 40 -> I = 0.2+0.2+0.5+0.4+0.2+0.25 = 1.75
  A: SO2 30, NO2 20, PM10 70, PM2.5 35, CO 2.0, O3 80 -> I = 0.5+0.5+1+1+0.5+0.5 = 4.00 (PM10 and PM2.5 lead)
  B: the same as A -> 4.00, tied with A: ranks 1, 2, 2 (the next would be 4)
January 2015: as 2016, except A's PM2.5 = 40 on 28 days and 150 on 3 days:
  mean 1570/31 = 50.6 -> 51; I = 3 + 51/35 = 4.457 -> 4.46; good days 28/31 = 90.3 %
  (PM2.5 150 -> IAQI 200 > 100; PM2.5 40 -> IAQI 57).
Changes of A: composite 4.00 - 4.46 = -0.46 (-0.46/4.46 = -10.3 %); PM2.5 35 - 51 = -16 (-31.4 %);
good-day ratio 100 - 90.3 = +9.7 points (+10.7 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from envquality.reports import monthly_report

from . import constant_days

A, B, C = "620100", "620200", "620300"
LOW = dict(so2_24h=12, no2_24h=8, pm10_24h=35, pm25_24h=14, co_24h=0.8, o3_1h=40, o3_8h=40)
MID = dict(so2_24h=30, no2_24h=20, pm10_24h=70, pm25_24h=35, co_24h=2.0, o3_1h=80, o3_8h=80)


def _frame() -> pd.DataFrame:
    parts = []
    for year in (2015, 2016):
        parts += [constant_days(C, f"{year}-01-01", f"{year}-01-31", **LOW),
                  constant_days(B, f"{year}-01-01", f"{year}-01-31", **MID)]
    a15 = constant_days(A, "2015-01-01", "2015-01-31", **MID)
    a15.loc[a15.index[[3, 10, 20]], "pm25_24h"] = 150.0
    a15.loc[~a15.index.isin(a15.index[[3, 10, 20]]), "pm25_24h"] = 40.0
    parts += [a15, constant_days(A, "2016-01-01", "2016-01-31", **MID)]
    return pd.concat(parts, ignore_index=True)


def test_ranking_ties_and_changes(tmp_path):
    report = monthly_report(_frame(), "2016-01")
    t = report.table("month")
    inc = t[t["dust"] == "included"].set_index("entity_code")
    assert list(inc.index[:3]) == [C, A, B]                       # ascending composite index, ties by code
    assert inc.loc[[C, A, B], "rank"].tolist() == [1, 2, 2]
    assert inc.loc[[C, A, B], "composite_index"].tolist() == [1.75, 4.0, 4.0]
    assert inc.loc[A, "composite_leading"] == "PM10,PM2.5"
    a = inc.loc[A]
    assert (a.composite_index_previous, a.composite_index_change, a.composite_index_change_pct) == (4.46, -0.46, -10.3)
    assert (a.pm25_mean_previous, a.pm25_mean_change, a.pm25_mean_change_pct) == (51, -16, -31.4)
    assert (a.good_ratio, a.good_ratio_previous, a.good_ratio_change, a.good_ratio_change_pct) == \
        (100.0, 90.3, 9.7, 10.7)
    assert inc.loc[C, "pm25_mean_change"] == 0 and inc.loc[C, "good_ratio_change"] == 0.0
    # the 11 divisions without data rank last (no rank) and every division appears with name and code
    assert inc["rank"].isna().sum() == 11 + 1                    # + the province row
    assert len(inc) == 15 and inc.loc["620000", "entity_name_zh"].startswith("甘肃省")
    assert inc.loc["623000", "entity_name_zh"] == "甘南藏族自治州"
    # no float noise in the files: the change is written as 9.7, not 9.700000000000003
    report.write(tmp_path, ["csv"])
    text = (tmp_path / "monthly_2016-01_month.csv").read_text(encoding="utf-8-sig")
    line = [ln for ln in text.splitlines() if f",{A}," in ln][0]
    assert ",9.7," in line and ",-0.46," in line and "0000000" not in text
    # YTD of January is the month itself
    ytd = report.table("ytd")
    assert ytd[ytd["dust"] == "included"]["composite_index"].tolist()[:3] == [1.75, 4.0, 4.0]
    assert np.isnan(report.table("month").set_index(["dust", "entity_code"]).loc[("included", "620400"),
                                                                                 "composite_index"])
