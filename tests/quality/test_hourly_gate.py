"""The hourly-readings suite: a clean batch passes, each expectation fires on a crafted bad batch,
quarantine holds exactly the failing rows, real extremes pass."""

from __future__ import annotations

import numpy as np
import pandas as pd

from envquality.quality import run_gate
from envquality.quality.gate import QUARANTINE_COLUMNS

from .conftest import row_of


def _run(df, codes, window, **kw):
    return run_gate(df, "hourly_readings", window=window, expected_stations=codes, build_docs=False, **kw)


def test_clean_batch_passes(clean_day, window):
    df, codes = clean_day
    res = _run(df, codes, window)
    assert res.publish_allowed and not res.critical and not res.warnings, res.summary[~res.summary.success]
    assert len(res.quarantined) == 0 and len(res.passed) == len(df)
    assert list(res.quarantined.columns) == list(QUARANTINE_COLUMNS)
    assert set(res.summary["expectation"]) >= {"hourly.range.pm10", "hourly.key_unique", "hourly.stuck"}


def _crafted(clean_day):
    df, codes = clean_day
    bad = df.copy()
    s = codes[0]
    expect: dict[int, set[str]] = {}

    def mark(i, name):
        expect.setdefault(i, set()).add(name)

    i = row_of(bad, s, "so2", 3)
    bad.loc[i, "value"] = -7.0
    mark(i, "hourly.range.so2")
    i = row_of(bad, s, "co", 4)
    bad.loc[i, "value"] = 900.0
    mark(i, "hourly.range.co")  # CO in µg/m³
    i = row_of(bad, codes[1], "no2", 12)
    bad.loc[i, "value"] = 6000.0
    mark(i, "hourly.range.no2")
    mark(i, "hourly.spike")
    i = row_of(bad, codes[2], "o3", 12)
    bad.loc[i, "value"] = bad.loc[i, "value"] * 40 + 300
    mark(i, "hourly.spike")
    i = row_of(bad, codes[3], "pm25", 10)
    j = row_of(bad, codes[3], "pm10", 10)
    bad.loc[i, "value"] = bad.loc[j, "value"] * 2 + 50
    mark(i, "hourly.pm_ratio")
    mark(j, "hourly.pm_ratio")
    # stuck analyser: NO2 of station 4 frozen for 10 hours
    rows = [row_of(bad, codes[4], "no2", h) for h in range(5, 15)]
    bad.loc[rows, "value"] = 47.0
    for r in rows:
        mark(r, "hourly.stuck")
    i = row_of(bad, codes[5], "so2", 2)
    bad.loc[i, "station"] = "9999Z"
    mark(i, "hourly.station_known")
    i = row_of(bad, codes[5], "so2", 3)
    bad.loc[i, "pollutant"] = "benzene"
    mark(i, "hourly.pollutant_known")
    n = len(bad)
    # conflicting duplicate: both copies fail; identical duplicate: only the later copy fails
    i = row_of(bad, codes[6], "pm10", 6)
    dup = bad.loc[[i]].assign(value=bad.loc[i, "value"] + 11)
    i2 = row_of(bad, codes[7], "o3", 6)
    same = bad.loc[[i2]]
    late = bad.loc[[row_of(bad, codes[8], "o3", 6)]].assign(
        time=pd.Timestamp("2024-07-12 06:00", tz="Asia/Shanghai"))
    odd = bad.loc[[row_of(bad, codes[8], "so2", 6)]].assign(
        time=pd.Timestamp("2024-07-10 06:30", tz="Asia/Shanghai"))
    bad = pd.concat([bad, dup, same, late, odd], ignore_index=True)
    mark(i, "hourly.key_unique")
    mark(n, "hourly.key_unique")
    mark(n + 1, "hourly.key_unique")
    mark(n + 2, "hourly.in_window")
    mark(n + 3, "hourly.time_ok")
    return bad, codes, expect


