"""The one place the orchestration calls other areas' entry points.

Contracts (docs: helper-interfaces): ``envquality.compute.run_day / run_range
/ run_dirty``, ``envquality.targets.progress_table``,
``envquality.site.build_site``, ``envquality.quality.publish_guard.check_day``.
Each function here uses the contract function when it is importable and
otherwise the code that does the same job today (marked FALLBACK; removed
once the contract lands):

- compute → :func:`envquality.pipeline.daily_figures` and
  :func:`envquality.pipeline.period_figures` (day and its month and year);
- progress → the stored year-to-date good-day ratio against 82 %;
- site → :func:`envquality.publish.publish_site_data` (public data files);
- check → :func:`envquality.publish.critical_ingests` of the day.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd
import sqlalchemy as sa

__all__ = ["compute_day", "compute_range", "compute_days", "target_progress", "publish", "check_day",
           "JobResult", "contract"]


def contract(module: str, name: str) -> Callable | None:
    """``module.name`` if that module exists and defines it, else None."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None)


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
def _periods_of(days: Iterable[dt.date], last: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """Month and year periods touched by ``days``, each up to ``last`` at most (to date)."""
    out: dict[str, tuple[dt.date, dt.date]] = {}
    for d in sorted(set(days)):
        m_end = (pd.Timestamp(d) + pd.offsets.MonthEnd(0)).date()
        out[f"{d:%Y-%m}"] = (d.replace(day=1), min(m_end, last))
        out[f"{d:%Y}"] = (d.replace(month=1, day=1), min(dt.date(d.year, 12, 31), last))
    return out


def _fallback_compute(engine: sa.Engine, days: list[dt.date], last: dt.date, registry=None) -> JobResult:
    """FALLBACK: day figures of ``days`` and the month/year figures they belong to, to ``last``."""
    from envquality.pipeline import daily_figures, period_figures

    periods = _periods_of(days, last)
    first = min(a for a, _ in periods.values())
    # the period statistics need every day of their periods: recompute from the period start
    # (unchanged days are upserted unchanged, so only the days in `days` can change)
    daily = daily_figures(engine, first, last, registry=registry)
    for label, (a, b) in sorted(periods.items()):
        period_figures(engine, daily, str(a), str(b), label=label)
    return JobResult(sorted(set(days)), sorted(periods), daily.rows_stored)


def compute_day(engine: sa.Engine, day: dt.date, *, registry=None) -> JobResult:
    """The day job: figures of ``day`` and of its periods (``envquality.compute.run_day``)."""
    fn = contract("envquality.compute", "run_day")
    if fn is not None:
        return _as_result(fn(engine, day, registry=registry))
    return _fallback_compute(engine, [day], day, registry)


def compute_range(engine: sa.Engine, start: dt.date, end: dt.date, *, registry=None) -> JobResult:
    """The range job over [start, end] (``envquality.compute.run_range``)."""
    fn = contract("envquality.compute", "run_range")
    if fn is not None:
        return _as_result(fn(engine, start, end, registry=registry))
    days = list(pd.date_range(start, end, freq="D").date)
    return _fallback_compute(engine, days, end, registry)


def compute_days(engine: sa.Engine, days: list[dt.date], *, registry=None) -> JobResult:
    """Recompute days whose readings changed (late data) and their periods (``run_dirty``).

    With the contract, ingests mark their days dirty and ``run_dirty`` finds
    them itself; ``days`` is what the orchestration saw change.
    """
    fn = contract("envquality.compute", "run_dirty")
    if fn is not None:
        return _as_result(fn(engine, registry=registry))
    if not days:
        return JobResult()
    # FALLBACK: the periods of a changed day run to the latest day computed so far
    return _fallback_compute(engine, days, max(max(days), _latest_day(engine) or max(days)), registry)


def _latest_day(engine: sa.Engine) -> dt.date | None:
    from envquality.store import schema as S

    with engine.connect() as conn:
        d = conn.execute(sa.select(sa.func.max(S.daily_stat.c.date))
                         .where(S.daily_stat.c.entity_kind == "city")).scalar()
    return pd.Timestamp(d).date() if d is not None else None


def latest_day(engine: sa.Engine) -> dt.date | None:
    """The latest CST day with stored city figures (what the site shows)."""
    return _latest_day(engine)


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
