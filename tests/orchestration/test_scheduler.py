"""A real scheduler on the local PostgreSQL: trigger air_quality_daily over REST, wait, check the store.

Own AIRFLOW_HOME (tmp) and its own metadata database (created, then
dropped); the store is a private schema of the same server.  The
components are stopped by PID.  Bounded: 150 s to start, 3 minutes from trigger to success.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import sqlalchemy as sa

from .conftest import REPO, eq_settings_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: From the trigger to success; starting the components (api-server, scheduler, dag-processor) comes first.
BUDGET_S = 180
STARTUP_S = 150


def test_scheduler_runs_the_daily_dag_triggered_over_rest(pg_url, pg_store_url, tmp_path, monkeypatch):
    pytest.importorskip("airflow")
    from envquality.orchestration.standalone import LocalAirflow
    from envquality.store import make_engine

    t0 = time.monotonic()
    env = eq_settings_env(tmp_path, monkeypatch, db_url=pg_store_url)
    dbname = f"eq_airflow_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
    meta = sa.engine.make_url(pg_url).set(drivername="postgresql+psycopg2", database=dbname)
    day = dt.date(2024, 5, 2)
    try:
        af = LocalAirflow(tmp_path / "airflow", meta.render_as_string(hide_password=False), REPO / "dags",
                          env={**env, "PYTHONPATH": str(REPO)})
        af.migrate()
        with af.start():
            af.wait_ready("air_quality_daily", timeout=STARTUP_S - (time.monotonic() - t0))
            t1 = time.monotonic()
            run_id = af.trigger("air_quality_daily", f"{day + dt.timedelta(days=1)}T00:00:00+08:00")
            af.unpause("air_quality_daily")
            # unpausing also schedules the latest interval (today): not this test's run
            af.fail_other_runs("air_quality_daily", keep=run_id, seconds=8)
            state = af.wait_run("air_quality_daily", run_id, timeout=max(10.0, BUDGET_S - (time.monotonic() - t1)))
        assert state == "success"
        store = make_engine(pg_store_url)
        with store.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*), count(DISTINCT entity) FROM daily_stat "
                                        "WHERE date = :d AND indicator = 'aqi' AND valid"), {"d": day}).one()
        store.dispose()
        assert rows == (14, 14)  # every division's AQI of the CST day
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.dispose()
