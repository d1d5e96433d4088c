"""reprocess: the range job for corrections and history (manual, with start, end and what).

``what``: ``all`` (air pull → gate → store, the range computation, water
months), ``air``, ``figures`` (computation only, from stored readings) or
``water``.  Logic: :mod:`envquality.orchestration.reprocess`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, Param, dag, task

from envquality.orchestration import AIR_DAILY_ASSET, TIMEZONE, WATER_MONTHLY_ASSET, default_args


@dag(
    dag_id="reprocess",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params={
        "start": Param("2024-01-01", type="string", format="date", description="first CST day"),
        "end": Param("2024-01-31", type="string", format="date", description="last CST day (inclusive)"),
        "what": Param("all", enum=["all", "air", "figures", "water"], description="which part to run"),
    },
    tags=["envquality", "reprocess"],
    doc_md=__doc__,
)
def reprocess():
    @task
    def check(params=None) -> dict:
        from envquality.orchestration.reprocess import check_params

        a, b, what = check_params(params["start"], params["end"], params["what"])
        return {"start": str(a), "end": str(b), "what": what}

    @task
    def pull_gate_store(p: dict) -> dict:
        import datetime as dt

        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.reprocess import pull_range

        if p["what"] not in ("all", "air"):
            return {"skipped": p["what"]}
        return pull_range(airflow_settings(), dt.date.fromisoformat(p["start"]), dt.date.fromisoformat(p["end"]))

    @task(outlets=[Asset(AIR_DAILY_ASSET)])
    def range_figures(p: dict, pulled: dict) -> str:
        import datetime as dt

        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.reprocess import compute_range

        if p["what"] == "water":
            return "skipped"
        return compute_range(airflow_settings(), dt.date.fromisoformat(p["start"]), dt.date.fromisoformat(p["end"]))

    @task(outlets=[Asset(WATER_MONTHLY_ASSET)])
    def water_months(p: dict) -> list:
        import datetime as dt

        from envquality.orchestration.config import airflow_settings
        from envquality.orchestration.reprocess import water_range

        if p["what"] not in ("all", "water"):
            return []
        return water_range(airflow_settings(), dt.date.fromisoformat(p["start"]), dt.date.fromisoformat(p["end"]))

    p = check()
    figures = range_figures(p, pull_gate_store(p))
    figures >> water_months(p)  # one writer at a time (SQLite store)


reprocess()
