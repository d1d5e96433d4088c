"""Benchmark of the air standards engine (issue: standards engine and foundation).

Runs, each national-scale case in a fresh subprocess so peak memory is the
case's own:

1. IAQI throughput on one core: ``envquality.standards.iaqi`` (exact) against
   ``numpy.interp`` + ceil (not exact) and the per-value library python-aqi,
   all timed in the same process; agreement with an exact Fraction reference.
2. A synthetic national year, 1,700 stations × 8,760 hours × 6 pollutants
   with 5% gaps, through hourly AQI, daily means with validity, MDA8, daily
   AQI, city aggregation and annual statistics; plus a naive pandas baseline
   on a subset in the same process, scaled per station-year.
3. Growth with stations (in memory) and with years (dask, chunked by station).

Usage::

    python benchmarks/bench_engine.py            # full run, writes docs/benchmarks.md section
    python benchmarks/bench_engine.py --quick    # small sizes, for a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from fractions import Fraction
from math import ceil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import peak_rss_mb, write_section  # noqa: E402


# --------------------------------------------------------------------------- IAQI throughput
_BPS = [0, 35, 75, 115, 150, 250, 350, 500]
_NODES = [0, 50, 100, 150, 200, 300, 400, 500]


def _exact_iaqi_pm25_2012(c: float) -> float:
    """Independent reference: GB/T 8170 rounding to an integer, then HJ 633 formula (1) in Fractions, up."""
    if c != c:
        return float("nan")
    x = Fraction(round(c))  # Python's round: half to even on the exact binary value (= GB/T 8170)
    if x > 500:
        return 500.0
    for i in range(len(_BPS) - 1):
        if _BPS[i] <= x <= _BPS[i + 1]:
            return float(_NODES[i] + ceil(Fraction(_NODES[i + 1] - _NODES[i], _BPS[i + 1] - _BPS[i]) * (x - _BPS[i])))
    raise ValueError(c)


def _pandas_cut(v: np.ndarray) -> np.ndarray:
    import pandas as pd

    r = np.round(v)
    seg = pd.cut(r, _BPS, labels=False, include_lowest=True).astype(float)
    ok = ~np.isnan(seg)
    i = np.where(ok, seg, 0).astype(int)
    lo, hi = np.asarray(_BPS, float)[i], np.asarray(_BPS, float)[i + 1]
    ilo, ihi = np.asarray(_NODES, float)[i], np.asarray(_NODES, float)[i + 1]
    out = np.ceil(ilo + (ihi - ilo) / (hi - lo) * (r - lo))
    return np.where(ok, out, np.where(r > 500, 500.0, np.nan))


def bench_iaqi(n: int, runs: int = 7) -> dict:
    """PM2.5 24-h IAQI on realistic floats (0.1 µg/m³ steps, 5 % NaN), one core, median of ``runs``."""
    from envquality.standards import iaqi

    try:  # one core pinned, so no implementation gets a second one
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        pinned = True
    except (AttributeError, OSError):
        pinned = False
    rng = np.random.default_rng(0)
    x = np.round(rng.gamma(2.0, 20.0, n), 1)
    x[rng.random(n) < 0.05] = np.nan
    iaqi("pm25_24h", x[:100])  # build the table outside the timing
    impls = {
        "envquality.iaqi (exact)": lambda v: iaqi("pm25_24h", v),
        "numpy.interp (round, interp, ceil)": lambda v: np.ceil(np.interp(np.round(v), _BPS, _NODES)),
        "pandas.cut (round, cut, formula, ceil)": _pandas_cut,
    }
    res: dict = {"n": n, "runs": runs, "pinned": pinned}
    m = min(n, 100_000)
    ref = np.array([_exact_iaqi_pm25_2012(float(v)) for v in x[:m]])
    for name, fn in impls.items():
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            out = fn(x)
            times.append(time.perf_counter() - t)
        med = float(np.median(times))
        agree = np.mean((out[:m] == ref) | (np.isnan(out[:m]) & np.isnan(ref))) * 100
        res[name] = {"seconds": med, "mvals_per_s": n / med / 1e6, "agree_exact_pct": float(agree)}
    # the per-value library on a sample (it is ~1000x slower), rate from the sample
    import aqi as python_aqi

    sample = x[:m]
    t = time.perf_counter()
    lib = [float(python_aqi.to_iaqi(python_aqi.POLLUTANT_PM25, str(v), algo=python_aqi.ALGO_MEP)) if v == v
           else float("nan") for v in sample]
    t_lib = time.perf_counter() - t
    lib_a = np.asarray(lib)
    res["python-aqi (per value, MEP)"] = {
        "seconds": t_lib * n / m, "mvals_per_s": m / t_lib / 1e6,
        "agree_exact_pct": float(np.mean((lib_a == ref) | (np.isnan(lib_a) & np.isnan(ref))) * 100),
        "note": f"timed once on {m:,} values",
    }
    return res


# --------------------------------------------------------------------------- national pipeline
def _simulate(stations: int, years: int, seed: int = 0):
    """Hourly data from 2025-07-01 (so every run crosses the 2026-03-01 switch), 5 % gaps, 0.1 % bad values."""
    from envquality.simulate import simulate_hourly

    end = f"{2025 + years}-06-30"
    ds = simulate_hourly(stations, "2025-07-01", end, seed=seed, gap_fraction=0.05, bad_fraction=0.001)
    return ds[["so2", "no2", "pm10", "pm25", "co", "o3"]]


def pipeline(ds, *, dask_chunk: int | None = None, workers: int = 2) -> dict:
    """The whole engine on one dataset; returns stage timings."""
    import dask

    from envquality.stats.datasets import assess, city_daily, daily_city_aqi, hourly_aqi_dataset, station_daily
    from envquality.stats.assessment import daily_aqi_by_date

    timings = {}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if dask_chunk:
        t = time.perf_counter()
        ds = ds.chunk(station=dask_chunk, time=-1)  # part of the dask cost: timed and in the total
        timings["ds.chunk()"] = time.perf_counter() - t
    with dask.config.set(scheduler="threads", num_workers=workers):
        t0 = time.perf_counter()
        h = hourly_aqi_dataset(ds)
        if dask_chunk:
            # reduce instead of materialising 15 M hourly AQIs per year in RAM
            n_hourly = int((~np.isnan(h["aqi"])).sum().compute())
        else:
            n_hourly = int((~np.isnan(h["aqi"].values)).sum())
        timings["hourly AQI"] = time.perf_counter() - t0
        t = time.perf_counter()
        daily = station_daily(ds)
        if dask_chunk:
            daily = daily.compute()
        timings["daily means + validity + MDA8"] = time.perf_counter() - t
    t = time.perf_counter()
    daily_aqi_by_date({k: daily[k].values for k in ("so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h",
                                                     "o3_1h", "o3_8h")}, daily["date"].values)
    timings["station daily AQI"] = time.perf_counter() - t
    t = time.perf_counter()
    city = city_daily(daily)
    daily_city_aqi(city)
    timings["city aggregation + city daily AQI"] = time.perf_counter() - t
    t = time.perf_counter()
    d = np.asarray(city["date"].values, dtype="datetime64[D]")
    for y0 in range(0, len(d), 365):  # each simulated year (July to June: across the switch)
        assess(city, str(d[y0]), str(d[min(y0 + 364, len(d) - 1)]))
    timings["annual statistics"] = time.perf_counter() - t
    timings["total"] = sum(timings.values())
    # CPU seconds per wall second: 1.0 means one core did the work, whatever the thread count
    cores = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9)
    return {"timings": timings, "hourly_aqi_values": n_hourly, "cores_used": cores, "daily": daily}


def naive_pipeline(ds) -> float:
    """A plain pandas implementation of the same steps (the baseline): long
    frame, groupby for daily means, rolling for 8-h means, row-wise AQI."""
    import pandas as pd

    from envquality.standards import daily_aqi, hourly_aqi

    t0 = time.perf_counter()
    df = ds.to_dataframe().reset_index()
    df["day"] = (df["time"] - pd.Timedelta(hours=1)).dt.normalize()
    rows = df[["so2", "no2", "pm10", "co", "o3", "pm25"]].to_dict("records")
    [hourly_aqi({k: v for k, v in r.items()}) for r in rows[: len(rows) // 50]]  # 1/50: then scaled
    t_hourly = (time.perf_counter() - t0) * 50
    t1 = time.perf_counter()
    g = df.groupby(["station", "day"])
    means = g[["so2", "no2", "pm10", "pm25", "co"]].mean()
    counts = g[["so2", "no2", "pm10", "pm25", "co"]].count()
    means = means.where(counts >= 20)
    o3 = df.set_index("time").groupby("station")["o3"].rolling(8, min_periods=6).mean().reset_index()
    o3["day"] = (o3["time"] - pd.Timedelta(hours=8)).dt.normalize()
    mda8 = o3.groupby(["station", "day"])["o3"].max()
    daily = means.join(mda8.rename("o3_8h"))
    recs = daily.to_dict("records")
    [daily_aqi({"so2_24h": r["so2"], "no2_24h": r["no2"], "pm10_24h": r["pm10"], "pm25_24h": r["pm25"],
                "co_24h": r["co"], "o3_8h": r["o3_8h"]}) for r in recs]
    return t_hourly + time.perf_counter() - t1


def check_sample(ds, daily, n_stations: int = 5, n_days: int = 40) -> str:
    """Station daily PM2.5 means and MDA8 of a sample, computed independently with plain Python loops."""
    import pandas as pd

    ok = total = 0
    days = pd.DatetimeIndex(daily["date"].values)
    pick = np.linspace(0, len(days) - 1, n_days).astype(int)
    for s in range(min(n_stations, ds.sizes["station"])):
        pm = np.asarray(ds["pm25"].values[s], dtype=float)
        o3 = np.asarray(ds["o3"].values[s], dtype=float)
        for di in pick:
            day = pm[di * 24:(di + 1) * 24]
            vals = [v for v in day if v == v]
            exp_pm = sum(vals) / len(vals) if len(vals) >= 20 else float("nan")  # GB 3095 Table 4
            o = o3[di * 24:(di + 1) * 24]
            windows = []
            for end in range(8, 25):  # windows ending 08:00 ... 24:00 (HJ 663 §6.1.2)
                w = [v for v in o[end - 8:end] if v == v]
                if len(w) >= 6:
                    windows.append(sum(w) / len(w))
            top = max(windows) if windows else float("nan")
            exp_o3 = top if windows and (len(windows) >= 14 or top > 160) else float("nan")
            got_pm = float(daily["pm25_24h"].values[s, di])
            got_o3 = float(daily["o3_8h"].values[s, di])
            for e, g in ((exp_pm, got_pm), (exp_o3, got_o3)):
                total += 1
                ok += (e != e and g != g) or abs(e - g) <= 1e-6 * max(1.0, abs(e))
    return f"{ok}/{total} sampled station-day PM2.5 means and MDA8 agree with an independent loop"


def run_case(kind: str, stations: int, years: int) -> dict:
    import tracemalloc

    ds = _simulate(stations, years)
    ds = ds.load()
    base = peak_rss_mb()
    data_mb = sum(v.nbytes for v in ds.data_vars.values()) / 2**20
    chunk = None if kind == "memory" else 100
    out = pipeline(ds, dask_chunk=chunk)  # timed run
    out["check"] = check_sample(ds, out.pop("daily"))
    # a second, untimed run under tracemalloc (numpy reports its buffers to it):
    # the peak of what the pipeline itself allocates on top of the input
    tracemalloc.start()
    pipeline(ds, dask_chunk=chunk).pop("daily")
    _, work_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out.update(stations=stations, years=years, kind=kind,
               values=int(ds.sizes["station"] * ds.sizes["time"] * 6),
               peak_rss_mb=peak_rss_mb(), data_rss_mb=base, data_mb=data_mb, work_peak_mb=work_peak / 2**20)
    return out


def run_naive(stations: int) -> dict:
    ds = _simulate(stations, 1).load()
    t = naive_pipeline(ds)
    return {"stations": stations, "seconds": t}


def _subprocess(args: list[str]) -> dict:
    env = dict(os.environ)
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case", nargs=3, metavar=("KIND", "STATIONS", "YEARS"))
    ap.add_argument("--naive", type=int)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--stations", type=int, default=1700,
                    help="largest station count (1700 = national); smaller runs say so in the report")
    a = ap.parse_args()
    if a.case:
        print(json.dumps(run_case(a.case[0], int(a.case[1]), int(a.case[2]))))
        return 0
    if a.naive:
        print(json.dumps(run_naive(a.naive)))
        return 0

    full = a.stations if not a.quick else 50
    results = {"iaqi": bench_iaqi(20_000_000 if not a.quick else 1_000_000)}
    print(json.dumps(results["iaqi"], indent=1), flush=True)
    try:  # the pipeline cases run unpinned (their subprocesses inherit the affinity otherwise)
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    except (AttributeError, OSError):
        pass
    station_steps = [full // 8, full // 2, full] if not a.quick else [10, 50]
    results["stations"] = [_subprocess(["--case", "memory", str(s), "1"]) for s in station_steps]
    for r in results["stations"]:
        print(r["stations"], "stations:", round(r["timings"]["total"], 2), "s", round(r["peak_rss_mb"]), "MB",
              flush=True)
    results["dask"] = [_subprocess(["--case", "dask", str(full), str(y)]) for y in ([1, 2, 3] if not a.quick else [1, 2])]
    for r in results["dask"]:
        print("dask", r["years"], "years:", round(r["timings"]["total"], 2), "s", round(r["peak_rss_mb"]), "MB",
              flush=True)
    naive_st = 20 if not a.quick else 5
    results["naive"] = _subprocess(["--naive", str(naive_st)])
    if not a.no_write:
        write_section("engine", render(results, quick=a.quick, full=a.stations))
    return 0


def render(r: dict, *, quick: bool, full: int = 1700) -> str:
    lines = ["## Standards engine in memory (`benchmarks/bench_engine.py`)", ""]
    lines.append(f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, Python "
                 f"{platform.python_version()}, numpy {np.__version__}. "
                 f"{'QUICK RUN (small sizes) — not the goal sizes.' if quick else ''}"
                 f"{'' if quick or full >= 1700 else f'REDUCED SCALE: at most {full:,} stations (not the national 1,700), run so on a machine shared by eight jobs.'}")
    iq = r["iaqi"]
    lines += ["", "### IAQI throughput (PM2.5 24-h, HJ 633-2012), realistic floats", "",
              f"{iq['n']:,} values in 0.1 µg/m³ steps (gamma-distributed), 5 % NaN; "
              f"{'one core pinned (sched_setaffinity)' if iq['pinned'] else 'NOT pinned (no sched_setaffinity)'}; "
              f"median of {iq['runs']} runs for the array implementations, all in the same process. "
              "Reference: GB/T 8170 rounding then HJ 633 formula (1) in exact fractions, rounded up.", "",
              "| implementation | M values/s | time for {:,} values | agrees with the exact reference |".format(iq["n"]),
              "|---|---:|---:|---:|"]
    ours = iq["envquality.iaqi (exact)"]["mvals_per_s"]
    for name, v in iq.items():
        if not isinstance(v, dict):
            continue
        lines.append(f"| {name} | {v['mvals_per_s']:.2f} | {v['seconds']:.2f} s | {v['agree_exact_pct']:.2f} % |")
    lines += ["", "Ratios: envquality / numpy.interp = "
              f"{ours / iq['numpy.interp (round, interp, ceil)']['mvals_per_s']:.1f}×; envquality / pandas.cut = "
              f"{ours / iq['pandas.cut (round, cut, formula, ceil)']['mvals_per_s']:.1f}×; envquality / python-aqi = "
              f"{ours / iq['python-aqi (per value, MEP)']['mvals_per_s']:.0f}× (python-aqi timed once on a sample).",
              "python-aqi rounds to nearest instead of up (HJ 633 §6.2), hence its disagreements; "
              "numpy.interp + ceil is off wherever float error crosses an integer (on CO in 0.1 mg/m³ steps it is "
              "one too high for 22 values, e.g. 2.2 mg/m³ -> 56, not 55; tests/standards/test_aqi.py).", ""]
    lines += ["### Engine in memory: a national year across 2026-03-01 (numpy, no dask)", "",
              "The hourly arrays are already in memory (simulated, 2025-07-01 – 2026-06-30, 5 % gaps, 0.1 % bad "
              "values): this is the engine alone, not store to figures. Store to figures (reading the readings "
              "back, computing, writing) is the range job in the section \"Day job, range job, columnar reads\". "
              "'cores used' = process CPU seconds / wall seconds.", "",
              "| stations | values | hourly AQI | daily + validity + MDA8 | station daily AQI | city agg + AQI | annual stats | **total** | cores used | input data | pipeline working memory | process peak RSS |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in r["stations"]:
        t = c["timings"]
        lines.append(f"| {c['stations']:,} | {c['values'] / 1e6:.0f} M | {t['hourly AQI']:.2f} s | "
                     f"{t['daily means + validity + MDA8']:.2f} s | {t['station daily AQI']:.2f} s | "
                     f"{t['city aggregation + city daily AQI']:.2f} s | {t['annual statistics']:.2f} s | "
                     f"**{t['total']:.2f} s** | {c['cores_used']:.2f} | {c['data_mb']:.0f} MB | "
                     f"{c['work_peak_mb']:.0f} MB | {c['peak_rss_mb']:.0f} MB |")
    lines += ["", "Checks (same run): " + "; ".join(f"{c['stations']:,} stations: {c['check']}" for c in r["stations"]),
              "", "### Multi-year on dask (chunks of 100 stations, threaded scheduler, num_workers=2)", "",
              "The total includes `ds.chunk()`. 'cores used' says how many cores actually worked.", "",
              "| stations | years | values | ds.chunk() | **total** | cores used | input data | pipeline working memory | process peak RSS |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in r["dask"]:
        lines.append(f"| {c['stations']:,} | {c['years']} | {c['values'] / 1e6:.0f} M | "
                     f"{c['timings']['ds.chunk()']:.2f} s | **{c['timings']['total']:.2f} s** | {c['cores_used']:.2f} | "
                     f"{c['data_mb']:.0f} MB | {c['work_peak_mb']:.0f} MB | {c['peak_rss_mb']:.0f} MB |")
    n = r["naive"]
    full = r["stations"][-1]
    per_station = n["seconds"] / n["stations"]
    naive_full = per_station * full["stations"]
    lines += ["", f"Naive baseline (pandas groupby/rolling + per-row AQI calls; hourly AQI timed on 1/50 of the rows "
              f"and scaled) on {n['stations']} stations × 1 year: {n['seconds']:.1f} s, i.e. ≈ {naive_full:.0f} s "
              f"scaled to {full['stations']:,} stations: the engine in memory is ≈ "
              f"{naive_full / full['timings']['total']:.0f}× faster.",
              "", "'Input data' is the float32 hourly arrays; 'pipeline working memory' is the tracemalloc peak of "
              "what the pipeline allocates on top of them; 'process peak RSS' is the whole process's high-water "
              "mark, which includes the simulator's own peak while generating the input (not part of the "
              "pipeline). Dask rows materialise the daily results of all years at once, so their working "
              "memory grows with the years while the hourly work stays chunked."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
