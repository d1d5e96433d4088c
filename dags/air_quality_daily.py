"""air_quality_daily: one CST day of hourly air readings → gate → store → figures → Asset.

The data interval is exactly the CST calendar day (00:00–24:00 Asia/Shanghai).
Tasks: wait for the source with a deadline and pull → quality gate and store
→ late data for earlier incomplete days → the day's and the periods' figures
(Asset outlet, which schedules ``publish_site``) → target-path alerts.
Idempotent per interval: re-runs and ``airflow backfill create`` are safe.
Logic: :mod:`envquality.orchestration.air`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from envquality.orchestration import AIR_DAILY_ASSET, TIMEZONE, default_args
from envquality.orchestration.operators import SourceDaySensor

AIR_DAILY = Asset(AIR_DAILY_ASSET)


@dag(
    dag_id="air_quality_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["envquality", "air"],
    doc_md=__doc__,
)
def air_quality_daily():
    @task
    def gate_and_store(pulled: dict) -> dict:
        from envquality.orchestration.air import gate_and_store as run
        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.sources import Pulled

        return run(airflow_settings(), Pulled.from_dict(pulled))

    @task
    def late_data(stored: dict, data_interval_start=None) -> list[str]:
        from envquality.orchestration.air import interval_day, late_data as run
        from envquality.orchestration.config import airflow_settings

        return run(airflow_settings(), interval_day(data_interval_start))

    @task(outlets=[AIR_DAILY])
    def figures(stored: dict, changed: list[str], data_interval_start=None, outlet_events=None) -> dict:
        from envquality.orchestration.air import figures as run, interval_day
        from envquality.orchestration.config import airflow_settings

        out = run(airflow_settings(), interval_day(data_interval_start), changed)
        out["completeness"] = stored.get("completeness")
        outlet_events[AIR_DAILY].extra = {"day": out["day"], "late_days": changed,
                                          "completeness": out["completeness"]}
        return out

    @task
    def check_targets(done: dict) -> list[str]:
        import datetime as dt

        from envquality.orchestration.air import check_targets as run
        from envquality.orchestration.config import airflow_settings

        return run(airflow_settings(), dt.date.fromisoformat(done["day"]))

    pulled = SourceDaySensor(task_id="wait_and_pull", poke_interval=600, timeout=36 * 3600, mode="reschedule")
    stored = gate_and_store(pulled.output)
    check_targets(figures(stored, late_data(stored)))


air_quality_daily()
