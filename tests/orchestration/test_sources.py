"""Pulling a day: completeness, the simulator's publication lag, the drop folder, the wait deadline."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from envquality.orchestration.air import interval_day, poke_pull, wait_deadline
from envquality.orchestration.alerts import read_alerts
from envquality.orchestration.config import load_settings
from envquality.orchestration.sources import completeness, day_window, pull_day, reader_for

from .conftest import eq_settings_env

DAY = dt.date(2024, 3, 5)


def _cst(text: str) -> dt.datetime:
    return pd.Timestamp(text).tz_localize("Asia/Shanghai").to_pydatetime()


def test_day_window_and_interval_day():
    lo, hi = day_window(DAY)
    assert str(lo) == "2024-03-05 01:00:00+08:00" and str(hi) == "2024-03-06 00:00:00+08:00"
    # the DAG's data interval starts at 00:00 CST = 16:00 UTC the day before
    assert interval_day(dt.datetime(2024, 3, 4, 16, 0, tzinfo=dt.timezone.utc)) == DAY


def test_completeness_counts_station_hours_of_the_day_only():
    t = pd.date_range("2024-03-05 01:00", periods=25, freq="h", tz="Asia/Shanghai")  # 25th hour is the next day
    f = pd.DataFrame({"station": "A", "time": t, "value": np.r_[np.ones(23), np.nan, 1.0]})
    # 23 of A's 24 hours have a value; B sent nothing: 23 / 48
    assert completeness(f, DAY, 2) == 23 / 48


def test_simulator_publishes_hours_up_to_now_minus_lag(tmp_path, monkeypatch):
    eq_settings_env(tmp_path, monkeypatch, simulate_lag_hours=1)
    s = load_settings()
    part = pull_day(s, DAY, now=_cst("2024-03-05 13:30"))  # hours ending ≤ 12:30 → 01:00 … 12:00
    frame = reader_for("tidy")(part.files[0]).data
    assert frame["time"].max() == pd.Timestamp("2024-03-05 12:00", tz="Asia/Shanghai")
    assert 0.4 < part.completeness <= 0.5
    full = pull_day(s, DAY, now=_cst("2024-03-07 00:00"))
    assert full.files == part.files  # same name: the fuller file supersedes the partial one in the store
    assert full.completeness > 0.9


def test_drop_folder_picks_the_days_files(tmp_path, monkeypatch):
    env = eq_settings_env(tmp_path, monkeypatch, source="dropfolder")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "2024-03-05_export.csv").write_text("station,time,pollutant,value\n1001A,2024-03-05 01:00,pm25,30\n")
    (drop / "2024-03-06_export.csv").write_text("station,time,pollutant,value\n")
    p = pull_day(load_settings(), DAY)
    assert [f.split("/")[-1] for f in p.files] == ["2024-03-05_export.csv"] and p.source == "dropfolder"
    assert 0 < p.completeness < 0.01
    assert env["ENVQUALITY_DROP_DIR"] == str(drop)


def test_wait_until_complete_or_deadline(tmp_path, monkeypatch):
    eq_settings_env(tmp_path, monkeypatch, simulate_lag_hours=1, wait_deadline_hours=6)
    s = load_settings()
    assert str(wait_deadline(s, DAY)) == "2024-03-06 06:00:00+08:00"
    early = poke_pull(s, DAY, now=_cst("2024-03-05 22:30"))  # evening hours not published yet: wait
    assert not early.done and not early.complete
    late = poke_pull(s, DAY, now=_cst("2024-03-05 20:00") + dt.timedelta(hours=11))  # past the deadline
    assert late.done and late.complete  # by then the simulator has published every hour
    eq_settings_env(tmp_path, monkeypatch, simulate_lag_hours=20, wait_deadline_hours=6)
    s = load_settings()
    stuck = poke_pull(s, DAY, now=_cst("2024-03-06 07:00"))  # past the deadline, still incomplete
    assert stuck.done and not stuck.complete
    [alert] = read_alerts(tmp_path / "alerts")
    assert alert["kind"] == "day_incomplete" and alert["day"] == "2024-03-05"
