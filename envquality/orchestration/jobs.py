"""The one place the orchestration calls other areas' entry points.

``envquality.compute.run_day / run_range / run_dirty`` (the day and range
jobs), ``envquality.targets.progress_table``, ``envquality.site.build_site``
and ``envquality.quality.publish_guard.require_publishable``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

__all__ = ["compute_day", "compute_range", "compute_days", "target_progress", "publish", "check_day",
           "JobResult", "latest_day"]


@dataclass
class JobResult:
    """What a compute job did (the shape of ``envquality.compute.ComputeResult``)."""

    days: list[dt.date] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    rows_written: int = 0

    def __str__(self) -> str:
        span = f"{self.days[0]} – {self.days[-1]}" if self.days else "no days"
        return f"{len(self.days)} day(s) {span}; periods {', '.join(self.periods) or '—'}; {self.rows_written} rows"


def _as_result(r: Any) -> JobResult:
    return JobResult(list(getattr(r, "days", [])), list(getattr(r, "periods", [])), int(getattr(r, "rows_written", 0)))


# ------------------------------------------------------------------ compute
def compute_day(engine: sa.Engine, day: dt.date, *, registry=None) -> JobResult:
    """The day job: figures of ``day`` and of its periods (:func:`envquality.compute.run_day`)."""
    from envquality.compute import run_day

    return _as_result(run_day(engine, day, registry=registry))


def compute_range(engine: sa.Engine, start: dt.date, end: dt.date, *, registry=None) -> JobResult:
    """The range job over [start, end] (:func:`envquality.compute.run_range`)."""
    from envquality.compute import run_range

    return _as_result(run_range(engine, start, end, registry=registry))


def compute_days(engine: sa.Engine, days: list[dt.date], *, registry=None) -> JobResult:
    """Recompute the days late or corrected readings changed, and their periods (:func:`envquality.compute.run_dirty`).

    Ingests mark their days dirty in the store, so ``run_dirty`` finds them itself; ``days`` (what the
    orchestration saw change) is kept for the log only.
    """
    from envquality.compute import run_dirty

    return _as_result(run_dirty(engine, registry=registry))


def latest_day(engine: sa.Engine) -> dt.date | None:
    """The latest CST day with stored city figures (what the site shows)."""
    from envquality.store import schema as S

    with engine.connect() as conn:
        d = conn.execute(sa.select(sa.func.max(S.daily_stat.c.date))
                         .where(S.daily_stat.c.entity_kind == "city")).scalar()
    return pd.Timestamp(d).date() if d is not None else None


# ------------------------------------------------------------------ targets
def target_progress(engine: sa.Engine, day: dt.date) -> pd.DataFrame:
    """Target progress per target and entity (:func:`envquality.targets.progress_table`)."""
    from envquality.targets import progress_table

    return progress_table(engine, day)


# ------------------------------------------------------------------ publishing
def check_day(engine: sa.Engine, day: dt.date) -> None:
    """Raise :class:`~envquality.quality.publish_guard.PublishBlocked` when the day must not be published.

    :func:`envquality.quality.publish_guard.require_publishable`: decided from the
    day's stored data (coverage, every delivery's gate outcome, ungated data).
    """
    from envquality.quality.publish_guard import require_publishable

    require_publishable(engine, day)


def publish(engine: sa.Engine, day: dt.date, *, site_root: Path, progress: pd.DataFrame | None = None) -> Path:
    """Build and atomically switch the public site for ``day`` (:func:`envquality.site.build_site`)."""
    from envquality.site import build_site

    return build_site(engine, day, site_root=site_root, progress=progress)
