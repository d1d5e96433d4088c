"""Store subcommands: ``envquality db upgrade``, ``envquality quarantine list|show|replay``.

The database is ``--db URL``, else ``ENVQUALITY_DB_URL``, else the demo's SQLite
file ``./var/demo/envquality.sqlite`` (see :func:`envquality.store.engine.default_url`).
``quarantine`` only reads: a missing or unmigrated store is a one-line error.
"""

from __future__ import annotations

import argparse
import sys

from envquality.text import terminal_safe

__all__ = ["register"]


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=None,
                   help="database URL (default: $ENVQUALITY_DB_URL or sqlite:///var/demo/envquality.sqlite)")


def register(subparsers) -> None:
    """Add ``db`` and ``quarantine`` to the CLI."""
    db = subparsers.add_parser("db", help="database administration")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="create or upgrade the store schema (alembic upgrade head)")
    _add_db(up)
    up.set_defaults(func=cmd_db_upgrade)
    db.set_defaults(func=lambda args: (db.print_help(), 2)[1])

    q = subparsers.add_parser("quarantine", help="inspect rows rejected during ingestion")
    q_sub = q.add_subparsers(dest="quarantine_command", metavar="ACTION")
    ls = q_sub.add_parser("list", help="list quarantined rows (unresolved by default)")
    _add_db(ls)
    ls.add_argument("--source", help="only this source")
    ls.add_argument("--limit", type=int, default=50, help="at most N rows (default 50; 0 = all)")
    ls.add_argument("--all", action="store_true", help="include resolved rows")
    ls.set_defaults(func=cmd_quarantine_list)
    show = q_sub.add_parser("show", help="show one quarantined row with its raw text")
    _add_db(show)
    show.add_argument("id", type=int, metavar="ID")
    show.set_defaults(func=cmd_quarantine_show)
    rp = q_sub.add_parser("replay", help="re-run quarantined rows through the current registry and gate; "
                                         "store the rows that now pass (idempotent)")
    _add_db(rp)
    rp.add_argument("--source", help="only rows of this source")
    rp.add_argument("--ingest", type=int, metavar="ID", help="only rows of this ingest")
    rp.add_argument("--archive", default=None,
                    help="raw archive folder of the ingests (default: $ENVQUALITY_ARCHIVE or var/raw)")
    rp.set_defaults(func=cmd_quarantine_replay)
    q.set_defaults(func=lambda args: (q.print_help(), 2)[1])


def _engine(args):
    """The existing, migrated store (reading commands never create one)."""
    from envquality.store import open_store

    return open_store(args.db)


def cmd_db_upgrade(args) -> int:
    """``envquality db upgrade``."""
    from envquality.store import make_engine, resolve_url, upgrade_to_head

    engine = make_engine(args.db)
    try:
        rev = upgrade_to_head(engine)
    finally:
        engine.dispose()
    print(f"{resolve_url(args.db).render_as_string(hide_password=True)}: schema at revision {rev}")
    return 0


def _clip(text, width: int) -> str:
    # data text is neutralised for the terminal (ANSI escapes, control characters)
    s = terminal_safe(text)
    return s if len(s) <= width else s[: width - 1] + "…"


def _file_label(file, sha256) -> str:
    """The original file name and the archived raw file's sha256 prefix (``兰州.csv@3f2a9c1b``)."""
    name = "" if file is None else str(file)
    return f"{name}@{sha256[:8]}" if sha256 else name


def _format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(out)


def cmd_quarantine_list(args) -> int:
    """``envquality quarantine list [--source S] [--limit N] [--all]``."""
    import sqlalchemy as sa

    from envquality.store import schema as S

    q = S.quarantine.c
    stmt = (sa.select(q.id, q.source, q.file, q.line, q.field, q.reason, q.raw, q.resolved, S.ingest_log.c.sha256)
            .select_from(S.quarantine.outerjoin(S.ingest_log, S.ingest_log.c.id == q.ingest_id)).order_by(q.id))
    if args.source:
        stmt = stmt.where(q.source == args.source)
    if not args.all:
        stmt = stmt.where(q.resolved == sa.false())
    if args.limit and args.limit > 0:
        stmt = stmt.limit(args.limit)
    count = sa.select(sa.func.count()).select_from(S.quarantine)
    if args.source:
        count = count.where(q.source == args.source)
    if not args.all:
        count = count.where(q.resolved == sa.false())
    engine = _engine(args)
    try:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
            total = conn.execute(count).scalar_one()
    finally:
        engine.dispose()
    table = [[str(r.id), _clip(r.source, 16), _clip(_file_label(r.file, r.sha256), 37), "" if r.line is None else str(r.line),
              _clip(r.field, 12), _clip(r.reason, 40), _clip(r.raw, 40)] + (["yes" if r.resolved else ""]
                                                                          if args.all else [])
             for r in rows]
    headers = ["ID", "SOURCE", "FILE", "LINE", "FIELD", "REASON", "RAW"] + (["RESOLVED"] if args.all else [])
    print(_format_table(headers, table))
    print(f"({len(rows)} of {total} {'' if args.all else 'unresolved '}rows)")
    return 0


def cmd_quarantine_show(args) -> int:
    """``envquality quarantine show ID``: every field, raw text verbatim."""
    import sqlalchemy as sa

    from envquality.store import schema as S

    engine = _engine(args)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.select(S.quarantine).where(S.quarantine.c.id == args.id)).mappings().first()
            archive = None if row is None or row["ingest_id"] is None else conn.execute(
                sa.select(S.ingest_log.c.sha256, S.raw_archive.c.path)
                .select_from(S.ingest_log.outerjoin(S.raw_archive, S.raw_archive.c.sha256 == S.ingest_log.c.sha256))
                .where(S.ingest_log.c.id == row["ingest_id"])).first()
    finally:
        engine.dispose()
    if row is None:
        print(f"envquality: error: no quarantine row with id {args.id}", file=sys.stderr)
        return 1
    fields = dict(row)
    if archive is not None:
        fields["sha256"], fields["archived_as"] = archive.sha256, archive.path
    raw = fields.pop("raw")
    width = max(len(k) for k in [*fields, "raw"])
    for key, value in fields.items():
        if key == "created_at" and value is not None:
            value = value.isoformat()
        print(f"{key.ljust(width)}  {terminal_safe(value)}")
    # control characters are shown as escapes: the text is exact, but cannot drive the terminal
    print(f"{'raw'.ljust(width)}  (below, control characters escaped)")
    print(terminal_safe(raw, keep_newlines=True))
    return 0


def cmd_quarantine_replay(args) -> int:
    """``envquality quarantine replay [--source S] [--ingest ID]``: see :mod:`envquality.store.replay`."""
    from envquality.store.replay import replay_quarantine

    engine = _engine(args)
    try:
        result = replay_quarantine(engine, source=args.source, ingest_id=args.ingest, archive_root=args.archive)
    finally:
        engine.dispose()
    print(terminal_safe(str(result)))
    for old, new in sorted(result.stations.items()):
        print(terminal_safe(f"  station {old} -> {new} (registry station history)"))
    return 0
