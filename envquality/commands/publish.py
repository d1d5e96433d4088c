"""``envquality publish``: build the public map site of a day from the store and switch it in.

Gated (a critical data-quality failure keeps the last good site online and
exits 3), offline by default (every asset from the site's own folder), atomic
(one rename).  Target progress comes from ``envquality.targets.progress_table``
when that is available; otherwise the pages say progress is not available.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="build the public map site of a day from the store (gated, atomic)")
    p.add_argument("--date", default=None, help="data day YYYY-MM-DD (default: the last day with a stored AQI)")
    p.add_argument("--db", default=None, help="store URL (default: ENVQUALITY_DB_URL or the default store)")
    p.add_argument("--site", default=None,
                   help="site root; pages go to <site>/public (default: ENVQUALITY_SITE_DIR or var/site)")
    p.add_argument("--tiles", choices=["none", "osm", "tianditu"], default=os.environ.get("ENVQUALITY_TILES", "none"),
                   help="base map: none (default, offline), osm (development), tianditu (key in "
                        "ENVQUALITY_TIANDITU_KEY)")
    p.add_argument("--boundary", default=os.environ.get("ENVQUALITY_BOUNDARY"),
                   help="GeoJSON of prefecture boundaries (WGS84, property code/adcode); default: proportional symbols")
    p.add_argument("--override-by", metavar="OPERATOR", default=None,
                   help="publish a day holding ungated (--no-gate) data: the operator's name (logged)")
    p.add_argument("--override-reason", default=None, help="why ungated data may be published (logged)")
    p.add_argument("--audited-through", default=None, help="last audited day YYYY-MM-DD (later days: provisional)")
    p.set_defaults(func=run)


def progress_for(engine, day: dt.date):
    """``envquality.targets.progress_table(engine, day)`` when the targets package provides it, else None.

    A failure there is reported on stderr and the pages say progress is not available (never invented).
    """
    try:
        from envquality.targets import progress_table
    except ImportError:
        return None
    try:
        return progress_table(engine, day)
    except Exception as exc:  # noqa: BLE001 - the site still publishes, without progress figures
        print(f"envquality publish: target progress not available: {_safe(str(exc))}", file=sys.stderr)
        return None


def _safe(text: str) -> str:
    """Text for the terminal: control characters (escape sequences) shown, not obeyed."""
    from envquality.text import terminal_safe

    return terminal_safe(str(text))


def run(args: argparse.Namespace) -> int:
    from envquality.quality.gate import site_dir
    from envquality.quality.guard_day import Override
    from envquality.quality.publish_guard import PublishBlocked
    from envquality.site import SiteConfig, build_site
    from envquality.site.assets import OffsiteURLError
    from envquality.site.figures import latest_day
    from envquality.store import resolve_url
    from envquality.store.engine import open_store

    engine = open_store(args.db)
    where = resolve_url(args.db).render_as_string(hide_password=True)
    try:
        try:
            day = dt.date.fromisoformat(args.date) if args.date else latest_day(engine)
            audited = dt.date.fromisoformat(args.audited_through) if args.audited_through else None
        except ValueError as exc:
            print(f"envquality publish: bad date: {_safe(str(exc))}", file=sys.stderr)
            return 2
        if day is None:
            print(f"envquality publish: no daily AQI stored in {where}; run the pipeline first", file=sys.stderr)
            return 2
        root = Path(args.site) if args.site else site_dir()
        progress = progress_for(engine, day)
        override = None
        if args.override_by or args.override_reason:
            if not (args.override_by and args.override_reason):
                print("envquality publish: --override-by and --override-reason go together", file=sys.stderr)
                return 2
            override = Override(args.override_by, args.override_reason)
        cfg = SiteConfig(tiles=args.tiles, boundary_path=args.boundary, audited_through=audited,
                         override=override)
        try:
            public = build_site(engine, day, site_root=root, progress=progress, config=cfg)
        except PublishBlocked as exc:
            print(f"envquality publish: BLOCKED ({_safe(exc.reason)}); the last good site stays online; "
                  f"alert: {exc.alert_path}", file=sys.stderr)
            return 3
        except (OffsiteURLError, ValueError, FileNotFoundError) as exc:
            print(f"envquality publish: {_safe(str(exc))}; the last good site stays online", file=sys.stderr)
            return 2
    finally:
        engine.dispose()
    print(f"public site for {day}: {public.absolute()}/index.html -> {public.resolve().name}")
    if progress is None:
        print("target progress: not available (envquality.targets.progress_table not importable)")
    return 0
