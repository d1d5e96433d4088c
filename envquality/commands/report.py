"""``envquality report monthly|annual|water PERIOD``: the bureau's reports as CSV, Excel, HTML and JSON."""

from __future__ import annotations

import argparse
import json
import re
import sys

from envquality.commands._inputs import (
    add_source_options, daily_from_input, safe, store_engine, store_errors, water_from_input,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="monthly/YTD ranking, annual summary or water report (CSV, Excel, HTML, JSON)")
    rsub = p.add_subparsers(dest="report_kind", metavar="KIND")
    for kind, period, text in (
        ("monthly", "MONTH", "ranking of the 14 divisions for a month and year to date, e.g. 2016-12"),
        ("annual", "YEAR", "annual summary: HJ 663 statistics, GB 3095 compliance, target status, e.g. 2016"),
        ("water", "YEAR", "drinking-water sources: monthly and annual compliance, failing sources, e.g. 2020"),
    ):
        r = rsub.add_parser(kind, help=text)
        r.add_argument("period", metavar=period)
        r.add_argument("--formats", default="csv,xlsx,html,json",
                       help="with --out: comma-separated subset of csv,xlsx,html,json (default all)")
        add_source_options(r, water=kind == "water")
        r.set_defaults(func=run, report_kind=kind)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _period(kind: str, text: str) -> str:
    from envquality.iotools.common import InputError

    pattern = r"\d{4}-(0[1-9]|1[0-2])" if kind == "monthly" else r"\d{4}"
    if not re.fullmatch(pattern, text.strip()):
        raise InputError(text, None, "period", f"expected {'a month such as 2016-12' if kind == 'monthly' else 'a year such as 2016'}")
    return text.strip()


def build(args: argparse.Namespace):
    """The :class:`~envquality.reports.model.Report` the arguments ask for."""
    from envquality.reports import annual_report, monthly_report, water_report

    period = _period(args.report_kind, args.period)
    engine = None
    try:
        if args.report_kind == "water":
            source = water_from_input(args) if args.input else (engine := store_engine(args))
            return water_report(source, int(period))
        source = daily_from_input(args) if args.input else (engine := store_engine(args))
        if args.report_kind == "monthly":
            return monthly_report(source, period)
        return annual_report(source, int(period))
    finally:
        if engine is not None:
            engine.dispose()


def run(args: argparse.Namespace) -> int:
    from envquality.iotools.common import InputError
    from envquality.reports.model import FORMATS

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(args.formats, None, "--formats", f"unknown format(s) {bad}; use {', '.join(FORMATS)}")
    try:
        with store_errors():
            report = build(args)
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(args.input or "store", None, None, str(exc)) from None
    if args.out:
        for path in report.write(args.out, formats):
            print(path, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif not args.out:
        print(summary(report))
    return 0


def summary(report) -> str:
    """The report's first table as text (``--out DIR`` writes every table and chart)."""
    first = report.tables[0]
    frame = first.rounded()
    keep = [c for c in frame.columns if c not in ("entity_name_en", "title_en", "title_zh")][:12]
    lines = [safe(f"{report.title_zh} · {report.title_en}"), safe(f"{first.title_zh} · {first.title_en}"),
             safe(frame[keep].to_string(index=False, na_rep="—")),
             "(--out DIR writes every table as CSV, Excel, HTML with charts and JSON)"]
    return "\n".join(lines)
