"""Benchmark of the day job, the range job and the columnar store read (issue 10).

Cases (each timed case runs in a fresh subprocess, so its peak RSS is its own):

1. Gansu year in SQLite (44 stations, 365 days, 6 pollutants, 5 % gaps):
   the range job over the year, then adding one day to the stored year.
2. 1,700 stations: one day added to a stored month (SQLite).
3. PostgreSQL: the range job over a stored period of the national registry
   (a month with ``--quick`` or by default; a year with ``--national-year``).

Each job reports the store read, the computation and the writes separately
(:class:`envquality.compute.ComputeResult`), and the run checks its stored
figures against the in-memory engine (hourly arrays straight from the
generator through ``station_daily``/``city_daily``/``assess``).

Usage::

    python benchmarks/bench_compute.py [--quick] [--national-year]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import peak_rss_mb, write_section  # noqa: E402

POLS = ("so2", "no2", "pm10", "pm25", "co", "o3")
SCALE = {"so2": 12.0, "no2": 25.0, "pm10": 70.0, "pm25": 38.0, "co": 0.6, "o3": 60.0}


# ------------------------------------------------------------------ data
def registry(n_stations: int):
    """The Gansu registry, or its stations repeated (new codes, same 14 cities) up to ``n_stations``."""
    import pandas as pd

    from envquality.registry import Registry, default_registry

    reg = default_registry()
    if n_stations <= len(reg.stations):
        return reg
    reps = -(-n_stations // len(reg.stations))
    st = pd.concat([reg.stations] * reps, ignore_index=True).iloc[:n_stations].copy()
    st["code"] = [f"N{i:05d}" for i in range(n_stations)]
    st["name"] = st["code"]
    st["raw_name"] = st["code"]
    return Registry(reg.cities, st.reset_index(drop=True))


def hourly_cube(codes: list[str], first: dt.date, last: dt.date, seed: int) -> np.ndarray:
    """(pollutant, station, hour) float64: gamma values with a diurnal O3 cycle, 5 % NaN, 0.1 % outliers."""
    rng = np.random.default_rng(seed)
    n_h = ((last - first).days + 1) * 24
    cube = np.empty((len(POLS), len(codes), n_h))
    hour = (np.arange(n_h) + 1) % 24
    for i, p in enumerate(POLS):
        x = rng.gamma(2.0, 0.5, (len(codes), n_h)) * SCALE[p]
        if p == "o3":
            x *= 0.5 + np.clip(np.sin((hour - 7) / 24 * 2 * np.pi), 0, None) * 1.5
        x[rng.random(x.shape) < 0.001] *= 8  # outliers the gate would flag, kept here
        x = np.round(x, 1 if p != "co" else 2)
        x[rng.random(x.shape) < 0.05] = np.nan
        cube[i] = x
    return cube


def store_cube(engine, codes: list[str], first: dt.date, cube: np.ndarray, ingest_id: int = 1) -> None:
    """Write the cube's present values as readings (a month at a time)."""
    import pandas as pd

    from envquality.store.bulk import upsert_readings

    n_h = cube.shape[2]
    times = pd.date_range(pd.Timestamp(first) + pd.Timedelta(hours=1), periods=n_h, freq="h", tz="Asia/Shanghai")
    step = 24 * 31
    for h0 in range(0, n_h, step):
        part = cube[:, :, h0:h0 + step]
        p_i, s_i, h_i = np.nonzero(~np.isnan(part))
        frame = pd.DataFrame({"station": np.asarray(codes, object)[s_i], "time": times[h0 + h_i],
                              "pollutant": np.asarray(POLS, object)[p_i], "value": part[p_i, s_i, h_i]})
        with engine.begin() as conn:
            upsert_readings(conn, frame, ingest_id)


def in_memory_figures(reg, first: dt.date, last: dt.date, cube: np.ndarray):
    """The engine in memory on the same arrays: city daily values and the period table of [first, last]."""
    import pandas as pd
    import xarray as xr

    from envquality.stats.datasets import assess, city_daily, station_daily

    codes = reg.stations["code"].astype(str).tolist()
    grid = pd.date_range(pd.Timestamp(first) + pd.Timedelta(hours=1), periods=cube.shape[2], freq="h")
    ds = xr.Dataset({p: (("station", "time"), cube[i]) for i, p in enumerate(POLS)},
                    coords={"station": codes, "time": grid,
                            "city": ("station", reg.stations["city_code"].astype(str).to_numpy()),
                            "assessment": ("station", reg.stations["assessment"].astype(object).fillna(True)
                                           .astype(bool).to_numpy())})
    city = city_daily(station_daily(ds), cities=reg.cities["code"].astype(str).tolist())
    return city, assess(city, str(first), str(last))


