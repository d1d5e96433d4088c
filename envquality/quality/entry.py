"""Gate entry points for every kind of input: what ingests and loads call.

* :func:`ingest_gate` builds the gate callable of
  :func:`envquality.store.ingest.ingest_file` (``gate(frame, name, source)``):
  hourly readings go through ``hourly_readings``, daily frames (a ``date``
  column and no ``time``: aqistudy's reported daily values) through
  ``daily_values`` — a 2031 date or a negative daily mean is quarantined.
* :func:`gate_water_samples` runs ``water_samples`` on the samples a water
  reader returned (``water load`` and ``water assess --samples``).

Every validation gets its escaped, offline operator Data Docs page unless
``build_docs`` is False (:mod:`envquality.quality.docs`).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import pandas as pd

from envquality.quality.gate import GateResult, run_gate

__all__ = ["ingest_gate", "gate_water_samples", "is_daily_frame", "suite_of"]

KnownStations = Sequence[str] | Callable[[pd.DataFrame, str], Sequence[str] | None] | None


def is_daily_frame(frame: pd.DataFrame) -> bool:
    """A reader's daily output (``date`` column, no ``time``), as the store routes it to ``daily_stat``."""
    return "time" not in frame.columns and "date" in frame.columns


def suite_of(frame: pd.DataFrame) -> str:
    """The suite a reader's frame is validated with."""
    return "daily_values" if is_daily_frame(frame) else "hourly_readings"


def ingest_gate(*, build_docs: bool = True, known_stations: KnownStations = None
                ) -> Callable[[pd.DataFrame, str, str], GateResult]:
    """The gate of an ingest: ``gate(frame, name, source) -> GateResult``, for hourly and daily frames.

    Parameters
    ----------
    build_docs : bool
        Render each batch's operator Data Docs page (one page per file).
    known_stations : sequence or callable, optional
        Extra station codes to accept (hourly only), or
        ``known_stations(frame, source)`` returning them per batch.
    """
    def gate(frame: pd.DataFrame, name: str, source: str) -> GateResult:
        suite = suite_of(frame)
        known = known_stations(frame, source) if callable(known_stations) else known_stations
        return run_gate(frame, suite, file=name, source=source, build_docs=build_docs,
                        known_stations=known if suite == "hourly_readings" else None)

    return gate


def gate_water_samples(samples: pd.DataFrame, *, file: str = "", source: str = "water",
                       build_docs: bool = False, **kwargs: Any) -> GateResult:
    """Validate water samples (columns of :data:`envquality.iotools.water.WATER_COLUMNS`) with ``water_samples``.

    Returns the :class:`~envquality.quality.gate.GateResult`: load or assess
    ``result.passed`` only; ``result.quarantined`` lists the rejected rows
    with file, line, field, reason and raw text.
    """
    return run_gate(samples, "water_samples", file=file, source=source, build_docs=build_docs, **kwargs)
