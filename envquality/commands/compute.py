"""``envquality compute``: the day job, the range job and the dirty-day job.

``envquality compute --day D`` computes one day's station and division daily
values and the periods containing it; ``--start A --end B`` any span (a
month at a time); ``--dirty`` the days that late or corrected readings
marked.  Each prints what it recomputed (see ``docs/compute.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envquality.text import terminal_safe

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compute", help="compute daily and period figures from the stored readings "
                                       "(--day D, --start A --end B, or --dirty)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--day", metavar="YYYY-MM-DD", help="one CST calendar day")
    what.add_argument("--start", metavar="YYYY-MM-DD", help="first day of a range (with --end)")
    what.add_argument("--dirty", action="store_true", help="the days ingests marked dirty (late data)")
    p.add_argument("--end", metavar="YYYY-MM-DD", help="last day of the range (with --start)")
    p.add_argument("--db", metavar="URL", default=None,
                   help="store URL (default: $ENVQUALITY_DB_URL or the default store)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def _date(text: str, flag: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"envquality compute: {flag} {text!r} is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    from envquality import compute
    from envquality.store import current_revision, make_engine, resolve_url

    if args.start is not None and args.end is None:
        print("envquality compute: --start needs --end", file=sys.stderr)
        return 2
    if args.end is not None and args.start is None:
        print("envquality compute: --end goes with --start", file=sys.stderr)
        return 2
    day = _date(args.day, "--day") if args.day is not None else None
    span = (_date(args.start, "--start"), _date(args.end, "--end")) if args.start is not None else None
    url = resolve_url(args.db)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        print(f"envquality compute: no store at {terminal_safe(url.database)}; run 'envquality db upgrade' and ingest first",
              file=sys.stderr)
        return 2
    engine = make_engine(args.db)
    try:
        if current_revision(engine) is None:
            where = resolve_url(args.db).render_as_string(hide_password=True)
            print(f"envquality compute: no store at {terminal_safe(where)}; run 'envquality db upgrade' and ingest first",
                  file=sys.stderr)
            return 2
        progress = None if args.quiet else (lambda msg: print(f"  … {msg}", file=sys.stderr, flush=True))
        if args.dirty:
            result = compute.run_dirty(engine, progress=progress)
        elif day is not None:
            result = compute.run_day(engine, day, progress=progress)
        else:
            assert span is not None
            result = compute.run_range(engine, span[0], span[1], progress=progress)
    finally:
        engine.dispose()
    print(result)
    return 0
