"""The range job behind the ``reprocess`` DAG: corrections and history over [start, end].

``what`` says which part runs:

``all``      air (pull → gate → store for every day, then the range
             computation) and the water months of the range;
``air``      air only; ``figures`` only the range computation from the
             readings already stored (after a correction of the store);
``water``    the water months only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from envquality.orchestration import jobs
from envquality.orchestration.config import Settings

__all__ = ["WHAT", "check_params", "pull_range", "compute_range", "water_range"]

#: Accepted values of the ``what`` parameter.
WHAT = ("all", "air", "figures", "water")


def check_params(start: str, end: str, what: str) -> tuple[dt.date, dt.date, str]:
    """Validated (start, end, what); one clear line on a bad value.

    >>> check_params("2024-01-01", "2024-01-31", "air")
    (datetime.date(2024, 1, 1), datetime.date(2024, 1, 31), 'air')
    """
    try:
        a, b = dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
    except ValueError:
        raise ValueError(f"reprocess: start/end must be days YYYY-MM-DD, got {start!r} / {end!r}") from None
    if b < a:
        raise ValueError(f"reprocess: end {b} is before start {a}")
    if what not in WHAT:
        raise ValueError(f"reprocess: what must be one of {', '.join(WHAT)}, got {what!r}")
    return a, b, what


def pull_range(settings: Settings, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Pull, gate and store every day of the range (each day as the daily run would; idempotent)."""
    from envquality.orchestration.air import gate_and_store
    from envquality.orchestration.sources import pull_day

    if settings["source"] == "simulate":
        return _simulate_range(settings, start, end)
    totals: dict[str, Any] = {"days": 0, "rows_written": 0, "critical": []}
    for day in pd.date_range(start, end, freq="D").date:
        out = gate_and_store(settings, pull_day(settings, day))
        totals["days"] += 1
        totals["rows_written"] += out["rows_written"]
        totals["critical"] += out["critical"]
    return totals


def _simulate_range(settings: Settings, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The simulator's history in monthly batches (the same readings as the daily pulls, fewer gate runs)."""
    import functools

    from envquality.iotools.readings import read_readings
    from envquality.orchestration.air import engine_for
    from envquality.pipeline import ingest, simulated_inputs

    engine = engine_for(settings)
    inputs = simulated_inputs(start, end, seed=int(settings["seed"]))
    s = ingest(engine, "simulate", inputs, functools.partial(read_readings, strict=False), progress=False,
               archive_root=settings.path("raw_dir"), docs=bool(settings["data_docs"]))
    return {"days": (end - start).days + 1, "rows_written": s.rows_written,
            "critical": [r.name for r in s.results if r.gate_status == "critical"]}


def compute_range(settings: Settings, start: dt.date, end: dt.date) -> str:
    """The range job (day figures of every day, then the periods) over [start, end]."""
    from envquality.orchestration.air import engine_for

    return str(jobs.compute_range(engine_for(settings), start, end))


def water_range(settings: Settings, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The water months overlapping [start, end], each loaded and classified."""
    from envquality.orchestration.water import classify_month, load_month

    out = []
    for month in pd.period_range(start, end, freq="M"):
        load_month(settings, str(month))
        out.append(classify_month(settings, str(month)))
    return out
