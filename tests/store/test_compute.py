"""Day, range and dirty-day jobs (issue 10) on real SQLite and PostgreSQL stores.

Small registry (two cities, four stations) and short periods keep it lean;
the periods include the 2026-03-01 rule-set switch and the leap day
2024-02-29.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envquality import compute
from envquality.registry import Registry, default_registry
from envquality.stats.datasets import hourly_grid
from envquality.store.bulk import read_readings as read_rows
from envquality.store.columnar import read_hourly
from envquality.store.ingest import RawInput, run_ingest

from . import BACKENDS, new_store

CITIES = ("620100", "620200")


def small_registry() -> Registry:
    reg = default_registry()
    cities = reg.cities[reg.cities["code"].astype(str).isin(CITIES)].reset_index(drop=True)
    stations = (reg.stations[reg.stations["city_code"].astype(str).isin(CITIES)]
                .groupby("city_code").head(2).reset_index(drop=True))
    return Registry(cities, stations)


REG = small_registry()
STATIONS = REG.stations["code"].astype(str).tolist()


def readings(first: dt.date, last: dt.date, *, seed: int = 0) -> pd.DataFrame:
    """Tidy readings of the small registry, with missing hours, NULL values and O3 peaks."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(pd.Timestamp(first) + pd.Timedelta(hours=1), pd.Timestamp(last) + pd.Timedelta(days=1),
                          freq="h", tz="Asia/Shanghai")
    idx = pd.MultiIndex.from_product([STATIONS, times, ["so2", "no2", "pm10", "pm25", "co", "o3"]],
                                     names=["station", "time", "pollutant"])
    df = idx.to_frame(index=False)
    scale = df["pollutant"].map({"so2": 10, "no2": 20, "pm10": 60, "pm25": 35, "co": 0.4, "o3": 70})
    df["value"] = np.round(rng.gamma(2.0, 1.0, len(df)) * scale, 1)
    df.loc[rng.random(len(df)) < 0.08, "value"] = np.nan       # stored as NULL
    return df[rng.random(len(df)) > 0.05].reset_index(drop=True)  # rows never sent


def csv_input(name: str, frame: pd.DataFrame) -> RawInput:
    out = frame.assign(time=frame["time"].dt.strftime("%Y-%m-%d %H:%M:%S%z"))
    return RawInput(name, out.to_csv(index=False, lineterminator="\n", na_rep="").encode())


def ingest(engine: sa.Engine, tmp_path, inputs: list[RawInput]) -> None:
    from envquality.iotools.readings import read_readings
    summary = run_ingest(engine, "test", inputs, functools.partial(read_readings, strict=False), progress=False,
                         archive_root=tmp_path / "raw")
    assert summary.failed == 0


def snapshot(engine: sa.Engine) -> dict[str, pd.DataFrame]:
    out = {}
    with engine.connect() as conn:
        for table, key in (("daily_stat", ["entity_kind", "entity", "date", "indicator", "ruleset"]),
                           ("period_stat", ["entity_kind", "entity", "period", "indicator", "ruleset"])):
            df = pd.read_sql(sa.text(f"SELECT * FROM {table}"), conn).drop(columns=["computed_at"])
            for c in ("date", "period_start", "period_end"):
                if c in df:
                    df[c] = pd.to_datetime(df[c]).dt.date
            df["valid"] = df["valid"].astype(bool)
            out[table] = df.sort_values(key).reset_index(drop=True)
    return out


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table], check_dtype=False)


# ------------------------------------------------------------------ day after range == one range
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.sampled_from([dt.date(2024, 2, 27), dt.date(2024, 2, 28), dt.date(2026, 2, 27),
                              dt.date(2026, 2, 28), dt.date(2024, 12, 30)]),
       length=st.integers(2, 4), split=st.integers(0, 3), seed=st.integers(0, 10))
def test_day_run_after_range_run_equals_one_range_run(tmp_path_factory, first, length, split, seed):
    tmp_path = tmp_path_factory.mktemp("prop")
    last = first + dt.timedelta(days=length - 1)
    mid = first + dt.timedelta(days=min(split, length - 2))  # the range run ends here
    data = readings(first, last, seed=seed)
    with new_store("sqlite", tmp_path, None) as a, new_store("sqlite", tmp_path, None) as b:
        for engine in (a, b):
            ingest(engine, tmp_path, [csv_input("batch.csv", data)])
        compute.run_range(a, first, mid, registry=REG)
        day = mid + dt.timedelta(days=1)
        while day <= last:
            r = compute.run_day(a, day, registry=REG)
            assert r.days == [day]
            day += dt.timedelta(days=1)
        whole = compute.run_range(b, first, last, registry=REG)
        assert whole.days == list(pd.date_range(first, last).date)
        assert_same(snapshot(a), snapshot(b))


