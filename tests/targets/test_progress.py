"""Progress arithmetic at the edges, each expected value worked out by hand in the comment beside it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from envquality.targets import load_targets, progress_from_daily
from envquality.targets.progress import WaterInput, good_days_needed, mean_needed, province_good_days_needed

from . import aqi_days, constant_days

TARGETS = {t.id: t for t in load_targets()}
GOOD = TARGETS["gansu-2020-good-day-ratio"]
PM25 = TARGETS["gansu-2020-pm25-falling"]
WATER = TARGETS["gansu-2020-drinking-water"]
LANZHOU, JIAYUGUAN = "620100", "620200"


def row(frame: pd.DataFrame, day: str, entity: str = LANZHOU, target=GOOD) -> pd.Series:
    out = progress_from_daily(frame, day, [target])
    return out[out["entity_code"] == entity].iloc[0]


def days(good: int, bad: int, missing: int = 0) -> list[float]:
    return [50.0] * good + [150.0] * bad + [np.nan] * missing


def test_ordinary_day():
    # 2019-06-30: 181 days so far, 184 left; 140 good of 181 valid.
    # 82 % of 365 = 299.3 -> 300 good days in the year -> 160 more; 160/184 = 86.96 %
    r = row(aqi_days(LANZHOU, "2019-01-01", days(140, 41)), "2019-06-30")
    assert (r.valid_days, r.good_days, r.days_left, r.good_days_needed) == (181, 140, 184, 160)
    assert r.value_so_far == 77.3 and r.needed_rest_of_year == 87.0 and bool(r.reachable)
    # no earlier years: no band, and the note says so
    assert np.isnan(r.projection_p50) and "fewer than three" in r.projection_note
    assert r.status == "at_risk"  # 77.3 % so far < 82 %


def test_already_met_and_one_short():
    # 2019-11-30: 334 days so far, 31 left; 300 good >= 299.3 even if all 31 left are bad
    r = row(aqi_days(LANZHOU, "2019-01-01", days(300, 34)), "2019-11-30")
    assert (r.good_days_needed, r.days_left, r.status) == (0, 31, "met")
    # 299 good: 0.3 of a day short -> 1 more good day needed; pace 89.5 % -> on track
    r = row(aqi_days(LANZHOU, "2019-01-01", days(299, 35)), "2019-11-30")
    assert (r.good_days_needed, r.status) == (1, "on_track")


def test_out_of_reach():
    # 2019-12-01: 335 days, 30 left; 260 good: 299.3 - 260 = 39.3 -> 40 > 30 left
    r = row(aqi_days(LANZHOU, "2019-01-01", days(260, 75)), "2019-12-01")
    assert (r.good_days_needed, r.days_left, bool(r.reachable), r.status) == (40, 30, False, "out_of_reach")


def test_leap_year():
    # 2020-02-29: day 60 of 366, 306 left; 0.82 × 366 = 300.12 -> 301 - 30 = 271; 271/306 = 88.56 %
    r = row(aqi_days(LANZHOU, "2020-01-01", days(30, 30)), "2020-02-29")
    assert (r.valid_days, r.days_left, r.good_days_needed, r.needed_rest_of_year) == (60, 306, 271, 88.6)
    # the common year before: 2019-02-28 is day 59, 306 left; 0.82 × 365 = 299.3 -> 300 - 30 = 270
    r = row(aqi_days(LANZHOU, "2019-01-01", days(30, 29)), "2019-02-28")
    assert (r.valid_days, r.days_left, r.good_days_needed) == (59, 306, 270)


def test_year_end_is_final():
    r = row(aqi_days(LANZHOU, "2020-01-01", days(301, 65)), "2020-12-31")   # 301/366 = 82.24 %
    assert (r.days_left, r.status, r.value_so_far) == (0, "met", 82.2)
    r = row(aqi_days(LANZHOU, "2020-01-01", days(300, 66)), "2020-12-31")   # 300/366 = 81.97 %
    assert (r.status, r.good_days_needed) == ("out_of_reach", 1)


def test_missing_days_are_neither_good_nor_valid():
    # January 2019: 20 good, 6 bad, 5 invalid -> 26 valid; 334 left;
    # 0.82 × (26 + 334) = 295.2 -> 296 - 20 = 276; 20/26 = 76.9 %
    r = row(aqi_days(LANZHOU, "2019-01-01", days(20, 6, 5)), "2019-01-31")
    assert (r.valid_days, r.good_days, r.days_left, r.good_days_needed, r.value_so_far) == (26, 20, 334, 276, 76.9)


def test_year_across_the_2026_rule_change():
    # PM2.5 = 70 µg/m³ every day, the rest low.  HJ 633-2012: IAQI = ceil(50 + 35/40·50) = 94, good;
    # HJ 633-2026 (from 2026-03-01): ceil(100 + 10/55·50) = 110, not good.
    # Jan + Feb 2026 = 59 good days, March 31 bad: 59/90 = 65.6 %; 275 left; 300 - 59 = 241; 241/275 = 87.6 %
    frame = constant_days(LANZHOU, "2026-01-01", "2026-03-31", pm25_24h=70)
    r = row(frame, "2026-03-31")
    assert (r.valid_days, r.good_days, r.value_so_far, r.days_left) == (90, 59, 65.6, 275)
    assert (r.good_days_needed, r.needed_rest_of_year) == (241, 87.6)


def test_dust_days_leave_the_excluded_ratio():
    # 10 days: 7 good, 3 with AQI 180 from particulates, 2 of them dust-flagged
    aqi = days(7, 0) + [180.0, 180.0, 180.0]
    dust = [False] * 7 + [True, True, False]
    r = row(aqi_days(LANZHOU, "2019-01-01", aqi, dust), "2019-01-10")
    assert (r.value_so_far, r.value_so_far_dust_excluded) == (70.0, 87.5)   # 7/10 and 7/8
    # the status variant is dust-excluded: 8 valid, 355 left; 0.82 × 363 = 297.66 -> 298 - 7 = 291
    assert (r.valid_days, r.good_days_needed) == (8, 291)


def test_province_is_the_mean_of_divisions():
    # 2019-12-01, 30 left: 300/335 and 250/335 -> mean 82.09 %; year: Σ (G_i + g_i)/365 >= 1.64
    # -> Σ g >= 598.6 - 550 = 48.6 -> 49 division-days of 60
    frame = pd.concat([aqi_days(LANZHOU, "2019-01-01", days(300, 35)),
                       aqi_days(JIAYUGUAN, "2019-01-01", days(250, 85))])
    r = row(frame, "2019-12-01", "620000")
    assert (r.value_so_far, r.good_days_needed, r.days_left, r.day_unit) == (82.1, 49, 60, "division-days")
    assert bool(r.reachable) and r.needed_rest_of_year == 81.7   # 49/60


def test_province_greedy_with_unequal_days():
    # w = 365 and 330: deficit 1.64 - 300/365 - 215/330 = 0.16657; the 330 division first: 30 days (capped)
    # -> 0.07566 left -> 0.07566 × 365 = 27.6 -> 28: total 58 (27 would give 1.63831 < 1.64)
    assert province_good_days_needed([300, 215], [335, 300], 30, 82.0) == (58, True)
    assert province_good_days_needed([100, 100], [335, 335], 30, 82.0)[1] is False
    assert good_days_needed(140, 181, 184, 82.0) == 160
    assert good_days_needed(299, 300, 65, 82.0, ">") == 1   # 299.3 -> strictly more: 300


def test_pm_mean_against_baseline():
    # 2015 PM2.5 = 40 every day (baseline); 2016-01-01..06-30 = 36 (182 days, leap year: 184 left)
    # mean allowed over the rest: (40 × 366 - 36 × 182) / 184 = 8088 / 184 = 43.96
    frame = pd.concat([constant_days(LANZHOU, "2015-01-01", "2015-12-31", pm25_24h=40),
                       constant_days(LANZHOU, "2016-01-01", "2016-06-30", pm25_24h=36)])
    r = row(frame, "2016-06-30", "620000", PM25)
    assert (r.value_so_far, r.baseline_value, r.threshold, r.needed_rest_of_year) == (36.0, 40.0, 40.0, 44.0)
    assert bool(r.reachable) and r.status == "on_track"
    assert mean_needed([36 * 182], [182], 184, 40.0) == pytest.approx(8088 / 184)
    # 10 % decline required: threshold 36 -> (36 × 366 - 6552)/184 = 36.0
    r = row(frame, "2016-06-30", "620000", dataclasses.replace(PM25, required_decline_pct=10.0, comparator="<="))
    assert (r.threshold, r.needed_rest_of_year) == (36.0, 36.0)
    full = pd.concat([constant_days(LANZHOU, "2015-01-01", "2015-12-31", pm25_24h=40),
                      constant_days(LANZHOU, "2016-01-01", "2016-12-31", pm25_24h=36)])
    assert row(full, "2016-12-31", "620000", PM25).status == "met"            # 36 < 40, final
    no_base = constant_days(LANZHOU, "2016-01-01", "2016-06-30", pm25_24h=36)
    r = row(no_base, "2016-06-30", "620000", PM25)
    assert r.status == "no_data" and "baseline" in r.note


def test_band_with_three_earlier_years():
    frame = aqi_days(LANZHOU, "2016-01-01", [50.0, 150.0] * 730 + [50.0] * 1)  # 2016..2019-12-31 alternating
    r = row(frame, "2019-06-30")
    assert r.projection_p10 <= r.projection_p50 <= r.projection_p90
    assert "3 earlier years (2016–2018)" in r.projection_note


def _water(n_sources: int, failing: dict[str, int]) -> WaterInput:
    ids = [f"S{i:02d}" for i in range(n_sources)]
    reg = pd.DataFrame({"id": ids, "name": ids, "city_code": LANZHOU, "city": "兰州市",
                        "level": ["prefecture"] + ["county"] * (n_sources - 1), "source_type": "river",
                        "supply_m3_per_day": 1000.0})
    rows = []
    for s in ids[:-1]:  # the last source is not sampled yet
        for month in (1, 2):
            rows.append((s, pd.Timestamp(f"2020-0{month}-10 09:00", tz="Asia/Shanghai"),
                         not (failing.get(s) == month)))
    cls = pd.DataFrame(rows, columns=["source", "sampled_at", "compliant"])
    return WaterInput(cls, reg)


def test_water_progress():
    # 4 sources, one failed in February, one not sampled: 2 of 3 assessed comply = 66.67 %;
    # at best 3 of 4 = 75 % < 96.85 % -> out of reach
    out = progress_from_daily(pd.DataFrame(columns=["entity", "date"]), "2020-06-30", [WATER],
                              water=_water(4, {"S01": 2}))
    r = out[out["entity_code"] == "620000"].iloc[0]
    assert (r.value_so_far, r.valid_days, bool(r.reachable), r.status) == (66.67, 3, False, "out_of_reach")
    # 40 sources, one failed: 38/39 = 97.44 %; at best 39/40 = 97.5 % >= 96.85; floor(40 × 3.15 %) = 1 may fail
    out = progress_from_daily(pd.DataFrame(columns=["entity", "date"]), "2020-06-30", [WATER],
                              water=_water(40, {"S05": 1}))
    r = out[out["entity_code"] == LANZHOU].iloc[0]
    assert (r.value_so_far, bool(r.reachable), r.status) == (97.44, True, "on_track")
    assert "at most 1 may fail" in r.note
    out = progress_from_daily(pd.DataFrame(columns=["entity", "date"]), "2020-06-30", [WATER])
    assert set(out["status"]) == {"no_data"}


def test_contract_columns():
    from envquality.targets import PROGRESS_COLUMNS

    out = progress_from_daily(aqi_days(LANZHOU, "2019-01-01", days(10, 0)), "2019-01-10")
    assert list(out.columns[:len(PROGRESS_COLUMNS)]) == list(PROGRESS_COLUMNS)
    assert set(out["status"]) <= {"met", "on_track", "at_risk", "out_of_reach", "no_data"}
    assert set(out["target_id"]) == {t.id for t in load_targets()}
