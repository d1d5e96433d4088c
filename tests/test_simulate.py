"""Tests of the seeded station-data generator :mod:`envquality.simulate`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from envquality import simulate as sim
from envquality.model import HOURLY_POLLUTANTS, TIMEZONE, day_of_hour, hour_index
from envquality.simulate import simulate_daily_city, simulate_hourly, simulate_tidy


@pytest.fixture(scope="module")
def year() -> "xr.Dataset":  # noqa: F821
    """20 stations (4 cities) over a whole year, default gaps."""
    return simulate_hourly(20, "2023-01-01", "2023-12-31", seed=11)


@pytest.fixture(scope="module")
def clean_year():
    """30 stations over a year without gaps or bad values."""
    return simulate_hourly(30, "2023-01-01", "2023-12-31", seed=5, gap_fraction=0.0, bad_fraction=0.0)


def _clean(ds, pol: str) -> np.ndarray:
    """Values of `pol` as float64 with the injected bad values blanked."""
    v = ds[pol].values.astype(np.float64)
    v[ds.injected_bad_pollutant.values == HOURLY_POLLUTANTS.index(pol)] = np.nan
    return v


def test_shapes_coords_and_time_labels():
    ds = simulate_hourly(7, "2024-02-28", "2024-03-01", seed=3)
    assert dict(ds.sizes) == {"station": 7, "time": 72, "date": 3}
    assert list(ds.station.values) == [f"S{i:04d}" for i in range(1, 8)]
    assert list(ds.city.values) == ["C001"] * 5 + ["C002"] * 2
    t = pd.DatetimeIndex(ds.time.values)
    assert t.tz is None and t[0] == pd.Timestamp("2024-02-28 01:00") and t[-1] == pd.Timestamp("2024-03-02 00:00")
    assert (np.diff(t.asi8) == 3_600 * 10**9).all()
    assert ds.time.attrs["timezone"] == TIMEZONE and ds.time.attrs["time_label"] == "end"
    assert ds.attrs["timezone"] == TIMEZONE and ds.attrs["time_label"] == "end"
    # every day holds exactly the 24 hours ending 01:00 ... 24:00 (model convention)
    days = day_of_hour(t)
    assert (days.values.reshape(3, 24) == ds.date.values[:, None]).all()
    assert (hour_index(t).reshape(3, 24) == np.arange(24)).all()
    for p in HOURLY_POLLUTANTS:
        assert ds[p].dims == ("station", "time") and ds[p].dtype == np.float32
        assert ds[p].attrs["units"] == ("mg/m3" if p == "co" else "ug/m3")
    assert ds.injected_bad.dtype == bool and ds.injected_bad.dims == ("station", "time")
    assert ds.dust_day.dtype == bool and ds.dust_day.dims == ("station", "date")


def test_deterministic_and_seed_dependent():
    a = simulate_hourly(6, "2023-05-01", "2023-05-10", seed=42)
    b = simulate_hourly(6, "2023-05-01", "2023-05-10", seed=42)
    c = simulate_hourly(6, "2023-05-01", "2023-05-10", seed=43)
    for p in HOURLY_POLLUTANTS:
        np.testing.assert_array_equal(a[p].values, b[p].values)
        assert not np.array_equal(a[p].values, c[p].values, equal_nan=True)
    np.testing.assert_array_equal(a.injected_bad.values, b.injected_bad.values)


def test_station_and_time_subsets_equal_slices_of_full_run():
    kw = dict(seed=7, gap_fraction=0.1, bad_fraction=0.005)
    full = simulate_hourly(24, "2024-02-25", "2024-05-20", **kw)
    codes = [f"S{i:04d}" for i in range(9, 20)]
    sub = simulate_hourly(codes, "2024-03-10", "2024-04-15", **kw)
    ref = full.sel(station=codes, time=sub.time, date=sub.date)
    assert list(sub.city.values) == list(ref.city.values)
    for v in list(HOURLY_POLLUTANTS) + ["injected_bad", "injected_bad_pollutant", "dust_day"]:
        np.testing.assert_array_equal(sub[v].values, ref[v].values, err_msg=v)
    # station order does not matter either
    rev = simulate_hourly(codes[::-1], "2024-03-10", "2024-04-15", **kw)
    np.testing.assert_array_equal(rev.pm10.values[::-1], sub.pm10.values)


def test_independent_of_chunking(monkeypatch):
    a = simulate_hourly(11, "2023-03-01", "2023-03-20", seed=2)
    monkeypatch.setattr(sim.hourly, "CHUNK_STATIONS", 3)  # read where the chunk loop runs
    b = simulate_hourly(11, "2023-03-01", "2023-03-20", seed=2)
    for p in HOURLY_POLLUTANTS:
        np.testing.assert_array_equal(a[p].values, b[p].values)


def test_float64_matches_float32():
    a = simulate_hourly(5, "2023-07-01", "2023-07-05", seed=9)
    b = simulate_hourly(5, "2023-07-01", "2023-07-05", seed=9, dtype=np.float64)
    assert b.co.dtype == np.float64
    for p in HOURLY_POLLUTANTS:
        np.testing.assert_allclose(b[p].values, a[p].values.astype(np.float64), rtol=1e-6)
    # CO in float64 carries exact one-decimal values (0.3, not float32(0.3))
    co = b.co.values[~np.isnan(b.co.values)]
    np.testing.assert_array_equal(co, np.round(co, 1))


def test_rounding_like_cnemc(year):
    for p in HOURLY_POLLUTANTS:
        v = year[p].values.astype(np.float64)
        v = v[~np.isnan(v)]
        if p == "co":
            np.testing.assert_allclose(v * 10, np.rint(v * 10), atol=1e-4)
        else:
            np.testing.assert_array_equal(v, np.rint(v))


def test_gap_fraction_and_structure():
    ds = simulate_hourly(40, "2023-01-01", "2023-06-30", seed=1, gap_fraction=0.05)
    nan = np.stack([np.isnan(ds[p].values) for p in HOURLY_POLLUTANTS])
    assert 0.04 < nan.mean() < 0.06
    all_missing = nan.all(axis=0)
    assert 0.03 < all_missing.mean() < 0.05  # station outages blank every pollutant
    assert (nan.any(axis=0) & ~all_missing).mean() > 0.002  # isolated single values
    valid_hours = (~nan[HOURLY_POLLUTANTS.index("pm25")]).reshape(40, -1, 24).sum(axis=-1)
    assert 0 < (valid_hours < 20).mean() < 0.2  # multi-hour outages break some days
    none = simulate_hourly(40, "2023-01-01", "2023-01-31", seed=1, gap_fraction=0.2)
    frac = np.mean([np.isnan(none[p].values).mean() for p in HOURLY_POLLUTANTS])
    assert 0.16 < frac < 0.24


def test_no_gap_option_gives_no_nan(clean_year):
    for p in HOURLY_POLLUTANTS:
        v = clean_year[p].values
        assert not np.isnan(v).any()
        assert (v > 0).all()
    assert not clean_year.injected_bad.values.any()
    assert (clean_year.injected_bad_pollutant.values == -1).all()


def test_injected_bad_values_are_detectable():
    ds = simulate_hourly(20, "2023-01-01", "2023-03-31", seed=4, bad_fraction=0.005)
    flag = ds.injected_bad.values
    which = ds.injected_bad_pollutant.values
    np.testing.assert_array_equal(flag, which >= 0)
    n_values = flag.size * len(HOURLY_POLLUTANTS)
    assert 0.5 * 0.005 < flag.sum() / n_values < 1.5 * 0.005
    typical = {"so2": 10, "no2": 30, "pm10": 70, "pm25": 35, "co": 0.9, "o3": 80}
    n_neg = n_spike = 0
    for k, p in enumerate(HOURLY_POLLUTANTS):
        v = ds[p].values
        bad = v[which == k]
        assert not np.isnan(bad).any()
        neg, spike = bad < 0, bad >= 20 * typical[p]
        assert (neg | spike).all(), p
        assert not np.isin(bad, [-1, -999]).any()  # never the readers' sentinels
        n_neg, n_spike = n_neg + neg.sum(), n_spike + spike.sum()
        # outside the flags there are no negatives
        good = v[which != k]
        assert (good[~np.isnan(good)] > 0).all()
    assert n_neg > 10 and n_spike > 10


def test_seasonal_and_diurnal_signals(clean_year):
    t = pd.DatetimeIndex(clean_year.time.values) - pd.Timedelta(hours=1)  # hour start
    month, hour = t.month.values, t.hour.values
    winter, summer = np.isin(month, [12, 1]), np.isin(month, [6, 7])
    afternoon = np.isin(hour, [13, 14, 15])
    o3 = clean_year.o3.values
    assert o3[:, summer & afternoon].mean() > 1.8 * o3[:, winter & afternoon].mean()
    assert o3[:, summer & (hour == 14)].mean() > 2.5 * o3[:, summer & (hour == 6)].mean()
    # O3 peak of the mean diurnal cycle at 13:00-17:00 (hour ending 14-17)
    peak = np.argmax([o3[:, summer & (hour == h)].mean() for h in range(24)])
    assert 13 <= peak <= 16
    pm25 = clean_year.pm25.values
    assert pm25[:, winter].mean() > 1.6 * pm25[:, np.isin(month, [7, 8])].mean()
    so2 = clean_year.so2.values
    assert so2[:, winter].mean() > 1.3 * so2[:, summer].mean()
    no2 = clean_year.no2.values
    rush = no2[:, hour == 7].mean(), no2[:, hour == 19].mean()
    assert min(rush) > 1.3 * no2[:, hour == 13].mean()
    # realistic annual levels
    assert 20 < pm25.mean() < 45 and 35 < clean_year.pm10.values.mean() < 80
    assert 15 < no2.mean() < 45 and 30 < o3.mean() < 90


def test_synoptic_variation_is_multi_day(clean_year):
    daily = clean_year.pm25.values.reshape(30, -1, 24).mean(axis=-1)
    x = np.log(daily) - np.log(daily).mean(axis=1, keepdims=True)
    lag1 = np.mean(x[:, 1:] * x[:, :-1]) / np.mean(x * x)
    assert 0.4 < lag1 < 0.95
    # stations of a city share the synoptic weather
    c0, c1 = x[0], x[1]  # S0001, S0002 in C001
    assert np.corrcoef(c0, c1)[0, 1] > 0.5


def test_dust_events():
    ds = simulate_hourly(60, "2022-01-01", "2023-12-31", seed=8, gap_fraction=0.0, bad_fraction=0.0)
    dust = ds.dust_day.values
    assert dust.any()
    months = pd.DatetimeIndex(ds.date.values).month
    assert np.isin(months[dust.any(axis=0)], [3, 4, 5]).all()
    # city-wide: all stations of a city share the flags
    cities = ds.city.values
    for c in np.unique(cities):
        d = dust[cities == c]
        assert (d == d[0]).all()
    n_days = ds.sizes["date"]
    hourly_dust = np.repeat(dust, 24, axis=1)
    pm10, pm25 = ds.pm10.values, ds.pm25.values
    assert pm10[hourly_dust].mean() / pm25[hourly_dust].mean() > 3.0
    assert pm10[~hourly_dust].mean() / pm25[~hourly_dust].mean() < 2.2
    assert pm10[hourly_dust].max() > 800
    assert 0 < dust.sum() / (dust.shape[0] * n_days / 365) < 15  # a few days per year
    no = simulate_hourly(60, "2022-03-01", "2022-05-31", seed=8, dust_events=False)
    assert not no.dust_day.values.any() and np.nanmax(no.pm10.values[~no.injected_bad.values]) < 1000


def test_units_and_pm_relation(year):
    co = _clean(year, "co")
    assert 0.3 <= np.nanmedian(co) <= 1.5
    assert np.nanpercentile(co, 1) >= 0.1 and np.nanpercentile(co, 99) < 5
    pm10, pm25 = _clean(year, "pm10"), _clean(year, "pm25")
    ok = ~np.isnan(pm10) & ~np.isnan(pm25)
    assert (pm25[ok] <= pm10[ok]).mean() > 0.97
    assert np.nanmax(_clean(year, "o3")) < 600


def test_city_of_mapping():
    city_of = {"1001A": "110000", "1002A": "110000", "2001A": "310000"}
    ds = simulate_hourly(list(city_of), "2023-04-01", "2023-04-03", city_of=city_of)
    assert list(ds.city.values) == ["110000", "110000", "310000"]
    alone = simulate_hourly(["2001A"], "2023-04-01", "2023-04-03", city_of=city_of)
    np.testing.assert_array_equal(alone.o3.values[0], ds.o3.values[2])
    with pytest.raises(KeyError):
        simulate_hourly(["X"], "2023-04-01", "2023-04-03", city_of=city_of)


@pytest.mark.parametrize("kwargs", [
    dict(gap_fraction=0.7), dict(bad_fraction=-0.1), dict(seed=-1), dict(dtype=np.int32),
])
def test_invalid_arguments(kwargs):
    with pytest.raises((ValueError, TypeError)):
        simulate_hourly(2, "2023-01-01", "2023-01-02", **kwargs)
    with pytest.raises(ValueError):
        simulate_hourly(2, "2023-01-02", "2023-01-01")


def test_tidy_matches_hourly():
    kw = dict(seed=6, gap_fraction=0.1)
    ds = simulate_hourly(3, "2023-10-01", "2023-10-03", **kw)
    df = simulate_tidy(3, "2023-10-01", "2023-10-03", **kw)
    assert list(df.columns) == ["station", "time", "pollutant", "value"]
    assert str(df.time.dt.tz) == TIMEZONE
    assert df.value.dtype == np.float64 and not df.value.isna().any()
    n_valid = sum(int((~np.isnan(ds[p].values)).sum()) for p in HOURLY_POLLUTANTS)
    assert len(df) == n_valid
    row = df.iloc[len(df) // 2]
    naive = row.time.tz_localize(None).to_datetime64()
    assert ds[row.pollutant].sel(station=row.station, time=naive).item() == pytest.approx(row.value)
    assert df.time.min() == pd.Timestamp("2023-10-01 01:00", tz=TIMEZONE)


def test_daily_city():
    df = simulate_daily_city(["110000", "620100", "440100"], "2023-03-01", "2023-05-31", seed=2)
    assert list(df.columns) == ["city", "date", "so2_24h", "no2_24h", "pm10_24h", "pm25_24h",
                                "co_24h", "o3_1h", "o3_8h", "dust"]
    assert len(df) == 3 * 92 and df.dust.dtype == bool
    assert not df.drop(columns=["city", "date", "dust"]).isna().any().any()
    assert (df.o3_8h <= df.o3_1h).all()
    assert (df.pm25_24h <= df.pm10_24h * 1.05).all()
    assert 0.2 <= df.co_24h.median() <= 2.0
    assert df.date.iloc[0] == pd.Timestamp("2023-03-01")
    if df.dust.any():
        assert (df.pm10_24h[df.dust] / df.pm25_24h[df.dust]).mean() > 2.5
    again = simulate_daily_city(["620100"], "2023-03-01", "2023-05-31", seed=2)
    np.testing.assert_array_equal(again.pm10_24h.values, df[df.city == "620100"].pm10_24h.values)
