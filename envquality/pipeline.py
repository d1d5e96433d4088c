"""The main job: readings in, through the quality gate, into the store, figures out.

The steps a bureau runs every day (and the demo runs on generated data):

1. :func:`ingest` — read inputs, pass every hourly batch through the Great
   Expectations gate, store passing rows (idempotent upserts), quarantine the
   rest, record the gate outcome in the ingest log;
2. :func:`daily_figures` — the range job (:func:`envquality.compute.run_range`):
   the period's hourly readings read back from the store as arrays, station
   and city daily values with their data capture (GB 3095 Table 4) stored in
   ``daily_stat``, and the month, year and rolling-365-day figures (HJ 663)
   recomputed from the stored daily values into ``period_stat``;
3. :func:`period_figures` — HJ 663 statistics of any other period per city
   and for the province (dust included and excluded), stored under a label.

Every step can be re-run for the same period and changes nothing.  The DAGs
and the CLI are thin wrappers around these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
import xarray as xr

from envquality.registry import Registry, default_registry
from envquality.stats.datasets import assess, daily_city_aqi

__all__ = ["simulated_inputs", "ingest", "daily_figures", "period_figures", "DailyFigures", "gate_for"]

def simulated_inputs(start: str | dt.date, end: str | dt.date, *, seed: int = 2017,
                     registry: Registry | None = None, bad_fraction: float = 0.0005) -> list:
    """Simulated hourly readings of the registry's stations as raw inputs, one per month.

    Each input is the tidy CSV that ``envquality ingest tidy`` reads, generated
    only when ingested (:class:`~envquality.store.ingest.RawInput`).  Injected
    bad values (``bad_fraction``) are there for the quality gate to catch.
    """
    from envquality.simulate import simulate_tidy
    from envquality.store.ingest import RawInput

    reg = registry or default_registry()
    codes = [str(c) for c in reg.stations["code"]]
    city_of = dict(zip(codes, (str(c) for c in reg.stations["city_code"])))
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    inputs = []
    for month in pd.period_range(first, last, freq="M"):
        lo = max(first, month.start_time).date()
        hi = min(last, month.end_time.normalize()).date()

        def gen(lo=lo, hi=hi) -> bytes:
            df = simulate_tidy(codes, lo, hi, seed=seed, city_of=city_of, bad_fraction=bad_fraction)
            df = df.assign(time=df["time"].dt.strftime("%Y-%m-%d %H:%M:%S%z"))
            return df.to_csv(index=False, lineterminator="\n").encode("utf-8")

        # the name carries every parameter of the seeded simulation, so a re-run recognises an
        # ingested batch by its name without generating it again (RawInput.name_fixes_bytes)
        name = f"simulate_registry_seed{seed}_bad{bad_fraction:g}_{lo:%Y%m%d}_{hi:%Y%m%d}.csv"
        inputs.append(RawInput(name, gen, name_fixes_bytes=True))
    return inputs


def gate_for(inputs: Sequence, *, docs: bool = True, known_stations: Sequence[str] | None = None):
    """The hourly-readings gate; operator Data Docs are rebuilt once, after the last input."""
    from envquality.quality.gate import run_gate

    last = getattr(inputs[-1], "name", str(inputs[-1])) if inputs else None

    def gate(frame: pd.DataFrame, name: str, source: str):
        return run_gate(frame, "hourly_readings", file=name, source=source,
                        build_docs=docs and Path(name).name == Path(str(last)).name,
                        known_stations=known_stations)

    return gate


def ingest(engine: sa.Engine, source: str, inputs: Sequence, reader, *, progress: bool = False,
           archive_root: str | Path | None = None, gate: bool = True, docs: bool = True):
    """Ingest raw inputs through the quality gate into the store (:func:`run_ingest`)."""
    from envquality.store.ingest import run_ingest
    from envquality.store.registry_sync import sync_registry

    sync_registry(engine)  # city and station tables follow the registry
    return run_ingest(engine, source, list(inputs), reader, progress=progress, archive_root=archive_root,
                      gate=gate_for(inputs, docs=docs) if gate else None)


@dataclass
class DailyFigures:
    """City daily values and AQI, and the dust flags, of a period."""

    city: xr.Dataset
    aqi: xr.Dataset
    dust: xr.DataArray
    rows_stored: int


def daily_figures(engine: sa.Engine, start: str | dt.date, end: str | dt.date, *,
                  registry: Registry | None = None, progress=None) -> DailyFigures:
    """Station and city daily values of [start, end] by the range job, read back from the store.

    :func:`envquality.compute.run_range` computes and stores them (GB 3095
    Table 4 capture, MDA8 per HJ 663 §6.1.2, city means of the assessment
    stations per HJ 663 §5, dust flags) together with the period figures it
    touches; the city daily AQI (HJ 633, rule set of each day) is computed
    here from the stored city values.  ``rows_stored`` counts the rows the
    job wrote (0 when nothing changed).

    References
    ----------
    GB 3095 Table 4; HJ 663 §5, §6.1.2; HJ 633-2012 §5.2 / HJ 633-2026 §4.1.1.
    """
    from envquality.compute import read_city_daily, run_range

    reg = registry or default_registry()
    first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    result = run_range(engine, first, last, registry=reg, progress=progress)
    with engine.connect() as conn:
        city, dust = read_city_daily(conn, first, last, reg.cities["code"].astype(str).tolist())
    if not np.isfinite(np.stack([city[k].values for k in city.data_vars])).any():
        raise ValueError(f"no readings stored for {first} – {last}")
    return DailyFigures(city, daily_city_aqi(city), dust, result.rows_written)


def period_figures(engine: sa.Engine, daily: DailyFigures, start: str, end: str, *, label: str) -> pd.DataFrame:
    """HJ 663 period statistics of [start, end] per city and province, stored under ``label``.

    Both dust variants are computed (``dust`` column); rows go to
    ``period_stat`` (:func:`envquality.compute.period_table`) with
    ``entity_kind`` ``city`` or ``province`` and the indicator suffixed
    ``@dust_excluded`` for the dust-excluded variant.

    References
    ----------
    HJ 663-2013 / HJ 663-2026 §6 and Table 1; 环办监测〔2016〕120号 (dust).
    """
    from envquality.compute import period_table
    from envquality.store.bulk import upsert_stats

    stats = assess(daily.city, start, end, dust=daily.dust)
    with engine.begin() as conn:
        upsert_stats(conn, "period_stat", period_table(stats, label))
    return stats
