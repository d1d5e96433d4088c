"""``envquality demo``: the main job on generated data, no server needed.

Simulates hourly readings for the registry's stations, computes the daily
and period figures with the standards engine and prints them against the
plan's 82% good-day target.  Later stages (store, validation gate, maps)
join this job as they land.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main job on generated data and print the figures")
    today = dt.date.today()
    p.add_argument("--start", default=f"{today.year - 1}-01-01", help="first day (default: 1 Jan last year)")
    p.add_argument("--end", default=str(today - dt.timedelta(days=1)), help="last day (default: yesterday)")
    p.add_argument("--seed", type=int, default=2017, help="simulation seed")
    p.add_argument("--out", default="var/demo", help="folder for the computed figures (default var/demo)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from envquality.assess import format_stats_table
    from envquality.registry import default_registry
    from envquality.simulate import simulate_hourly
    from envquality.stats.assessment import compare_periods
    from envquality.stats.datasets import assess, city_daily, daily_city_aqi, station_daily

    reg = default_registry()
    st = reg.stations
    city_of = dict(zip(st["code"].astype(str), st["city_code"].astype(str)))
    start, end = pd.Timestamp(args.start), pd.Timestamp(args.end)
    print(f"simulating hourly readings: {len(city_of)} stations, {start.date()} – {end.date()} (seed {args.seed})")
    # bad_fraction=0: screening impossible values is the validation gate's job, not the engine's
    hourly = simulate_hourly(list(city_of), start.date(), end.date(), seed=args.seed, bad_fraction=0.0,
                             city_of=city_of)
    hourly = hourly.assign_coords(assessment=("station", st.set_index("code").loc[hourly["station"].values,
                                                                                 "assessment"].astype(bool).values))
    daily = station_daily(hourly)
    city = city_daily(daily, cities=list(reg.cities["code"].astype(str)))
    # dust days per city: any station of the city under a simulated dust event
    dust = (hourly["dust_day"].groupby(hourly["city"]).any().rename(city="city")
            .reindex(city=city["city"], fill_value=False).sel(date=city["date"]))
    aqi = daily_city_aqi(city)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    aqi.to_dataframe().reset_index().to_csv(out / "city_daily_aqi.csv", index=False)

    blocks = []
    last_full_year = end.year if (end.month, end.day) == (12, 31) else end.year - 1
    if start <= pd.Timestamp(f"{last_full_year}-01-01"):
        year = assess(city, f"{last_full_year}-01-01", f"{last_full_year}-12-31", dust=dust)
        year.to_csv(out / f"statistics_{last_full_year}.csv", index=False)
        blocks.append((f"{last_full_year}", year))
    if end.year > last_full_year:
        ytd = assess(city, f"{end.year}-01-01", str(end.date()), dust=dust)
        ytd.to_csv(out / f"statistics_{end.year}_ytd.csv", index=False)
        blocks.append((f"{end.year} 1–{end.month}月", ytd))
        prev_end = end - pd.DateOffset(years=1)
        if start <= pd.Timestamp(f"{end.year - 1}-01-01"):
            prev = assess(city, f"{end.year - 1}-01-01", str(prev_end.date()), dust=dust)
            cmp = compare_periods(ytd, prev)
            cmp.to_csv(out / f"comparison_{end.year}_vs_{end.year - 1}.csv", index=False)
    for title, stats in blocks:
        print(f"\n== {title} ==")
        print(format_stats_table(stats, lang=args.lang))
    print(f"\nfigures written to {out.resolve()}/")
    print("published maps: not built yet (the maps stage has not landed); see README")
    return 0
