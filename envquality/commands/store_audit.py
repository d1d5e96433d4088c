"""``envquality store invalidate|history``: audit operations on stored readings.

``invalidate`` marks stored values invalid (explicit, logged, the old value
kept: see :func:`envquality.store.provenance.invalidate_readings`);
``history`` lists what the store stopped showing and why
(``reading_history``).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``store`` to the CLI."""
    p = subparsers.add_parser("store", help="audit stored readings: invalidate values, show the history of removals")
    sub = p.add_subparsers(dest="store_command", metavar="ACTION")
    inv = sub.add_parser("invalidate", help="mark stored values invalid on audit (logged; old values kept)")
    inv.add_argument("--station", nargs="+", required=True, metavar="CODE", help="station code(s)")
    inv.add_argument("--pollutant", nargs="+", metavar="KEY", help="pollutant key(s) (default: all)")
    inv.add_argument("--start", required=True, metavar="TIME", help="first hour-ending time (CST), e.g. 2024-01-01T01:00")
    inv.add_argument("--end", required=True, metavar="TIME", help="last hour-ending time (CST), inclusive")
    inv.add_argument("--reason", required=True, help="why the values are invalid (kept in the log)")
    inv.add_argument("--operator", help="who decided it")
    inv.add_argument("--db", metavar="URL", default=None, help="database URL (default: $ENVQUALITY_DB_URL)")
    inv.set_defaults(func=cmd_invalidate)
    hist = sub.add_parser("history", help="readings the store stopped showing, with the cause")
    hist.add_argument("--limit", type=int, default=50)
    hist.add_argument("--db", metavar="URL", default=None, help="database URL (default: $ENVQUALITY_DB_URL)")
    hist.set_defaults(func=cmd_history)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _time(text: str, opt: str):
    import pandas as pd

    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        ts = None
    if ts is None or pd.isna(ts):
        raise SystemExit(f"envquality store invalidate: error: {opt} {text!r} is not a time (e.g. 2024-01-01T01:00)")
    return ts.tz_localize("Asia/Shanghai") if ts.tzinfo is None else ts


def _engine(url):
    from envquality.store import current_revision, make_engine
    from envquality.store.errors import StoreError, store_label

    engine = make_engine(url)
    if current_revision(engine) is None:
        engine.dispose()
        raise StoreError(f"{store_label(url or 'the store')}: no schema yet: run `envquality db upgrade` first")
    return engine


def cmd_invalidate(args: argparse.Namespace) -> int:
    from envquality.store.provenance import invalidate_readings

    try:
        start, end = _time(args.start, "--start"), _time(args.end, "--end")
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    engine = _engine(args.db)
    try:
        iid, n = invalidate_readings(engine, reason=args.reason, stations=args.station, pollutants=args.pollutant,
                                     start=start, end=end, operator=args.operator)
    except ValueError as exc:
        print(f"envquality store invalidate: error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"{n} readings invalidated (audit entry {iid}); old values kept in reading_history")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from envquality.store import schema as S

    engine = _engine(args.db)
    h, se = S.reading_history, S.series
    q = (sa.select(h.c.id, se.c.station, se.c.pollutant, h.c.time, h.c.value, h.c.ingest_id, h.c.new_ingest_id,
                   h.c.cause).join(se, se.c.id == h.c.series_id).order_by(h.c.id.desc()).limit(max(args.limit, 1)))
    try:
        with engine.connect() as conn:
            rows = conn.execute(q).all()
    finally:
        engine.dispose()
    for r in rows:
        new = "removed" if r.new_ingest_id is None else f"now ingest {r.new_ingest_id}"
        cause = "".join(ch if ch.isprintable() else "?" for ch in str(r.cause))
        print(f"{r.id}\t{r.station}\t{r.pollutant}\t{r.time:%Y-%m-%d %H:%M%z}\t{r.value}\tingest {r.ingest_id}"
              f"\t{new}\t{cause}")
    print(f"({len(rows)} rows)")
    return 0