def check_against_memory(engine, reg, first, last, cube, label: str) -> str:
    """Compare stored city daily values and the stored period ``label`` with the in-memory engine."""
    import pandas as pd
    import sqlalchemy as sa

    city, stats = in_memory_figures(reg, first, last, cube)
    with engine.connect() as conn:
        daily = pd.read_sql(sa.text("SELECT entity, date, indicator, value FROM daily_stat "
                                    "WHERE entity_kind = 'city' AND indicator = 'pm25_24h'"), conn)
        period = pd.read_sql(sa.text("SELECT entity, indicator, value FROM period_stat WHERE period = :p"),
                             conn, params={"p": label})
    daily["date"] = pd.to_datetime(daily["date"])
    mem = city["pm25_24h"].to_series().rename("mem").reset_index().rename(columns={"city": "entity"})
    both = daily.merge(mem, on=["entity", "date"])
    ok_daily = np.allclose(both["value"].astype(float), both["mem"], equal_nan=True, rtol=0, atol=1e-9)
    inc = stats[stats["dust"] == "included"].set_index("entity")
    checks = []
    for item in ("good_ratio", "pm25_mean", "o3_p90", "composite_index"):
        got = period[period["indicator"] == item].set_index("entity")["value"].astype(float)
        exp = inc[item].astype(float).reindex(got.index)
        checks.append(np.allclose(got.to_numpy(), exp.to_numpy(), equal_nan=True, rtol=0, atol=1e-9))
    n = len(both)
    return (f"{n} city-day PM2.5 values {'equal' if ok_daily else 'DIFFER'}; period {label} good_ratio, "
            f"pm25_mean, o3_p90, composite_index {'equal' if all(checks) else 'DIFFER'} (in-memory engine)")


# ------------------------------------------------------------------ one timed job (subprocess)
def job(args) -> None:
    from envquality import compute
    from envquality.store import make_engine

    base = peak_rss_mb()
    reg = registry(args.stations)
    engine = make_engine(args.url, schema=args.schema) if args.schema else make_engine(args.url)
    import xarray as xr

    # first use of xarray imports its optional array backends (dask): seconds on a busy machine,
    # paid once per process; timed apart, not part of the job's figures
    t = time.perf_counter()
    xr.Dataset({"a": (("x",), np.zeros(2))}).assign_coords(x=[0, 1]).sum()
    warmup = time.perf_counter() - t
    after_imports = peak_rss_mb()
    t = time.perf_counter()
    if args.kind == "day":
        r = compute.run_day(engine, dt.date.fromisoformat(args.start), registry=reg)
    else:
        r = compute.run_range(engine, dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end),
                              registry=reg)
    wall = time.perf_counter() - t
    print(json.dumps({"wall": wall, "read": r.read_seconds, "compute": r.compute_seconds, "write": r.write_seconds,
                      "rows": r.rows_written, "days": len(r.days), "periods": r.periods,
                      "peak_mb": peak_rss_mb(), "base_mb": max(base, after_imports), "warmup": warmup}))


