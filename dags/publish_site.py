"""publish_site: target progress, reports and the public site, switched atomically.

Scheduled on the air and water Assets (either one updating triggers a run);
manual runs may name a ``day``.  A critical gate outcome for the day stops
the run at ``guard`` and alerts; the last good site stays online.
Logic: :mod:`envquality.orchestration.publishing`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, Param, dag, task

from envquality.orchestration import AIR_DAILY_ASSET, TIMEZONE, WATER_MONTHLY_ASSET, default_args


@dag(
    dag_id="publish_site",
    schedule=(Asset(AIR_DAILY_ASSET) | Asset(WATER_MONTHLY_ASSET)),
    start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params={"day": Param(None, type=["null", "string"], format="date",
                         description="CST day to publish (default: the latest day with figures)")},
    tags=["envquality", "site"],
    doc_md=__doc__,
)
def publish_site():
    @task
    def pick_day(params=None) -> str:
        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.publishing import day_to_publish

        day = (params or {}).get("day") or day_to_publish(airflow_settings())
        if not day:
            raise ValueError("publish_site: no computed day in the store yet")
        return str(day)

    @task
    def guard(day: str) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.publishing import guard as run
        from envquality.quality.publish_guard import PublishBlocked

        try:
            return run(airflow_settings(), day)
        except PublishBlocked as exc:  # a data problem: retrying cannot help
            raise AirflowFailException(f"publication blocked: {exc.reason}") from exc

    @task
    def build(day: str) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.publishing import build as run
        from envquality.quality.publish_guard import PublishBlocked

        try:
            return run(airflow_settings(), day)
        except PublishBlocked as exc:  # the site's own data failed its gate: the last good site stays
            raise AirflowFailException(f"publication blocked: {exc.reason}") from exc

    build(guard(pick_day()))


publish_site()