def test_rule_sets_chosen_per_day(tmp_path, capsys):
    from envquality.cli import main

    first, last = dt.date(2026, 2, 28), dt.date(2026, 3, 1)
    with new_store("sqlite", tmp_path, None) as engine:
        ingest(engine, tmp_path, [csv_input("b.csv", readings(first, last))])
        compute.run_range(engine, first, last, registry=REG)
        daily = snapshot(engine)["daily_stat"]
        # the CLI prints what it recomputed; the default registry's other stations have no readings
        assert main(["compute", "--day", str(last), "--db", str(engine.url), "--quiet"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"recomputed 1 day ({last}); periods: 2026, 2026-03, rolling365;")
    by_day = daily.groupby("date")["ruleset"].unique()
    assert list(by_day[first]) == ["HJ633-2012"] and list(by_day[last]) == ["HJ633-2026"]
    # HJ 633-2026 drops the O3 1-h maximum from the daily AQI but the value is still stored
    assert {"o3_1h", "o3_8h", "aqi", "dust"} <= set(daily["indicator"])


# ------------------------------------------------------------------ late data, both backends
@pytest.mark.parametrize("kind", BACKENDS)
def test_late_data_recomputes_exactly_its_day_and_periods(kind, tmp_path, request):
    url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    first, last, late = dt.date(2024, 1, 29), dt.date(2024, 2, 3), dt.date(2024, 2, 2)
    data = readings(first, last, seed=3)
    with new_store(kind, tmp_path, url) as engine:
        ingest(engine, tmp_path, [csv_input("batch.csv", data)])
        done = compute.run_range(engine, first, last, registry=REG)
        assert done.rows_written > 0 and done.periods == ["2024", "2024-01", "2024-02", "rolling365"]
        before = snapshot(engine)
        # unchanged re-runs write nothing
        assert compute.run_range(engine, first, last, registry=REG).rows_written == 0
        assert compute.run_day(engine, late, registry=REG).rows_written == 0
        assert str(compute.run_dirty(engine, registry=REG)) == "nothing to recompute"

        # a corrected file: the late day's PM2.5 of every station was far higher
        station = STATIONS[0]
        t = pd.date_range(pd.Timestamp(late) + pd.Timedelta(hours=1), periods=24, freq="h", tz="Asia/Shanghai")
        fix = pd.MultiIndex.from_product([STATIONS, t], names=["station", "time"]).to_frame(index=False)
        fix = fix.assign(pollutant="pm25", value=400.0)
        ingest(engine, tmp_path, [csv_input("late.csv", fix)])
        redo = compute.run_dirty(engine, registry=REG)
        assert redo.days == [late]
        assert redo.periods == ["2024", "2024-02", "rolling365"]
        assert redo.rows_written > 0
        after = snapshot(engine)
        assert compute.run_dirty(engine, registry=REG).days == []
        assert compute.run_range(engine, first, last, registry=REG).rows_written == 0

    key = ["entity_kind", "entity", "date", "indicator", "ruleset"]
    d = before["daily_stat"].merge(after["daily_stat"], on=key, how="outer", suffixes=("_b", "_a"), indicator=True)
    changed = d[(d["_merge"] != "both") | (d["value_b"].fillna(-1) != d["value_a"].fillna(-1))
                | (d["n_b"].fillna(-1) != d["n_a"].fillna(-1))]
    assert set(changed["date"]) == {late}
    assert {(station, "pm25_24h")} <= set(zip(changed["entity"], changed["indicator"]))
    pkey = ["entity_kind", "entity", "period", "indicator", "ruleset"]
    p = before["period_stat"].merge(after["period_stat"], on=pkey, how="outer", suffixes=("_b", "_a"),
                                    indicator=True)
    pchanged = p[(p["_merge"] != "both") | (p["value_b"].fillna(-1) != p["value_a"].fillna(-1))]
    assert len(pchanged) and set(pchanged["period"]) <= {"2024", "2024-02", "rolling365"}


# ------------------------------------------------------------------ columnar read == row read
@pytest.mark.parametrize("kind", BACKENDS)
def test_columnar_read_equals_row_read(kind, tmp_path, request):
    url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    first, last = dt.date(2024, 2, 28), dt.date(2024, 3, 1)
    data = readings(first, last, seed=5)
    with new_store(kind, tmp_path, url) as engine:
        ingest(engine, tmp_path, [csv_input("batch.csv", data)])
        cols = read_hourly(engine, first, last, STATIONS)
        rows = read_rows(engine, start=pd.Timestamp(first, tz="Asia/Shanghai") + pd.Timedelta(hours=1),
                         end=pd.Timestamp(last, tz="Asia/Shanghai") + pd.Timedelta(days=1))
    grid = hourly_grid(rows, stations=STATIONS)
    xr.testing.assert_identical(cols.drop_attrs(), grid.drop_attrs())
    assert cols.sizes == {"station": 4, "time": 72}
    assert pd.Timestamp(cols["time"].values[0]) == pd.Timestamp("2024-02-28 01:00")
    # NaN exactly where no value was stored
    sent = data.dropna(subset=["value"])
    assert int(sum(cols[p].notnull().sum() for p in cols.data_vars)) == len(sent)