def run_job(url: str, kind: str, start: dt.date, end: dt.date, stations: int, schema: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--job", kind, "--url", url, "--start", str(start), "--end", str(end),
           "--stations", str(stations)] + (["--schema", schema] if schema else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(label: str, r: dict) -> str:
    return (f"| {label} | {r['wall']:.1f} | {r['read']:.2f} | {r['compute']:.2f} | {r['write']:.2f} | "
            f"{r['rows']:,} | {r['peak_mb']:.0f} ({r['base_mb']:.0f} after imports) | {r['warmup']:.1f} |")


# ------------------------------------------------------------------ cases
def case_gansu_year(tmp: Path, year: int) -> list[str]:
    from envquality.store import make_engine, upgrade_to_head

    reg = registry(0)
    codes = reg.stations["code"].astype(str).tolist()
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cube = hourly_cube(codes, first, last, seed=1)
    url = f"sqlite:///{tmp / 'gansu.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    store_cube(engine, codes, first, cube)
    lines = []
    r = run_job(url, "range", first, last, 0)
    lines.append(row(f"range job, Gansu year {year} ({len(codes)} stations, SQLite)", r))
    check = check_against_memory(engine, reg, first, last, cube, str(year))
    r = run_job(url, "range", first, last, 0)
    lines.append(row("same range job again (nothing changed)", r))
    # a new day on top of the stored year
    new = last + dt.timedelta(days=1)
    day_cube = hourly_cube(codes, new, new, seed=2)
    store_cube(engine, codes, new, day_cube, ingest_id=2)
    r = run_job(url, "day", new, new, 0)
    lines.append(row(f"day job: {new} added to the stored year", r))
    engine.dispose()
    return lines + [f"\nCheck: {check}.\n"]


def case_national_day(tmp: Path, n: int, days: int) -> list[str]:
    from envquality.store import make_engine, upgrade_to_head

    reg = registry(n)
    codes = reg.stations["code"].astype(str).tolist()
    first = dt.date(2025, 1, 1)
    last = first + dt.timedelta(days=days - 1)
    url = f"sqlite:///{tmp / 'national.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    store_cube(engine, codes, first, hourly_cube(codes, first, last, seed=3))
    run_job(url, "range", first, last, n)  # the stored history's figures
    new = last + dt.timedelta(days=1)
    store_cube(engine, codes, new, hourly_cube(codes, new, new, seed=4), ingest_id=2)
    r = run_job(url, "day", new, new, n)
    engine.dispose()
    return [row(f"day job: one day of {n:,} stations added to {days} stored days (SQLite)", r)]


def case_postgres(pg_url: str, n: int, first: dt.date, last: dt.date) -> list[str]:
    import uuid

    from envquality.store import make_engine, upgrade_to_head

    reg = registry(n)
    codes = reg.stations["code"].astype(str).tolist()
    schema = f"bench_compute_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url)
    with admin.begin() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        engine = make_engine(pg_url, schema=schema)
        upgrade_to_head(engine)
        cube = hourly_cube(codes, first, last, seed=5)
        t = time.perf_counter()
        store_cube(engine, codes, first, cube)
        load = time.perf_counter() - t
        r = run_job(pg_url, "range", first, last, n, schema)
        check = check_against_memory(engine, reg, first, last, cube, f"{first:%Y-%m}")
        engine.dispose()
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
    readings = int(np.count_nonzero(~np.isnan(cube)))
    return [row(f"range job, {n:,} stations, {first} – {last} ({readings / 1e6:.1f} M readings, PostgreSQL)", r),
            f"\nLoading those readings (not part of the job): {load:.0f} s. Check: {check}.\n"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--national-year", action="store_true")
    ap.add_argument("--job")
    ap.add_argument("--url")
    ap.add_argument("--schema")
    ap.add_argument("--start")
    ap.add_argument("--end")
    ap.add_argument("--stations", type=int, default=0)
    args = ap.parse_args()
    if args.job:
        args.kind = args.job
        job(args)
        return 0
    lines = ["## Day job, range job, columnar reads (`benchmarks/bench_compute.py`)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs "
             f"(load average {os.getloadavg()[0]:.1f} at the start), Python {platform.python_version()}. "
             "Each job in a fresh process; wall = the whole job; read = store to arrays (columnar); compute = "
             "daily values, AQI and period statistics; write = differential upserts; peak RSS of the job's "
             "process (imports included); process warm-up = the first use of xarray in a fresh process (it "
             "imports dask), paid once per process and not in the wall time.", "",
             "| job | wall [s] | read [s] | compute [s] | write [s] | rows written | peak RSS [MB] | "
             "process warm-up [s] |",
             "|---|---|---|---|---|---|---|---|"]
    notes = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for ln in case_gansu_year(tmp, 2025):
            (notes if ln.startswith("\n") else lines).append(ln)
        n = 200 if args.quick else 1700
        for ln in case_national_day(tmp, n, 3 if args.quick else 31):
            (notes if ln.startswith("\n") else lines).append(ln)
    pg = os.environ.get("ENVQUALITY_TEST_PG_URL")
    if pg:
        if args.national_year:
            first, last = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
        else:
            first, last = dt.date(2025, 3, 1), dt.date(2025, 3, 7 if args.quick else 31)
        for ln in case_postgres(pg, 200 if args.quick else 1700, first, last):
            (notes if ln.startswith("\n") else lines).append(ln)
    else:
        notes.append("\nPostgreSQL case skipped: ENVQUALITY_TEST_PG_URL not set.\n")
    text = "\n".join(lines) + "\n" + "".join(notes)
    print(text)
    if not args.quick:
        write_section("compute", text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
