"""Benchmark of the public map site (issue 12): build time for a year, province page weight and draw time.

Input: a SQLite store holding a realistic year of stored figures — daily AQI
and concentrations of the 14 divisions for 2024 and 2025 (730 days), the
year-to-date ``period_stat`` rows of both years, the last day's hourly
readings of the 44 stations and a year of monthly classes of the 128
simulated water sources.  The figures are generated directly (the pages read
stored figures; how they were computed is not what is timed).

Timed, medians:

* ``build_site`` for 2025-12-31 with the quality gate off: every page, data
  file, asset copy, the off-site URL check and the switch (goal ≤ 15 s);
* the publication guard on its own (``site_data`` suite), warm;
* in headless Chromium (Debian's, via Playwright, fresh context = cold cache,
  served from 127.0.0.1, every other request blocked): the province page from
  navigation start until the 14 division markers are drawn and no request is
  pending (goal < 2 s); and the bytes it loads, assets included (goal ≤ 1.5 MB).

Usage::

    python benchmarks/bench_site.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.server
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import write_section  # noqa: E402

DAY = dt.date(2025, 12, 31)


def make_store(path: Path, seed: int = 12):
    """A store with two years of daily figures, YTD period rows, a day of readings and a year of water classes."""
    from envquality.registry import default_registry
    from envquality.site.levels import aqi_categories  # noqa: F401 - imported for warm-up parity
    from envquality.store import make_engine, upgrade_to_head
    from envquality.store import schema as S
    from envquality.store.bulk import upsert_readings, upsert_stats
    from envquality.store.water import store_classes, sync_water_sources
    from envquality.water.registry import load_water_sources

    rng = np.random.default_rng(seed)
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    reg = default_registry()
    cities = reg.cities["code"].astype(str).tolist()
    days = pd.date_range("2024-01-01", DAY)
    season = 1 + 0.6 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 15) / 365)
    frames = []
    for code in cities:
        pm25 = np.clip(rng.gamma(4, 9, len(days)) * season, 3, 400)
        vals = {"pm25_24h": pm25, "pm10_24h": pm25 * rng.uniform(1.4, 2.4, len(days)), "so2_24h": rng.gamma(3, 5, len(days)),
                "no2_24h": rng.gamma(5, 5, len(days)), "co_24h": rng.gamma(4, .2, len(days)),
                "o3_8h": rng.gamma(8, 12, len(days)) / season, "o3_1h": rng.gamma(8, 15, len(days)) / season}
        vals["aqi"] = np.ceil(np.maximum(vals["pm25_24h"] * 1.4, vals["pm10_24h"] * 0.8))
        for ind, v in vals.items():
            frames.append(pd.DataFrame({"entity_kind": "city", "entity": code, "date": days.date, "indicator": ind,
                                        "ruleset": "HJ633-2012", "value": np.round(v, 1), "n": 3, "valid": True}))
    period = []
    for year, end in ((2025, DAY), (2024, dt.date(2024, 12, 31))):
        for code in [*cities, "620000"]:
            for ind, v in (("good_ratio", rng.uniform(70, 98)), ("valid_days", 360.0), ("good_days", 300.0),
                           ("pm25_mean", rng.uniform(20, 45)), ("pm10_mean", rng.uniform(45, 90))):
                period.append({"entity_kind": "province" if code == "620000" else "city", "entity": code,
                               "period": str(year), "indicator": ind, "ruleset": "2012", "period_start": f"{year}-01-01",
                               "period_end": end, "value": v, "n": 360, "valid": True})
    with engine.begin() as conn:
        upsert_stats(conn, "daily_stat", pd.concat(frames, ignore_index=True))
        upsert_stats(conn, "period_stat", pd.DataFrame(period))
    hours = pd.date_range(pd.Timestamp(DAY) + pd.Timedelta(hours=1), periods=24, freq="h", tz="Asia/Shanghai")
    st = reg.stations["code"].astype(str)
    r = pd.DataFrame([(s, t, p) for s in st for t in hours for p in ("so2", "no2", "pm10", "pm25", "co", "o3")],
                     columns=["station", "time", "pollutant"])
    r["value"] = rng.gamma(4, 8, len(r)).round(0)
    with engine.begin() as conn:
        iid = conn.execute(S.ingest_log.insert().values(source="bench", file_or_url="bench", status="ok",
                                                         started_at=S.utcnow(), gate_status="pass")
                           .returning(S.ingest_log.c.id)).scalar_one()
        upsert_readings(conn, r, iid)
    water = load_water_sources()
    sync_water_sources(engine, water)
    months = pd.date_range("2025-01-10 09:00", periods=12, freq="MS", tz="Asia/Shanghai") + pd.Timedelta(days=9)
    cls = pd.DataFrame([(s, t) for s in water["id"].astype(str) for t in months], columns=["source", "sampled_at"])
    cls["water_class"] = rng.choice([1, 2, 3, 4], len(cls), p=[.2, .5, .27, .03])
    cls["compliant"] = cls["water_class"] <= 3
    cls["deciding"] = np.where(cls["water_class"] > 2, "nh3n", "")
    cls["max_multiple"] = np.nan
    store_classes(engine, cls)
    return engine


def time_build(engine, root: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each build (CPU time shows the work when the shared machine is busy)."""
    from envquality.site import SiteConfig, build_site

    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        build_site(engine, DAY, site_root=root, config=SiteConfig(gate=False))
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def time_guard(engine, runs: int) -> tuple[float, list[float]]:
    from envquality.site import _guard
    from envquality.site.figures import read_figures

    figs = read_figures(engine, DAY)
    t = time.perf_counter()
    _guard(engine, figs, DAY)  # first call imports Great Expectations
    cold = time.perf_counter() - t
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        _guard(engine, figs, DAY)
        warm.append(time.perf_counter() - t)
    return cold, warm


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def browser_figures(public: Path, runs: int) -> tuple[list[float], int, int, int]:
    """(draw times [s], bytes loaded, requests, markers) of the province page, cold cache each run."""
    from playwright.sync_api import sync_playwright

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(public.resolve())))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    times, size, nreq, markers = [], 0, 0, 0
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            for i in range(runs + 1):
                ctx = b.new_context(viewport={"width": 1200, "height": 800})
                page = ctx.new_page()
                sizes: dict[str, int] = {}
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
                page.on("requestfinished", lambda rq: sizes.__setitem__(rq.url, rq.sizes()["responseBodySize"]))
                page.goto(f"{base}/index.html", wait_until="commit")
                page.wait_for_function(
                    "document.querySelectorAll('.leaflet-marker-pane .eq-aqi').length === 14 && "
                    "document.readyState === 'complete' && "
                    "performance.getEntriesByType('resource').every(r => r.responseEnd > 0)", polling="raf")
                drawn = page.evaluate("performance.now()") / 1000
                markers = page.locator(".leaflet-marker-pane .eq-aqi").count()
                if i:  # the first load warms the browser process, not the page
                    times.append(drawn)
                page.wait_for_load_state("networkidle")
                size, nreq = sum(sizes.values()), len(sizes)
                ctx.close()
            b.close()
    finally:
        srv.shutdown()
    return times, size, nreq, markers


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    runs = 1 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        engine = make_store(Path(tmp) / "store.sqlite")
        setup = time.perf_counter() - t
        builds, cpus = time_build(engine, Path(tmp) / "site", runs)
        load = os.getloadavg()[0]
        cold_guard, guard = time_guard(engine, runs)
        public = Path(tmp) / "site" / "public"
        pages = sorted(p.name for p in public.glob("*.html"))
        html_kb = {n: (public / n).stat().st_size / 1024 for n in ("index.html", "time.html", "water.html")}
        have_browser = os.path.exists("/usr/bin/chromium")
        draws, size, nreq, markers = browser_figures(public, 3 if args.quick else 7) if have_browser else ([], 0, 0, 0)
        engine.dispose()
    build, draw = statistics.median(builds), (statistics.median(draws) if draws else float("nan"))
    assert len(pages) == 19 and (not have_browser or markers == 14), (pages, markers)
    ok_build, ok_size, ok_draw = build <= 15, size <= 1.5 * 2**20, draw < 2
    text = (f"## Public map site (`benchmarks/bench_site.py`)\n\n"
            f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
            f"{dt.date.today()}; {'quick run' if args.quick else f'{runs} build runs, {len(draws)} page loads'}.\n"
            f"Input: 14 divisions × 730 days of stored daily figures (2024–2025), YTD period rows, the last day's "
            f"hourly readings of 44 stations, 128 water sources × 12 monthly classes (store set up in {setup:.1f} s, "
            f"not timed).\n\n"
            "| measure | result | goal |\n|---|---|---|\n"
            f"| whole site for a year (`build_site`, 19 pages + data + assets + off-site check + switch; gate off), median "
            f"| {build:.2f} s wall, {statistics.median(cpus):.2f} s CPU (runs: {', '.join(f'{b:.1f}' for b in builds)}; "
            f"load average {load:.1f} on 2 cores) | ≤ 15 s {'✓' if ok_build else '✗'} |\n"
            f"| publication guard (`site_data` suite), warm median; first call incl. Great Expectations import "
            f"| {statistics.median(guard):.2f} s; first {cold_guard:.1f} s | — |\n"
            f"| province page loaded in Chromium incl. assets ({nreq} requests, all 127.0.0.1) "
            f"| {size / 1024:.0f} KB (HTML {html_kb['index.html']:.0f} KB) | ≤ 1.5 MB {'✓' if ok_size else '✗'} |\n"
            f"| province page fully drawn (14 markers, no pending request; navigation start → drawn), cold cache, median "
            f"| {draw:.2f} s (loads: {', '.join(f'{d:.2f}' for d in draws)}) | < 2 s {'✓' if ok_draw else '✗'} |\n"
            f"| other pages | time {html_kb['time.html']:.0f} KB (365 days × 14 points), water "
            f"{html_kb['water.html']:.0f} KB | — |\n\n"
            "Wall-clock times on this shared machine include waiting for the CPU while other jobs run (the load "
            "average is given); the CPU time is the work the build does. The gate's first call is dominated by "
            "importing Great Expectations.\n\n")
    print(text)
    if not args.quick:
        write_section("site", text)
    return 0 if (ok_build and ok_size and ok_draw) else 1


if __name__ == "__main__":
    sys.exit(main())
