"""The xarray/dask layer: hand-made hourly Datasets, checked against hand computation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from envquality.stats import validity as V
from envquality.stats.datasets import (
    PROVINCE,
    assess,
    city_daily,
    daily_city_aqi,
    hourly_aqi_dataset,
    hourly_grid,
    province_row,
    station_daily,
)

from . import iaqi as exact_iaqi

NAN = np.nan
POLS = ("so2", "no2", "pm10", "pm25", "co", "o3")
LOW = {"so2": 10.0, "no2": 20.0, "pm10": 20.0, "pm25": 20.0, "co": 0.5, "o3": 50.0}


def hours(first_day: str, n_days: int) -> pd.DatetimeIndex:
    """Hour-ending stamps of whole days: D 01:00 ... D+n 00:00."""
    start = pd.Timestamp(first_day) + pd.Timedelta(hours=1)
    return pd.date_range(start, periods=24 * n_days, freq="h")


def dataset(first_day: str, n_days: int, stations=("A", "B"), cities=None, **values) -> xr.Dataset:
    t = hours(first_day, n_days)
    data = {}
    for p in POLS:
        v = values.get(p, LOW[p])
        data[p] = (("station", "time"), np.broadcast_to(np.asarray(v, dtype=float), (len(stations), len(t))).copy())
    return xr.Dataset(data, coords={"station": list(stations), "time": t,
                                    "city": ("station", list(cities or ["620100"] * len(stations)))})


# --------------------------------------------------------------------------- station_daily


@pytest.fixture
def hand() -> xr.Dataset:
    """Two stations, two days (2015-01-01, 2015-01-02), 48 hour-ending stamps."""
    ds = dataset("2015-01-01", 2)
    pm25 = np.full((2, 48), 40.0)
    pm25[0, 23] = 160.0  # station A, hour ending 2015-01-02 00:00 -> belongs to 2015-01-01
    pm25[1, :5] = NAN  # station B day 1: 19 valid hours -> invalid
    pm25[1, 24:28] = NAN  # station B day 2: 20 valid hours -> valid
    pm25[1, 28:48] = np.arange(20, dtype=float)  # 0..19, mean 9.5
    o3 = np.full((2, 48), 100.0)
    o3[0, 12:16] = 180.0  # A day 1: MDA8 (4*180 + 4*100)/8 = 140, 1-h max 180
    o3[0, 24 + 19:] = NAN  # A day 2: hours 19..23 missing -> 14 valid windows, 19 hours
    o3[1, 24 + 18:] = NAN  # B day 2: 13 valid windows, 18 hours
    ds["pm25"][:] = pm25
    ds["o3"][:] = o3
    return ds


def test_station_daily_equals_hand_computation(hand):
    d = station_daily(hand)
    assert d["pm25_24h"].dims == ("station", "date")
    assert [str(x)[:10] for x in d["date"].values] == ["2015-01-01", "2015-01-02"]
    a, b = d.sel(station="A"), d.sel(station="B")
    # A: day 1 (23*40 + 160)/24 = 45 (the 00:00 value is day 1's last hour), day 2 40
    assert a["pm25_24h"].values.tolist() == [45.0, 40.0]
    assert a["pm25_24h_n"].values.tolist() == [24, 24]
    # B: day 1 19 hours -> NaN + reason; day 2 20 hours: (0+..+19)/20 = 9.5
    assert np.isnan(b["pm25_24h"].values[0]) and b["pm25_24h"].values[1] == 9.5
    assert b["pm25_24h_n"].values.tolist() == [19, 20]
    assert b["pm25_24h_reason"].values.tolist() == [V.TOO_FEW_HOURS, V.OK]
    # O3
    assert a["o3_8h"].values[0] == 140.0 and a["o3_1h"].values[0] == 180.0
    assert a["o3_8h"].values[1] == 100.0 and a["o3_8h_n"].values[1] == 14
    assert np.isnan(a["o3_1h"].values[1]) and a["o3_1h_n"].values[1] == 19  # 1-h max needs 20 hours
    assert np.isnan(b["o3_8h"].values[1]) and b["o3_8h_n"].values[1] == 13
    assert b["o3_8h_reason"].values[1] == V.TOO_FEW_WINDOWS
    assert (d["co_24h"].values == 0.5).all() and d["co_24h"].dtype == np.float64


def test_hour_ending_convention_through_hourly_grid():
    # tidy readings with tz-aware hour-ending stamps; the value labelled 2015-01-02 00:00
    # closes 2015-01-01, the one labelled 2015-01-02 01:00 opens 2015-01-02
    t = hours("2015-01-01", 2).tz_localize("Asia/Shanghai")
    v = np.full(48, 30.0)
    v[23] = 270.0  # labelled 2015-01-02 00:00
    tidy = pd.DataFrame({"station": "S1", "city": "620100", "time": t, "pollutant": "pm10", "value": v})
    ds = hourly_grid(tidy)
    assert str(ds["time"].values[0])[:16] == "2015-01-01T01:00"
    assert ds["time"].size == 48 and np.isnan(ds["so2"]).all()
    d = station_daily(ds)
    # day 1: (23*30 + 270)/24 = 40; day 2: 30
    assert d["pm10_24h"].sel(station="S1").values.tolist() == [40.0, 30.0]
    # a missing hour becomes NaN on the grid: drop the 2015-01-02 00:00 reading
    d2 = station_daily(hourly_grid(tidy.drop(index=23)))
    assert d2["pm10_24h_n"].values.tolist() == [[23, 24]]
    assert d2["pm10_24h"].values.tolist() == [[30.0, 30.0]]


def test_partial_days_are_rejected():
    ds = dataset("2015-01-01", 2).isel(time=slice(1, None))
    with pytest.raises(ValueError, match="whole days"):
        station_daily(ds)


# --------------------------------------------------------------------------- dask


def random_hourly(n_st: int = 5, n_days: int = 6, seed: int = 1, first_day: str = "2015-03-01") -> xr.Dataset:
    rng = np.random.default_rng(seed)
    t = hours(first_day, n_days)
    data = {}
    for p, hi in zip(POLS, (1000, 300, 400, 300, 6, 400)):
        x = np.round(rng.uniform(0, hi, (n_st, t.size)), 1 if p == "co" else 0)
        x[rng.random(x.shape) < 0.15] = NAN
        data[p] = (("station", "time"), x)
    return xr.Dataset(data, coords={"station": [f"S{i}" for i in range(n_st)], "time": t,
                                    "city": ("station", ["620100", "620100", "620200", "620200", "620300"][:n_st])})


def test_dask_chunked_station_daily_equals_in_memory():
    ds = random_hourly()
    mem = station_daily(ds)
    lazy = station_daily(ds.chunk(station=2))
    assert lazy["pm25_24h"].chunks is not None  # really lazy
    xr.testing.assert_identical(lazy.compute(), mem)


def test_dask_chunked_hourly_aqi_equals_in_memory():
    ds = random_hourly(first_day="2026-02-27", n_days=4)  # straddles the switch
    mem = hourly_aqi_dataset(ds)
    lazy = hourly_aqi_dataset(ds.chunk(station=2))
    assert lazy["aqi"].chunks is not None
    xr.testing.assert_identical(lazy.compute(), mem)
    assert mem["aqi"].dims == ("station", "time")


# --------------------------------------------------------------------------- hourly AQI


def test_hourly_aqi_switches_rules_by_the_day_of_the_hour():
    # PM2.5 1-h 70 against the 24-h column: 2012 -> 94, 2026 -> 110; other pollutants low
    ds = dataset("2026-02-28", 2, stations=("A",), pm25=70.0)
    aqi = hourly_aqi_dataset(ds)["aqi"].sel(station="A").to_series()
    t = pd.Timestamp
    assert aqi[t("2026-02-28 01:00")] == exact_iaqi("pm25_24h", 70, "2012") == 94
    # the hour ending 2026-03-01 00:00 still belongs to 2026-02-28 -> HJ 633-2012
    assert aqi[t("2026-03-01 00:00")] == 94
    assert aqi[t("2026-03-01 01:00")] == exact_iaqi("pm25_24h", 70, "2026") == 110
    assert (aqi.iloc[:24] == 94).all() and (aqi.iloc[24:] == 110).all()


def test_so2_above_800_uses_24h_moving_mean_under_2012():
    v = np.full(48, 100.0)
    v[30] = 900.0  # hour ending 2015-01-02 07:00
    ds = dataset("2015-01-01", 2, stations=("A",), so2=v)
    out = hourly_aqi_dataset(ds)
    aqi = out["aqi"].values[0]
    # 24-h moving mean at index 30: hours 7..30 = (23*100 + 900)/24 = 133.3 -> 133 -> IAQI 92
    so2_24h = Fraction(23 * 100 + 900, 24)
    assert exact_iaqi("so2_24h", so2_24h) == 92
    assert aqi[30] == 92
    assert out["primary"].values[0, 30] == 1  # bit 0 = SO2
    # other hours: SO2 1-h 100 -> IAQI ceil(100/3) = 34 vs PM10/PM2.5 20 -> 20, 29
    assert aqi[29] == exact_iaqi("so2_1h", 100) == 34


def test_so2_above_800_is_200_under_2026():
    v = np.full(48, 100.0)
    v[30] = 900.0
    ds = dataset("2026-03-01", 2, stations=("A",), so2=v)
    assert hourly_aqi_dataset(ds)["aqi"].values[0, 30] == 200


# --------------------------------------------------------------------------- city layer


def station_daily_ds(values: dict[str, list[list[float]]], stations, cities, assessment=None,
                     first_day="2015-06-01") -> xr.Dataset:
    n_days = len(next(iter(values.values()))[0])
    dates = pd.date_range(first_day, periods=n_days, freq="D")
    data = {}
    for k in ("so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_1h", "o3_8h"):
        default = {"co_24h": 0.5, "o3_1h": 60.0, "o3_8h": 50.0}.get(k, 10.0)
        data[k] = (("station", "date"), np.asarray(values.get(k, [[default] * n_days] * len(stations)), float))
    coords = {"station": list(stations), "date": dates, "city": ("station", list(cities))}
    if assessment is not None:
        coords["assessment"] = ("station", list(assessment))
    return xr.Dataset(data, coords=coords)


def test_city_aqi_from_mean_concentrations_not_mean_of_station_aqis():
    # station A: PM2.5 115 (IAQI 150), PM10 0; station B: PM2.5 35 (IAQI 50), PM10 250 (IAQI 150)
    # station AQIs 150 and 150 (mean 150); city means PM2.5 75 (IAQI 100), PM10 125 (IAQI 88) -> 100
    st = station_daily_ds({"pm25_24h": [[115.0], [35.0]], "pm10_24h": [[0.0], [250.0]]},
                          ["A", "B"], ["620100", "620100"])
    # each station as its own "city": the station AQIs
    station_aqi = daily_city_aqi(city_daily(st.assign_coords(city=("station", ["A", "B"]))))["aqi"].values[:, 0]
    assert station_aqi.tolist() == [150, 150]
    city = city_daily(st)
    assert city["pm25_24h"].values.tolist() == [[75.0]] and city["pm10_24h"].values.tolist() == [[125.0]]
    assert city["pm25_24h_stations"].values.tolist() == [[2]]
    aqi = daily_city_aqi(city)
    expected = max(exact_iaqi("pm25_24h", 75), exact_iaqi("pm10_24h", 125), exact_iaqi("so2_24h", 10))
    assert expected == 100
    assert aqi["aqi"].values.tolist() == [[100]]
    assert aqi["primary_pollutants"].values[0, 0] == "PM2.5"
    assert aqi["standard"].values.tolist() == ["HJ633-2012"]


def test_city_daily_uses_valid_assessment_stations_only():
    st = station_daily_ds(
        {"pm25_24h": [[10.0, NAN], [30.0, 50.0], [500.0, 500.0], [70.0, 70.0]]},
        ["A", "B", "CTRL", "Z"], ["620100", "620100", "620100", "620200"],
        assessment=[True, True, False, True],
    )
    c = city_daily(st)
    assert c["city"].values.tolist() == ["620100", "620200"]
    assert c["pm25_24h"].sel(city="620100").values.tolist() == [20.0, 50.0]  # control point excluded
    assert c["pm25_24h_stations"].sel(city="620100").values.tolist() == [2, 1]
    c2 = city_daily(st, min_stations=2)
    v = c2["pm25_24h"].sel(city="620100").values
    assert v[0] == 20.0 and np.isnan(v[1])


def test_assess_ranks_and_province_row():
    # three cities, 4 days in June 2015; PM2.5 decides the AQI
    pm25 = [[30, 30, 30, 30], [30, 100, 30, 30], [30, 100, 100, 30]]
    st = station_daily_ds({"pm25_24h": pm25}, ["a", "b", "c"], ["620100", "620200", "620300"])
    st["pm25_24h"][:] = np.asarray(pm25, float)
    stats = assess(city_daily(st), "2015-06-01", "2015-06-04")
    cities = stats[stats["entity"] != PROVINCE].set_index("entity")
    assert cities["good_days"].tolist() == [4, 3, 2]
    assert cities["good_ratio"].tolist() == [100.0, 75.0, 50.0]
    assert cities["rank_good_ratio"].tolist() == [1, 2, 3]
    assert cities["pm25_mean"].tolist() == [30.0, float(round((30 * 3 + 100) / 4)), 65.0]
    prov = stats[stats["entity"] == PROVINCE].iloc[0]
    assert prov["good_ratio"] == 75.0  # mean of the city ratios
    assert prov["valid_days"] == 12 and prov["good_days"] == 9 and prov["cities"] == 3
    assert np.isnan(prov["rank_composite"])


def test_assess_ties_share_rank():
    pm25 = [[40, 40], [40, 40], [20, 20]]
    st = station_daily_ds({"pm25_24h": pm25}, ["a", "b", "c"], ["620100", "620200", "620300"])
    stats = assess(city_daily(st), with_province=False).set_index("entity")
    assert stats["rank_pm25"].tolist() == [2, 2, 1]
    assert stats["rank_composite"].tolist() == [2, 2, 1]
    assert stats["rank_good_ratio"].tolist() == [1, 1, 1]


def test_assess_with_dust_keeps_both_variants_and_province_per_variant():
    pm10 = [[300.0, 20.0], [20.0, 20.0]]
    st = station_daily_ds({"pm10_24h": pm10}, ["a", "b"], ["620100", "620200"])
    city = city_daily(st)
    dust = xr.DataArray([[True, False]], dims=("city", "date"),
                        coords={"city": ["620100"], "date": city["date"].values})
    stats = assess(city, dust=dust)
    assert stats.groupby("dust").size().to_dict() == {"excluded": 3, "included": 3}
    exc = stats[(stats["dust"] == "excluded")].set_index("entity")
    assert exc.loc["620100", "valid_days"] == 1 and exc.loc["620200", "valid_days"] == 2
    assert exc.loc[PROVINCE, "valid_days"] == 3


def test_province_row_means_and_sums():
    stats = pd.DataFrame({
        "entity": ["x", "y"], "dust": "included", "period_start": "2015-01-01", "period_end": "2015-12-31",
        "rulesets": "r", "calendar_days": 365, "composite_limits": "GB3095-2012",
        "valid_days": [365, 360], "good_days": [300, 200], "good_ratio": [82.2, 55.6],
        "pm25_mean": [40.0, 45.0], "co_p95": [1.5, 2.0], "composite_index": [4.51, 5.02],
    })
    row = province_row(stats).iloc[0]
    assert row["entity"] == PROVINCE and row["cities"] == 2
    assert row["valid_days"] == 725 and row["good_days"] == 500
    assert row["good_ratio"] == 68.9  # (82.2 + 55.6)/2 = 68.9
    assert row["pm25_mean"] == 42.0  # 42.5 -> 42 half-even
    assert row["co_p95"] == 1.8  # 1.75 -> 1.8
    assert row["composite_index"] == 4.76  # 4.765 -> 4.76 half-even


def test_assess_period_beyond_the_data_counts_missing_days():
    st = station_daily_ds({"pm25_24h": [[30.0, 30.0]]}, ["a"], ["620100"], first_day="2015-06-29")
    stats = assess(city_daily(st), "2015-06-01", "2015-07-31", with_province=False).iloc[0]
    assert (stats["period_start"], stats["period_end"]) == ("2015-06-01", "2015-07-31")
    assert stats["calendar_days"] == 61 and stats["valid_days"] == 2
    assert np.isnan(stats["pm25_mean"]) and stats["pm25_mean_n"] == 2


def test_slabbed_in_memory_path_equals_dask_across_the_switch(monkeypatch):
    """National arrays are processed in slabs; small slabs must give the same answers."""
    import envquality.stats.datasets as D
    from envquality.simulate import simulate_hourly

    ds = simulate_hourly(7, "2026-02-26", "2026-03-03", seed=11)[["so2", "no2", "pm10", "pm25", "co", "o3"]]
    ds = ds.assign_coords(city=("station", ["C1"] * 7))
    whole_aqi = D.hourly_aqi_dataset(ds)
    whole_daily = D.station_daily(ds)
    monkeypatch.setattr(D, "SLAB_VALUES", 50)  # a few stations per slab
    sliced_aqi = D.hourly_aqi_dataset(ds)
    sliced_daily = D.station_daily(ds)
    chunked_aqi = D.hourly_aqi_dataset(ds.chunk(station=3)).compute()
    xr.testing.assert_identical(whole_aqi, sliced_aqi)
    xr.testing.assert_identical(whole_aqi, chunked_aqi)
    xr.testing.assert_identical(whole_daily, sliced_daily)
