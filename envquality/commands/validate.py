"""``envquality validate``: run the data-quality gate on a file or a simulated day.

    envquality validate readings.csv                     # tidy hourly readings (CSV/Parquet)
    envquality validate --suite daily_city daily.csv     # any suite on a CSV/Parquet frame
    envquality validate data/兰州.csv                     # pm25.in crawl (known readers by layout)
    envquality validate --date 2024-04-10                # simulated day for the registry stations

PATH: tidy readings go through :func:`envquality.iotools.readings.read_readings`;
files of the pm25.in and CNEMC live layouts through their readers; for the
other suites the file is read as a plain CSV/Parquet table.  ``--date DAY``
validates that calendar day (hours ending DAY 01:00 … DAY+1 00:00): no store
is wired to the gate yet, so the day is simulated with
:func:`envquality.simulate.simulate_tidy` for the registry's active stations
(``--bad-fraction`` injects bad values).  Prints a summary table; exit status
1 on a critical failure (publish would be blocked), 0 otherwise.
Quarantined rows are written with ``--quarantine FILE.csv``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="data-quality gate (Great Expectations): summary table, non-zero exit on a critical failure",
        description="Validate a readings file or a (simulated) day with the Great Expectations suites in "
        "expectations/; build the operator Data Docs.",
    )
    p.add_argument("path", nargs="?", help="CSV/Parquet of tidy readings, or a file a known reader reads")
    p.add_argument("--date", help="validate this calendar day (simulated while no store is configured)")
    p.add_argument("--suite", default=None, choices=["hourly_readings", "daily_city", "water_samples", "site_data"],
                   help="suite (default hourly_readings)")
    p.add_argument("--quarantine", metavar="CSV", help="write the quarantined rows to this CSV")
    p.add_argument("--no-docs", action="store_true", help="do not rebuild the operator Data Docs")
    p.add_argument("--bad-fraction", type=float, default=0.0005, help="--date only: injected bad values")
    p.add_argument("--seed", type=int, default=0, help="--date only: simulation seed")
    p.set_defaults(func=run)


def _read(path: str, suite: str):
    import pandas as pd

    from envquality.iotools.common import InputError

    p = Path(path)
    if not p.exists():
        raise InputError(p, None, None, "file not found")
    if suite != "hourly_readings":
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p), None
        if p.suffix.lower() in (".json", ".geojson"):
            import json

            obj = json.loads(p.read_text(encoding="utf-8"))
            feats = obj.get("features", obj if isinstance(obj, list) else [])
            return pd.DataFrame([f.get("properties", f) for f in feats]), None
        return pd.read_csv(p, dtype={"city": str, "city_code": str, "qualifier": str},
                           keep_default_na=True, encoding="utf-8-sig"), None
    head = p.read_bytes()[:4096].decode("utf-8", "replace").lower()
    if head.startswith("date,hour,watchpoint"):
        from envquality.iotools.pm25in import read_pm25in

        return read_pm25in(p), "pm25in"
    if "stationcode" in head and "timepoint" in head:
        from envquality.iotools.cnemc import read_cnemc_live

        return read_cnemc_live(p), "cnemc:live"
    from envquality.iotools.readings import read_readings

    return read_readings(p), "tidy"


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from envquality.iotools.common import InputError
    from envquality.quality.gate import run_gate

    suite = args.suite or "hourly_readings"
    if bool(args.path) == bool(args.date):
        raise InputError("validate", None, None, "give either PATH or --date DAY")
    window = expected = None
    file = args.path or ""
    rejected = None
    if args.date:
        if suite != "hourly_readings":
            raise InputError("validate", None, "--date", "--date is for the hourly_readings suite")
        from envquality.registry import default_registry
        from envquality.simulate import simulate_tidy

        try:
            day = pd.Timestamp(args.date).normalize()
        except ValueError:
            raise InputError(args.date, None, "--date", "expected a day like 2024-04-10") from None
        st = default_registry().stations
        act = st[st["status"] == "active"]
        expected = act["code"].astype(str).tolist()
        data = simulate_tidy(expected, day.date(), day.date(), seed=args.seed, bad_fraction=args.bad_fraction,
                             city_of=dict(zip(act["code"].astype(str), act["city_code"].astype(str))))
        window = (day + pd.Timedelta(hours=1), day + pd.Timedelta(days=1))
        source = "simulated"
        file = f"simulated:{day.date()}"
    else:
        res, source = _read(args.path, suite)
        if hasattr(res, "data"):
            data, rejected = res.data, res.rejected
            if res.meta.get("resolution") == "daily":
                raise InputError(args.path, None, None, "daily readings: use --suite daily_city on a city AQI table")
        else:
            data = res
    result = run_gate(data, suite, window=window, expected_stations=expected, file=file,
                      source=source or "", build_docs=not args.no_docs)
    s = result.summary
    show = s[(~s["success"]) | (s["quarantined"] > 0)] if len(s) > 12 else s
    cols = ["expectation", "level", "severity", "success", "unexpected_count", "quarantined", "observed"]
    print(f"suite {suite}: {result.info['rows']} rows, {result.info['passed']} passed, "
          f"{result.info['quarantined']} quarantined, {result.info['likely_dust_rows']} flagged likely dust")
    if len(show):
        with pd.option_context("display.max_colwidth", 40, "display.width", 160):
            print(show[cols].to_string(index=False))
    else:
        print(f"all {len(s)} expectations met")
    if rejected is not None and len(rejected):
        print(f"reader rejected {len(rejected)} row(s) before the gate (conflicting duplicates, unparsable)")
    for f in result.warnings:
        print("WARNING  " + f.message())
    for f in result.critical:
        print("CRITICAL " + f.message())
    if args.quarantine:
        result.quarantined.to_csv(args.quarantine, index=False)
        print(f"quarantine: {len(result.quarantined)} row(s) -> {args.quarantine}")
    if result.docs_path:
        print(f"Data Docs (operator, offline): {result.docs_path}")
    if not result.publish_allowed:
        print("publish BLOCKED: critical data-quality failure", file=sys.stderr)
        return 1
    return 0
