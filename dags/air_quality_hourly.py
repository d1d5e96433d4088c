"""air_quality_hourly (optional, paused when created): the latest hour into the provisional layer.

Writes ``<site_dir>/provisional/latest_hour.json`` labelled provisional (not
validated); with ``source=cnemc`` it also archives the feed's answer for the
daily run.  Logic: :func:`envquality.orchestration.publishing.provisional_hour`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from envquality.orchestration import TIMEZONE, default_args


@dag(
    dag_id="air_quality_hourly",
    schedule=CronTriggerTimetable("10 * * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args={**default_args(), "retries": 1},
    tags=["envquality", "air", "provisional"],
    doc_md=__doc__,
)
def air_quality_hourly():
    @task
    def provisional_hour() -> str | None:
        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.publishing import provisional_hour as run

        return run(airflow_settings())

    provisional_hour()


air_quality_hourly()
