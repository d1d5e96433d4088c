"""Benchmark of parsing a simulated year of ``china_sites_YYYYMMDD.csv`` files (issue: ingestion).

1. Generates (once; cached under ``benchmarks/.out/china_sites_<year>_<n>/``)
   one ``china_sites_YYYYMMDD.csv`` per day of a year for 1,700 stations, in
   the archive's layout (15 ``type`` rows per hour, one column per station),
   from :func:`envquality.simulate.simulate_hourly` week by week, written by
   :func:`envquality.iotools.quotsoft.write_china_sites_daily`.  Only whole
   days are written per chunk (a day file holds the hours ending 00:00 …
   23:00, so a chunk simulates from the day before).
2. Parses them all, streaming, with :func:`envquality.iotools.quotsoft.iter_china_sites`
   (one file in memory at a time) and reports values/s (a value = one
   station × hour × type cell, missing ones included: that is what the parser
   handles) and the peak RSS after 1, 10, 100 … files, which must not grow
   with the number of files.

Usage::

    python benchmarks/bench_ingest.py                 # full year, 1,700 stations; writes docs/benchmarks.md
    python benchmarks/bench_ingest.py --days 7 --stations 200 --no-doc    # smoke test
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import peak_rss_mb, write_section  # noqa: E402

OUT = ROOT / "benchmarks" / ".out"
GOAL_VALUES_PER_S = 1_000_000


def current_rss_mb() -> float:
    """Resident set size now [MB] (Linux; falls back to the peak)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):  # pragma: no cover
        return peak_rss_mb()


def station_codes(n: int) -> list[str]:
    """CNEMC-like codes 1001A, 1002A, …"""
    return [f"{1001 + i}A" for i in range(n)]


def generate(directory: Path, year: int, n_stations: int, days: int,
             chunk_days: int = 7) -> tuple[list[Path], float, int]:
    """Write the day files missing from ``directory``; returns (all paths, seconds spent, files written)."""
    from envquality.iotools.quotsoft import write_china_sites_daily
    from envquality.simulate import simulate_tidy

    directory.mkdir(parents=True, exist_ok=True)
    first = dt.date(year, 1, 1)
    all_days = [first + dt.timedelta(days=i) for i in range(days)]
    paths = [directory / f"china_sites_{d:%Y%m%d}.csv" for d in all_days]
    todo = [d for d, p in zip(all_days, paths) if not p.exists()]
    t0 = time.perf_counter()
    codes = station_codes(n_stations)
    i = 0
    while i < len(todo):
        block = [todo[i]]
        while (i + len(block) < len(todo) and len(block) < chunk_days
               and todo[i + len(block)] == block[-1] + dt.timedelta(days=1)):
            block.append(todo[i + len(block)])
        d0, d1 = block[0], block[-1]
        # file D holds hours ending D 00:00 … D 23:00: simulate from the day before
        df = simulate_tidy(codes, d0 - dt.timedelta(days=1), d1, seed=2024)
        lo = pd.Timestamp(d0, tz="Asia/Shanghai")
        hi = pd.Timestamp(d1 + dt.timedelta(days=1), tz="Asia/Shanghai")
        df = df[(df["time"] >= lo) & (df["time"] < hi)]
        tmp = directory / ".partial"
        written = write_china_sites_daily(df, tmp, stations=codes)
        for p in written:  # only complete files get their final name
            p.replace(directory / p.name)
        print(f"  generated {d0} … {d1} ({len(written)} files, {time.perf_counter() - t0:.0f} s)", flush=True)
        i += len(block)
        del df
    return paths, time.perf_counter() - t0, len(todo)


def parse_all(paths: list[Path]) -> dict:
    from envquality.iotools.quotsoft import iter_china_sites

    checkpoints = {1, 10, 30, 100, 200, 300, len(paths)}
    rss_at: list[tuple[int, float, float]] = []
    values = rows_ok = rejected = 0
    t0 = time.perf_counter()
    for k, rr in enumerate(iter_china_sites(paths), start=1):
        values += len(rr.data) + len(rr.rejected)
        rows_ok += int(rr.data["value"].notna().sum())
        rejected += len(rr.rejected)
        del rr
        if k in checkpoints:
            rss_at.append((k, peak_rss_mb(), current_rss_mb()))
    seconds = time.perf_counter() - t0
    return {"files": len(paths), "values": values, "with_value": rows_ok, "rejected": rejected,
            "seconds": seconds, "values_per_s": values / seconds, "rss_at": rss_at,
            "bytes": sum(p.stat().st_size for p in paths)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--stations", type=int, default=1700)
    ap.add_argument("--days", type=int, default=None, help="default: the whole year")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args(argv)
    days = args.days or (dt.date(args.year + 1, 1, 1) - dt.date(args.year, 1, 1)).days
    directory = OUT / f"china_sites_{args.year}_{args.stations}"
    print(f"# bench_ingest: {days} day files x {args.stations} stations in {directory}", flush=True)
    paths, gen_s, n_gen = generate(directory, args.year, args.stations, days)
    r = parse_all(paths)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
               f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}")
    ok = r["values_per_s"] >= GOAL_VALUES_PER_S
    rss_lines = "\n".join(f"| {k} | {peak:,.0f} | {cur:,.0f} |" for k, peak, cur in r["rss_at"])
    growth = r["rss_at"][-1][1] - r["rss_at"][min(2, len(r["rss_at"]) - 1)][1] if r["rss_at"] else 0.0
    text = f"""## Parsing a year of `china_sites` files (`benchmarks/bench_ingest.py`)

{machine}. {r['files']} files `china_sites_YYYYMMDD.csv` ({r['bytes'] / 2**20:,.0f} MiB) for
{args.stations:,} stations, simulated (`simulate_tidy`, seed 2024) and written once with
`write_china_sites_daily` (this run generated {n_gen} files in {gen_s:,.0f} s; files under
`benchmarks/.out/`), then parsed streaming with `iter_china_sites` (one file in memory at a time).
A value is one station × hour × type cell (15 types, missing cells included).

| measure | result |
|---|---|
| values parsed | {r['values']:,} ({r['with_value']:,} with a value, {r['rejected']:,} rejected to quarantine) |
| time | {r['seconds']:,.1f} s |
| throughput | **{r['values_per_s']:,.0f} values/s** (goal ≥ {GOAL_VALUES_PER_S:,}: {'met' if ok else 'NOT met'}) |

Memory while streaming (peak RSS must not grow with the number of files):

| files parsed | peak RSS [MB] | current RSS [MB] |
|---|---|---|
{rss_lines}

Peak RSS grew by {growth:,.0f} MB between file {r['rss_at'][min(2, len(r['rss_at']) - 1)][0]} and file {r['files']}:
memory is bounded by one file, not by the year.
"""
    print(text)
    if not args.no_doc:
        write_section("bench_ingest", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
