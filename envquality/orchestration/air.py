"""The air day: wait for the source, pull, gate and store, late data, figures, target alerts.

Each function is one task of the ``air_quality_daily`` DAG, callable (and
tested) without Airflow.  The day is the CST calendar day of the run's data
interval (:func:`interval_day`); everything a task does for a day can be
done again with the same result (idempotent ingests and upserts).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd
import sqlalchemy as sa

from envquality.orchestration import jobs
from envquality.orchestration.alerts import Alert, notify
from envquality.orchestration.config import Settings
from envquality.orchestration.sources import TZ, Pulled, day_window, pull_day, reader_for

__all__ = ["interval_day", "wait_deadline", "Poke", "poke_pull", "gate_and_store", "late_data", "figures",
           "check_targets", "engine_for", "apply_environment", "store_completeness"]

log = logging.getLogger("envquality.orchestration.air")

_ENGINES: dict[str, sa.Engine] = {}


def apply_environment(settings: Settings) -> None:
    """Point the gate's Data Docs and the publish guard's alerts at the configured folders."""
    os.environ["ENVQUALITY_SITE_DIR"] = str(settings.path("site_dir").resolve())
    os.environ["ENVQUALITY_ALERTS_DIR"] = str(settings.path("alerts_dir").resolve())


def engine_for(settings: Settings) -> sa.Engine:
    """The store engine of the settings, migrated to the latest schema once per process."""
    from envquality.store import make_engine, upgrade_to_head

    url = settings.store_url()
    key = str(url)
    if key not in _ENGINES:
        engine = make_engine(url)
        upgrade_to_head(engine)
        _ENGINES[key] = engine
    apply_environment(settings)
    return _ENGINES[key]


def interval_day(data_interval_start: Any) -> dt.date:
    """The CST calendar day a data interval starts on (the DAG's interval is exactly that day).

    >>> interval_day(dt.datetime(2024, 2, 28, 16, 0, tzinfo=dt.timezone.utc))
    datetime.date(2024, 2, 29)
    """
    ts = pd.Timestamp(data_interval_start)
    if ts.tzinfo is None:
        ts = ts.tz_localize(TZ)
    return ts.tz_convert(TZ).date()


def wait_deadline(settings: Settings, day: dt.date) -> pd.Timestamp:
    """When an incomplete day stops being waited for: the day's end plus ``wait_deadline_hours``."""
    return day_window(day)[1] + pd.Timedelta(hours=float(settings["wait_deadline_hours"]))


@dataclass
class Poke:
    """One look at the source: go ahead (``done``) with the files, complete or not."""

    done: bool
    complete: bool
    pulled: Pulled


def poke_pull(settings: Settings, day: dt.date, *, now: dt.datetime | None = None) -> Poke:
    """Pull the day; done when it is complete or its wait deadline has passed (then marked incomplete)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    pulled = pull_day(settings, day, now=now)
    complete = pulled.completeness >= float(settings["complete_fraction"])
    past = pd.Timestamp(now) >= wait_deadline(settings, day)
    if not complete and past:
        kind = "day_missing" if not pulled.files or pulled.completeness == 0 else "day_incomplete"
        notify(Alert(kind, f"source {pulled.source} delivered {pulled.completeness:.1%} of the station-hours "
                           f"of {day} by the wait deadline; the day goes ahead marked incomplete and later "
                           f"runs pick up late data", day=str(day), level="warning",
                     details={"files": pulled.files, "completeness": pulled.completeness}), settings)
    return Poke(complete or past, complete, pulled)


def _ingest(settings: Settings, engine: sa.Engine, pulled: Pulled) -> dict[str, Any]:
    from pathlib import Path

    from envquality.pipeline import ingest

    if not pulled.files:
        return {"files": 0, "ok": 0, "noop": 0, "failed": 0, "rows_written": 0, "rows_superseded": 0,
                "gate_status": None, "critical": [], "errors": []}
    s = ingest(engine, pulled.source, [Path(p) for p in pulled.files], reader_for(pulled.reader, settings),
               archive_root=settings.path("raw_dir"), docs=bool(settings["data_docs"]))
    return {"files": s.files, "ok": s.ok, "noop": s.noop, "failed": s.failed, "rows_written": s.rows_written,
            "rows_superseded": s.rows_superseded, "rows_quarantined": s.rows_quarantined,
            "gate_status": s.gate_status, "critical": [r.name for r in s.results if r.gate_status == "critical"],
            "errors": [f"{p}: {m}" for p, m in s.errors],
            "input_errors": [f"{p}: {m}" for p, m in s.input_errors]}


def gate_and_store(settings: Settings, pulled: Pulled) -> dict[str, Any]:
    """Ingest the pulled files: quality gate, then store (one transaction per file, quarantine kept).

    A critical gate outcome is stored with the ingest (it blocks publication
    of the day) and alerted.  A failure that is not the input's fault
    (database, disk) raises, so Airflow retries the task.
    """
    engine = engine_for(settings)
    out = _ingest(settings, engine, pulled)
    day = pulled.day
    if out["critical"]:
        notify(Alert("gate_failed", f"critical quality-gate outcome for {', '.join(out['critical'])}; "
                                    f"publication of {day} is blocked until corrected", day=day,
                     details={"files": out["critical"]}), settings)
    other = [e for e in out["errors"] if e not in out.get("input_errors", [])]
    if other:
        raise RuntimeError(f"ingest of {day} failed: {'; '.join(other[:3])}")
    out["day"], out["completeness"] = day, pulled.completeness
    return out


def store_completeness(engine: sa.Engine, days: list[dt.date], expected_stations: int) -> dict[dt.date, float]:
    """Share of each day's expected station-hours present in the store (vectorised over all the days)."""
    from envquality.store.bulk import read_readings

    if not days:
        return {}
    lo, _ = day_window(min(days))
    _, hi = day_window(max(days))
    frame = read_readings(engine, start=lo, end=hi)
    frame = frame[frame["value"].notna()]
    day_of = (pd.to_datetime(frame["time"]).dt.tz_convert(TZ) - pd.Timedelta(hours=1)).dt.date
    pairs = pd.DataFrame({"day": day_of.to_numpy(), "s": frame["station"].to_numpy(),
                          "t": frame["time"].to_numpy()}).drop_duplicates()
    counts = pairs.groupby("day").size()
    return {d: float(min(1.0, counts.get(d, 0) / (expected_stations * 24))) for d in days}


def late_data(settings: Settings, day: dt.date, *, now: dt.datetime | None = None) -> list[str]:
    """Pull again the previous ``late_days`` days that are incomplete in the store; return those that changed."""
    from envquality.orchestration.sources import _station_codes

    n_late = int(settings["late_days"])
    if n_late <= 0:
        return []
    engine = engine_for(settings)
    days = [day - dt.timedelta(days=k) for k in range(n_late, 0, -1)]
    have = store_completeness(engine, days, len(_station_codes()))
    # a day never stored at all was not run yet (or is before the history): backfill's business, not late data
    todo = [d for d in days if 0 < have[d] < float(settings["complete_fraction"])]
    changed = []
    for d in todo:
        out = _ingest(settings, engine, pull_day(settings, d, now=now))
        if out["rows_written"] or out["rows_superseded"]:
            changed.append(str(d))
            log.info("late data for %s: %s readings written", d, out["rows_written"])
    return changed


def figures(settings: Settings, day: dt.date, changed_days: Sequence[str] = ()) -> dict[str, Any]:
    """The day job for ``day`` and, first, the late-data days that changed (with their periods)."""
    engine = engine_for(settings)
    late = jobs.compute_days(engine, [dt.date.fromisoformat(d) for d in changed_days]) if changed_days else None
    res = jobs.compute_day(engine, day)
    return {"day": str(day), "periods": res.periods, "rows_written": res.rows_written,
            "late_days": list(changed_days), "late": str(late) if late else None}


def check_targets(settings: Settings, day: dt.date) -> list[str]:
    """Alert the divisions whose target progress is off the path; returns their codes."""
    from envquality.stats.datasets import PROVINCE

    engine = engine_for(settings)
    progress = jobs.target_progress(engine, day)
    statuses = set(settings.listed("target_alert_statuses"))
    off = progress[progress["status"].isin(statuses) & (progress["entity_code"].astype(str) != PROVINCE)]
    codes = sorted(set(off["entity_code"].astype(str)))
    if codes:
        notify(Alert("off_target_path", f"{len(codes)} division(s) off their target path on {day}: "
                                        f"{', '.join(codes)}", day=str(day), level="warning",
                     details={"rows": off.astype(object).where(off.notna(), None).to_dict("records")}), settings)
    return codes
