"""The main job: readings in, through the quality gate, into the store, figures out.

The steps a bureau runs every day (and the demo runs on generated data):

1. :func:`ingest` — read inputs, pass every hourly batch through the Great
   Expectations gate, store passing rows (idempotent upserts), quarantine the
   rest, record the gate outcome in the ingest log;
2. :func:`daily_figures` — read the period's hourly readings back from the
   store, compute station and city daily values with their data capture
   (GB 3095 Table 4), the city daily AQI (HJ 633) and store them in
   ``daily_stat``;
3. :func:`period_figures` — HJ 663 period statistics per city and for the
   province (dust included and excluded), stored in ``period_stat``.

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

from envquality.assess import assign_cities
from envquality.registry import Registry, default_registry
from envquality.stats.datasets import PROVINCE, assess, city_daily, daily_city_aqi, hourly_grid, station_daily

__all__ = ["simulated_inputs", "ingest", "daily_figures", "period_figures", "DailyFigures", "gate_for"]

#: Daily indicators written to ``daily_stat`` (plus ``aqi``).
_DAILY = ("so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_1h", "o3_8h")


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

        inputs.append(RawInput(f"simulate_registry_seed{seed}_{lo:%Y%m%d}_{hi:%Y%m%d}.csv", gen))
    return inputs


def gate_for(inputs: Sequence, *, docs: bool = True, known_stations: Sequence[str] | None = None):
    """The hourly-readings gate; each input gets its operator Data Docs page (incremental build)."""
    from envquality.quality.gate import run_gate

    def gate(frame: pd.DataFrame, name: str, source: str):
        return run_gate(frame, "hourly_readings", file=name, source=source, build_docs=docs,
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


def _load_hourly(engine: sa.Engine, start: pd.Timestamp, end: pd.Timestamp, registry: Registry) -> pd.DataFrame:
    from envquality.store.bulk import read_readings

    tz = "Asia/Shanghai"
    # day D holds the hours ending D 01:00 ... D+1 00:00 (docs/conventions.md)
    lo = (start + pd.Timedelta(hours=1)).tz_localize(tz)
    hi = (end + pd.Timedelta(days=1)).tz_localize(tz)
    frame = read_readings(engine, start=lo, end=hi, with_provenance=True)
    return assign_cities(frame, registry)


def daily_figures(engine: sa.Engine, start: str | dt.date, end: str | dt.date, *,
                  registry: Registry | None = None) -> DailyFigures:
    """Station and city daily values, city daily AQI and dust flags of [start, end], stored.

    GB 3095 Table 4 capture rules and MDA8 (HJ 663 §6.1.2) per station, city
    means of the assessment stations (HJ 663 §5), the daily AQI by each day's
    rule set (HJ 633).  A city-day is dust-affected when the gate flagged a
    PM reading of one of its stations ``likely_dust``.  Rows go to
    ``daily_stat`` (entity_kind ``city``; indicators of :data:`_DAILY` and
    ``aqi``), replacing earlier computations of the same days.
    """
    from envquality.store.bulk import upsert_stats

    reg = registry or default_registry()
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    frame = _load_hourly(engine, first, last, reg)
    if frame.empty:
        raise ValueError(f"no readings stored for {first.date()} – {last.date()}")
    hourly = hourly_grid(frame)
    full_days = pd.date_range(first, last, freq="D")
    grid = pd.date_range(first + pd.Timedelta(hours=1), last + pd.Timedelta(days=1), freq="h")
    hourly = hourly.reindex(time=grid)
    city = city_daily(station_daily(hourly), cities=list(reg.cities["code"].astype(str)))
    city = city.reindex(date=full_days.values)
    aqi = daily_city_aqi(city)

    flagged = frame[(frame.get("flag") == "likely_dust")] if "flag" in frame else frame.iloc[:0]
    days = (pd.to_datetime(flagged["time"]).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
            - pd.Timedelta(hours=1)).dt.normalize()
    dust = xr.DataArray(np.zeros((city.sizes["city"], city.sizes["date"]), dtype=bool),
                        coords={"city": city["city"], "date": city["date"]}, dims=("city", "date"))
    if len(flagged):
        pairs = pd.DataFrame({"city": flagged["city"].astype(str).to_numpy(), "date": days.to_numpy()}).drop_duplicates()
        ci = pd.Index(city["city"].values).get_indexer(pd.Index(pairs["city"]))
        di = pd.Index(pd.DatetimeIndex(city["date"].values)).get_indexer(pd.Index(pairs["date"]))
        ok = (ci >= 0) & (di >= 0)
        dust.values[ci[ok], di[ok]] = True

    rows = _daily_rows(city, aqi)
    with engine.begin() as conn:
        n = upsert_stats(conn, "daily_stat", rows)
    return DailyFigures(city, aqi, dust, n)


def _daily_rows(city: xr.Dataset, aqi: xr.Dataset) -> pd.DataFrame:
    """Long ``daily_stat`` rows: every indicator and the AQI per city and day."""
    parts = []
    dates = pd.DatetimeIndex(city["date"].values)
    cities = city["city"].values.astype(str)
    standard = np.asarray(aqi["standard"].values).astype(str)
    for ind in _DAILY + ("aqi",):
        src = aqi if ind == "aqi" else city
        if ind not in src:
            continue
        v = src[ind].transpose("city", "date").values.astype(float)
        n = (city[f"{ind}_stations"].transpose("city", "date").values if ind != "aqi"
             else np.where(np.isnan(v), 0, 1))
        reason = np.where(np.isnan(v), "no valid assessment station" if ind != "aqi" else "AQI not defined", "")
        parts.append(pd.DataFrame({
            "entity_kind": "city",
            "entity": np.repeat(cities, len(dates)),
            "date": np.tile(dates.values, len(cities)),
            "indicator": ind,
            "ruleset": np.tile(standard, len(cities)),
            "value": v.reshape(-1),
            "n": np.asarray(n).reshape(-1).astype(int),
            "valid": ~np.isnan(v.reshape(-1)),
            "reason": reason.reshape(-1),
        }))
    return pd.concat(parts, ignore_index=True)


#: Period statistics stored in ``period_stat`` (with their ``*_n``/``*_reason`` where present).
_PERIOD_ITEMS = ("good_ratio", "valid_days", "good_days", "exceed_days", "heavy_days", "severe_days",
                 "dust_removed_days", "so2_mean", "no2_mean", "pm10_mean", "pm10_p95", "pm25_mean", "pm25_p95",
                 "so2_p98", "no2_p98", "co_p95", "o3_p90", "composite_index", "rank_composite", "rank_pm25",
                 "rank_good_ratio")


def _ruleset_label(rulesets: str) -> str:
    """``"HJ633-2012/GB3095-2012/HJ663-2013,HJ633-2026/…"`` -> ``"2012+2026"``."""
    gens = [g for g in ("2012", "2026") if f"HJ633-{g}" in rulesets]
    return "+".join(gens) or rulesets[:32]


def period_figures(engine: sa.Engine, daily: DailyFigures, start: str, end: str, *, label: str) -> pd.DataFrame:
    """HJ 663 period statistics of [start, end] per city and province, stored under ``label``.

    Both dust variants are computed (``dust`` column); rows go to
    ``period_stat`` with ``entity_kind`` ``city`` or ``province`` and the
    indicator suffixed ``@dust_excluded`` for the dust-excluded variant.
    """
    from envquality.store.bulk import upsert_stats

    stats = assess(daily.city, start, end, dust=daily.dust)
    rows = []
    for _, r in stats.iterrows():
        kind = "province" if str(r["entity"]) == PROVINCE else "city"
        suffix = "" if r["dust"] == "included" else "@dust_excluded"
        for item in _PERIOD_ITEMS:
            # an invalid item is stored too (value NULL, with its reason) when the row has a reason for it
            if item not in r or (pd.isna(r[item]) and f"{item}_reason" not in r):
                continue
            reason = r.get(f"{item}_reason")
            n = r.get(f"{item}_n", r.get("valid_days"))
            rows.append({
                "entity_kind": kind, "entity": str(r["entity"]), "period": label,
                "indicator": item + suffix, "ruleset": _ruleset_label(str(r["rulesets"])),
                "period_start": r["period_start"], "period_end": r["period_end"],
                "value": None if pd.isna(r[item]) else float(r[item]),
                "n": None if n is None or pd.isna(n) else int(n),
                "valid": bool(pd.notna(r[item])), "reason": None if not reason else str(reason),
            })
    with engine.begin() as conn:
        upsert_stats(conn, "period_stat", pd.DataFrame(rows))
    return stats
