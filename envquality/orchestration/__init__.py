"""Orchestration: everything the Airflow DAGs in ``dags/`` do, testable without Airflow.

The DAG files only wire tasks; each task calls one function here:

- :mod:`.config` — settings from the Airflow Variable ``envquality``, the
  environment (``ENVQUALITY_*``) and Connections (secrets), never from code;
- :mod:`.sources` — pull a CST day from the simulator, a drop folder, the
  CNEMC live feed archive, OpenAQ v3 or a quotsoft archive;
- :mod:`.air` — wait for the day with a deadline, gate and store, late
  data, the day's figures, target alerts;
- :mod:`.water` — the month's samplings, gate, store, classes, compliance;
- :mod:`.publishing` — publication guard, site build, deadline watch,
  provisional hour;
- :mod:`.reprocess` — the range job for history and corrections;
- :mod:`.alerts` — alerts to the log, SMTP e-mail or a webhook;
- :mod:`.jobs` — the single adapter to the compute, targets, site and
  publication-guard entry points;
- :mod:`.embedded` — run the real DAGs in-process (``envquality run``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["AIR_DAILY_ASSET", "WATER_MONTHLY_ASSET", "TIMEZONE", "DEFAULT_ARGS", "DAG_IDS"]

#: Asset URIs: the day's air figures and the month's water classes (they schedule ``publish_site``).
AIR_DAILY_ASSET = "envquality://figures/air_daily"
WATER_MONTHLY_ASSET = "envquality://figures/water_monthly"

#: Every schedule is in China Standard Time.
TIMEZONE = "Asia/Shanghai"

#: Retries with exponential backoff (Airflow 3.3.2 needs the multiplier: ``True`` gives no backoff).
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "envquality",
    "retries": 3,
    "retry_delay_seconds": 120,
    "retry_exponential_backoff": 2.0,
    "max_retry_delay_seconds": 1800,
}

DAG_IDS = ("air_quality_daily", "air_quality_hourly", "water_sources_monthly", "publish_site", "reprocess",
           "publication_watch")


def default_args() -> dict:
    """:data:`DEFAULT_ARGS` with the delays as ``timedelta`` (what Airflow expects)."""
    import datetime as dt

    d = {k: v for k, v in DEFAULT_ARGS.items() if not k.endswith("_seconds")}
    d["retry_delay"] = dt.timedelta(seconds=DEFAULT_ARGS["retry_delay_seconds"])
    d["max_retry_delay"] = dt.timedelta(seconds=DEFAULT_ARGS["max_retry_delay_seconds"])
    return d
