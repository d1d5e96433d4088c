"""Run the real DAGs in-process with ``dag.test()`` — the embedded default (``envquality run``).

Airflow's metadata go to a SQLite file under ``var/airflow`` (or
``ENVQUALITY_AIRFLOW_DB_URL``); :func:`prepare_airflow` must run before
anything imports ``airflow``, because Airflow reads its configuration on
import.  The DAG files are the ones in ``dags/`` of the checkout (or
``ENVQUALITY_DAGS_DIR``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from envquality.orchestration import TIMEZONE

__all__ = ["dags_dir", "prepare_airflow", "migrate_metadata", "load_dags", "run_dag", "day_logical_date",
           "month_logical_date", "DagRunFailed"]


class DagRunFailed(RuntimeError):
    """A ``dag.test()`` run did not succeed; the message names the failed tasks."""


def dags_dir() -> Path:
    """The ``dags/`` folder: ``ENVQUALITY_DAGS_DIR`` or the one beside the package in the checkout."""
    env = os.environ.get("ENVQUALITY_DAGS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "dags"


def prepare_airflow(home: str | Path, *, metadata_url: str | None = None, quiet: bool = True) -> dict[str, str]:
    """Set Airflow's environment (home, DAG folder, metadata DB, no examples); returns what was set.

    Must run before the first ``import airflow`` of the process.
    """
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    url = metadata_url or os.environ.get("ENVQUALITY_AIRFLOW_DB_URL") or f"sqlite:///{home / 'airflow.db'}"
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
    if quiet:
        env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(home):
        raise RuntimeError("prepare_airflow must run before airflow is imported")
    os.environ.update(env)
    repo = str(Path(__file__).resolve().parents[2])
    # the DAG files import envquality: make this checkout importable by Airflow's parsing
    if repo not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)
    return env


def migrate_metadata() -> None:
    """Create or upgrade Airflow's metadata database (``airflow db migrate``)."""
    import logging

    from airflow.utils import db

    level = logging.getLogger().level
    logging.getLogger("alembic").setLevel(logging.WARNING)
    db.initdb()
    logging.getLogger().setLevel(level)


def load_dags(folder: str | Path | None = None) -> dict[str, Any]:
    """Parse the DAG folder; raises with the import errors if any file fails."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder or dags_dir()))
    if bag.import_errors:
        raise RuntimeError("DAG import errors: " + "; ".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    return bag.dags


def day_logical_date(day: dt.date) -> dt.datetime:
    """Logical date whose daily data interval is CST day ``day`` (the interval ends at it)."""
    return pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(TIMEZONE).to_pydatetime()


def month_logical_date(month: str) -> dt.datetime:
    """Logical date whose monthly data interval is the CST month ``YYYY-MM``."""
    return (pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1)).tz_localize(TIMEZONE).to_pydatetime()


def run_dag(dag: Any, *, logical_date: dt.datetime | None = None, conf: dict | None = None) -> Any:
    """``dag.test()`` and check the outcome; returns the DagRun, raises :class:`DagRunFailed`."""
    run = dag.test(logical_date=logical_date, run_conf=conf)
    state = str(getattr(run, "state", ""))
    if not state.endswith("success"):
        bad = [f"{ti.task_id}={ti.state}" for ti in run.get_task_instances() if str(ti.state) != "success"]
        raise DagRunFailed(f"{dag.dag_id} {logical_date or ''}: {state}; tasks: {', '.join(bad) or '?'}")
    return run
