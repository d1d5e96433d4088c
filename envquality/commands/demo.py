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
    p.add_argument("--out", default="var/demo", help="folder for the store and the figures (default var/demo)")
    p.add_argument("--db", default=None, help="store URL (default: SQLite file in --out)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from envquality.assess import format_stats_table
    from envquality.iotools.readings import read_readings
    from envquality.pipeline import daily_figures, ingest, period_figures, simulated_inputs
    from envquality.quality.gate import data_docs_dir
    from envquality.stats.assessment import compare_periods
    from envquality.store import make_engine, resolve_url, upgrade_to_head

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    url = args.db or f"sqlite:///{(out / 'envquality.sqlite').resolve()}"
    start, end = pd.Timestamp(args.start), pd.Timestamp(args.end)
    engine = make_engine(url)
    upgrade_to_head(engine)

    inputs = simulated_inputs(start.date(), end.date(), seed=args.seed)
    print(f"1/4 ingest: {len(inputs)} monthly batches of simulated readings, {start.date()} – {end.date()}, "
          f"through the quality gate into {resolve_url(url).render_as_string(hide_password=True)}")
    summary = ingest(engine, "simulate", inputs, functools.partial(read_readings, strict=False),
                     progress=not args.no_progress,
                     archive_root=out / "raw")
    print(f"    {summary}")

    print("2/4 daily figures from the store (GB 3095 capture, HJ 633 daily AQI)")
    daily = daily_figures(engine, start.date(), end.date())
    daily.aqi.to_dataframe().reset_index().to_csv(out / "city_daily_aqi.csv", index=False)

    print("3/4 period figures (HJ 663), dust included and excluded")
    blocks = []
    last_full_year = end.year if (end.month, end.day) == (12, 31) else end.year - 1
    if start <= pd.Timestamp(f"{last_full_year}-01-01"):
        year = period_figures(engine, daily, f"{last_full_year}-01-01", f"{last_full_year}-12-31",
                              label=str(last_full_year))
        year.to_csv(out / f"statistics_{last_full_year}.csv", index=False)
        blocks.append((str(last_full_year), year))
    if end.year > last_full_year:
        ytd = period_figures(engine, daily, f"{end.year}-01-01", str(end.date()), label=f"{end.year}-YTD")
        ytd.to_csv(out / f"statistics_{end.year}_ytd.csv", index=False)
        blocks.append((f"{end.year} 1–{end.month}月" if args.lang == "zh" else f"{end.year} to date", ytd))
        if start <= pd.Timestamp(f"{end.year - 1}-01-01"):
            prev_end = end - pd.DateOffset(years=1)
            prev = period_figures(engine, daily, f"{end.year - 1}-01-01", str(prev_end.date()),
                                  label=f"{end.year - 1}-YTD")
            compare_periods(ytd, prev).to_csv(out / f"comparison_{end.year}_vs_{end.year - 1}.csv", index=False)
    print("4/4 public site data of the last day: gated, written, switched atomically")
    from envquality.publish import publish_site_data
    from envquality.quality.publish_guard import PublishBlocked

    try:
        published = f"{publish_site_data(engine, daily.aqi, end.date()).absolute()}/ (city_aqi_latest.csv, .geojson)"
    except PublishBlocked as exc:
        published = f"BLOCKED ({exc.reason}); the last good release stays online; alert: {exc.alert_path}"
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
    print(f"public site data:   {published}")
    print("public map pages:   not built yet (the map publishing stage has not landed)")
    return 0
