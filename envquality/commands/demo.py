"""``envquality demo``: the main job on generated data, no server needed.

Simulates hourly readings for the registry's stations (with a few injected
bad values), ingests them month by month through the Great Expectations gate
into an SQLite store, computes the daily and period figures from the store,
prints them against the plan's 82 % good-day target and says where every
output is.  Running it again changes nothing (idempotent ingests and upserts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main job on generated data (SQLite) and print the figures")
    today = dt.date.today()
    p.add_argument("--start", default=f"{today.year - 1}-01-01", help="first day (default: 1 Jan last year)")
    p.add_argument("--end", default=str(today - dt.timedelta(days=1)), help="last day (default: yesterday)")
    p.add_argument("--seed", type=int, default=2017, help="simulation seed")
    p.add_argument("--out", default=None,
                   help="folder for everything the demo writes: store, raw archive, figures, Data Docs and "
                        "public site data (default: var/demo, with the site under var/site)")
    p.add_argument("--db", default=None, help="store URL (default: SQLite file in --out)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _setup_out(args: argparse.Namespace) -> Path:
    """The output folder; with ``--out`` the site (Data Docs, public data) goes under it too."""
    import os

    from envquality.quality.gate import SITE_DIR_ENV

    out = Path(args.out or "var/demo")
    out.mkdir(parents=True, exist_ok=True)
    if args.out is not None:
        os.environ[SITE_DIR_ENV] = str((out / "site").resolve())
    return out


def _names(frame, column: str = "entity"):
    """``frame`` with the division's name beside its code (``entity_name``), as the second column."""
    from envquality.registry import default_registry

    reg = default_registry()
    names = dict(zip(reg.cities["code"].astype(str), reg.cities["name_zh"].astype(str)))
    names["620000"] = "甘肃省"
    out = frame.copy()
    out.insert(out.columns.get_loc(column) + 1, f"{column}_name", out[column].astype(str).map(names))
    return out


def _write_daily_aqi(aqi, path: Path) -> None:
    """city_daily_aqi.csv: one row per city and day, columns in a fixed order."""
    df = aqi.to_dataframe().reset_index()
    iaqi = sorted(c for c in df.columns if c.startswith("iaqi_"))
    first = ["date", "city", "aqi", "level", "category_zh", "category_en", "colour", "primary_pollutants",
             "exceeding_pollutants", "complete", "standard"]
    df = df[[c for c in first if c in df.columns] + iaqi].sort_values(["date", "city"])
    _names(df.rename(columns={"city": "entity"})).rename(
        columns={"entity": "city", "entity_name": "city_name"}).to_csv(path, index=False)


def _periods(args, daily, start, end, out: Path) -> list:
    from envquality.stats.assessment import compare_periods
    from envquality.stats.datasets import assess

    import pandas as pd

    blocks = []
    last_full_year = end.year if (end.month, end.day) == (12, 31) else end.year - 1
    if start <= pd.Timestamp(f"{last_full_year}-01-01"):
        year = assess(daily.city, f"{last_full_year}-01-01", f"{last_full_year}-12-31", dust=daily.dust)
        _names(year).to_csv(out / f"statistics_{last_full_year}.csv", index=False)
        blocks.append((str(last_full_year), year))
    if end.year > last_full_year:
        ytd = assess(daily.city, f"{end.year}-01-01", str(end.date()), dust=daily.dust)
        _names(ytd).to_csv(out / f"statistics_{end.year}_ytd.csv", index=False)
        blocks.append((f"{end.year} 1–{end.month}月" if args.lang == "zh" else f"{end.year} to date", ytd))
        if start <= pd.Timestamp(f"{end.year - 1}-01-01"):
            prev_end = end - pd.DateOffset(years=1)
            prev = assess(daily.city, f"{end.year - 1}-01-01", str(prev_end.date()), dust=daily.dust)
            _names(compare_periods(ytd, prev)).to_csv(out / f"comparison_{end.year}_vs_{end.year - 1}.csv",
                                                      index=False)
    return blocks


def run(args: argparse.Namespace) -> int:
    import os

    from envquality.quality.gate import SITE_DIR_ENV

    before = os.environ.get(SITE_DIR_ENV)
    try:
        return _run(args)
    finally:  # --out points the site under it for this run only
        if before is None:
            os.environ.pop(SITE_DIR_ENV, None)
        else:
            os.environ[SITE_DIR_ENV] = before


def _run(args: argparse.Namespace) -> int:
    import time

    import pandas as pd

    from envquality.assess import format_stats_table
    from envquality.iotools.readings import read_readings
    from envquality.pipeline import daily_figures, ingest, simulated_inputs
    from envquality.quality.gate import data_docs_dir
    from envquality.store import make_engine, resolve_url, upgrade_to_head

    out = _setup_out(args)
    url = args.db or f"sqlite:///{(out / 'envquality.sqlite').resolve()}"
    start, end = pd.Timestamp(args.start), pd.Timestamp(args.end)
    engine = make_engine(url)
    upgrade_to_head(engine)
    t0 = time.perf_counter()

    inputs = simulated_inputs(start.date(), end.date(), seed=args.seed)
    print(f"1/4 ingest: {len(inputs)} monthly batches of simulated readings, {start.date()} – {end.date()}, "
          f"through the quality gate into {resolve_url(url).render_as_string(hide_password=True)}", flush=True)
    summary = ingest(engine, "simulate", inputs, functools.partial(read_readings, strict=False),
                     progress=not args.no_progress,
                     archive_root=out / "raw")
    print(f"    {summary}")

    print("2/4 range job (envquality compute --start --end): station and city daily values "
          "(GB 3095 capture, HJ 633 daily AQI), month/year/rolling-365 figures (HJ 663)", flush=True)
    progress = None if args.no_progress else (lambda msg: print(f"    … {msg}", flush=True))
    daily = daily_figures(engine, start.date(), end.date(), progress=progress)
    print(f"    {daily.rows_stored} rows written (0: nothing changed)")
    _write_daily_aqi(daily.aqi, out / "city_daily_aqi.csv")

    print("3/4 period tables (HJ 663), dust included and excluded", flush=True)
    blocks = _periods(args, daily, start, end, out)
    print("4/4 public map site of the last day: guarded, built, switched atomically", flush=True)
    from envquality.commands.publish import progress_for
    from envquality.quality.gate import site_dir
    from envquality.quality.publish_guard import PublishBlocked
    from envquality.site import build_site

    try:
        public = build_site(engine, end.date(), site_root=site_dir(), progress=progress_for(engine, end.date()))
        published = f"{public.absolute()}/index.html  (serve: python -m http.server -d {public.absolute()} 8000)"
    except PublishBlocked as exc:
        published = f"BLOCKED ({exc.reason}); the last good site stays online; alert: {exc.alert_path}"
    engine.dispose()

    for title, stats in blocks:
        print(f"\n== {title} ==")
        print(format_stats_table(stats, lang=args.lang))
    print(f"\nstore:              {resolve_url(url).render_as_string(hide_password=True)}")
    print(f"figures (CSV):      {out.resolve()}/")
    gate = summary.gate_status or ("no new data (every batch was already ingested)" if summary.noop else "not run")
    print(f"quality gate:       {gate}; {summary.rows_quarantined} rows quarantined in this run "
          f"(envquality quarantine list --db {url})")
    print(f"operator Data Docs: {data_docs_dir().resolve()}/index.html")
    print(f"run time:           {time.perf_counter() - t0:.0f} s")
    print(f"public map pages:   {published}")
    return 0
