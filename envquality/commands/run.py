"""``envquality run`` and ``envquality airflow``: the DAGs embedded, or a real local Airflow.

``envquality run`` runs the real DAGs of ``dags/`` in this process with
``dag.test()`` — SQLite for Airflow's metadata (``var/airflow``) and for the
store (``var/demo/envquality.sqlite``), the simulator as source:
``reprocess`` over the demo period's history, ``air_quality_daily`` for its
last days, ``water_sources_monthly`` for the last full month, then
``publish_site``; it ends by printing where the site is and how to serve it.

``envquality airflow`` starts ``airflow standalone`` (scheduler,
dag-processor, triggerer, api-server) with the same DAGs and prints the UI
address and login.  Metadata: PostgreSQL when ``ENVQUALITY_AIRFLOW_DB_URL``
names one, else SQLite (fine for clicking through; backfills lock it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

_EMBEDDED_DEFAULTS = {
    "ENVQUALITY_DB_URL": "sqlite:///{var}/demo/envquality.sqlite",
    "ENVQUALITY_SITE_DIR": "{var}/site",
    "ENVQUALITY_RAW_DIR": "{var}/demo/raw",
    "ENVQUALITY_STAGING_DIR": "{var}/staging",
    "ENVQUALITY_ALERTS_DIR": "{var}/alerts",
    # the demo runs for past days only: no waiting for a source that cannot deliver more
    "ENVQUALITY_WAIT_DEADLINE_HOURS": "0",
    "ENVQUALITY_SIMULATE_LAG_HOURS": "0",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the Airflow DAGs in-process (dag.test, SQLite, simulator) and publish")
    p.add_argument("--end", default=None, help="last day (default: yesterday, CST)")
    p.add_argument("--days", type=int, default=3, help="days run by air_quality_daily at the end (default 3)")
    p.add_argument("--history-start", default=None,
                   help="first day of the history run by reprocess (default: 1st of the previous month)")
    p.add_argument("--var", default="var", help="folder for the store, site, alerts and Airflow home (default var)")
    p.set_defaults(func=run_embedded)
    a = sub.add_parser("airflow", help="start a real local Airflow (standalone) with the envquality DAGs")
    a.add_argument("--var", default="var", help="Airflow home is <var>/airflow-local (default var)")
    a.add_argument("--port", type=int, default=8080, help="api-server port on 127.0.0.1 (default 8080)")
    a.set_defaults(func=run_local_airflow)


def _yesterday_cst() -> dt.date:
    return (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(days=1)).date()


def _plan(args: argparse.Namespace) -> tuple[dt.date, dt.date, list[dt.date], str]:
    """(history start, history end, daily days, last full month)."""
    if args.days < 1:
        raise ValueError(f"--days {args.days}: run at least one day")
    end = dt.date.fromisoformat(args.end) if args.end else _yesterday_cst()
    days = [end - dt.timedelta(days=k) for k in range(args.days - 1, -1, -1)]
    first_of_prev = (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start = dt.date.fromisoformat(args.history_start) if args.history_start else first_of_prev
    last_month = (end + dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=1)
    month = f"{last_month:%Y-%m}" if last_month == end else f"{first_of_prev:%Y-%m}"
    return start, days[0] - dt.timedelta(days=1), days, month


def run_embedded(args: argparse.Namespace) -> int:
    start, hist_end, days, month = _plan(args)  # bad dates stop here, before anything is set up
    var = Path(args.var).resolve()
    for key, value in _EMBEDDED_DEFAULTS.items():
        os.environ.setdefault(key, value.format(var=var))
    from envquality.orchestration import embedded as E

    E.prepare_airflow(var / "airflow")
    print(f"Airflow {_airflow_version()} in-process (dag.test), metadata {var / 'airflow' / 'airflow.db'}")
    E.migrate_metadata()
    dags = E.load_dags()
    steps: list[tuple[str, Any, dt.datetime | None, dict | None]] = []
    if hist_end >= start:
        steps.append((f"reprocess {start} – {hist_end} (air history, water months)", dags["reprocess"], None,
                      {"start": str(start), "end": str(hist_end), "what": "all"}))
    steps += [(f"air_quality_daily {d}", dags["air_quality_daily"], E.day_logical_date(d), None) for d in days]
    steps.append((f"water_sources_monthly {month}", dags["water_sources_monthly"], E.month_logical_date(month), None))
    steps.append((f"publish_site {days[-1]}", dags["publish_site"], None, {"day": str(days[-1])}))
    for i, (label, dag, logical_date, conf) in enumerate(steps, 1):
        print(f"{i}/{len(steps)} {label} ...", flush=True)
        try:
            E.run_dag(dag, logical_date=logical_date, conf=conf)
        except E.DagRunFailed as exc:
            print(f"envquality run: {exc}; see the alerts in {os.environ['ENVQUALITY_ALERTS_DIR']}", file=sys.stderr)
            return 1
    site = Path(os.environ["ENVQUALITY_SITE_DIR"]) / "public"
    print(f"\nstore:        {os.environ['ENVQUALITY_DB_URL']}")
    print(f"public site:  {site}/")
    print(f"alerts:       {os.environ['ENVQUALITY_ALERTS_DIR']}/")
    shown = os.path.relpath(site) if site.resolve().is_relative_to(Path.cwd()) else str(site)
    print(f"serve it:     python -m http.server -d {shown} 8000   (then open http://127.0.0.1:8000/)")
    return 0


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


def run_local_airflow(args: argparse.Namespace) -> int:
    """Exec ``airflow standalone`` on 127.0.0.1 with the envquality DAGs; prints address and login first."""
    import shutil

    from envquality.orchestration import embedded as E

    home = Path(args.var).resolve() / "airflow-local"
    pg = os.environ.get("ENVQUALITY_AIRFLOW_DB_URL")
    E.prepare_airflow(home, metadata_url=pg, quiet=False)
    os.environ["AIRFLOW__API__HOST"] = "127.0.0.1"
    os.environ["AIRFLOW__API__PORT"] = str(args.port)
    exe = shutil.which("airflow") or str(Path(sys.executable).with_name("airflow"))
    print(f"Airflow UI:   http://127.0.0.1:{args.port}/  (user admin; password in "
          f"{home / 'simple_auth_manager_passwords.json.generated'} once started)")
    print(f"DAGs:         {E.dags_dir()} (new DAGs start paused: unpause them in the UI)")
    if pg:
        print("metadata:     PostgreSQL (ENVQUALITY_AIRFLOW_DB_URL)")
    else:
        print(f"metadata:     SQLite {home / 'airflow.db'} — fine to click through; backfills and parallel runs "
              f"lock SQLite: set ENVQUALITY_AIRFLOW_DB_URL=postgresql+psycopg://... for those")
    print("stop:         Ctrl-C", flush=True)
    os.execv(exe, [exe, "standalone"])
    return 0  # pragma: no cover - exec does not return
