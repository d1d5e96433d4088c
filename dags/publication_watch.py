"""publication_watch: alert when yesterday is not on the public site by the deadline (10:00 CST).

Logic: :func:`envquality.orchestration.publishing.watch_publication`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from envquality.orchestration import TIMEZONE, default_args


@dag(
    dag_id="publication_watch",
    schedule=CronTriggerTimetable("0 10 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={**default_args(), "retries": 0},
    tags=["envquality", "alerts"],
    doc_md=__doc__,
)
def publication_watch():
    @task
    def watch() -> bool:
        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.publishing import watch_publication

        return watch_publication(airflow_settings())

    watch()


publication_watch()