def test_each_expectation_fires_and_quarantine_is_exact(clean_day, window):
    bad, codes, expect = _crafted(clean_day)
    res = _run(bad, codes, window, file="crafted.csv", source="test")
    q = res.quarantined
    got = {int(r): set(e.split(";")) for r, e in zip(q["row"], q["expectations"])}
    for r, names in expect.items():
        assert r in got, (r, names)
        assert names <= got[r], (r, names, got[r])
    # exactly the failing rows: every quarantined row is one we broke (its key may flag neighbours of
    # the duplicate, the spike, the PM pair ...) and nothing else
    assert set(got) == set(expect), set(got) ^ set(expect)
    assert len(res.passed) + len(q) == len(bad)
    assert (q["file"] == "crafted.csv").all() and (q["source"] == "test").all()
    assert q["reason"].str.len().gt(0).all() and q["raw"].str.contains("station=").all()
    fired = set(res.summary.loc[res.summary["quarantined"] > 0, "expectation"])
    assert fired >= {"hourly.range.so2", "hourly.range.co", "hourly.range.no2", "hourly.spike", "hourly.pm_ratio",
                     "hourly.stuck", "hourly.station_known", "hourly.pollutant_known", "hourly.key_unique",
                     "hourly.in_window", "hourly.time_ok"}
    # a handful of bad rows: quarantined, but within the tolerances -> publish allowed
    assert res.publish_allowed, [f.message() for f in res.critical]


def test_many_bad_values_are_critical(clean_day, window):
    df, codes = clean_day
    bad = df.copy()
    co = bad["pollutant"] == "co"
    bad.loc[co, "value"] = bad.loc[co, "value"] * 1000  # CO fed in µg/m³ for every station
    res = _run(bad, codes, window)
    assert not res.publish_allowed
    assert "hourly.range.co" in {f.name for f in res.critical}
    assert set(res.quarantined["row"]) == set(np.flatnonzero(co.to_numpy()))


def test_batch_level_expectations(clean_day, window):
    df, codes = clean_day
    # schema: no value column -> critical, nothing crashes
    res = _run(df.drop(columns=["value"]), codes, window)
    assert "hourly.schema" in {f.name for f in res.critical}
    # completeness: one station silent for 12 hours; another absent -> warnings only
    s0, s1 = codes[0], codes[1]
    hole = (df["station"] == s0) & (df["time"] <= pd.Timestamp("2024-07-10 12:00", tz="Asia/Shanghai"))
    res = _run(df[~hole & (df["station"] != s1)], codes, window)
    names = {f.name for f in res.warnings}
    assert {"hourly.station_completeness", "hourly.stations_absent"} <= names
    assert res.publish_allowed and len(res.quarantined) == 0
    # a broken feed (most values missing): critical
    res = _run(df[df["station"].isin(codes[:5])], codes, window)
    assert "hourly.batch_completeness" in {f.name for f in res.critical}
    # NaN rows: warning, not quarantined
    nan = df.copy()
    nan.loc[nan.index[::3], "value"] = np.nan
    res = _run(nan, codes, window)
    assert "hourly.value_not_null" in {f.name for f in res.warnings} and len(res.quarantined) == 0


def test_simulated_bad_values_are_caught():
    from envquality.simulate import simulate_hourly, simulate_tidy

    codes = [f"S{i:04d}" for i in range(40)]
    kw = dict(seed=3, gap_fraction=0.0, bad_fraction=0.01, dust_events=False)
    ds = simulate_hourly(codes, "2024-07-10", "2024-07-10", **kw)
    df = simulate_tidy(codes, "2024-07-10", "2024-07-10", **kw)
    res = run_gate(df, build_docs=False)
    q = res.quarantined
    bad = ds["injected_bad_pollutant"].values  # (station, time)
    si, ti = np.nonzero(bad >= 0)
    from envquality.model import HOURLY_POLLUTANTS

    injected = {(codes[s], pd.Timestamp(ds.time.values[t]).tz_localize("Asia/Shanghai"), HOURLY_POLLUTANTS[bad[s, t]])
                for s, t in zip(si, ti)}
    got = set(zip(df.loc[q["row"], "station"], df.loc[q["row"], "time"], df.loc[q["row"], "pollutant"]))
    assert len(injected) > 10
    caught = len(injected & got) / len(injected)
    assert caught >= 0.9, caught
