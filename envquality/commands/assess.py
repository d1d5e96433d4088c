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


def _read_dust(path: str) -> pd.DataFrame:
    """The dust-day file (columns city,date), checked row by row (InputError names line and field)."""
    from pathlib import Path

    from envquality.iotools.common import InputError
    from envquality.registry import default_registry

    if not Path(path).is_file():
        raise InputError(path, None, None, "dust file not found")
    try:
        dust = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, None, None, f"not a valid CSV file ({exc})") from None
    dust.columns = [str(c).strip().lower() for c in dust.columns]
    for need in ("city", "date"):
        if need not in dust.columns:
            raise InputError(path, 1, need, f"dust file needs columns city,date; columns are {list(dust.columns)}")
    reg = default_registry()
    for i, (city, date) in enumerate(zip(dust["city"], dust["date"])):
        try:
            reg.city_code(city.strip())
        except KeyError as exc:
            raise InputError(path, i + 2, "city", str(exc).strip('"')) from None
        if pd.isna(pd.to_datetime(date.strip(), errors="coerce", format="ISO8601")):
            raise InputError(path, i + 2, "date", f"cannot parse {date!r} as a date")
    return dust.assign(city=dust["city"].str.strip(), date=dust["date"].str.strip())


def run(args: argparse.Namespace) -> int:
    from envquality.assess import assess_readings, exclude_implausible, format_stats_table, period_bounds
    from envquality.iotools.common import InputError
    from envquality.iotools.readings import read_readings
    from envquality.stats.assessment import compare_periods

    def bounds(text: str, option: str) -> tuple[str, str]:
        try:
            return period_bounds(text)
        except ValueError:
            raise InputError(text, None, option, "expected 2015, 2015-03, 2015Q2 or START:END") from None

    # options first (cheap), then the readings file
    start = end = None
    if args.period:
        start, end = bounds(args.period, "--period")
    if args.compare:
        ps, pe = bounds(args.compare, "--compare")
    dust = _read_dust(args.dust) if args.dust else None
    result = read_readings(args.path)
    # the ingest gate's plausibility ranges apply here too: excluded values are reported, not averaged
    readings, excluded = exclude_implausible(result.data)
    result.data = readings
    stats = assess_readings(result.data, result.meta["resolution"], start=start, end=end, dust=dust,
                            standard=args.standard, file=args.path)
    comparison = None
    if args.compare:
        prev = assess_readings(result.data, result.meta["resolution"], start=ps, end=pe, dust=dust,
                               standard=args.standard, file=args.path)
        comparison = compare_periods(stats, prev)
    if args.json:
        payload = {"input": result.meta, "statistics": _records(stats)}
        if comparison is not None:
            payload["comparison"] = _records(comparison)
        if len(result.rejected):
            payload["rejected"] = _records(result.rejected)
        if len(excluded):
            payload["excluded"] = _records(excluded)
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    print(format_stats_table(stats, lang=args.lang))
    if comparison is not None:
        cols = ["entity", "dust", "good_ratio", "good_ratio_previous", "good_ratio_change",
                "pm25_mean", "pm25_mean_previous", "pm25_mean_change_pct",
                "pm10_mean", "pm10_mean_previous", "pm10_mean_change_pct"]
        print("\n" + comparison[cols].to_string(index=False))
    if len(excluded):
        by = excluded.groupby("pollutant").size()
        print(f"\n{len(excluded)} implausible value(s) excluded as ingest's gate would "
              f"({', '.join(f'{k}: {v}' for k, v in by.items())}); use --json to list them", file=sys.stderr)
    if len(result.rejected):
        print(f"\n{len(result.rejected)} row(s) rejected (conflicting duplicates); use --json to list them",
              file=sys.stderr)
    return 0
