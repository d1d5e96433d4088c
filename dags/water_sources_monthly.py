"""water_sources_monthly: the month's drinking-water samplings → gate → store → classes and compliance → Asset.

The data interval is the CST calendar month.  Logic: :mod:`envquality.orchestration.water`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from envquality.orchestration import TIMEZONE, WATER_MONTHLY_ASSET, default_args

WATER_MONTHLY = Asset(WATER_MONTHLY_ASSET)


@dag(
    dag_id="water_sources_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["envquality", "water"],
    doc_md=__doc__,
)
def water_sources_monthly():
    @task
    def gate_and_store(data_interval_start=None) -> dict:
        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.water import interval_month, load_month

        return load_month(airflow_settings(), interval_month(data_interval_start))

    @task(outlets=[WATER_MONTHLY])
    def classes_and_compliance(stored: dict, outlet_events=None) -> dict:
        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.water import classify_month

        out = classify_month(airflow_settings(), stored["month"])
        outlet_events[WATER_MONTHLY].extra = {"month": stored["month"]}
        return out

    classes_and_compliance(gate_and_store())


water_sources_monthly()
