"""``iaqi`` and friends return the input's type and index (Series → Series, DataArray → DataArray),
as pvlib and MetPy do; the values equal those of the plain-array path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from envquality.standards.aqi import aqi_level, daily_aqi, hourly_aqi, iaqi

IDX = pd.DatetimeIndex(["2024-04-01", "2024-04-02", "2024-04-03"], name="date")
PM10 = [50.0, 151.0, np.nan]


def test_iaqi_series_in_series_out():
    s = pd.Series(PM10, index=IDX, name="pm10_24h")
    out = iaqi("pm10_24h", s)
    assert isinstance(out, pd.Series) and out.index.equals(IDX) and out.name == "pm10_24h"
    np.testing.assert_array_equal(out.to_numpy(), iaqi("pm10_24h", np.array(PM10)))
    # HJ 633-2012 Table 1: PM10 24-h 50 -> IAQI 50 (a breakpoint); 151 -> ceil(100 + 50/100) = 101
    assert out.iloc[0] == 50 and out.iloc[1] == 101 and np.isnan(out.iloc[2])


def test_iaqi_dataarray_in_dataarray_out():
    da = xr.DataArray(np.array([PM10, PM10]), dims=("city", "date"),
                      coords={"city": ["620100", "620200"], "date": IDX})
    out = iaqi("pm10_24h", da)
    assert isinstance(out, xr.DataArray) and out.dims == ("city", "date")
    assert list(out["city"].values) == ["620100", "620200"]
    np.testing.assert_array_equal(out.values, iaqi("pm10_24h", da.values))


def test_scalar_and_list_keep_numpy_behaviour():
    assert isinstance(iaqi("co_24h", 2.2), float)
    assert isinstance(iaqi("co_24h", [2.2]), np.ndarray)


def test_aqi_level_follows_the_input():
    s = pd.Series([20.0, 120.0, np.nan], index=IDX)
    out = aqi_level(s)
    assert isinstance(out, pd.Series) and out.index.equals(IDX) and out.tolist() == [1, 3, 0]
    da = xr.DataArray([20.0, 320.0], dims="t")
    assert isinstance(aqi_level(da), xr.DataArray) and aqi_level(da).values.tolist() == [1, 6]


def test_daily_and_hourly_aqi_follow_the_inputs():
    day = {k: pd.Series(v, index=IDX) for k, v in {
        "so2_24h": [12.0] * 3, "no2_24h": [35.0] * 3, "pm10_24h": [151.0, 20.0, 30.0], "co_24h": [0.9] * 3,
        "pm25_24h": [80.0, 10.0, 20.0], "o3_1h": [120.0] * 3, "o3_8h": [95.0] * 3}.items()}
    r = daily_aqi(day)
    assert isinstance(r.aqi, pd.Series) and r.aqi.index.equals(IDX)
    assert isinstance(r.iaqi["PM10"], pd.Series)
    plain = daily_aqi({k: v.to_numpy() for k, v in day.items()})
    np.testing.assert_array_equal(r.aqi.to_numpy(), plain.aqi)
    hours = {k: xr.DataArray(np.array([v, v]), dims="hour") for k, v in
             {"so2": 10.0, "no2": 30.0, "pm10": 160.0, "co": 0.5, "o3": 60.0, "pm25": 50.0}.items()}
    h = hourly_aqi(hours)
    assert isinstance(h.aqi, xr.DataArray) and h.aqi.dims == ("hour",)
    assert list(h.primary_pollutants()) == ["PM10", "PM10"]
