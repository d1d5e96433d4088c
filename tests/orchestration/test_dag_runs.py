"""The real DAGs under ``dag.test()``: a day end to end, re-runs, late data, a blocked publication, the range job.

The SQLite scenario runs the DAGs once, in order, and the tests below check
what each step left (one slow end-to-end scenario instead of many):

1. ``air_quality_daily`` for D-1 (a full export in the drop folder) and D
   (an export with only 22 hours: the day goes ahead marked incomplete);
   ``publish_site`` publishes D;
2. ``air_quality_daily`` for D again: no stored figure changes;
3. the full export of D arrives (same file name); ``air_quality_daily``
   for D+1 picks it up as late data: D's figures and its periods change,
   D-1's do not;
4. D+2 arrives with negative PM2.5 (a sign error: a critical gate outcome);
   ``publish_site`` is blocked at its guard, alerts, and the D site stays online.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.orchestration.alerts import read_alerts

from .conftest import eq_settings_env

pytestmark = [pytest.mark.slow]

D = dt.date(2024, 3, 6)
FIGURE_COLS = ["value", "n", "valid", "reason"]


def _export(drop: Path, day: dt.date, *, hours: int = 24, pm25_factor: float = 1.0) -> Path:
    """A bureau export of the day (the simulator's readings as a tidy CSV)."""
    from envquality.registry import default_registry
    from envquality.simulate import simulate_tidy

    reg = default_registry()
    codes = [str(c) for c in reg.stations["code"]]
    f = simulate_tidy(codes, day, day, seed=2017, city_of=dict(zip(codes, reg.stations["city_code"].astype(str))))
    f = f[f["time"] <= pd.Timestamp(day).tz_localize("Asia/Shanghai") + pd.Timedelta(hours=hours)]
    f.loc[f["pollutant"] == "pm25", "value"] *= pm25_factor
    drop.mkdir(parents=True, exist_ok=True)
    path = drop / f"{day:%Y-%m-%d}_export.csv"
    f.assign(time=f["time"].dt.strftime("%Y-%m-%d %H:%M:%S%z")).to_csv(path, index=False)
    return path


def snapshot(url: str) -> dict[str, pd.DataFrame]:
    """Stored figures (without their computation times), sorted by key."""
    from envquality.store import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for table, key in (("daily_stat", ["entity_kind", "entity", "date", "indicator", "ruleset"]),
                               ("period_stat", ["entity_kind", "entity", "period", "indicator", "ruleset"])):
                frame = pd.read_sql(sa.text(f"SELECT * FROM {table}"), conn)
                frame = frame.drop(columns=["computed_at"]).sort_values(key).reset_index(drop=True)
                if "date" in frame:
                    frame["date"] = pd.to_datetime(frame["date"]).dt.date
                out[table] = frame.set_index(key)
            return out
    finally:
        engine.dispose()


def changed_rows(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    common = before.index.intersection(after.index)
    a, b = before.loc[common, FIGURE_COLS], after.loc[common, FIGURE_COLS]
    diff = ~((a == b) | (a.isna() & b.isna())).all(axis=1)
    return after.loc[common][diff.to_numpy()]


def _site_day(site: Path) -> str:
    import json

    return json.loads((site / "published.json").read_text())["day"]


@pytest.fixture(scope="module")
def scenario(airflow_dags, tmp_path_factory):
    from envquality.orchestration import embedded as E

    tmp = tmp_path_factory.mktemp("scenario")
    mp = pytest.MonkeyPatch()
    env = eq_settings_env(tmp, mp, source="dropfolder", late_days=3)
    url, drop, site = env["ENVQUALITY_DB_URL"], tmp / "drop", tmp / "site"
    daily, publish = airflow_dags["air_quality_daily"], airflow_dags["publish_site"]
    out: dict = {"env": env, "tmp": tmp}
    try:
        _export(drop, D - dt.timedelta(days=1))
        _export(drop, D, hours=22)
        E.run_dag(daily, logical_date=E.day_logical_date(D - dt.timedelta(days=1)))
        E.run_dag(daily, logical_date=E.day_logical_date(D))
        E.run_dag(publish, conf={"day": None})
        out["site_after_D"] = _site_day(site)
        out["s1"] = snapshot(url)
        out["alerts_1"] = read_alerts(tmp / "alerts")
        E.run_dag(daily, logical_date=E.day_logical_date(D))  # re-run of the same interval
        out["s2"] = snapshot(url)
        _export(drop, D)  # the rest of D arrives late, same file name
        _export(drop, D + dt.timedelta(days=1))
        out["s2b"] = snapshot(url)
        E.run_dag(daily, logical_date=E.day_logical_date(D + dt.timedelta(days=1)))
        out["s3"] = snapshot(url)
        out["release_D"] = (site / "public" / "data").resolve()
        _export(drop, D + dt.timedelta(days=2), pm25_factor=-1.0)  # a sign error in the export
        E.run_dag(daily, logical_date=E.day_logical_date(D + dt.timedelta(days=2)))
        with pytest.raises(E.DagRunFailed, match="guard"):
            E.run_dag(publish, conf={"day": None})
        out["site_after_block"] = _site_day(site)
        out["release_after_block"] = (site / "public" / "data").resolve()
        out["alerts_end"] = read_alerts(tmp / "alerts")
        yield out
    finally:
        mp.undo()


def test_day_end_to_end_on_sqlite(scenario):
    s1 = scenario["s1"]
    aqi = s1["daily_stat"].xs("aqi", level="indicator")
    assert set(aqi[aqi["valid"].astype(bool)].index.get_level_values("date")) == {D - dt.timedelta(days=1), D}
    assert aqi.xs(D - dt.timedelta(days=1), level="date")["valid"].astype(bool).sum() == 14  # every division has its AQI
    assert {"2024", "2024-03"} <= set(s1["period_stat"].index.get_level_values("period"))
    assert scenario["site_after_D"] == str(D)
    kinds = [a.get("kind") for a in scenario["alerts_1"]]
    assert "day_incomplete" in kinds  # 22 of 24 hours by the deadline


def test_rerun_changes_no_stored_figure(scenario):
    for table in ("daily_stat", "period_stat"):
        pd.testing.assert_frame_equal(scenario["s1"][table], scenario["s2"][table])


def test_late_data_changes_exactly_that_day_and_its_periods(scenario):
    before, after = scenario["s2b"], scenario["s3"]
    changed = changed_rows(before["daily_stat"], after["daily_stat"])
    assert set(changed.index.get_level_values("date")) == {D}
    assert len(changed) > 0
    periods = set(changed_rows(before["period_stat"], after["period_stat"]).index.get_level_values("period"))
    assert periods and periods <= {"2024", "2024-03", "rolling365"}  # the periods containing the day
    new_days = set(after["daily_stat"].index.get_level_values("date")) - set(before["daily_stat"].index.get_level_values("date"))
    assert new_days == {D + dt.timedelta(days=1)}  # the run's own day


def test_critical_gate_failure_blocks_publication_and_keeps_the_site(scenario):
    assert scenario["site_after_block"] == str(D)
    assert scenario["release_after_block"] == scenario["release_D"]
    assert scenario["release_D"].is_dir()
    kinds = [a.get("kind") for a in scenario["alerts_end"]]  # the publish guard's own records have none
    assert "gate_failed" in kinds and "publish_blocked" in kinds


def test_days_one_by_one_equal_one_range_run_on_postgres(airflow_dags, tmp_path, monkeypatch, pg_store_url):
    """Daily runs into a PostgreSQL store == one reprocess range run into a SQLite store; then publish on PG."""
    pytest.importorskip("psycopg")
    from envquality.orchestration import embedded as E

    days = [dt.date(2024, 4, 1) + dt.timedelta(days=k) for k in range(3)]  # 30 in the issue: kept lean
    eq_settings_env(tmp_path / "range", monkeypatch, db_url=f"sqlite:///{tmp_path / 'range.sqlite'}")
    E.run_dag(airflow_dags["reprocess"], conf={"start": str(days[0]), "end": str(days[-1]), "what": "air"})
    ranged = snapshot(f"sqlite:///{tmp_path / 'range.sqlite'}")

    eq_settings_env(tmp_path / "daily", monkeypatch, db_url=pg_store_url)
    for d in days:
        E.run_dag(airflow_dags["air_quality_daily"], logical_date=E.day_logical_date(d))
    E.run_dag(airflow_dags["publish_site"], conf={"day": None})
    one_by_one = snapshot(pg_store_url)
    for table in ("daily_stat", "period_stat"):
        a, b = ranged[table][FIGURE_COLS], one_by_one[table][FIGURE_COLS]
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-12)
    assert _site_day(tmp_path / "daily" / "site") == str(days[-1])
