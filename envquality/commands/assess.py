"""``envquality assess``: per-city and province statistics of a readings file."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assess",
        help="per-city and province air statistics of a period (HJ 633 / GB 3095 / HJ 663)",
        description="Read a tidy CSV or Parquet of readings (station or city, time, pollutant, value) "
        "and print per-city and province statistics for a period.",
    )
    p.add_argument("path", help="tidy readings file (.csv, .csv.gz or .parquet)")
    p.add_argument("--period", help="2015, 2015-03, 2015Q2 or START:END (default: all days in the file)")
    p.add_argument("--dust", help="CSV of dust-affected days (columns city,date): adds dust-excluded figures")
    p.add_argument("--standard", choices=["HJ633-2012", "HJ633-2026"],
                   help="force one rule set (default: chosen by each day's date)")
    p.add_argument("--compare", metavar="PERIOD",
                   help="also compare with another period (e.g. the same months of last year)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="table language (default zh)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON instead of a table")
    p.set_defaults(func=run)


def _records(df: pd.DataFrame) -> list[dict]:
    clean = df.astype(object).where(pd.notna(df), None)
    out = []
    for rec in clean.to_dict(orient="records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()})
    return out


def run(args: argparse.Namespace) -> int:
    from envquality.assess import assess_readings, format_stats_table, period_bounds
    from envquality.iotools.common import InputError
    from envquality.iotools.readings import read_readings
    from envquality.stats.assessment import compare_periods

    result = read_readings(args.path)
    start = end = None
    if args.period:
        try:
            start, end = period_bounds(args.period)
        except ValueError:
            raise InputError(args.period, None, "--period", "expected 2015, 2015-03, 2015Q2 or START:END") from None
    dust = None
    if args.dust:
        dust = pd.read_csv(args.dust, dtype=str)
        if not {"city", "date"} <= set(dust.columns):
            raise InputError(args.dust, 1, "city", "dust file needs columns city,date")
    stats = assess_readings(result.data, result.meta["resolution"], start=start, end=end, dust=dust,
                            standard=args.standard, file=args.path)
    comparison = None
    if args.compare:
        ps, pe = period_bounds(args.compare)
        prev = assess_readings(result.data, result.meta["resolution"], start=ps, end=pe, dust=dust,
                               standard=args.standard, file=args.path)
        comparison = compare_periods(stats, prev)
    if args.json:
        payload = {"input": result.meta, "statistics": _records(stats)}
        if comparison is not None:
            payload["comparison"] = _records(comparison)
        if len(result.rejected):
            payload["rejected"] = _records(result.rejected)
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    print(format_stats_table(stats, lang=args.lang))
    if comparison is not None:
        cols = ["entity", "dust", "good_ratio", "good_ratio_previous", "good_ratio_change",
                "pm25_mean", "pm25_mean_previous", "pm25_mean_change_pct",
                "pm10_mean", "pm10_mean_previous", "pm10_mean_change_pct"]
        print("\n" + comparison[cols].to_string(index=False))
    if len(result.rejected):
        print(f"\n{len(result.rejected)} row(s) rejected (conflicting duplicates); use --json to list them",
              file=sys.stderr)
    return 0
